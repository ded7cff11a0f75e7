"""Per-repository work in threads, and the one policy for its failures.

`each` tries every item and collects each outcome, never raising a worker's exception. The caller
then applies one rule: an expected failure (a BuildersError, or an OSError of the world) is reported
for every item it hit; a bug in any item is raised at once, for the boundary to report. A step that
must be whole calls `raise_failures` (each failure said, the run fails as one); a step that may go on
past a failure (list, verify, push, run) takes `failures` and reports them itself.

The calling thread only waits. An interrupt (Ctrl-C, SIGTERM) reaches it, never a worker: then no
new item is started, every worker is joined (each finishes the item it is on) and the interrupt goes
on up, so a rollback after it sees everything this run did and nothing still running.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterable, Sequence

from workspace_builders.base import output
from workspace_builders.base.errors import BuildersError, from_the_world

TYPE_CHECKING = False  # typing would cost an import at every start; annotations are never evaluated
if TYPE_CHECKING:
    from typing import TypeVar

    T = TypeVar("T")
    R = TypeVar("R")
    K = TypeVar("K")

MAX_THREADS = 8
_STOPS = {signal.SIGINT, signal.SIGTERM}


def each(
    items: Sequence[T],
    work: Callable[[T], R],
    done: Callable[[T, R | BaseException], None] | None = None,
    jobs: int = MAX_THREADS,
) -> list[tuple[T, R | BaseException]]:
    """Run work(item) for every item, `jobs` at a time; (item, result or exception) in the items' order.

    `done` is called as each item finishes, one call at a time, for a progress line.
    """
    todo = iter(enumerate(items))
    outcomes: dict[int, R | BaseException] = {}
    lock = threading.Lock()
    stop = threading.Event()
    jobs = min(jobs, len(items))
    running = [jobs]
    all_done = threading.Event()

    # Workers begin only once all are started: a worker starting a child process unblocks SIGINT and
    # SIGTERM for a moment (processes.py), and a signal it takes then is raised in the calling thread,
    # which must not be in the middle of starting the others.
    begun = threading.Event()

    def worker() -> None:
        try:
            begun.wait()
            while not stop.is_set():
                with lock:
                    job = next(todo, None)
                if job is None:
                    return
                index, item = job
                outcome: R | BaseException
                try:
                    outcome = work(item)
                except Exception as exc:
                    outcome = exc
                with lock:
                    outcomes[index] = outcome
                    if done:
                        done(item, outcome)
        finally:
            with lock:
                running[0] -= 1
                if not running[0]:
                    all_done.set()

    if not jobs:
        return []
    # Plain threads: concurrent.futures would cost an import of logging on every start-up.
    workers = [threading.Thread(target=worker) for _ in range(jobs)]
    try:
        # Signals held back while the workers start: a start cut short by one would leave a thread
        # running that was never counted as started.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)
        try:
            for thread in workers:
                thread.start()
        finally:
            begun.set()
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        _wait(all_done)
    except BaseException:
        stop.set()
        while True:
            try:
                _wait(all_done)  # a second interrupt waits for the workers all the same
                break
            except BaseException:
                continue
        raise
    return [(item, outcomes[index]) for index, item in enumerate(items)]


def _wait(event: threading.Event) -> None:
    # Waited for in short steps so the signal handler runs; the workers count themselves out, since
    # Thread.is_alive() can be wrong after a join() that an interrupt cut short.
    while not event.wait(0.05):
        pass


def failures(outcomes: Iterable[tuple[K, object]]) -> list[tuple[K, BuildersError]]:
    """The items whose work failed as expected, each with its error; a bug in any item is raised."""
    found = []
    for item, outcome in outcomes:
        if isinstance(outcome, BuildersError):
            found.append((item, outcome))
        elif isinstance(outcome, OSError):
            found.append((item, from_the_world(outcome)))
        elif isinstance(outcome, BaseException):
            raise outcome
    return found


def raise_failures(outcomes: Iterable[tuple[K, object]]) -> None:
    """Every item was tried: each failure is said, then the step fails as one (the last failure is
    raised, so the boundary prints it with its hint and its exit code)."""
    found = failures(outcomes)
    for _, error in found[:-1]:
        output.error(error.message, error.hint)
    if found:
        raise found[-1][1]
