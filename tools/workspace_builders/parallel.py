"""Per-repository work in threads: every item is tried, failures are collected, not raised."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
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

    `done` is called as each item finishes, for a progress line.
    """
    if len(items) <= 1 or jobs <= 1:
        outcomes: list[tuple[T, R | BaseException]] = []
        for item in items:
            outcome: R | BaseException
            try:
                outcome = work(item)
            except Exception as exc:
                outcome = exc
            if done:
                done(item, outcome)
            outcomes.append((item, outcome))
        return outcomes
    results: dict[int, R | BaseException] = {}
    with ThreadPoolExecutor(max_workers=min(jobs, len(items))) as pool:
        futures = {pool.submit(work, item): index for index, item in enumerate(items)}
        for future in as_completed(futures):
            index = futures[future]
            failure = future.exception()
            results[index] = failure if failure is not None else future.result()
            if done:
                done(items[index], results[index])
    return [(item, results[index]) for index, item in enumerate(items)]
