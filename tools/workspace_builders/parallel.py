"""Per-repository work in threads: every item is tried, failures are collected, not raised."""

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

    def worker() -> None:
        while True:
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
    helpers = [threading.Thread(target=worker) for _ in range(min(jobs, len(items)) - 1)]
    for thread in helpers:
        thread.start()
    worker()  # the calling thread takes its share
    for thread in helpers:
        thread.join()
    return [(item, outcomes[index]) for index, item in enumerate(items)]
