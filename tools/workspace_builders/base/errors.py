"""The one exception type for expected failures (cli.py maps it to an exit code), and the errors of
the world (a file that cannot be written, a full disk, a path too long) as expected failures."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager

from workspace_builders.base import output

OPERATION_FAILED = 1
BAD_INPUT = 2
DONE_BUT_FOLLOW_UP_FAILED = 4  # land landed, but its --push or --remove did not complete
COMMAND_NOT_FOUND = 127  # the shell's code: the command to run is not there


class BuildersError(Exception):
    """An expected failure: what went wrong, and the command that fixes it."""

    def __init__(self, message: str, hint: str | None = None, exit_code: int = OPERATION_FAILED):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = exit_code


def bad_input(message: str, hint: str | None = None) -> BuildersError:
    """Bad usage or bad input: exit 2, and nothing was changed."""
    return BuildersError(message, hint, BAD_INPUT)


@contextmanager
def about(path: os.PathLike[str] | str) -> Iterator[None]:
    """An OSError in the block that names no file (a write that fails on an open file: disk full, file
    too large) names `path`, so the boundary can say which file it was."""
    try:
        yield
    except OSError as exc:
        if exc.filename is None:
            exc.filename = os.fspath(path)
        raise


# What to do about an error of the world, by errno; {folder} is the named file's folder.
_FIXES = {
    errno.EACCES: "make {folder} writable for you (see: ls -ld {folder})",
    errno.EPERM: "make {folder} writable for you (see: ls -ld {folder})",
    errno.EROFS: "the file system is read-only there: remount it, or move the workspace",
    errno.ENOSPC: "free some space there (see: df -h {folder})",
    errno.EDQUOT: "free some space in your quota there (see: df -h {folder})",
    errno.EFBIG: "a file size limit was reached (see: ulimit -f): raise it, or make the file smaller",
    errno.ENAMETOOLONG: "the path is too long for the file system: move the workspace to a shorter path",
    errno.EMFILE: "too many open files (see: ulimit -n): raise the limit",
}


def from_the_world(exc: OSError) -> BuildersError:
    """An OSError that came from the system (a file, a folder, a limit) as an expected failure."""
    said = exc.strerror or str(exc)
    if exc.filename is None:
        return BuildersError(said, "fix the cause named above, then run the same command again")
    where = os.fsdecode(exc.filename)
    folder = output.command(os.path.dirname(where) or ".")
    fix = _FIXES.get(exc.errno or 0, "check it").format(folder=folder)
    return BuildersError(f"{said}: {where}", f"{fix}; then run the same command again")
