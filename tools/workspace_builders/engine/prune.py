"""Pruning a workspace: stale worktree admin entries, vanished builders, orphan builder folders, and
the trash (the engine behind `builders prune`).

Nothing is deleted outright: an orphan folder is moved to `<builders dir>/.trash/` (and its nested
worktrees' links repaired there), only with proof that it was a builder of this workspace, decided
under the builder's lock (a builder being made is no orphan). Emptying the trash is the one thing
that deletes, and only from the trash: each trashed worktree is judged by the removal judge and its
work archived, in a removal record written before the entry goes (`list --removed`, `restore`).
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from datetime import datetime, timezone
from pathlib import Path

from workspace_builders.base import faults, output, parallel
from workspace_builders.base.errors import BuildersError
from workspace_builders.engine import checkout, removal, removal_records
from workspace_builders.engine.removal_judge import Member, check, repositories_inside
from workspace_builders.gitlayer import archive as archives
from workspace_builders.gitlayer import git, links
from workspace_builders.gitlayer.locks import repository_lock, try_builder_lock
from workspace_builders.model import state
from workspace_builders.model.workspace import REPOS, ROOT, TRASH, Workspace

_STAMP = "%Y%m%dT%H%M%SZ"
_TRASHED_AT = re.compile(r"-(\d{8}T\d{6}Z)$")
DEFAULT_TRASH_AGE = 7 * 86400
Report = dict[str, list[str]]


def prune(ws: Workspace, dry_run: bool, empty_trash: bool, max_age: int | None) -> tuple[Report, bool]:
    """Prune `ws` (with `empty_trash`, also delete what the trash held `max_age` seconds or more, a
    week by default); what was done or would be, by kind, and whether anything failed (each
    failure is named on stderr)."""
    report: Report = {
        "trashed": [],
        "left_alone": [],
        "closed": [],
        "pruned": [],
        "archived": [],
        "emptied": [],
    }
    unrepaired = _repair_trash(ws, dry_run) | _move_orphans(ws, dry_run, report)
    _close_vanished(ws, dry_run, report)
    failed = bool(unrepaired) | _prune_admin_entries(ws, dry_run, report, unrepaired)
    if empty_trash:
        failed |= not _empty_trash(ws, DEFAULT_TRASH_AGE if max_age is None else max_age, dry_run, report)
        failed |= _prune_admin_entries(ws, dry_run, report, unrepaired)
    return report, failed


def _repositories(ws: Workspace) -> list[Path]:
    return [ws.root, *ws.clones()]


def _prune_admin_entries(ws: Workspace, dry_run: bool, report: Report, unrepaired: set[Path]) -> bool:
    """`git worktree prune` in every repository; True when it failed in any (each is named)."""

    def prune_one(repo: Path) -> list[str]:
        common_dir = ws.common_dir if repo == ws.root else repo / ".git"
        with repository_lock(common_dir):  # a run adding a worktree there ends first
            stillborn = [] if dry_run else checkout.clear_stillborn(common_dir)
            done = git.prune_worktrees(repo, dry_run)
        if done.returncode != 0:
            raise git.GitFailed(done)
        said = done.stdout + done.stderr  # git reports what it prunes on stderr
        lines = [f"{repo.name}: {line.strip()}" for line in said.splitlines() if line.strip()]
        return lines + [f"{repo.name}: the remains of a killed git worktree add: {admin}" for admin in stillborn]

    for repo in sorted(unrepaired):
        output.say(f"{repo}: not pruned, so the worktree named above keeps its link to its branch")
    outcomes = parallel.each([r for r in _repositories(ws) if r not in unrepaired], prune_one)
    failed = parallel.failures(outcomes)
    for repo, error in failed:
        output.error(
            f"{repo}: {error.message}",
            f"fix what git says ({output.command('git', '-C', repo, 'worktree', 'prune', '--verbose')}),"
            " then run again: builders prune"
            if isinstance(error, git.GitFailed) or error.hint is None
            else error.hint,  # the repository stayed locked: its own hint says what holds it
        )
    for _, outcome in outcomes:
        if not isinstance(outcome, BaseException):
            report["pruned"] += [line for line in outcome if line not in report["pruned"]]
    return bool(failed)


def _close_vanished(ws: Workspace, dry_run: bool, report: Report) -> None:
    for record in state.load_all(ws):
        if Path(record.path).exists():
            continue
        completes = state.completing_command(record)
        if completes is not None:
            # A run that was stopped: its command completes it, and remove takes its branches away. A
            # removal's record names its archives and the branches it deleted: closing it here would
            # write another, wrong one (which restore would then take), and leave that one incomplete.
            report["left_alone"].append(f"{record.name} (status {record.status}: {completes})")
            continue
        with try_builder_lock(ws, record.name) as free:
            if not free or state.load(ws, record.name) != record:
                report["left_alone"].append(f"{record.name} (a run is working on it)")
                continue
            report["closed"].append(
                f"{record.name} ({record.path} is gone; its branches are kept: builders remove {record.name} ends them)"
            )
            if not dry_run:
                removal_records.begin(ws, record.name, _closed_record(ws, record))
                state.delete(ws, record.name)


def _closed_record(ws: Workspace, record: state.BuilderState) -> dict[str, object]:
    """The removal record of a builder whose folder went without `remove`: each worktree it had,
    so that `restore` can make it again on its kept branches."""
    trees = [(ROOT, ws.root, record.path, record.branch, record.base_ref, record.base_commit)]
    trees += [(r.name, ws.clone(r.name), r.path, r.branch, r.base_ref, r.base_commit) for r in record.repos]
    return {
        "name": record.name,
        "removed_at": state.now(),
        "archive_refs": {},
        "kept_branches": {label: f"{branch} (vanished: kept)" for label, _, _, branch, _, _ in trees},
        "worktrees": {
            label: {"repo": str(repo), "path": path, "branch": branch, "base_ref": base_ref, "base_commit": base}
            for label, repo, path, branch, base_ref, base in trees
        },
        "copied": list(record.copied),
        "complete": True,
    }


def _move_orphans(ws: Workspace, dry_run: bool, report: Report) -> set[Path]:
    """Move proven orphans to the trash; the clones whose worktrees in them could not be repaired
    (their admin entries must not be pruned: that would cut the worktree off from its branch)."""
    unrepaired: set[Path] = set()
    if not ws.builders_dir.is_dir():
        return unrepaired
    registered = {w.path for w in git.worktrees(ws.root) if not w.prunable}
    recorded = {Path(r.path) for r in state.load_all(ws)}
    for folder in sorted(ws.builders_dir.iterdir()):
        if folder.name == TRASH or folder in registered or folder.is_symlink() or not folder.is_dir():
            continue
        proof = orphan_proof(ws, folder, recorded)
        if proof is None:
            report["left_alone"].append(f"{folder} (no proof it was a builder of this workspace)")
            continue
        with try_builder_lock(ws, folder.name) as free:
            if not free:
                report["left_alone"].append(f"{folder} (a run is working on it)")
                continue
            # Decided again under the lock: a run that held it may have just made this folder a
            # registered worktree (creation finishing), or be in the middle of its work.
            live = state.load(ws, folder.name)
            if any(w.path == folder and not w.prunable for w in git.worktrees(ws.root)) or (
                live is not None and Path(live.path) == folder and live.status in (state.CREATING, state.MIGRATING)
            ):
                report["left_alone"].append(f"{folder} (a builder being made: not an orphan)")
                continue
            proof = orphan_proof(ws, folder, {Path(r.path) for r in state.load_all(ws)})
            if proof is None:
                report["left_alone"].append(f"{folder} (no proof it was a builder of this workspace)")
                continue
            stamp = datetime.now(timezone.utc).strftime(_STAMP)
            target = ws.builders_dir / TRASH / f"{folder.name}-{stamp}"
            report["trashed"].append(f"{folder} -> {target} ({proof})")
            if not dry_run:
                target.parent.mkdir(exist_ok=True)
                # Under the locks of its clones: a `git worktree prune` there (another prune) between the
                # move and the repair would cut the nested worktrees off from their index and HEAD.
                with _clone_locks(ws, folder):
                    folder.rename(target)
                    faults.point("prune:trashed")
                    unrepaired |= _repair_nested(ws, target)
    return unrepaired


def _clone_locks(ws: Workspace, builder: Path) -> contextlib.ExitStack:
    """The repository locks of the clones of the builder's nested worktrees, in one fixed order."""
    stack = contextlib.ExitStack()
    nested = builder / REPOS
    folders = sorted(nested.iterdir()) if nested.is_dir() and not nested.is_symlink() else []
    commons = set()
    for entry in folders:
        clone = ws.clone(entry.name)
        if (entry / ".git").is_file() and clone.is_dir():
            commons.add(git.common_dir_of(clone))
    with stack:
        for common_dir in sorted(commons):
            stack.enter_context(repository_lock(common_dir))
        return stack.pop_all()


def _repair_trash(ws: Workspace, dry_run: bool) -> set[Path]:
    """Repair the nested worktrees of trash entries whose links a stopped prune left unrepaired (it
    moved the folder, then stopped): `git worktree prune` would take their admin entries, and with
    them each one's index and HEAD (a detached HEAD's commits too)."""
    trash = ws.builders_dir / TRASH
    failed: set[Path] = set()
    if dry_run or not trash.is_dir():
        return failed
    for entry in sorted(trash.iterdir()):
        if entry.is_symlink() or not (entry / REPOS).is_dir():
            continue
        broken = []
        for nested in sorted((entry / REPOS).iterdir()):
            clone = ws.clone(nested.name)
            if (nested / ".git").is_file() and not nested.is_symlink() and clone.is_dir():
                link = links.link_of(nested, git.common_dir_of(clone))
                if link.admin is not None and link.admin.is_dir() and not link.names_back:
                    broken.append(nested)
        if broken:
            with _clone_locks(ws, entry):
                failed |= _repair_nested(ws, entry)
    return failed


def orphan_proof(ws: Workspace, folder: Path, recorded: set[Path]) -> str | None:
    """Why `folder` is known to be a builder of this workspace, or None.

    Its `.git` file must name an admin dir of this root, and either that dir's `gitdir` must name the
    folder back, or a state file must record the folder.
    """
    link = links.link_of(folder, ws.common_dir)
    if link.admin is None:
        return None
    if link.names_back:
        return "its .git names this root and the root names it back"
    if folder in recorded:
        return "its .git names this root and a state file records it"
    return None


def _repair_nested(ws: Workspace, moved: Path) -> set[Path]:
    """Point the nested worktrees' admin entries at their new place, so that prune keeps them; the
    clones where that failed (each is reported)."""
    failed: set[Path] = set()
    nested = moved / REPOS
    if not nested.is_dir():
        return failed
    for entry in sorted(nested.iterdir()):
        if (entry / ".git").is_file() and not entry.is_symlink():
            done = git.repair_worktree(entry)
            if done.returncode != 0:
                clone = ws.clone(entry.name)
                repair = output.command("git", "-C", entry, "worktree", "repair")
                output.error(f"{entry}: {git.GitFailed(done).message}", repair)
                failed.add(clone)
    return failed


def _empty_trash(ws: Workspace, max_age: int, dry_run: bool, report: Report) -> bool:
    """Delete what prune trashed at least `max_age` ago; False when some entry had to be kept.

    Trash is not a shredder: before an entry goes, the uncommitted and untracked work of each of its
    worktrees (the builder, and each nested repo worktree) is saved under an archive ref in that
    worktree's repository. An entry whose work cannot be saved is kept and reported.
    """
    trash = ws.builders_dir / TRASH
    if not trash.is_dir():
        return True
    now = time.time()
    all_kept = True
    for entry in sorted(trash.iterdir()):
        trashed_at = _TRASHED_AT.search(entry.name)
        if entry.is_symlink() or trashed_at is None:
            continue  # not put there by prune: not ours to delete
        when = datetime.strptime(trashed_at.group(1), _STAMP).replace(tzinfo=timezone.utc).timestamp()
        if now - when < max_age:
            continue
        if dry_run:
            report["emptied"].append(str(entry))
            continue
        name = entry.name[: trashed_at.start()]
        try:
            saved = _archive_trashed(ws, entry, name)
        except BuildersError as exc:
            output.error(f"kept {entry} in the trash: its work could not be archived: {exc.message}", exc.hint)
            report["left_alone"].append(f"{entry} (its work could not be archived)")
            all_kept = False
            continue
        report["archived"] += [f"{folder}: {repo} {ref}" for _, repo, folder, ref in saved]
        record_file = removal_records.begin(ws, name, _trash_record(ws, name, entry, saved))
        removal.delete_trash_entry(entry)
        removal_records.write(record_file, {**_trash_record(ws, name, entry, saved), "complete": True})
        report["emptied"].append(str(entry))
    return all_kept


Saved = tuple[str, Path, Path, str]  # label, repository, folder, archive ref


def _trash_record(ws: Workspace, name: str, entry: Path, saved: list[Saved]) -> dict[str, object]:
    """The removal record of a trashed builder's work, written before the entry is deleted."""
    return {
        "name": name,
        "removed_at": state.now(),
        "archive_refs": {label: f"{repo} {ref}" for label, repo, _, ref in saved},
        "kept_branches": {},
        "worktrees": {
            label: {
                "repo": str(ws.root if label == ROOT else ws.clone(label)),
                "path": str(ws.builder_path(name) if label == ROOT else ws.builder_path(name) / REPOS / label),
            }
            for label, _, _, _ in saved
        },
        "trash": str(entry),
        "complete": False,
    }


def _archive_trashed(ws: Workspace, entry: Path, name: str) -> list[Saved]:
    """Save the work of every worktree in a trashed builder, as the removal judge finds it."""
    if not (entry / ".git").is_file() or (entry / ".git").is_symlink():
        if any(files for _, _, files in os.walk(entry)):
            raise BuildersError(
                f"{entry} is not a worktree, so nothing can archive it",
                f"look at it: {output.command('ls', '-la', entry)}",
            )
        return []  # only empty folders: nothing to save
    strays = []
    worktrees = [(ROOT, entry)]
    nested = entry / REPOS
    if nested.is_dir() and not nested.is_symlink():
        for inner in sorted(nested.iterdir()):
            if (inner / ".git").is_file() and not inner.is_symlink():
                worktrees.append((inner.name, inner))
            elif inner.is_symlink() or not inner.is_dir() or any(inner.iterdir()):
                strays.append(f"{REPOS}/{inner.name}")
    if strays:
        raise BuildersError(
            f"{', '.join(strays)}: not a worktree, so nothing can archive it",
            f"move what you want to keep out of {entry}, then run again",
        )
    judged = [(label, folder, _judge_trashed(folder, label)) for label, folder in worktrees]
    blocked = [f"{folder}: {'; '.join(m.blockers)}" for _, folder, m in judged if m is not None and m.blockers]
    blocked += [
        f"{folder}: {', '.join(inside)}: a git repository inside (move it out first)"
        for label, folder, m in judged
        if m is None and (inside := repositories_inside(folder, label))
    ]
    if blocked:
        raise BuildersError("; ".join(blocked), f"move what you want to keep out of {entry}, then run again")
    stamp = archives.stamp()
    saved: list[Saved] = []
    for label, folder, m in judged:
        ref, repo = _archive_one(folder, name, label, stamp, m)
        if ref is not None:
            output.say(f"  {name} {label}: saved to {ref} in {repo}")
            saved.append((label, repo, folder, ref))
    return saved


def _judge_trashed(folder: Path, label: str) -> Member | None:
    """What deleting a trashed worktree would lose; None when its link to its repository is gone."""
    admin = _admin_dir(folder)
    back = admin / "gitdir"
    linked = back.is_file() and Path(back.read_text(encoding="utf-8").strip()).resolve() == (folder / ".git").resolve()
    found = git.locate(folder) if linked else None
    if found is None or found.toplevel.resolve() != folder.resolve():
        return None
    m = Member(label, found.common_dir, found.common_dir, folder, None, False)
    check(m)
    return m


def _archive_one(folder: Path, name: str, label: str, stamp: str, m: Member | None) -> tuple[str | None, Path]:
    """Archive one trashed worktree when it holds work; (the ref or None, the repository)."""
    why = "before the trash was emptied"
    if m is not None:
        if not m.needs_archive:
            return None, m.common_dir
        ref = archives.save(
            m.repo,
            m.common_dir,
            folder,
            name,
            label,
            stamp,
            why,
            store=m.store,
            drop=m.drop,
            gitlinks=m.gitlinks,
            keep=m.reflog_only,
        )
        return ref, m.common_dir
    # The link is gone (an orphan's admin entry was deleted or pruned): save the folder as it is.
    admin = _admin_dir(folder)
    common_dir = admin.parent.parent
    if admin.parent.name != "worktrees" or not (common_dir / "HEAD").is_file():
        raise BuildersError(
            f"{folder}: its repository {common_dir} is not there",
            f"look at it: {output.command('cat', folder / '.git')}",
        )
    return archives.save_unlinked(common_dir, folder, name, label, stamp, why), common_dir


def _admin_dir(folder: Path) -> Path:
    text = (folder / ".git").read_text(encoding="utf-8", errors="replace").strip()
    if not text.startswith("gitdir: "):
        raise BuildersError(
            f"{folder}/.git names no repository", f"look at it: {output.command('cat', folder / '.git')}"
        )
    admin = Path(text.removeprefix("gitdir: "))
    return admin if admin.is_absolute() else (folder / admin).resolve()
