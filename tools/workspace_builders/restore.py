"""`builders restore NAME`: a removed builder back, from its kept branches and its archive refs.

Every worktree comes back on its branch, and the work `remove --force` archived comes back as it was
left: changes to tracked files uncommitted (not staged), new files untracked. A snapshot commit C
(whose parent is the HEAD at archive time) is applied with `git read-tree -m -u HEAD C` (the working
tree becomes C's) and then `git reset` (the index back to HEAD, the working tree kept).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from plumbum import cli

from workspace_builders import git, interrupts, output, ports, state
from workspace_builders.cli import Command, start_dir
from workspace_builders.errors import BuildersError, bad_input
from workspace_builders.locks import builder_lock, repository_lock
from workspace_builders.names import check_builder_name
from workspace_builders.state import BuilderState, RepoState
from workspace_builders.workspace import REPOS, Workspace, discover

ROOT = "root"
ORIGIN_HEAD = "refs/remotes/origin/HEAD"


@dataclass
class Piece:
    """One worktree to bring back."""

    label: str
    repo: Path
    path: Path
    branch: str
    start: str  # the commit the branch is made at when it is gone
    new_branch: bool
    snapshot: str | None  # the archive commit to apply back
    base_ref: str
    base_commit: str


def restore(start: Path, name: str, at: str | None) -> int:
    ws = discover(start).workspace
    check_builder_name(name)
    with builder_lock(ws, name):
        removal = _removal(ws, name, at)
        if state.load(ws, name) is not None:
            raise BuildersError(f"builder {name!r} exists", f"see it: builders status {name}")
        pieces = _plan(ws, name, removal)
        made: list[Piece] = []
        try:
            for piece in pieces:
                _make(piece)
                made.append(piece)
                output.say(f"  {piece.label}: {piece.path} on {piece.branch}")
            for piece in pieces:
                if piece.snapshot:
                    git.run(piece.path, "read-tree", "-m", "-u", "HEAD", piece.snapshot)
                    git.run(piece.path, "reset", "--quiet")
                    output.say(f"  {piece.label}: archived work back as uncommitted changes ({piece.snapshot[:10]})")
        except BaseException:
            with interrupts.held_off():
                _undo(reversed(made))
            raise
        top = pieces[0]
        record = BuilderState(name, str(top.path), top.branch, top.base_ref, top.base_commit, state.READY)
        record.repos = [RepoState(p.label, str(p.path), p.branch, p.base_ref, p.base_commit) for p in pieces[1:]]
        state.save(ws, record)
        # Its old block was freed with it and may be another builder's by now: a new one, as at creation.
        ports.assign(ws, record)
    output.result(f"builder {name} restored at {top.path}")
    return 0


def _removal(ws: Workspace, name: str, at: str | None) -> dict[str, object]:
    found = [r for r in state.removals(ws) if r["name"] == name]
    if at is not None:
        found = [r for r in found if at == r["removed_at"] or any(v.endswith(f"/{at}") for v in _refs(r).values())]
    if not found:
        what = f"no removal of {name!r}" + (f" at {at!r}" if at else "")
        raise bad_input(what, "see the removed builders: builders list --removed")
    return found[-1]


def _refs(removal: dict[str, object]) -> dict[str, str]:
    refs = removal.get("archive_refs")
    return {str(k): str(v) for k, v in refs.items()} if isinstance(refs, dict) else {}


def _plan(ws: Workspace, name: str, removal: dict[str, object]) -> list[Piece]:
    """Every worktree to bring back, the builder's own first; refuse before anything is made."""
    recorded = removal.get("worktrees")
    trees: dict[str, dict[str, object]] = dict(recorded) if isinstance(recorded, dict) else {}
    kept = removal.get("kept_branches")
    labels = list(dict.fromkeys([*trees, *_refs(removal), *(kept if isinstance(kept, dict) else {})]))
    labels = [ROOT, *sorted(label for label in labels if label != ROOT)]
    builder_path = Path(str(trees.get(ROOT, {}).get("path") or ws.builder_path(name)))
    if os.path.lexists(builder_path):
        raise BuildersError(f"{builder_path} exists", f"move it away first: mv {builder_path} {builder_path}.old")
    pieces = []
    for label in labels:
        entry = trees.get(label, {})
        repo = ws.root if label == ROOT else ws.clone(label)
        path = builder_path if label == ROOT else builder_path / REPOS / label
        branch = str(entry.get("branch") or ws.branch(name))
        archived = _refs(removal).get(label)
        snapshot = _resolve(repo, archived.rpartition(" ")[2]) if archived else None
        if archived and snapshot is None:
            raise BuildersError(
                f"{label}: the archive ref {archived} is gone", f"look: git -C {repo} for-each-ref refs/builders"
            )
        parent = _resolve(repo, f"{snapshot}^1") if snapshot else None
        tip = _resolve(repo, f"refs/heads/{branch}")
        head = entry.get("head")
        start = tip or parent or (str(head) if head else None)
        if start is None or _resolve(repo, start) is None:
            raise BuildersError(
                f"{label}: neither the branch {branch} nor a commit to make it at is left in {repo}",
                "restore the others by hand (builders list --removed names what was kept)",
            )
        if snapshot and tip is not None and tip != parent:
            raise BuildersError(
                f"{label}: {branch} moved since the archive was made ({tip[:10]}, archived on {str(parent)[:10]})",
                f"get the archived work by hand: git -C {repo} worktree add --detach {path} {snapshot}",
            )
        base_ref = str(entry.get("base_ref") or (label == ROOT and "HEAD") or _default_base(repo))
        base_commit = str(entry.get("base_commit") or _merge_base(repo, start, base_ref))
        pieces.append(Piece(label, repo, path, branch, start, tip is None, snapshot, base_ref, base_commit))
    return pieces


def _resolve(repo: Path, rev: str) -> str | None:
    return git.resolve_commits(repo, [rev])[rev]


def _default_base(repo: Path) -> str:
    return ORIGIN_HEAD if _resolve(repo, ORIGIN_HEAD) else "HEAD"


def _merge_base(repo: Path, commit: str, base_ref: str) -> str:
    done = git.attempt(repo, "merge-base", commit, base_ref)
    return done.stdout.strip() if done.returncode == 0 else commit


def _make(piece: Piece) -> None:
    found = git.locate(piece.repo)
    common_dir = found.common_dir if found else piece.repo / ".git"
    with repository_lock(common_dir):
        if piece.new_branch:
            git.run(piece.repo, "worktree", "add", "--no-track", "-b", piece.branch, "--", str(piece.path), piece.start)
        else:
            git.run(piece.repo, "worktree", "add", "--", str(piece.path), piece.branch)


def _undo(made: object) -> None:
    for piece in made:  # type: ignore[attr-defined]
        assert isinstance(piece, Piece)
        git.attempt(piece.repo, "worktree", "remove", "--force", "--", str(piece.path))
        if piece.new_branch:
            git.delete_branch_at(piece.repo, piece.branch, piece.start)


class Restore(Command):
    DESCRIPTION = "bring a removed builder back: its branches, and its archived work as uncommitted changes"

    at = cli.SwitchAttr("--at", str, help="which removal: its time (list --removed) or its archive stamp")

    def main(self, name: str) -> int:
        return restore(start_dir(), name, self.at)
