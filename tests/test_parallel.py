"""parallel.each: every item tried, results in the items' order, failures returned, `jobs` respected."""

from __future__ import annotations

import errno
import threading
import time

import pytest

from workspace_builders.base import parallel
from workspace_builders.base.errors import BuildersError


@pytest.mark.parametrize("jobs", [1, 2, 8])
def test_results_in_order_and_failures_returned(jobs: int) -> None:
    def work(n: int) -> int:
        time.sleep(0.001 * (n % 3))  # finish out of order
        if n % 4 == 0:
            raise ValueError(f"bad {n}")
        return n * n

    finished: list[int] = []
    outcomes = parallel.each(list(range(12)), work, lambda n, _: finished.append(n), jobs=jobs)
    assert [item for item, _ in outcomes] == list(range(12))
    for item, outcome in outcomes:
        if item % 4 == 0:
            assert isinstance(outcome, ValueError) and str(outcome) == f"bad {item}"
        else:
            assert outcome == item * item
    assert sorted(finished) == list(range(12))


@pytest.mark.parametrize("jobs", [1, 3])
def test_never_more_than_jobs_at_once(jobs: int) -> None:
    running = peak = 0
    lock = threading.Lock()

    def work(_: int) -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.01)
        with lock:
            running -= 1

    parallel.each(list(range(9)), work, jobs=jobs)
    assert peak == jobs


def test_no_items() -> None:
    assert parallel.each([], lambda n: n) == []


def test_an_interrupt_joins_every_worker_and_starts_nothing_more() -> None:
    """Ctrl-C while workers run: each raises in the caller only after every worker has finished the
    item it was on, and no item starts after the interrupt."""
    import os
    import signal

    started: list[int] = []
    finished: list[int] = []
    first_ones = threading.Barrier(3)  # two workers and the timer below

    def work(n: int) -> None:
        started.append(n)
        if n < 2:
            first_ones.wait()
        time.sleep(0.2)
        finished.append(n)

    def interrupt() -> None:
        first_ones.wait()
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt).start()
    with pytest.raises(KeyboardInterrupt):
        parallel.each(list(range(20)), work, jobs=2)
    assert sorted(started) == sorted(finished)  # nothing still running
    assert len(started) < 20  # and the rest was never started


def _work_that_fails(n: int) -> int:
    if n == 1:
        raise BuildersError(f"repo {n} failed", f"fix repo {n}")
    if n == 3:
        raise OSError(errno.ENOSPC, "No space left on device", f"/nowhere/{n}")
    return n


def test_expected_failures_are_each_named_and_the_step_fails_as_one(capsys: pytest.CaptureFixture[str]) -> None:
    outcomes = parallel.each([0, 1, 2, 3], _work_that_fails)
    found = parallel.failures(outcomes)
    assert [item for item, _ in found] == [1, 3]
    assert "No space left on device: /nowhere/3" in found[1][1].message  # the world's error, as expected
    with pytest.raises(BuildersError) as raised:
        parallel.raise_failures(outcomes)
    assert raised.value.message == found[1][1].message  # the last is raised for the boundary ...
    assert "error: repo 1 failed" in capsys.readouterr().err  # ... and every other one is said first
    parallel.raise_failures(parallel.each([0, 2], _work_that_fails))  # nothing failed: nothing raised


def test_a_bug_in_any_item_is_raised_not_reported() -> None:
    def work(n: int) -> int:
        if n == 0:
            raise BuildersError("expected", "hint")
        raise KeyError(n)

    with pytest.raises(KeyError):
        parallel.failures(parallel.each([0, 1], work))
