"""File locks (flock): one per builder name across processes, one per repository for git writes.

flock locks belong to an open file description, so two threads that each open the file exclude each
other just as two processes do. No child ever gets the descriptor (git's hooks, and what they leave
running, would hold the lock long after the run). Instead a git started while a lock is held is
recorded in the lock file, by pid and start time (`record_child`), and the lock counts as held while
that process lives: a git that outlives a killed run keeps the repository locked until it has
finished, so whatever comes next (a re-run, a rollback, `remove`, `prune`) waits for it instead of
finding its work half-made; a hook's background job keeps nothing locked.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from workspace_builders.base import output
from workspace_builders.base.errors import BuildersError


class Workspace(Protocol):
    """What the locks need of a workspace (the model layer's Workspace, which sits above this one)."""

    @property
    def admin_dir(self) -> Path: ...

NAME_WAIT_SECONDS = 3.0
REPOSITORY_WAIT_SECONDS = 120.0
_SAY_WAITING_AFTER = 2.0

_held = threading.local()


def held() -> tuple[int, ...]:
    """The lock files this thread holds now."""
    return tuple(getattr(_held, "fds", ()))


def record_child(pid: int) -> None:
    """Record a child just started in every lock this thread holds: each stays held while it lives."""
    line = f"{pid} {_start_time(pid)}\n".encode()
    for fd in held():
        os.lseek(fd, 0, os.SEEK_END)
        os.write(fd, line)


def _start_time(pid: int) -> str:
    """When `pid` started (clock ticks since boot), so that a pid used again is not taken for it; "-"
    where /proc cannot tell."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return "-"
    fields = stat[stat.rfind(")") + 2 :].split()  # the command name in parentheses may hold spaces
    if len(fields) < 20:
        return "-"
    return "ended" if fields[0] in ("Z", "X") else fields[19]  # a zombie has ended: only its pid is left


def open_elsewhere(path: Path) -> bool:
    """Whether a running process has the file `path` open (read from /proc/*/fd; False where there
    is no /proc). A lock file git left when it was killed is open nowhere; one a live git writes is."""
    target = os.path.realpath(path)
    for fds in Path("/proc").glob("[0-9]*/fd"):
        try:
            if any(os.readlink(entry.path) == target for entry in os.scandir(fds)):
                return True
        except OSError:  # the process ended meanwhile, or is not ours to look at
            continue
    return False


def _alive(pid: int, started: str) -> bool:
    if started == "-":  # no /proc: whether the pid exists at all
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return _start_time(pid) == started


def live_child(fd: int) -> int | None:
    """The pid of a child recorded in the lock file that still runs; None when none does."""
    for line in os.pread(fd, 4096, 0).decode("ascii", "replace").splitlines():
        pid, _, started = line.partition(" ")
        if pid.isdigit() and started and _alive(int(pid), started):
            return int(pid)
    return None


def _holder(path: Path) -> int | None:
    """The pid of a git a stopped run left running that holds the lock at `path`, if any."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        return live_child(fd)
    finally:
        os.close(fd)


def _acquire(fd: int, wait: float, waiting: str | None, child_wait: float) -> bool:
    """Take the lock: the flock free within `wait` seconds, and then no recorded child still running
    within `child_wait` (a git a stopped run left going ends on its own: worth a longer wait than
    another run's whole work)."""
    start = time.monotonic()
    said = False
    while True:
        child = None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            child = live_child(fd)
            if child is None:
                os.ftruncate(fd, 0)  # the children recorded have all ended
                return True
            fcntl.flock(fd, fcntl.LOCK_UN)
        except BlockingIOError:
            pass
        waited = time.monotonic() - start
        if waited >= (wait if child is None else max(wait, child_wait)):
            return False
        if not said and waited >= _SAY_WAITING_AFTER and (waiting or child is not None):
            output.say(waiting or f"waiting for a git that a stopped run left running to finish (pid {child})")
            said = True
        time.sleep(0.02)


@contextmanager
def _flock(path: Path, wait: float, waiting: str | None = None, child_wait: float = 0.0) -> Iterator[bool]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        if not _acquire(fd, wait, waiting, child_wait):
            yield False
            return
        fds = getattr(_held, "fds", ())
        _held.fds = (*fds, fd)
        try:
            yield True
        finally:
            _held.fds = fds
    finally:
        os.close(fd)  # closing releases the lock


def _run_holds(path: Path) -> bool:
    """Whether a running process holds the flock of the lock file at `path` now (a run at work, not a
    git that a stopped run left: that one holds no flock, only its line in the file)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing releases a lock it took
    return False


def builder_busy(ws: Workspace, name: str) -> bool:
    """Whether a run is at work on builder `name` now: what it left half-made is under way, not stopped."""
    return _run_holds(ws.admin_dir / "locks" / f"{name}.lock")


def _who_holds(path: Path, hint: str) -> str:
    pid = _holder(path)
    if pid is not None and not _run_holds(path):
        return f"a git that a stopped run left running holds it (pid {pid}); wait for it to end, then run it again"
    return hint


@contextmanager
def builder_lock(ws: Workspace, name: str) -> Iterator[None]:
    """Hold the builder name's lock; exit 1 when another run keeps it past a short wait."""
    path = ws.admin_dir / "locks" / f"{name}.lock"
    with _flock(path, NAME_WAIT_SECONDS, child_wait=REPOSITORY_WAIT_SECONDS) as got:
        if not got:
            raise BuildersError(
                f"another run holds builder {name!r} (lock {path})",
                _who_holds(
                    path, f"wait for it to finish; if none is running, check with: {output.command('fuser', path)}"
                ),
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
                _who_holds(
                    path, f"see what holds it: {output.command('fuser', '-v', path)}; then run the command again"
                ),
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
                f"see what holds it: {output.command('fuser', '-v', path)}; then run the command again",
            )
        yield
