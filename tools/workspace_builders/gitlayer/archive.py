"""Archive refs: a worktree's uncommitted and untracked work, saved as a commit before it is deleted.

`refs/builders/archive/<builder>/<UTC time>` in the worktree's own repository. Used by
`remove --force` and by `prune --empty-trash`.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from workspace_builders.base import output
from workspace_builders.base.errors import BuildersError
from workspace_builders.gitlayer import git

PREFIX = "refs/builders/archive"


def stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")


INDEX_TRAILER = "Archived-index: "


def save(
    repo: Path,
    common_dir: Path,
    worktree: Path,
    name: str,
    label: str,
    when: str,
    why: str,
    *,
    store: Sequence[str] = (),
    drop: Sequence[str] = (),
    gitlinks: Mapping[str, str] | None = None,
    keep: Sequence[str] = (),
) -> str:
    """Snapshot `worktree` into `repo` under refs/builders/archive/<name>/<when>; the ref.

    The tree is the worktree's real index (staged files git would ignore, sparse entries and all)
    with each path of `store` replaced by its bytes exactly as on disk (no eol conversion, no
    filter), `drop` taken out and the moved submodules of `gitlinks` at their HEAD. Parents: HEAD,
    then the index as it was when it differs from HEAD (named in the message), then `keep`.
    """
    with _scratch_index(common_dir, label, copy_of=worktree) as scratch:
        head = git.head_commit(worktree)
        index_tree = git.tree_of_index(worktree, scratch, [])
        staged = None
        if index_tree is not None and (head is None or index_tree != git.tree_of(repo, head)):
            staged = git.make_commit(
                repo, index_tree, [head] if head else [], f"builders: the index of {label} of builder {name}"
            )
        tree = git.tree_of_index(worktree, scratch, _updates(worktree, store, drop, gitlinks or {}))
        if tree is None:
            raise BuildersError(
                f"{worktree}: its index cannot be archived (an unfinished merge?)",
                f"look at it: {output.command('git', '-C', worktree, 'status')}",
            )
        message = f"builders: {label} of builder {name}, saved {why}"
        if staged:
            message += f"\n\n{INDEX_TRAILER}{staged}"
        parents = [*([head] if head else []), *([staged] if staged else []), *keep]
        commit = git.make_commit(repo, tree, parents, message)
    ref = f"{PREFIX}/{name}/{when}"
    git.set_ref(repo, ref, commit)
    return ref


def holds(
    repo: Path,
    common_dir: Path,
    worktree: Path,
    label: str,
    ref: str,
    *,
    store: Sequence[str] = (),
    drop: Sequence[str] = (),
    gitlinks: Mapping[str, str] | None = None,
) -> bool:
    """Whether the archive `ref` still holds `worktree` as it is now (its HEAD and its files as `save`
    takes them): what a removal may delete after saving it."""
    with _scratch_index(common_dir, label, copy_of=worktree) as scratch:
        tree = git.tree_of_index(worktree, scratch, _updates(worktree, store, drop, gitlinks or {}))
    head = git.head_commit(worktree)
    saved = git.resolve_commits(repo, [f"{ref}^1"])[f"{ref}^1"]
    return tree is not None and tree == git.tree_of(repo, ref) and (head is None or head == saved)


def _updates(
    worktree: Path, store: Sequence[str], drop: Sequence[str], gitlinks: Mapping[str, str]
) -> list[tuple[str, str, str]]:
    links = [p for p in store if (worktree / p).is_symlink()]
    files = [p for p in store if p not in links]
    blobs = git.store_as_on_disk(worktree, files) if files else {}
    updates = [(_mode(worktree / p), blobs[p], p) for p in files]
    updates += [("120000", git.store_bytes(worktree, os.readlink(worktree / p)), p) for p in links]
    updates += [("0", "", p) for p in drop]
    updates += [(git.GITLINK, commit, p) for p, commit in gitlinks.items()]
    return updates


def _mode(path: Path) -> str:
    return "100755" if os.stat(path).st_mode & stat.S_IXUSR else "100644"


def same_work(repo: Path, one: str, other: str) -> bool:
    """Whether two archives hold the same files on the same HEAD."""
    heads = git.resolve_commits(repo, [f"{one}^1", f"{other}^1"])
    return heads[f"{one}^1"] == heads[f"{other}^1"] and git.tree_of(repo, one) == git.tree_of(repo, other)


def save_unlinked(common_dir: Path, folder: Path, name: str, label: str, when: str, why: str) -> str:
    """Snapshot a worktree folder whose link to its repository is gone, as the folder is.

    With no admin entry there is no HEAD to start from: the commit has no parent and holds every
    file of the folder that its .gitignore files do not ignore.
    """
    with _scratch_index(common_dir, label) as index:
        message = f"builders: {label} of builder {name} (its worktree link was gone), saved {why}"
        commit = git.snapshot_folder(common_dir, folder, index, message)
    ref = f"{PREFIX}/{name}/{when}"
    git.set_ref(common_dir, ref, commit)
    return ref


@contextmanager
def _scratch_index(common_dir: Path, label: str, copy_of: Path | None = None) -> Iterator[Path]:
    """An index file of our own to build a tree in, never a worktree's real one: a copy of the index
    of worktree `copy_of` (none where it has none), else empty."""
    scratch = common_dir / "builders" / f"archive-index-{os.getpid()}-{label}"
    scratch.parent.mkdir(parents=True, exist_ok=True)
    try:
        real = git.index_path(copy_of) if copy_of is not None else None
        if real is not None and real.is_file():
            shutil.copyfile(real, scratch)
        yield scratch
    finally:
        scratch.unlink(missing_ok=True)
