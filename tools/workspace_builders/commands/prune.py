"""`builders prune`: stale worktree admin entries, vanished builders, orphan builder folders.

Nothing is deleted outright: an orphan folder is moved to `<builders dir>/.trash/` (and its nested
worktrees' links repaired there), only with proof that it was a builder of this workspace.
`--empty-trash --older-than 7d` is the one thing that deletes, and only from the trash, after
archiving each trashed worktree's uncommitted and untracked work.
"""

from __future__ import annotations

import os
import re
import time
from datetime import datetime, timezone
from pathlib import Path

from plumbum import cli

from workspace_builders.base import output, parallel
from workspace_builders.base.errors import BuildersError, bad_input
from workspace_builders.commands.base import WithDryRunAndJson
from workspace_builders.engine import checkout, removal, removal_records
from workspace_builders.engine.removal_judge import Member, check, repositories_inside
from workspace_builders.gitlayer import archive as archives
from workspace_builders.gitlayer import git, links
from workspace_builders.gitlayer.locks import repository_lock, try_builder_lock
from workspace_builders.model import state
from workspace_builders.model.workspace import REPOS, ROOT, TRASH, Workspace

_AGE = re.compile(r"(\d+)([dhm])")
_SECONDS = {"d": 86400, "h": 3600, "m": 60}
_STAMP = "%Y%m%dT%H%M%SZ"
_TRASHED_AT = re.compile(r"-(\d{8}T\d{6}Z)$")


def prune(ws: Workspace, dry_run: bool, as_json: bool, empty_trash: bool, older_than: str | None) -> int:
    max_age = _parse_age(older_than) if older_than else None
    if max_age is not None and not empty_trash:
        raise bad_input("--older-than goes with --empty-trash", "builders prune --empty-trash --older-than 7d")
    report: dict[str, list[str]] = {
        "trashed": [],
        "left_alone": [],
        "closed": [],
        "pruned": [],
        "archived": [],
        "emptied": [],
    }
    trash_emptied = True
    unrepaired = _move_orphans(ws, dry_run, report)
    _close_vanished(ws, dry_run, report)
    failed = bool(unrepaired) | _prune_admin_entries(ws, dry_run, report, unrepaired)
    if empty_trash:
        trash_emptied = _empty_trash(ws, max_age if max_age is not None else 7 * 86400, dry_run, report)
        failed |= _prune_admin_entries(ws, dry_run, report, unrepaired)
    if as_json:
        output.json_document({"dry_run": dry_run, **report})
    else:
        verb = "would be " if dry_run else ""
        for key, lines in report.items():
            for line in lines:
                output.result(f"{verb}{key.replace('_', ' ')}: {line}")
        if not any(report.values()):
            output.result("nothing to prune")
    return 1 if failed or not trash_emptied else 0


def _parse_age(text: str) -> int:
    found = _AGE.fullmatch(text.strip())
    if not found:
        raise bad_input(f"--older-than {text!r}: not an age", "write it as 7d, 12h or 30m")
    return int(found.group(1)) * _SECONDS[found.group(2)]


def _repositories(ws: Workspace) -> list[Path]:
    return [ws.root, *ws.clones()]


def _prune_admin_entries(ws: Workspace, dry_run: bool, report: dict[str, list[str]], unrepaired: set[Path]) -> bool:
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

    failed = False
    for repo in sorted(unrepaired):
        output.say(f"{repo}: not pruned, so the worktree named above keeps its link to its branch")
    failed = False
    for repo, outcome in parallel.each([r for r in _repositories(ws) if r not in unrepaired], prune_one):
        if isinstance(outcome, BaseException):
            output.error(
                f"{repo}: {outcome}",
                f"fix what git says (git -C {repo} worktree prune --verbose), then run again: builders prune",
            )
            failed = True
        else:
            report["pruned"] += [line for line in outcome if line not in report["pruned"]]
    return failed


def _close_vanished(ws: Workspace, dry_run: bool, report: dict[str, list[str]]) -> None:
    for record in state.load_all(ws):
        if Path(record.path).exists():
            continue
        if record.status in (state.CREATING, state.MIGRATING):
            # A run that was stopped: its command completes it, and remove takes its branches away.
            command = "builders migrate" if record.status == state.MIGRATING else f"builders new {record.name}"
            report["left_alone"].append(
                f"{record.name} (status {record.status}: {command} completes it, builders remove {record.name} ends it)"
            )
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


def _move_orphans(ws: Workspace, dry_run: bool, report: dict[str, list[str]]) -> set[Path]:
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
                folder.rename(target)
                unrepaired |= _repair_nested(ws, target)
    return unrepaired


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
                output.error(f"{entry}: {git.GitFailed(done).message}", f"git -C {entry} worktree repair")
                failed.add(clone)
    return failed


def _empty_trash(ws: Workspace, max_age: int, dry_run: bool, report: dict[str, list[str]]) -> bool:
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
            raise BuildersError(f"{entry} is not a worktree, so nothing can archive it", f"look at it: ls -la {entry}")
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
        raise BuildersError(f"{folder}: its repository {common_dir} is not there", f"look at it: cat {folder}/.git")
    return archives.save_unlinked(common_dir, folder, name, label, stamp, why), common_dir


def _admin_dir(folder: Path) -> Path:
    text = (folder / ".git").read_text(encoding="utf-8", errors="replace").strip()
    if not text.startswith("gitdir: "):
        raise BuildersError(f"{folder}/.git names no repository", f"look at it: cat {folder}/.git")
    admin = Path(text.removeprefix("gitdir: "))
    return admin if admin.is_absolute() else (folder / admin).resolve()


class Prune(WithDryRunAndJson):
    DESCRIPTION = "clean stale worktree entries, close vanished builders, move proven orphans to the trash"

    empty_trash = cli.Flag("--empty-trash", help="delete what prune moved to the trash (default: older than 7d)")
    older_than = cli.SwitchAttr(
        "--older-than", str, argname="AGE", help="with --empty-trash: an age such as 7d, 12h, 30m"
    )

    def main(self) -> int:
        return prune(self.location().workspace, self.dry_run, self.as_json, self.empty_trash, self.older_than)

