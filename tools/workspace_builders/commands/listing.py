"""`builders list` and `builders path`: every builder, from one `git worktree list` per repository."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from plumbum import cli

from workspace_builders.base import interface, output, parallel
from workspace_builders.base.errors import BuildersError, bad_input
from workspace_builders.base.names import check_builder_name, closest
from workspace_builders.commands.base import WithJson
from workspace_builders.engine import landing, removal_records
from workspace_builders.gitlayer import git
from workspace_builders.model import bases, state
from workspace_builders.model.state import BuilderState
from workspace_builders.model.workspace import REPOS, ROOT, Workspace


def builder_path(ws: Workspace, name: str) -> Path:
    check_builder_name(name)
    path = state.path_of(ws, name, state.load(ws, name))
    if not path.is_dir():
        match = closest(name, state.builder_names(ws))
        hint = interface.meant(name, match, f"builders path {match}") if match else f"create it: builders new {name}"
        raise bad_input(f"no builder named {name!r} (looked in {path})", hint)
    return path


@dataclass
class ListedTree:
    """One worktree of a builder, with what `list` says of it."""

    label: str
    path: Path
    base: str | None  # the commit its base ref names now, in its source
    head: str | None = None
    dirty: int | None = None
    ahead: int | None = None
    behind: int | None = None
    unknown: set[str] = field(default_factory=set)  # what git failed to tell: "dirty", "ahead/behind"
    sparse: list[str] | None = None  # the folders of a sparse worktree, as its state records them
    gone: bool = False  # a repo worktree of the builder whose folder is gone, or that its clone no longer lists

    @property
    def shown(self) -> str:
        return f"{self.label}(sparse)" if self.sparse is not None else self.label


@dataclass
class Row:
    name: str
    path: Path
    branch: str | None
    status: str
    created_at: str | None
    head: str | None = None
    trees: list[ListedTree] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "path": str(self.path),
            "branch": self.branch,
            "status": self.status,
            "created_at": self.created_at,
            "repos": [t.label for t in self.trees[1:]],
            "sparse": {t.label: t.sparse for t in self.trees[1:] if t.sparse is not None},
            "dirty": self.total("dirty"),
            "ahead": self.total("ahead"),
            "behind": self.total("behind"),
            "ports": self.ports,
        }

    def total(self, what: str) -> int | None:
        """Over all its worktrees; None when not measured, or when git failed for one of them."""
        key = "dirty" if what == "dirty" else "ahead/behind"
        if any(key in t.unknown for t in self.trees):
            return None
        return _sum([getattr(t, what) for t in self.trees])


def list_builders(
    ws: Workspace, as_json: bool, fast: bool, removed: bool, name: str | None = None, last: int | None = None
) -> int:
    if (name is not None or last is not None) and not removed:
        given = "NAME" if name is not None else "--last"
        raise bad_input(f"{given} goes with --removed", f"builders list --removed {name or ''}".rstrip())
    if last is not None and last < 0:
        raise bad_input(f"--last must be 0 or more, not {last}", "builders list --removed --last 10")
    if name is not None:
        check_builder_name(name)
    if removed:
        return _list_removed(ws, as_json, name, last)
    failures: list[tuple[str, str]] = []  # (what failed, the command to look at it)
    notes: list[str] = []
    rows = collect(ws, with_bases=not fast, failures=failures, notes=notes)
    if not fast:
        measured = [(row, t) for row in rows for t in row.trees if not t.gone and t.path.is_dir()]
        for (row, tree), error in parallel.failures(parallel.each(measured, lambda item: _measure(item[1]))):
            tree.dirty = tree.ahead = tree.behind = None
            tree.unknown |= {"dirty", "ahead/behind"}
            what = f"builder {row.name}, worktree {tree.label} ({tree.path}): {error}"
            failures.append((what, output.command("git", "-C", tree.path, "status")))
    for row in rows:
        for tree in (t for t in row.trees if t.gone):
            what = f"builder {row.name}: its worktree of {tree.label} ({tree.path}) is gone; what it held is unknown"
            failures.append((what, f"builders verify {row.name}"))
    if as_json:
        output.json_document({"builders": [row.as_json() for row in rows]})
    else:
        _print_table(rows, fast)
    for note in notes:
        output.say(note)
    for what, look in failures:
        output.error(what, f"look at it: {look}")
    return 1 if failures else 0


def _print_table(rows: list[Row], fast: bool) -> None:
    table = [
        [
            row.name,
            row.branch or "(detached)",
            ",".join(t.shown for t in row.trees[1:]) or "-",
            "-" if fast else _dirty(row),
            "-" if fast else _ahead_behind(row),
            _age(row.created_at),
            row.status,
            str(row.path),
        ]
        for row in rows
    ]
    headers = ["name", "branch", "repos", "dirty", "ahead/behind", "age", "status", "path"]
    if any(row.ports for row in rows):  # only where builders.ports is used
        for line, row in zip(table, rows, strict=True):
            line.insert(6, _port_range(row.ports))
        headers.insert(6, "ports")
    output.result(output.table(table, headers))


def _list_removed(ws: Workspace, as_json: bool, name: str | None, last: int | None) -> int:
    """Removals oldest first (`--last N`: the N newest). One narrow row each, the worktrees archived and
    those whose branch was kept; NAME's removals with their refs in full."""
    records = sorted(removal_records.removals(ws), key=lambda r: str(r["removed_at"]))
    if name is not None:
        records = [r for r in records if r["name"] == name]
        if not records:
            removed = sorted({str(r["name"]) for r in removal_records.removals(ws)})
            match = closest(name, removed)
            hint = "builders list --removed"
            if match:
                hint = interface.meant(name, match, f"{hint} {match}")
            raise bad_input(f"no removal of a builder named {name!r} is recorded", hint)
    if last is not None:
        records = records[-last:] if last else []
    for record in records:  # what landed from it before it was removed
        record["landed"] = landing.landings(ws, str(record["name"]))
    if as_json:
        output.json_document({"removed": records})
    elif name is not None:
        lines = [[r["name"], r["removed_at"], _pairs(r["archive_refs"]), _pairs(r["kept_branches"])] for r in records]
        output.result(output.table(lines, ["name", "removed", "archive refs", "kept branches"]))
    else:
        lines = [[r["name"], r["removed_at"], _labels(r["archive_refs"]), _labels(r["kept_branches"])] for r in records]
        output.result(output.table(lines, ["name", "removed", "archived", "branches kept"]))
    return 0


def _labels(value: object) -> str:
    return ",".join(value) if isinstance(value, dict) and value else "-"


def collect(
    ws: Workspace, with_bases: bool, failures: list[tuple[str, str]], notes: list[str] | None = None
) -> list[Row]:
    """Builders and their nested worktrees: one `git worktree list` per repository, in parallel.

    `with_bases`: also resolve what each worktree's base names now (for ahead/behind). What git
    failed to tell for a repository is added to `failures`, and its values are left unknown; a
    base branch that differs from its remote, to `notes`.
    """
    notes = [] if notes is None else notes
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
        ports = list(record.ports) if record else []
        rows.append(Row(name, entry.path, entry.short_branch, status, created, entry.head, ports=ports))
    for record in by_path.values():  # state without a worktree
        status = "state only (run: builders prune)"
        rows.append(Row(record.name, Path(record.path), record.branch, status, None, ports=list(record.ports)))
    tips: dict[tuple[Path, str], str | None] = {}
    failed_at: set[Path] = set()  # repositories where the bases could not be resolved
    if with_bases:
        tips, failed_at = _resolve_bases(ws, records, failures, notes)
    nested: dict[Path, list[tuple[Path, git.Worktree]]] = {}  # builder path -> its repo worktrees
    for source, entries in listed.items():
        if isinstance(entries, BaseException):
            failures.append(
                (
                    f"{source}: its worktrees are left out: {entries}",
                    output.command("git", "-C", source, "worktree", "list"),
                )
            )
        elif source != ws.root:
            for entry in entries[1:]:
                if entry.path.parent.name == REPOS:
                    nested.setdefault(entry.path.parent.parent, []).append((source, entry))
    for row in rows:
        record = recorded_at.get(row.path)
        root_base = tips.get((ws.root, record.base_ref)) if record else None
        row.trees.append(
            ListedTree(ROOT, row.path, root_base, row.head, unknown={"ahead/behind"} if ws.root in failed_at else set())
        )
        for source, entry in nested.get(row.path, []):
            repo = record.repo(source.name) if record else None
            base = tips.get((source, repo.base_ref)) if repo else None
            row.trees.append(
                ListedTree(
                    source.name,
                    entry.path,
                    base,
                    entry.head,
                    unknown={"ahead/behind"} if source in failed_at else set(),
                    sparse=repo.sparse if repo else None,
                )
            )
        _name_missing(row, record)
    return sorted(rows, key=lambda r: r.name)


def _name_missing(row: Row, record: BuilderState | None) -> None:
    """A repo worktree of the builder whose folder is gone (deleted by hand), or that its clone no
    longer lists: what it held is unknown (it may have had commits to land), never "clean", and the
    builder is not ready."""
    if not row.path.is_dir():
        return  # the builder itself is gone: its status says so
    here = {t.label for t in row.trees[1:]}
    unlisted = [r.name for r in (record.repos if record else []) if r.name not in here]
    row.trees += [ListedTree(label, row.path / REPOS / label, None) for label in unlisted]
    gone = [t for t in row.trees[1:] if t.label not in here or not t.path.is_dir()]
    for tree in gone:
        tree.gone = True
        tree.unknown |= {"dirty", "ahead/behind"}
    if gone:
        labels = ", ".join(f"{REPOS}/{t.label}" for t in gone)
        row.status = f"broken: {labels} gone (run: builders verify {row.name})"


def _resolve_bases(
    ws: Workspace, records: list[BuilderState], failures: list[tuple[str, str]], notes: list[str]
) -> tuple[dict[tuple[Path, str], str | None], set[Path]]:
    """The tip each recorded base ref counts against now, in its own repository: the local branch it
    stands for (the base rule, as `status` and `land` use it), else what the ref itself names (a tag,
    a commit). One for-each-ref per repository, side by side; the repositories where git failed.
    A note for each base branch in use that differs from its remote."""
    wanted: dict[Path, set[str]] = {}
    for record in records:
        wanted.setdefault(ws.root, set()).add(record.base_ref)
        for repo in record.repos:
            wanted.setdefault(ws.clone(repo.name), set()).add(repo.base_ref)
    resolved: dict[tuple[Path, str], str | None] = {}
    failed: set[Path] = set()
    for source, outcome in git.side_by_side(list(wanted), bases.started):
        if isinstance(outcome, BaseException):
            failed.add(source)
            failures.append(
                (f"{source}: its bases are unknown: {outcome}", output.command("git", "-C", source, "status"))
            )
            continue
        label = ROOT if source == ws.root else source.name
        others = []
        for ref in sorted(wanted[source]):
            branch = outcome.local_branch(ref)
            if branch is None:
                others.append(ref)
                continue
            resolved[(source, ref)] = outcome.tips[branch]
            note = outcome.remote_note(branch)
            if note and f"note: {label}: {note}" not in notes:
                notes.append(f"note: {label}: {note}")
        if others:
            try:
                resolved.update({(source, ref): sha for ref, sha in git.resolve_commits(source, others).items()})
            except BuildersError as exc:
                failed.add(source)
                failures.append(
                    (f"{source}: its bases are unknown: {exc.message}", output.command("git", "-C", source, "status"))
                )
    return resolved, failed


def _measure(tree: ListedTree) -> None:
    tree.dirty = len(git.status_entries(tree.path))
    if tree.base and tree.base == tree.head:
        tree.ahead = tree.behind = 0  # the common case costs no second git call
    elif tree.base:
        tree.behind, tree.ahead = git.behind_ahead(tree.path, tree.base, "HEAD")


def _sum(values: list[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _dirty(row: Row) -> str:
    """The dirty worktrees; `label?` where git could not tell."""
    dirty = [f"{t.label}?" if "dirty" in t.unknown else t.label for t in row.trees if t.dirty or "dirty" in t.unknown]
    return ",".join(dirty) if dirty else "no"


def _ahead_behind(row: Row) -> str:
    ahead, behind = row.total("ahead"), row.total("behind")
    if any("ahead/behind" in t.unknown for t in row.trees):
        return "?"
    return f"+{ahead or 0}/-{behind or 0}"


def _age(created_at: str | None) -> str:
    if not created_at:
        return "-"
    then = datetime.fromisoformat(created_at.replace("Z", "+00:00"))  # strptime costs an import
    seconds = int((datetime.now(timezone.utc) - then).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _port_range(ports: list[int]) -> str:
    return f"{ports[0]}-{ports[-1]}" if len(ports) > 1 else str(ports[0]) if ports else "-"


def _pairs(value: object) -> str:
    return "; ".join(f"{k}: {v}" for k, v in value.items()) if isinstance(value, dict) and value else "-"


class List(WithJson):
    DESCRIPTION = "one row per builder: branch, repos, dirty, ahead/behind its base, age, status, path"
    USAGE = "    {progname} [SWITCHES]\n    {progname} --removed [SWITCHES] [NAME]\n"

    fast = cli.Flag("--fast", help="skip the per-worktree status (dirty, ahead/behind)")
    removed = cli.Flag("--removed", help="list removed builders: when, what was archived, branches kept")
    last = cli.SwitchAttr("--last", int, argname="N", help="with --removed: only the N most recent removals")

    def main(self, *name: str) -> int:  # NAME: with --removed, that builder's removals, refs in full
        ws = self.location().workspace
        return list_builders(ws, self.as_json, self.fast, self.removed, self.one_name(name), self.last)


class BuilderPath(WithJson):
    DESCRIPTION = 'print a builder\'s path, for cd "$(builders path NAME)"'

    def main(self, name: str) -> int:
        path = builder_path(self.location().workspace, name)
        if self.as_json:
            output.json_document({"name": name, "path": str(path)})
        else:
            output.result(str(path))
        return 0
