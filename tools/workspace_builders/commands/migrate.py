"""`builders migrate`: move builders of the deprecated nested layout to the sibling builders folder.

Each is moved whole with `git worktree move` (its nested repo worktrees travel with it, being plain
folders to the root), then the nested worktrees' admin entries are repaired in their new place and
the builder's state is written. Nothing is copied, so every file, commit and branch stays as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from plumbum import cli

from workspace_builders.base import faults, output
from workspace_builders.base.errors import BuildersError
from workspace_builders.base.names import name_problem
from workspace_builders.commands.base import Command
from workspace_builders.gitlayer import git
from workspace_builders.gitlayer.locks import builder_lock, repository_lock
from workspace_builders.model import state
from workspace_builders.model.state import BuilderState, RepoState
from workspace_builders.model.workspace import REPOS, Workspace


@dataclass
class Relocation:
    name: str
    source: git.Worktree
    target: Path
    nested: list[Path] = field(default_factory=list)
    refused: str | None = None


def migrate(ws: Workspace, dry_run: bool) -> int:
    ws.check_builders_dir()
    moves = plan(ws)
    if not moves:
        output.result("no builders in the nested layout: nothing to migrate")
        return 0
    rows = [[m.name, str(m.source.path), str(m.target), m.refused or "move"] for m in moves]
    output.result(output.table(rows, ["builder", "from", "to", "action"]))
    if dry_run:
        output.result("(dry run: nothing changed)")
        return 1 if any(m.refused for m in moves) else 0
    for move in moves:
        if move.refused is None:
            apply(ws, move)
            output.say(f"  {move.name}: moved to {move.target}")
    refused = [m for m in moves if m.refused]
    if refused:
        raise BuildersError(
            f"{len(refused)} builder(s) not moved: " + "; ".join(f"{m.name}: {m.refused}" for m in refused),
            "fix what is named, then run again: builders migrate",
        )
    output.result("migrated; the root's .gitignore may still name the old folder: that line can go")
    return 0


def plan(ws: Workspace) -> list[Relocation]:
    moves = []
    listed = git.worktrees(ws.root)
    # A migration a killed run left half-done: moved (its state says so), nested links not yet repaired.
    for record in state.load_all(ws):
        moved = next((w for w in listed if w.path == Path(record.path)), None)
        if record.status == state.MIGRATING and moved is not None:
            folder = moved.path / REPOS
            nested = [p for p in sorted(folder.iterdir()) if (p / ".git").is_file()] if folder.is_dir() else []
            moves.append(Relocation(record.name, moved, moved.path, nested))
    for entry in listed[1:]:
        if not entry.path.is_relative_to(ws.root):
            continue
        move = Relocation(entry.path.name, entry, ws.builder_path(entry.path.name))
        folder = entry.path / REPOS
        if folder.is_dir():
            move.nested = [p for p in sorted(folder.iterdir()) if (p / ".git").is_file()]
        locked = [p.name for p in move.nested if any(w.locked and w.path == p for w in git.worktrees(p))]
        if name_problem(move.name):
            move.refused = f"its folder name is not a valid builder name ({name_problem(move.name)})"
        elif entry.locked:
            move.refused = f"locked ({output.command('git', '-C', ws.root, 'worktree', 'unlock', entry.path)})"
        elif locked:
            move.refused = f"nested worktrees locked: {', '.join(locked)}"
        elif move.target.exists():
            move.refused = f"{move.target} already exists"
        moves.append(move)
    return moves


def apply(ws: Workspace, move: Relocation) -> None:
    """Each step recorded before it is taken, so a re-run after a kill completes the migration."""
    with builder_lock(ws, move.name):
        record = state.load(ws, move.name)
        head = move.source.head or git.NULL_SHA
        branch = move.source.short_branch or ""
        if record is None:
            record = BuilderState(move.name, str(move.target), branch, head, head)
        record.path = str(move.target)
        record.status = state.MIGRATING
        state.save(ws, record)
        if move.source.path != move.target:
            move.target.parent.mkdir(parents=True, exist_ok=True)
            with repository_lock(ws.common_dir):
                git.move_worktree(ws.root, move.source.path, move.target)
            faults.point("migrate:moved")
        repos = []
        for old in move.nested:
            new = move.target / REPOS / old.name
            found = git.locate(new)  # the clone, through the admin dir the .git file still names
            with repository_lock(found.common_dir if found else ws.clone(old.name) / ".git"):
                repaired = git.repair_worktree(new)  # points the clone's admin entry at the new place
                if repaired.returncode != 0:
                    raise git.GitFailed(repaired)
            head = git.head_of(new)
            branch = git.current_branch(new)
            repos.append(RepoState(old.name, str(new), branch, head, head))
        record.status = state.READY
        known = {r.name: r for r in record.repos}
        record.repos = [
            RepoState(r.name, r.path, r.branch, known[r.name].base_ref, known[r.name].base_commit)
            if r.name in known
            else r
            for r in repos
        ]
        state.save(ws, record)


class Migrate(Command):
    DESCRIPTION = "move builders of the deprecated nested layout to the sibling builders folder"

    dry_run = cli.Flag("--dry-run", help="print the plan and change nothing")

    def main(self) -> int:
        return migrate(self.location().workspace, self.dry_run)
