"""Per-repository work in threads: every item is tried, failures are collected, not raised.

The calling thread only waits. An interrupt (Ctrl-C, SIGTERM) reaches it, never a worker: then no
new item is started, every worker is joined (each finishes the item it is on) and the interrupt goes
on up, so a rollback after it sees everything this run did and nothing still running.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

TYPE_CHECKING = False  # typing would cost an import at every start; annotations are never evaluated
if TYPE_CHECKING:
    from typing import TypeVar

    T = TypeVar("T")
    R = TypeVar("R")

MAX_THREADS = 8


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

    def worker() -> None:
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

    # Plain threads: concurrent.futures would cost an import of logging on every start-up.
    workers = [threading.Thread(target=worker) for _ in range(min(jobs, len(items)))]
    try:
        for thread in workers:
            thread.start()
        for thread in workers:
            while thread.is_alive():
                thread.join(0.05)  # a join without a timeout would not let the signal handler run
    except BaseException:
        stop.set()
        _join_all(workers)
        raise
    return [(item, outcomes[index]) for index, item in enumerate(items)]


def _join_all(workers: list[threading.Thread]) -> None:
    for thread in workers:
        while thread.is_alive():
            try:
                thread.join(0.05)
            except BaseException:  # a second interrupt waits for the workers all the same
                continue
