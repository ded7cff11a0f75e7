"""Our records on disk: written so that a reader, or a crash at any moment, sees the old content or the
new, never part; read back with one error for a record that cannot be read."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from workspace_builders.base import errors, output


def write(path: Path, content: bytes, mode: int = 0o644) -> None:
    """A temp file in the same folder, fsync, rename over the target, fsync the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Unique per process and thread; O_EXCL refuses a leftover of the same name.
    temp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        with errors.about(path), os.fdopen(fd, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, mode)  # the umask may have narrowed it
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def read_json(path: Path, what: str, first: str = "", then: str = "") -> Any:
    """The JSON document in `path` (None when there is no file); one that is not JSON is bad input
    that names the file and how to set it aside (see `unreadable`)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except ValueError as exc:  # UnicodeDecodeError is one
        raise unreadable(path, what, exc, first, then) from None


def unreadable(path: Path, what: str, problem: object, first: str = "", then: str = "") -> errors.BuildersError:
    """The one error for a record of ours that cannot be read (not JSON, or not the shape it must have):
    `first` is what to look at before setting it aside, `then` the command to run after."""
    aside = output.command("mv", path, f"{path}.bad")
    after = f", then run: {then}" if then else ""
    return errors.bad_input(f"{what} {path} is unreadable: {problem}", f"{first}move it aside ({aside}){after}")
