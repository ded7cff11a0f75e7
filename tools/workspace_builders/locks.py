"""File locks (flock): one per builder name across processes, one per repository for git writes.

flock locks belong to an open file description, so two threads that each open the file exclude each
other just as two processes do.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from workspace_builders.errors import BuildersError
from workspace_builders.workspace import Workspace

NAME_WAIT_SECONDS = 3.0


@contextmanager
def _flock(path: Path, wait: float | None) -> Iterator[bool]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = None if wait is None else time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if deadline is None else fcntl.LOCK_NB))
                break
            except BlockingIOError:
                if deadline is not None and time.monotonic() >= deadline:
                    yield False
                    return
                time.sleep(0.05)
        yield True
    finally:
        os.close(fd)  # closing releases the lock


@contextmanager
def builder_lock(ws: Workspace, name: str) -> Iterator[None]:
    """Hold the builder name's lock; exit 1 when another run keeps it past a short wait."""
    path = ws.admin_dir / "locks" / f"{name}.lock"
    with _flock(path, NAME_WAIT_SECONDS) as held:
        if not held:
            raise BuildersError(
                f"another run holds builder {name!r} (lock {path})",
                f"wait for it to finish; if none is running, check with: fuser {path}",
            )
        yield


@contextmanager
def repository_lock(common_dir: Path) -> Iterator[None]:
    """Serialise this toolkit's worktree changes in one repository (git races on its own files)."""
    with _flock(common_dir / "builders" / "locks" / "repository.lock", None):
        yield
