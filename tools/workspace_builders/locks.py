"""File locks (flock): one per builder name across processes, one per repository for git writes.

flock locks belong to an open file description, so two threads that each open the file exclude each
other just as two processes do. A git started while a lock is held inherits it (see `held`): a git
that outlives a killed run keeps the repository locked until it has finished, so whatever comes
next (a re-run, a rollback, `remove`, `prune`) waits for it instead of finding its work half-made.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from workspace_builders import output
from workspace_builders.errors import BuildersError

TYPE_CHECKING = False  # annotations are never evaluated
if TYPE_CHECKING:
    from workspace_builders.workspace import Workspace

NAME_WAIT_SECONDS = 3.0
REPOSITORY_WAIT_SECONDS = 120.0
_SAY_WAITING_AFTER = 2.0

_held = threading.local()


def held() -> tuple[int, ...]:
    """The lock files this thread holds now, for a child process to inherit."""
    return tuple(getattr(_held, "fds", ()))


@contextmanager
def _flock(path: Path, wait: float, waiting: str | None = None) -> Iterator[bool]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        start = time.monotonic()
        said = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                waited = time.monotonic() - start
                if waited >= wait:
                    yield False
                    return
                if waiting and not said and waited >= _SAY_WAITING_AFTER:
                    output.say(waiting)
                    said = True
                time.sleep(0.02)
        fds = getattr(_held, "fds", ())
        _held.fds = (*fds, fd)
        try:
            yield True
        finally:
            _held.fds = fds
    finally:
        os.close(fd)  # closing releases the lock (once no child still holds it)


@contextmanager
def builder_lock(ws: Workspace, name: str) -> Iterator[None]:
    """Hold the builder name's lock; exit 1 when another run keeps it past a short wait."""
    path = ws.admin_dir / "locks" / f"{name}.lock"
    with _flock(path, NAME_WAIT_SECONDS) as got:
        if not got:
            raise BuildersError(
                f"another run holds builder {name!r} (lock {path})",
                f"wait for it to finish; if none is running, check with: fuser {path}",
            )
        yield


@contextmanager
def try_builder_lock(ws: Workspace, name: str) -> Iterator[bool]:
    """The builder name's lock if it is free now (True), else False at once: for sweeps such as prune
    that must leave a builder alone while a run works on it."""
    with _flock(ws.admin_dir / "locks" / f"{name}.lock", 0.0) as got:
        yield got


@contextmanager
def repository_lock(common_dir: Path) -> Iterator[None]:
    """Serialise this toolkit's worktree changes in one repository (git races on its own files)."""
    path = common_dir / "builders" / "locks" / "repository.lock"
    waiting = f"waiting for another run (or a git it left running) to finish in {common_dir}"
    with _flock(path, REPOSITORY_WAIT_SECONDS, waiting) as got:
        if not got:
            raise BuildersError(
                f"{common_dir} stayed locked for {REPOSITORY_WAIT_SECONDS:.0f} s (lock {path})",
                f"see what holds it: fuser -v {path}; then run the command again",
            )
        yield


PORTS_WAIT_SECONDS = 30.0


@contextmanager
def ports_lock(ws: Workspace) -> Iterator[None]:
    """The workspace-wide lock around port allocation. Its file name starts with a dot, which no
    builder name does, so it never shares a file with a builder's lock."""
    path = ws.admin_dir / "locks" / ".ports.lock"
    with _flock(path, PORTS_WAIT_SECONDS, "waiting for another run to finish allocating ports") as got:
        if not got:
            raise BuildersError(
                f"another run kept the port allocation locked for {PORTS_WAIT_SECONDS:.0f} s (lock {path})",
                f"see what holds it: fuser -v {path}; then run the command again",
            )
        yield
