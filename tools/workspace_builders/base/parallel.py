"""Per-repository work in threads: every item is tried, failures are collected, not raised.

The calling thread only waits. An interrupt (Ctrl-C, SIGTERM) reaches it, never a worker: then no
new item is started, every worker is joined (each finishes the item it is on) and the interrupt goes
on up, so a rollback after it sees everything this run did and nothing still running.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Sequence

TYPE_CHECKING = False  # typing would cost an import at every start; annotations are never evaluated
if TYPE_CHECKING:
    from typing import TypeVar

    T = TypeVar("T")
    R = TypeVar("R")

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
