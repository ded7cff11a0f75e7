"""The one way child processes start: git (git.py), the config's scripts (builder_scripts.py), the
commands `exec` runs, and the process `run` and `start` become, all over plumbum's local machine.

One policy for all of them:
- Every call gives the whole environment and the folder the process starts in: plumbum would merge a
  call's environment over `local.env`, its copy of os.environ from import time (so a variable taken
  out, such as GIT_DIR, would come back), and would read the current folder, which may have been
  deleted under us.
- No descriptor of ours reaches a child (our files are opened close-on-exec, and none is passed):
  a lock is held for a git of ours by recording its pid (locks.py), never by handing it the lock,
  which its hooks and whatever they leave running would inherit.
- A child starts in a process group of its own, so a Ctrl-C at the terminal reaches this process
  alone and it decides: a git is let finish (git.py), while user code (`exec`'s commands, the
  config's scripts) is `stoppable`: the signal is passed on to its group, and a group still there
  after STOP_GRACE_SECONDS is killed.
- Every child starts with the signal dispositions and mask a shell would give it: SIGPIPE and
  SIGXFSZ at their defaults (Python ignores them), nothing blocked (a worker thread runs with SIGINT
  and SIGTERM blocked, see parallel.py).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence

from plumbum.machines.local import LocalMachine, PlumbumLocalPopen
from plumbum.path.local import LocalPath

from workspace_builders.base import interrupts

PIPE = subprocess.PIPE
DEVNULL = subprocess.DEVNULL
STDOUT = subprocess.STDOUT
INHERIT = None

STOP_GRACE_SECONDS = 5.0
_STOPS = {signal.SIGINT, signal.SIGTERM}
# What Python sets for itself at start and a child must not inherit (exec keeps an ignored signal).
_PYTHON_IGNORES = tuple(getattr(signal, name) for name in ("SIGPIPE", "SIGXFSZ") if hasattr(signal, name))

TYPE_CHECKING = False  # annotations are never evaluated
if TYPE_CHECKING:
    from typing import IO, Any

    Stream = int | IO[bytes] | None


class _Machine(LocalMachine):
    """plumbum's local machine without its `env` (see the module's text)."""

    env = None  # type: ignore[assignment]


_MACHINE = _Machine()

# The stoppable children still running, by pid (= their process group): user code a stop reaches.
_stoppable: dict[int, PlumbumLocalPopen] = {}


def program(name: str, env: dict[str, str]) -> LocalPath:
    """Where `name` is on the environment's PATH (a path is taken as it is); FileNotFoundError if nowhere."""
    found = name if "/" in name else shutil.which(name, path=env.get("PATH", os.defpath))
    if found is None:
        raise FileNotFoundError(2, "No such file or directory", name)
    return LocalPath(found)


def _own_group() -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        return {"process_group": 0}
    return {"preexec_fn": os.setpgrp}  # pragma: no cover - Python 3.10


def start(
    argv: Sequence[str],
    cwd: str,
    env: dict[str, str],
    *,
    executable: LocalPath | None = None,
    stdin: Stream = PIPE,
    stdout: Stream = PIPE,
    stderr: Stream = PIPE,
    stoppable: bool = False,
) -> PlumbumLocalPopen:
    """Start `argv` in `cwd` with exactly `env`, in a process group of its own; the running process.

    `stoppable`: user code, which a SIGINT or SIGTERM to this process reaches (see the module's text);
    wait for it with `wait`.
    """
    found = executable or program(argv[0], env)
    # The calling thread's mask is what the child starts with: nothing blocked (see the module's text).
    blocked = signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPS)
    try:
        child = _MACHINE._popen(
            found,
            list(argv),
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            cwd=cwd,
            env=env,
            restore_signals=True,  # SIGPIPE, SIGXFSZ back to their defaults
            **_own_group(),
        )
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    if stoppable:
        _stoppable[child.pid] = child
        interrupts.on_stop(_pass_on)
    return child


def wait(child: PlumbumLocalPopen) -> int:
    """Wait for a stoppable child to end, even when a stop arrives meanwhile (the stop has been passed
    on to it, and it is killed if it outlasts the grace): then the stop is raised once it has ended.
    Its exit code, or 128 + the signal that ended it, as a shell says it."""
    stopped: BaseException | None = None
    while True:
        try:
            code: int = child.wait()
            break
        except BaseException as exc:  # a second stop waits all the same
            stopped = stopped or exc
    _stoppable.pop(child.pid, None)
    if stopped is not None:
        raise stopped
    return code if code >= 0 else 128 - code


def forget(child: PlumbumLocalPopen) -> None:
    """A stoppable child that has been waited for otherwise (its output read to the end, then waited)."""
    _stoppable.pop(child.pid, None)


def _pass_on(signum: int) -> None:
    """Called in the signal handler: pass the stop on to every stoppable group, and kill the groups
    still there after the grace."""
    groups = list(_stoppable)
    for group in groups:
        _signal_group(group, signum)
    if groups:
        timer = threading.Timer(STOP_GRACE_SECONDS, _kill_remaining, (groups,))
        timer.daemon = True
        timer.start()


def _kill_remaining(groups: list[int]) -> None:
    for group in groups:
        child = _stoppable.get(group)
        if child is not None and child.returncode is None:
            _signal_group(group, signal.SIGKILL)


def _signal_group(group: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group has ended
        os.killpg(group, signum)


def replace(argv: Sequence[str], cwd: str, env: dict[str, str]) -> None:
    """Become `argv` in `cwd` with exactly `env`, with the dispositions and mask a shell would give it.
    Only returns by raising: the OSError of a command that cannot be started."""
    for ignored in _PYTHON_IGNORES:
        signal.signal(ignored, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.chdir(cwd)
        os.execvpe(argv[0], list(argv), env)
    except OSError:
        for ignored in _PYTHON_IGNORES:
            signal.signal(ignored, signal.SIG_IGN)
        raise
