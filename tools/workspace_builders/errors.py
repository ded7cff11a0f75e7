"""The one exception type for expected failures; cli.py maps it to an exit code."""

from __future__ import annotations

OPERATION_FAILED = 1
BAD_INPUT = 2
DONE_BUT_FOLLOW_UP_FAILED = 4  # land landed, but its --push or --remove did not complete
COMMAND_NOT_FOUND = 127  # the shell's code: the command to run is not there


class BuildersError(Exception):
    """An expected failure: what went wrong, and the command that fixes it."""

    def __init__(self, message: str, hint: str | None = None, exit_code: int = OPERATION_FAILED):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = exit_code


def bad_input(message: str, hint: str | None = None) -> BuildersError:
    """Bad usage or bad input: exit 2, and nothing was changed."""
    return BuildersError(message, hint, BAD_INPUT)
