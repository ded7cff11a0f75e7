"""A stop (SIGINT, SIGTERM) held off until a block ends, as the moves of a landing and every rollback
are: held off inside another such block (each git's start is), it still waits for the outer end."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from workspace_builders.base import interrupts
from workspace_builders.gitlayer import git


@contextmanager
def handlers_installed() -> Iterator[None]:
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    interrupts.install()
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_inside_a_nested_hold_waits_for_the_outer_end(root: Path, sig: signal.Signals) -> None:
    steps: list[str] = []
    raised = interrupts.Terminated if sig == signal.SIGTERM else KeyboardInterrupt
    with handlers_installed(), pytest.raises(raised):
        with interrupts.held_off():
            with interrupts.held_off():
                os.kill(os.getpid(), sig)
                steps.append("inner block ended")
            steps.append("outer block went on")
            steps.append(git.run(root, "rev-parse", "--is-inside-work-tree").strip())  # a git started in it
        steps.append("never: the stop is raised as the outer block ends")
    assert steps == ["inner block ended", "outer block went on", "true"]


def test_a_stop_in_a_hold_is_raised_at_its_end_and_the_next_stop_is_not_held(root: Path) -> None:
    with handlers_installed():
        with pytest.raises(interrupts.Terminated), interrupts.held_off():
            os.kill(os.getpid(), signal.SIGTERM)
        with pytest.raises(interrupts.Terminated):
            os.kill(os.getpid(), signal.SIGTERM)
            git.run(root, "rev-parse", "--is-inside-work-tree")  # never reached: nothing holds it off
