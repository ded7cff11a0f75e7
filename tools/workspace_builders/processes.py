"""The one way child processes start: git (git.py), the config's scripts (builder_scripts.py) and the
commands `exec` runs, all over plumbum's local machine.

Every call gives the whole environment and the folder the process starts in: plumbum would merge a
call's environment over `local.env`, its copy of os.environ from import time (so a variable taken
out, such as GIT_DIR, would come back), and would read the current folder, which may have been
deleted under us.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence

from plumbum.machines.local import LocalMachine, PlumbumLocalPopen
from plumbum.path.local import LocalPath

PIPE = subprocess.PIPE
DEVNULL = subprocess.DEVNULL
STDOUT = subprocess.STDOUT
INHERIT = None

TYPE_CHECKING = False  # annotations are never evaluated
if TYPE_CHECKING:
    from typing import IO

    Stream = int | IO[bytes] | None


class _Machine(LocalMachine):
    """plumbum's local machine without its `env` (see the module's text)."""

    env = None  # type: ignore[assignment]


_MACHINE = _Machine()


def program(name: str, env: dict[str, str]) -> LocalPath:
    """Where `name` is on the environment's PATH (a path is taken as it is); FileNotFoundError if nowhere."""
    found = name if "/" in name else shutil.which(name, path=env.get("PATH", os.defpath))
    if found is None:
        raise FileNotFoundError(2, "No such file or directory", name)
    return LocalPath(found)


def start(
    argv: Sequence[str],
    cwd: str,
    env: dict[str, str],
    *,
    executable: LocalPath | None = None,
    stdin: Stream = PIPE,
    stdout: Stream = PIPE,
    stderr: Stream = PIPE,
    pass_fds: Sequence[int] = (),
    new_session: bool = False,
) -> PlumbumLocalPopen:
    """Start `argv` in `cwd` with exactly `env`; the running process (in a session and process group of
    its own with `new_session`, for a caller that signals the whole group as a terminal would)."""
    return _MACHINE._popen(
        executable or program(argv[0], env),
        list(argv),
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        cwd=cwd,
        env=env,
        pass_fds=tuple(pass_fds),
        new_session=new_session,
    )
