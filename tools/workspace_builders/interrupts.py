"""SIGINT and SIGTERM as exceptions in the main thread, so every run stops the same way: workers
joined, what this run made rolled back, then exit 130 (INT) or 143 (TERM).

Python turns SIGINT into KeyboardInterrupt unless the process started with SIGINT ignored (a
background job of a shell script does): then it stays ignored, as the caller asked.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

TYPE_CHECKING = False  # annotations are never evaluated
if TYPE_CHECKING:
    from types import FrameType

INTERRUPTED = 130
TERMINATED = 143


class Terminated(BaseException):
    """SIGTERM arrived: stop like Ctrl-C does."""


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Terminated


def install() -> None:
    """Turn SIGTERM into Terminated (unless the caller made this process ignore it)."""
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _terminate)


def exit_code(exc: BaseException) -> int:
    return TERMINATED if isinstance(exc, Terminated) else INTERRUPTED


@contextmanager
def held_off() -> Iterator[None]:
    """Run the block to its end: a SIGINT or SIGTERM arriving meanwhile is raised after it.

    For the steps that put things back after a failure: stopped half-way, they would leave the very
    mess they exist to clear, and report it wrongly.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    arrived: list[int] = []
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def remember(signum: int, frame: FrameType | None) -> None:
        arrived.append(signum)

    for sig, handler in previous.items():
        if handler not in (signal.SIG_IGN, None):
            signal.signal(sig, remember)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if arrived:
        raise Terminated if signal.SIGTERM in arrived else KeyboardInterrupt
