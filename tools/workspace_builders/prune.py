"""`builders prune`: stale worktree admin entries, vanished builders, orphan builder folders.

Nothing is deleted outright: an orphan folder is moved to `<builders dir>/.trash/` (and its nested
worktrees' links repaired there), only with proof that it was a builder of this workspace.
`--empty-trash --older-than 7d` is the one thing that deletes, and only from the trash.
"""

from __future__ import annotations

import re
import shutil
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from plumbum import cli

from workspace_builders import git, output, parallel, state
from workspace_builders.cli import WithDryRunAndJson, run_tool, start_dir
from workspace_builders.errors import bad_input
from workspace_builders.workspace import REPOS, Workspace, discover

TRASH = ".trash"
_AGE = re.compile(r"(\d+)([dhm])")
_SECONDS = {"d": 86400, "h": 3600, "m": 60}
_STAMP = "%Y%m%dT%H%M%SZ"
_TRASHED_AT = re.compile(r"-(\d{8}T\d{6}Z)$")


def prune(start: Path, dry_run: bool, as_json: bool, empty_trash: bool, older_than: str | None) -> int:
    ws = discover(start).workspace
    max_age = _parse_age(older_than) if older_than else None
    if max_age is not None and not empty_trash:
        raise bad_input("--older-than goes with --empty-trash", "builders prune --empty-trash --older-than 7d")
    report: dict[str, list[str]] = {"trashed": [], "left_alone": [], "closed": [], "pruned": [], "emptied": []}
    _move_orphans(ws, dry_run, report)
    _close_vanished(ws, dry_run, report)
    _prune_admin_entries(ws, dry_run, report)
    if empty_trash:
        _empty_trash(ws, max_age if max_age is not None else 7 * 86400, dry_run, report)
        _prune_admin_entries(ws, dry_run, report)
    if as_json:
        output.json_document({"dry_run": dry_run, **report})
    else:
        verb = "would be " if dry_run else ""
        for key, lines in report.items():
            for line in lines:
                output.result(f"{verb}{key.replace('_', ' ')}: {line}")
        if not any(report.values()):
            output.result("nothing to prune")
    return 0


def _parse_age(text: str) -> int:
    found = _AGE.fullmatch(text.strip())
    if not found:
        raise bad_input(f"--older-than {text!r}: not an age", "write it as 7d, 12h or 30m")
    return int(found.group(1)) * _SECONDS[found.group(2)]


def _repositories(ws: Workspace) -> list[Path]:
    return [ws.root, *ws.clones()]


def _prune_admin_entries(ws: Workspace, dry_run: bool, report: dict[str, list[str]]) -> None:
    def prune_one(repo: Path) -> list[str]:
        args = ["worktree", "prune", "--verbose"] + (["--dry-run"] if dry_run else [])
        done = git.probe(repo, *args)
        if done.returncode != 0:
            raise git.GitFailed(done)
        said = done.stdout + done.stderr  # git reports what it prunes on stderr
        return [f"{repo.name}: {line.strip()}" for line in said.splitlines() if line.strip()]

    for repo, outcome in parallel.each(_repositories(ws), prune_one):
        if isinstance(outcome, BaseException):
            output.error(f"{repo}: {outcome}", None)
        else:
            report["pruned"] += [line for line in outcome if line not in report["pruned"]]


def _close_vanished(ws: Workspace, dry_run: bool, report: dict[str, list[str]]) -> None:
    for record in state.load_all(ws):
        if Path(record.path).exists():
            continue
        report["closed"].append(f"{record.name} ({record.path} is gone; its branches are kept)")
        if not dry_run:
            state.record_removal(ws, record.name, {}, {"all": f"{record.branch} (vanished: kept)"})
            state.delete(ws, record.name)


def _move_orphans(ws: Workspace, dry_run: bool, report: dict[str, list[str]]) -> None:
    if not ws.builders_dir.is_dir():
        return
    registered = {w.path for w in git.worktrees(ws.root) if not w.prunable}
    recorded = {Path(r.path) for r in state.load_all(ws)}
    for folder in sorted(ws.builders_dir.iterdir()):
        if folder.name == TRASH or folder in registered or folder.is_symlink() or not folder.is_dir():
            continue
        proof = orphan_proof(ws, folder, recorded)
        if proof is None:
            report["left_alone"].append(f"{folder} (no proof it was a builder of this workspace)")
            continue
        stamp = datetime.now(timezone.utc).strftime(_STAMP)
        target = ws.builders_dir / TRASH / f"{folder.name}-{stamp}"
        report["trashed"].append(f"{folder} -> {target} ({proof})")
        if not dry_run:
            target.parent.mkdir(exist_ok=True)
            folder.rename(target)
            _repair_nested(target)


def orphan_proof(ws: Workspace, folder: Path, recorded: set[Path]) -> str | None:
    """Why `folder` is known to be a builder of this workspace, or None.

    Its `.git` file must name an admin dir of this root, and either that dir's `gitdir` must name the
    folder back, or a state file must record the folder.
    """
    link = folder / ".git"
    if not link.is_file() or link.is_symlink():
        return None
    text = link.read_text(encoding="utf-8", errors="replace").strip()
    if not text.startswith("gitdir: "):
        return None
    admin = Path(text.removeprefix("gitdir: "))
    if admin.parent != ws.common_dir / "worktrees":
        return None
    back = admin / "gitdir"
    if back.is_file() and Path(back.read_text(encoding="utf-8").strip()) == link:
        return "its .git names this root and the root names it back"
    if folder in recorded:
        return "its .git names this root and a state file records it"
    return None


def _repair_nested(moved: Path) -> None:
    """Point the nested worktrees' admin entries at their new place, so that prune keeps them."""
    nested = moved / REPOS
    if not nested.is_dir():
        return
    for entry in sorted(nested.iterdir()):
        if (entry / ".git").is_file() and not entry.is_symlink():
            git.probe(entry, "worktree", "repair")


def _empty_trash(ws: Workspace, max_age: int, dry_run: bool, report: dict[str, list[str]]) -> None:
    trash = ws.builders_dir / TRASH
    if not trash.is_dir():
        return
    now = time.time()
    for entry in sorted(trash.iterdir()):
        trashed_at = _TRASHED_AT.search(entry.name)
        if entry.is_symlink() or trashed_at is None:
            continue  # not put there by prune: not ours to delete
        when = datetime.strptime(trashed_at.group(1), _STAMP).replace(tzinfo=timezone.utc).timestamp()
        if now - when < max_age:
            continue
        report["emptied"].append(str(entry))
        if not dry_run:
            shutil.rmtree(entry)


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
