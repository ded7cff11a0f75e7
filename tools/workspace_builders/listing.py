"""`builders list` and `builders path`: every builder, from one `git worktree list` per repository."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from plumbum import cli

from workspace_builders import git, output, parallel, state
from workspace_builders.cli import Command, WithJson, start_dir
from workspace_builders.errors import BuildersError
from workspace_builders.names import check_builder_name
from workspace_builders.state import BuilderState
from workspace_builders.workspace import REPOS, Workspace, discover


def builder_path(start: Path, name: str) -> Path:
    ws = discover(start).workspace
    check_builder_name(name)
    recorded = state.load(ws, name)
    path = Path(recorded.path) if recorded else ws.builder_path(name)
    if not path.is_dir():
        raise BuildersError(f"no builder named {name!r} (looked in {path})", f"create it: builders new {name}")
    return path


@dataclass
class Tree:
    """One worktree of a builder, with what `list` says of it."""

    label: str
    path: Path
    base: str | None  # the commit its base ref names now, in its source
    head: str | None = None
    dirty: int | None = None
    ahead: int | None = None
    behind: int | None = None


@dataclass
class Row:
    name: str
    path: Path
    branch: str | None
    status: str
    created_at: str | None
    head: str | None = None
    trees: list[Tree] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "path": str(self.path),
            "branch": self.branch,
            "status": self.status,
            "created_at": self.created_at,
            "repos": [t.label for t in self.trees[1:]],
            "dirty": _sum([t.dirty for t in self.trees]),
            "ahead": _sum([t.ahead for t in self.trees]),
            "behind": _sum([t.behind for t in self.trees]),
        }


def list_builders(start: Path, as_json: bool, fast: bool, removed: bool) -> int:
    ws = discover(start).workspace
    if removed:
        return _list_removed(ws, as_json)
    rows = collect(ws, with_bases=not fast)
    if not fast:
        trees = [t for row in rows for t in row.trees if t.path.is_dir()]
        for tree, outcome in parallel.each(trees, _measure):
            if isinstance(outcome, BaseException):
                tree.dirty = None
    if as_json:
        output.json_document([row.as_json() for row in rows])
        return 0
    table = [
        [
            row.name,
            row.branch or "(detached)",
            ",".join(t.label for t in row.trees[1:]) or "-",
            "-" if fast else _dirty(row),
            "-" if fast else f"+{_sum([t.ahead for t in row.trees]) or 0}/-{_sum([t.behind for t in row.trees]) or 0}",
            _age(row.created_at),
            row.status,
            str(row.path),
        ]
        for row in rows
    ]
    output.result(output.table(table, ["name", "branch", "repos", "dirty", "ahead/behind", "age", "status", "path"]))
    return 0


def _list_removed(ws: Workspace, as_json: bool) -> int:
    records = state.removals(ws)
    if as_json:
        output.json_document(records)
        return 0
    lines = [[r["name"], r["removed_at"], _pairs(r["archive_refs"]), _pairs(r["kept_branches"])] for r in records]
    output.result(output.table(lines, ["name", "removed", "archive refs", "kept branches"]))
    return 0


def collect(ws: Workspace, with_bases: bool = True) -> list[Row]:
    """Builders and their nested worktrees: one `git worktree list` per repository, in parallel.

    `with_bases`: also resolve what each worktree's base names now (for ahead/behind).
    """
    lists = git.side_by_side([ws.root, *ws.clones()], git.worktrees_started)
    records = state.load_all(ws)  # while git works
    listed = dict(lists)
    recorded_at = {Path(r.path): r for r in records}
    by_path = dict(recorded_at)
    root_list = listed[ws.root]
    if isinstance(root_list, BaseException):
        raise root_list
    rows: list[Row] = []
    for entry in root_list[1:]:
        record = by_path.pop(entry.path, None)
        status = record.status if record else "no state"
        if entry.path.is_relative_to(ws.root):
            status = "nested (run: builders migrate)"
        elif entry.prunable:
            status = "missing (run: builders prune)"
        name = record.name if record else entry.path.name
        created = record.created_at if record else None
        rows.append(Row(name, entry.path, entry.short_branch, status, created, entry.head))
    for record in by_path.values():  # state without a worktree
        rows.append(Row(record.name, Path(record.path), record.branch, "state only (run: builders prune)", None))
    bases = _resolve_bases(ws, records) if with_bases else {}
    nested: dict[Path, list[tuple[Path, git.Worktree]]] = {}  # builder path -> its repo worktrees
    for source, entries in listed.items():
        if source != ws.root and not isinstance(entries, BaseException):
            for entry in entries[1:]:
                if entry.path.parent.name == REPOS:
                    nested.setdefault(entry.path.parent.parent, []).append((source, entry))
    for row in rows:
        record = recorded_at.get(row.path)
        root_base = bases.get((ws.root, record.base_ref)) if record else None
        row.trees.append(Tree("root", row.path, root_base, row.head))
        for source, entry in nested.get(row.path, []):
            repo = record.repo(source.name) if record else None
            base = bases.get((source, repo.base_ref)) if repo else None
            row.trees.append(Tree(source.name, entry.path, base, entry.head))
    return sorted(rows, key=lambda r: r.name)


def _resolve_bases(ws: Workspace, records: list[BuilderState]) -> dict[tuple[Path, str], str | None]:
    """What each base ref names now, in its own repository: one cat-file per repository."""
    wanted: dict[Path, set[str]] = {}
    for record in records:
        wanted.setdefault(ws.root, set()).add(record.base_ref)
        for repo in record.repos:
            wanted.setdefault(ws.clone(repo.name), set()).add(repo.base_ref)
    resolved: dict[tuple[Path, str], str | None] = {}
    for source, outcome in parallel.each(list(wanted), lambda s: git.resolve_commits(s, sorted(wanted[s]))):
        if isinstance(outcome, dict):
            resolved.update({(source, ref): sha for ref, sha in outcome.items()})
    return resolved


def _measure(tree: Tree) -> None:
    tree.dirty = len(git.status_entries(tree.path))
    if tree.base and tree.base == tree.head:
        tree.ahead = tree.behind = 0  # the common case costs no second git call
    elif tree.base:
        behind, ahead = git.run(tree.path, "rev-list", "--left-right", "--count", f"{tree.base}...HEAD").split()
        tree.ahead, tree.behind = int(ahead), int(behind)


def _sum(values: list[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _dirty(row: Row) -> str:
    dirty = [t.label for t in row.trees if t.dirty]
    return ",".join(dirty) if dirty else "no"


def _age(created_at: str | None) -> str:
    if not created_at:
        return "-"
    then = datetime.fromisoformat(created_at.replace("Z", "+00:00"))  # strptime costs an import
    seconds = int((datetime.now(timezone.utc) - then).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _pairs(value: object) -> str:
    return "; ".join(f"{k}: {v}" for k, v in value.items()) if isinstance(value, dict) and value else "-"


class List(WithJson):
    DESCRIPTION = "one row per builder: branch, repos, dirty, ahead/behind its base, age, status, path"

    fast = cli.Flag("--fast", help="skip the per-worktree status (dirty, ahead/behind)")
    removed = cli.Flag("--removed", help="list removed builders: when, archive refs, kept branches")

    def main(self) -> int:
        return list_builders(start_dir(), self.as_json, self.fast, self.removed)


class BuilderPath(Command):
    DESCRIPTION = 'print a builder\'s path, for cd "$(builders path NAME)"'

    def main(self, name: str) -> int:
        output.result(str(builder_path(start_dir(), name)))
        return 0
