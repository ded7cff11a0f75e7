"""`builders prune`: stale worktree admin entries, vanished builders, orphan builder folders.

Nothing is deleted outright: an orphan folder is moved to `<builders dir>/.trash/` (and its nested
worktrees' links repaired there), only with proof that it was a builder of this workspace.
`--empty-trash --older-than 7d` is the one thing that deletes, and only from the trash, after
archiving each trashed worktree's uncommitted and untracked work.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from plumbum import cli

from workspace_builders import archive as archives
from workspace_builders import checkout, git, links, output, parallel, state
from workspace_builders.cli import WithDryRunAndJson, run_tool, start_dir
from workspace_builders.errors import BuildersError, bad_input
from workspace_builders.locks import repository_lock, try_builder_lock
from workspace_builders.workspace import REPOS, ROOT, TRASH, Workspace, discover

_AGE = re.compile(r"(\d+)([dhm])")
_SECONDS = {"d": 86400, "h": 3600, "m": 60}
_STAMP = "%Y%m%dT%H%M%SZ"
_TRASHED_AT = re.compile(r"-(\d{8}T\d{6}Z)$")


def prune(start: Path, dry_run: bool, as_json: bool, empty_trash: bool, older_than: str | None) -> int:
    ws = discover(start).workspace
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
        args = ["worktree", "prune", "--verbose"] + (["--dry-run"] if dry_run else [])
        common_dir = ws.common_dir if repo == ws.root else repo / ".git"
        with repository_lock(common_dir):  # a run adding a worktree there ends first
            stillborn = [] if dry_run else checkout.clear_stillborn(common_dir)
            done = git.attempt(repo, *args)
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
            report["closed"].append(f"{record.name} ({record.path} is gone; its branches are kept)")
            if not dry_run:
                state.record_removal(ws, record.name, {}, {"all": f"{record.branch} (vanished: kept)"})
                state.delete(ws, record.name)


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
            done = git.attempt(entry, "worktree", "repair")
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
            saved = _archive_trashed(entry, name)
        except BuildersError as exc:
            output.error(f"kept {entry} in the trash: its work could not be archived: {exc.message}", exc.hint)
            report["left_alone"].append(f"{entry} (its work could not be archived)")
            all_kept = False
            continue
        report["archived"] += saved
        shutil.rmtree(entry)
        report["emptied"].append(str(entry))
    return all_kept


def _archive_trashed(entry: Path, name: str) -> list[str]:
    """Save the work of every worktree in a trashed builder; a line per archive ref made."""
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
    stamp = archives.stamp()
    saved = []
    for label, folder in worktrees:
        ref, repo = _archive_one(folder, name, label, stamp)
        if ref is not None:
            output.say(f"  {name} {label}: saved to {ref} in {repo}")
            saved.append(f"{folder}: {repo} {ref}")
    return saved


def _archive_one(folder: Path, name: str, label: str, stamp: str) -> tuple[str | None, Path]:
    """Archive one trashed worktree when it holds work; (the ref or None, the repository)."""
    why = "before the trash was emptied"
    admin = _admin_dir(folder)
    back = admin / "gitdir"
    linked = back.is_file() and Path(back.read_text(encoding="utf-8").strip()).resolve() == (folder / ".git").resolve()
    found = git.locate(folder) if linked else None
    if found is not None and found.toplevel.resolve() == folder.resolve():
        has_work = bool(git.status_entries(folder))
        detached = git.attempt(folder, "symbolic-ref", "-q", "HEAD").returncode != 0
        if not has_work and not (detached and not git.reachable_from_a_ref(folder)):
            return None, found.common_dir
        return archives.save(found.common_dir, found.common_dir, folder, name, label, stamp, why), found.common_dir
    # The link is gone (an orphan's admin entry was deleted or pruned): save the folder as it is.
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
        return prune(start_dir(), self.dry_run, self.as_json, self.empty_trash, self.older_than)


if __name__ == "__main__":
    sys.exit(run_tool(Prune, "python -m workspace_builders.prune"))
