"""Copy-in: ignored files that a new worktree needs (`.env.local`, ...) copied from its source.

Which files: the lines of `.worktreeinclude` (gitignore syntax) at the top of the source, plus the
`copy:` patterns of the config for the root. Only files git reports as ignored and untracked are
candidates; an ignored folder is one candidate, copied whole when a pattern names it. A file is
copied only where the new worktree ignores it too. Copy, never symlink; never overwrite; skip
symlinks; never read or write outside the two trees.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from workspace_builders.base import errors, output
from workspace_builders.gitlayer import git

INCLUDE_FILE = ".worktreeinclude"


def patterns(source: Path, extra: Sequence[str] = ()) -> list[str]:
    include = source / INCLUDE_FILE
    lines = include.read_text(encoding="utf-8").splitlines() if include.is_file() and not include.is_symlink() else []
    return [*lines, *extra]


def copy_ignored(source: Path, target: Path, wanted: Sequence[str], skip: Sequence[str] = ()) -> list[str]:
    """Copy what `wanted` names from source into target; the relative paths copied.

    A file is copied only when the target ignores it too (git's answer, asked in the target): a
    target checked out from an older commit may not ignore it yet, and there `git add -A` would
    stage the secret. Such a file is skipped with a warning.
    """
    if not any(line.strip() and not line.lstrip().startswith("#") for line in wanted):
        return []  # the common case costs no git call
    import pathspec

    spec = pathspec.GitIgnoreSpec.from_lines(wanted)
    src_root, dst_root = source.resolve(), target.resolve()
    candidates: list[str] = []
    for entry in git.ignored_entries(source):
        rel = entry.rstrip("/")
        if any(rel == s or rel.startswith(s + "/") for s in skip) or not spec.match_file(entry):
            continue
        src = src_root / rel
        if src.is_symlink() or not src.resolve().is_relative_to(src_root):
            continue
        if src.is_dir():
            for folder, dirs, files in os.walk(src):
                dirs[:] = [d for d in dirs if not Path(folder, d).is_symlink()]
                candidates += [Path(folder, name).relative_to(src_root).as_posix() for name in files]
        else:
            candidates.append(rel)
    ignored_there = git.ignored_of(target, candidates)
    copied: list[str] = []
    for rel in candidates:
        if rel not in ignored_there:
            output.say(
                f"warning: not copied {rel} into {target}: it is not ignored there"
                " (its .gitignore does not cover it, so git add -A would stage it)"
            )
        elif _copy_file(src_root, dst_root, Path(rel)):
            copied.append(rel)
    return copied


def _copy_file(src_root: Path, dst_root: Path, rel: Path) -> bool:
    src, dst = src_root / rel, dst_root / rel
    if src.is_symlink() or not src.is_file():
        return False
    parent = dst_root
    for part in rel.parent.parts:  # no step of the way may be a symlink out of the tree
        parent = parent / part
        if parent.is_symlink():
            return False
        parent.mkdir(exist_ok=True)
    try:
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, src.stat().st_mode & 0o777)
    except FileExistsError:
        return False  # never overwrite
    with errors.about(dst), open(src, "rb") as reader, os.fdopen(fd, "wb") as writer:
        shutil.copyfileobj(reader, writer)
    return True
