"""Archive refs: a worktree's uncommitted and untracked work, saved as a commit before it is deleted.

`refs/builders/archive/<builder>/<UTC time>` in the worktree's own repository. Used by
`remove --force` and by `prune --empty-trash`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from workspace_builders import git

PREFIX = "refs/builders/archive"


def stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")


def save(
    repo: Path, common_dir: Path, worktree: Path, name: str, label: str, when: str, why: str, keep: Sequence[str] = ()
) -> str:
    """Snapshot `worktree` (tracked and untracked, not ignored; HEAD as parent, and `keep` as further
    parents) into `repo`; the ref."""
    index = _scratch_index(common_dir, label)
    try:
        commit = git.snapshot_commit(worktree, index, f"builders: {label} of builder {name}, saved {why}", keep)
    finally:
        index.unlink(missing_ok=True)
    ref = f"{PREFIX}/{name}/{when}"
    git.set_ref(repo, ref, commit)
    return ref


def save_unlinked(common_dir: Path, folder: Path, name: str, label: str, when: str, why: str) -> str:
    """Snapshot a worktree folder whose link to its repository is gone, as the folder is.

    With no admin entry there is no HEAD to start from: the commit has no parent and holds every
    file of the folder that its .gitignore files do not ignore.
    """
    index = _scratch_index(common_dir, label)
    try:
        message = f"builders: {label} of builder {name} (its worktree link was gone), saved {why}"
        commit = git.snapshot_folder(common_dir, folder, index, message)
    finally:
        index.unlink(missing_ok=True)
    ref = f"{PREFIX}/{name}/{when}"
    git.set_ref(common_dir, ref, commit)
    return ref


def _scratch_index(common_dir: Path, label: str) -> Path:
    index = common_dir / "builders" / f"archive-index-{os.getpid()}-{label}"
    index.parent.mkdir(parents=True, exist_ok=True)
    return index
