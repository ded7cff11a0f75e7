"""Restore: a removed builder back, from its kept branches and its archive refs, as one resumable unit.

Every worktree comes back on its branch (a sparse one with its folders), and the work `remove
--force` archived comes back as it was left: changes to tracked files uncommitted (not staged), new
files untracked, written byte for byte from the archive commit (no filter, no eol conversion). A
mark written before the first worktree is made lists what is done, so a restore that was stopped is
completed by running it again. Each worktree is made as `new` makes one (engine/checkout), carrying
git's creation mark until it is whole: one a stopped run left half-made is set aside and made again,
never taken for restored.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from workspace_builders.base import atomic_file, faults, output
from workspace_builders.base.errors import BuildersError, bad_input
from workspace_builders.base.names import check_builder_name
from workspace_builders.engine import builder_files, checkout, copy_in, removal, removal_records
from workspace_builders.gitlayer import git
from workspace_builders.gitlayer.locks import builder_lock, repository_lock
from workspace_builders.model import ports, sparse, state
from workspace_builders.model.state import BuilderState, RepoState
from workspace_builders.model.workspace import REPOS, Workspace

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
    sparse: tuple[str, ...] | None  # the folders of a sparse worktree; None: all of it


def restore(ws: Workspace, name: str, at: str | None, dry_run: bool = False, as_json: bool = False) -> int:
    check_builder_name(name)
    with builder_lock(ws, name):
        mark = _read_mark(ws, name)
        current = state.load(ws, name)
        if dry_run:
            return _show_plan(ws, name, at, mark, current, as_json)
        if current is not None and current.status == state.REMOVING and mark is None:
            # A removal that was stopped: its record names the archives; finish it first.
            output.say(f"completing the removal of {name} that was stopped")
            # Forced: what it had archived is there already, anything new is archived as well.
            removal.remove_locked(ws, name, True, False, False, False)
            current = state.load(ws, name)
        if current is not None and mark is None:
            raise BuildersError(f"builder {name!r} exists", f"see it: builders status {name}")
        removal_document = _removal(ws, name, str(mark["removed_at"]) if mark else at)
        pieces = _plan(ws, name, removal_document, resuming=mark is not None)
        done_before = mark.get("applied") if mark else None
        applied = [str(label) for label in done_before] if isinstance(done_before, list) else []
        _write_mark(ws, name, removal_document, applied)
        for piece in pieces:
            made = _checkout(ws, piece)
            if made.action == checkout.PRESENT:
                continue
            checkout.apply(made)
            folders = f", {sparse.shown(piece.sparse)}" if piece.sparse is not None else ""
            output.say(f"  {piece.label}: {piece.path} on {piece.branch}{folders}")
            faults.point(f"restore:made:{piece.label}")
        for piece in pieces:
            if piece.snapshot and piece.label not in applied:
                _apply(piece)
                applied.append(piece.label)
                _write_mark(ws, name, removal_document, applied)
                faults.point(f"restore:applied:{piece.label}")
                output.say(f"  {piece.label}: archived work back as uncommitted changes ({piece.snapshot[:10]})")
        top = pieces[0]
        record = BuilderState(name, str(top.path), top.branch, top.base_ref, top.base_commit, state.READY)
        record.repos = [
            RepoState(p.label, str(p.path), p.branch, p.base_ref, p.base_commit, _listed(p.sparse)) for p in pieces[1:]
        ]
        record.copied = _copy_back(ws, record, pieces)
        # Its old block was freed with it and may be another builder's by now: a new one, as at creation.
        ports.assign(ws, record)
        if ws.config.builder_files:
            builder_files.write(ws, record, ws.config.builder_files)
        state.save(ws, record)
        _mark_file(ws, name).unlink(missing_ok=True)
    if as_json:
        output.json_document({"name": name, "dry_run": False, "restored": True, "worktrees": _pieces_json(pieces)})
    else:
        output.result(f"builder {name} restored at {top.path}")
    return 0


def _show_plan(
    ws: Workspace,
    name: str,
    at: str | None,
    mark: dict[str, object] | None,
    current: BuilderState | None,
    as_json: bool,
) -> int:
    """What a restore would make, refused as the restore itself would be; nothing is changed."""
    if current is not None and mark is None and current.status != state.REMOVING:
        raise BuildersError(f"builder {name!r} exists", f"see it: builders status {name}")
    removal_document = _removal(ws, name, str(mark["removed_at"]) if mark else at)
    pieces = _plan(ws, name, removal_document, resuming=mark is not None or current is not None)
    if as_json:
        output.json_document({"name": name, "dry_run": True, "restored": False, "worktrees": _pieces_json(pieces)})
        return 0
    output.result(f"plan to restore builder {name} (dry run: nothing changed)")
    if current is not None and mark is None:
        output.result(f"  first: complete its removal that was stopped (builders remove {name} --force)")
    rows = [
        [
            p.label,
            str(p.path),
            p.branch + (f" (made again at {p.start[:10]})" if p.new_branch else ""),
            sparse.shown(p.sparse) or "full",
            f"uncommitted again ({p.snapshot[:10]})" if p.snapshot else "-",
        ]
        for p in pieces
    ]
    output.result(output.table(rows, ["worktree", "path", "branch", "checkout", "archived work"]))
    return 0


def _pieces_json(pieces: list[Piece]) -> list[dict[str, object]]:
    return [
        {
            "label": p.label,
            "path": str(p.path),
            "branch": p.branch,
            "new_branch": p.new_branch,
            "start": p.start,
            "sparse": _listed(p.sparse),
            "archive": p.snapshot,
        }
        for p in pieces
    ]


def _mark_file(ws: Workspace, name: str) -> Path:
    """Written before the first worktree is made, gone once the builder is whole: a restore that was
    stopped is completed by running it again."""
    return state.restoring_mark(ws, name)


def _read_mark(ws: Workspace, name: str) -> dict[str, object] | None:
    path = _mark_file(ws, name)
    document = atomic_file.read_json(path, "restore mark")
    return document if isinstance(document, dict) else None


def _write_mark(ws: Workspace, name: str, removal_document: dict[str, object], applied: list[str]) -> None:
    document = {"name": name, "removed_at": removal_document["removed_at"], "applied": applied}
    atomic_file.write(_mark_file(ws, name), (json.dumps(document, indent=2) + "\n").encode())


def _apply(piece: Piece) -> None:
    """Write the archived files back byte for byte as they were on disk (no filter, no eol
    conversion), delete what was deleted; the index stays at HEAD, so it all shows as uncommitted."""
    assert piece.snapshot is not None
    head = _resolve(piece.repo, f"{piece.snapshot}^1") or piece.start
    changes = git.tree_changes(piece.repo, head, piece.snapshot)
    for change in changes:
        if change.status == "D" and change.mode != git.GITLINK:
            target = piece.path / change.path
            if target.is_symlink() or target.is_file():
                target.unlink()
    for change in changes:
        if change.status == "D" or change.mode == git.GITLINK:
            continue
        target = piece.path / change.path
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink() or target.is_file():
            target.unlink()
        data = git.blob_bytes(piece.repo, change.blob)
        if change.mode == "120000":
            os.symlink(data.decode("utf-8", "surrogateescape"), target)
            continue
        target.write_bytes(data)
        os.chmod(target, 0o755 if change.mode == "100755" else 0o644)


def _copy_back(ws: Workspace, record: BuilderState, pieces: list[Piece]) -> list[str]:
    """Copy-in again, as creation does: what the builder was given from the root and its clones."""
    builder = Path(record.path)
    copied = copy_in.copy_ignored(ws.root, builder, copy_in.patterns(ws.root, ws.config.copy), skip=[REPOS])
    for piece in pieces[1:]:
        inner = copy_in.copy_ignored(piece.repo, piece.path, copy_in.patterns(piece.repo))
        copied += [f"{REPOS}/{piece.label}/{p}" for p in inner]
    return sorted(set(copied))


def _removal(ws: Workspace, name: str, at: str | None) -> dict[str, object]:
    found = [r for r in removal_records.removals(ws) if r["name"] == name]
    if at is not None:
        found = [r for r in found if at == r["removed_at"] or any(v.endswith(f"/{at}") for v in _refs(r).values())]
    if not found:
        what = f"no removal of {name!r}" + (f" at {at!r}" if at else "")
        raise bad_input(what, "see the removed builders: builders list --removed")
    return found[-1]


def _refs(removal: dict[str, object]) -> dict[str, str]:
    refs = removal.get("archive_refs")
    return {str(k): str(v) for k, v in refs.items()} if isinstance(refs, dict) else {}


def _plan(ws: Workspace, name: str, removal: dict[str, object], resuming: bool = False) -> list[Piece]:
    """Every worktree to bring back, the builder's own first; refuse before anything is made."""
    recorded = removal.get("worktrees")
    trees: dict[str, dict[str, object]] = dict(recorded) if isinstance(recorded, dict) else {}
    kept = removal.get("kept_branches")
    labels = list(dict.fromkeys([*trees, *_refs(removal), *(kept if isinstance(kept, dict) else {})]))
    # A label of an older record that names no clone ("all": every branch of a builder pruned away),
    # and a second archive of one worktree ("alpha@<time>"), are no worktree to make.
    labels = [
        ROOT,
        *sorted(label for label in labels if label != ROOT and "@" not in label and ws.clone(label).is_dir()),
    ]
    builder_path = Path(str(trees.get(ROOT, {}).get("path") or ws.builder_path(name)))
    if os.path.lexists(builder_path) and not resuming:
        raise BuildersError(
            f"{builder_path} exists", f"move it away first: {output.command('mv', builder_path, f'{builder_path}.old')}"
        )
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
                f"{label}: the archive ref {archived} is gone",
                f"look: {output.command('git', '-C', repo, 'for-each-ref', 'refs/builders')}",
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
        # An archive with no parent (a trashed worktree whose link was gone: its HEAD unknown) holds
        # the whole folder, and goes back onto the branch as it is.
        if snapshot and parent is not None and tip is not None and tip != parent and not resuming:
            raise BuildersError(
                f"{label}: {branch} is at {tip[:10]}, but the archived work was made on {parent[:10]}",
                "get the archived work by hand: "
                + output.command("git", "-C", repo, "worktree", "add", "--detach", path, snapshot),
            )
        base_ref = str(entry.get("base_ref") or (label == ROOT and "HEAD") or _default_base(repo))
        base_commit = str(entry.get("base_commit") or _merge_base(repo, start, base_ref))
        folders = entry.get("sparse")
        sparse = tuple(str(f) for f in folders) if isinstance(folders, list) and label != ROOT else None
        pieces.append(Piece(label, repo, path, branch, start, tip is None, snapshot, base_ref, base_commit, sparse))
    return pieces


def _listed(folders: tuple[str, ...] | None) -> list[str] | None:
    return None if folders is None else list(folders)


def _resolve(repo: Path, rev: str) -> str | None:
    return git.resolve_commits(repo, [rev])[rev]


def _default_base(repo: Path) -> str:
    return ORIGIN_HEAD if _resolve(repo, ORIGIN_HEAD) else "HEAD"


def _merge_base(repo: Path, commit: str, base_ref: str) -> str:
    return git.merge_base(repo, commit, base_ref) or commit


def _checkout(ws: Workspace, piece: Piece) -> checkout.Checkout:
    """The piece as a checkout to apply: present already (a stopped restore made it whole), left
    half-made by a stopped restore (taken up), or to make on its branch (a new one at its start)."""
    common_dir = git.common_dir_of(piece.repo)
    with repository_lock(common_dir):
        checkout.clear_stillborn(common_dir)
        registered = checkout.registered_at(common_dir, piece.path)
    if registered is not None and registered.unfinished:
        action = checkout.TAKE_UP
    elif registered is not None and registered.branch == f"refs/heads/{piece.branch}":
        action = checkout.PRESENT
    else:
        action = checkout.CREATE if piece.new_branch else checkout.REUSE_BRANCH
    return checkout.Checkout(
        piece.label,
        piece.repo,
        common_dir,
        piece.path,
        piece.branch,
        piece.base_ref,
        piece.start,
        action,
        ws.trash_dir,
        sparse=piece.sparse,
    )
