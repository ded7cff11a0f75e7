"""SIGINT and SIGTERM as exceptions in the main thread, so every run stops the same way: workers
joined, what this run made rolled back, then exit 130 (INT) or 143 (TERM).

Python turns SIGINT into KeyboardInterrupt unless the process started with SIGINT ignored (a
background job of a shell script does): then it stays ignored, as the caller asked.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

TYPE_CHECKING = False  # annotations are never evaluated
if TYPE_CHECKING:
    from types import FrameType

INTERRUPTED = 130
TERMINATED = 143


class Terminated(BaseException):
    """SIGTERM arrived: stop like Ctrl-C does."""


# Called with the signal first, in the main thread, when a SIGINT or SIGTERM arrives: processes.py
# passes it on to the user code it runs (children run in process groups of their own, so a Ctrl-C
# at the terminal reaches this process alone).
_on_stop: list[Callable[[int], None]] = []


def on_stop(call: Callable[[int], None]) -> None:
    if call not in _on_stop:
        _on_stop.append(call)


def _tell(signum: int) -> None:
    for call in _on_stop:
        call(signum)


def _terminate(signum: int, frame: FrameType | None) -> None:
    _tell(signum)
    raise Terminated


def _interrupt(signum: int, frame: FrameType | None) -> None:
    _tell(signum)
    raise KeyboardInterrupt


def install() -> None:
    """Turn SIGTERM into Terminated and SIGINT into KeyboardInterrupt, each told to `on_stop` first
    (unless the caller made this process ignore the signal)."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, _terminate):
        signal.signal(signal.SIGTERM, _terminate)
    if signal.getsignal(signal.SIGINT) in (signal.default_int_handler, _interrupt):
        signal.signal(signal.SIGINT, _interrupt)


def exit_code(exc: BaseException) -> int:
    return TERMINATED if isinstance(exc, Terminated) else INTERRUPTED


# Whether the main thread is in a held-off block. One held off inside it (git's start, in a rollback or
# a landing's moves) must not raise the stop at its own end, in the middle of the outer block.
_holding = False


@contextmanager
def held_off() -> Iterator[None]:
    """Run the block to its end: a SIGINT or SIGTERM arriving meanwhile is raised after it.

    For the steps that put things back after a failure: stopped half-way, they would leave the very
    mess they exist to clear, and report it wrongly.
    """
    global _holding
    if threading.current_thread() is not threading.main_thread() or _holding:
        yield  # a block held off inside another: the stop waits for the outer one's end
        return
    arrived: list[int] = []
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def remember(signum: int, frame: FrameType | None) -> None:
        arrived.append(signum)

    for sig, handler in previous.items():
        if handler not in (signal.SIG_IGN, None):
            signal.signal(sig, remember)
    _holding = True
    try:
        yield
    finally:
        _holding = False
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if arrived:
        raise Terminated if signal.SIGTERM in arrived else KeyboardInterrupt
