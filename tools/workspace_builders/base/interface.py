"""Hints speak the interface that was used: the make and task templates set BUILDERS_VIA, so a hint
says `REPOS=beta:HEAD` to someone who typed `make builder-new ...`, and `--repos beta:HEAD` to
someone who typed `builders new ...`."""

from __future__ import annotations

import os

VIA = "BUILDERS_VIA"
TEMPLATES = ("make", "task")


def option(switch: str, variable: str, value: str) -> str:
    """`--repos beta:HEAD` on the command line, `REPOS=beta:HEAD` through a template."""
    if os.environ.get(VIA) in TEMPLATES:
        return f"{variable}={value}"
    return f"{switch} {value}"


def called(switch: str, variable: str) -> str:
    """What the user typed the value as: `--repos` on the command line, `REPOS` through a template."""
    return variable if os.environ.get(VIA) in TEMPLATES else switch
