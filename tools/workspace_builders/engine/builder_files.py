"""Per-builder files (`files:` in the config): a template per path, written into a new builder.

A file is written only where the checkout that would track it ignores its path (git's answer, asked
in that checkout: the builder's own worktree, or for `repos/<name>/...` the nested worktree of repo
`<name>`, for the rest of the path), so it can never be committed; never over anything that exists; never outside the
builder (no absolute path, no `..`, no symlinked folder on the way). A path that fails is skipped
with a warning that says why; the builder is made all the same.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
from pathlib import Path, PurePosixPath

from workspace_builders.base import errors, output
from workspace_builders.gitlayer import git
from workspace_builders.model.state import BuilderState
from workspace_builders.model.workspace import Workspace

_PLACEHOLDER = re.compile(r"\{(name|path|port|root)\}")


def render(template: str, values: dict[str, str]) -> str:
    """`{name}`, `{path}`, `{port}`, `{root}` replaced in one pass (a value is never read again as a
    placeholder); every other brace, as in JSON, is left as it is."""
    return _PLACEHOLDER.sub(lambda m: values[m[1]], template)


def problem(builder: Path, relative: str) -> str | None:
    """Why `relative` may not be written in `builder`; None when it may (gitignore aside)."""
    path = PurePosixPath(relative)
    if not relative or path.is_absolute() or relative.startswith("~"):
        return "not a path inside the builder"
    if ".." in path.parts or "." in relative.split("/") or ".git" in path.parts:
        return "not a plain path inside the builder (no '..', '.' or .git)"
    here = builder
    for part in path.parts[:-1]:
        here = here / part
        if here.is_symlink() or (os.path.lexists(here) and not here.is_dir()):
            return f"{here} is a symlink or not a folder"
    if os.path.lexists(builder / relative):
        return "exists (never overwritten)"
    return None


def _not_ignored(builder: Path, record: BuilderState, relative: str) -> str | None:
    """Why the checkout that would track `relative` does not ignore it; None when it does.

    A path under `repos/<name>/` belongs to that repo's nested worktree, not to the builder's own
    (whose .gitignore ignores all of `repos/`): that worktree is asked, for the rest of the path.
    """
    parts = PurePosixPath(relative).parts
    if parts[0] != "repos" or len(parts) < 2:
        if git.is_ignored(builder, relative):
            return None
        return f"the builder's .gitignore does not ignore it; add the line /{relative} to .gitignore to allow it"
    repo = record.repo(parts[1])
    if repo is None:
        return f"the builder has no repo {parts[1]}"
    rest = str(PurePosixPath(*parts[2:])) if len(parts) > 2 else ""
    if rest and git.is_ignored(Path(repo.path), rest):
        return None
    return (
        f"repo {repo.name}'s .gitignore does not ignore it; add the line /{rest} to "
        f"repos/{repo.name}/.gitignore to allow it"
    )


def write(ws: Workspace, record: BuilderState, files: dict[str, str]) -> list[str]:
    """Write each file that may be written; the paths written."""
    builder = Path(record.path)
    values = {
        "name": record.name,
        "path": str(builder),
        "port": str(record.ports[0]) if record.ports else "",
        "root": str(ws.root),
    }
    written = []
    for relative, template in files.items():
        why = problem(builder, relative) or _not_ignored(builder, record, relative)
        if not why:
            why = _write_beneath(builder, relative, render(template, values))
        if why:
            output.say(f"warning: not writing {relative} (files:): {why}")
            continue
        output.say(f"  wrote {relative} (files:)")
        written.append(relative)
    return written


_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def _write_beneath(builder: Path, relative: str, text: str) -> str | None:
    """Create `relative` in `builder` holding `text`; why not, when something appeared on the way.

    Each folder on the way is opened relative to the one before, without following a symlink (made
    when missing), and the file is created in the last one, never over anything: whatever was
    checked before, a folder swapped for a symlink since then stops the write here, so the check
    and the write are one.
    """
    *folders, name = PurePosixPath(relative).parts
    at = os.open(builder, _FOLDER)
    try:
        for folder in folders:
            with contextlib.suppress(FileExistsError):
                os.mkdir(folder, 0o777, dir_fd=at)
            try:
                inner = os.open(folder, _FOLDER, dir_fd=at)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    return f"{folder} on the way became a symlink or not a folder"
                raise
            os.close(at)
            at = inner
        try:
            fd = os.open(name, _NEW_FILE, 0o644, dir_fd=at)
        except FileExistsError:
            return "exists (never overwritten)"
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return "a symlink appeared there (never written through)"
            raise
        with errors.about(builder / relative), os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
    finally:
        os.close(at)
    return None
