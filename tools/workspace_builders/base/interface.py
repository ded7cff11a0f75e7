"""Hints speak the interface that was used: the make and task templates set BUILDERS_VIA, so a hint
says `REPOS=beta:HEAD` to someone who typed `make builder-new ...`, and `--repos beta:HEAD` to
someone who typed `builders new ...`; a did-you-mean hint is the command line as typed, the
misspelt name put right."""

from __future__ import annotations

import os
from collections.abc import Sequence

from workspace_builders.base import output

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


_typed: list[str] = []  # the program and its arguments as typed; set by the boundary (cli.run_tool)


def typed(prog: str, argv: Sequence[str]) -> None:
    _typed[:] = [*prog.split(), *argv]


def meant(word: str, match: str, usual: str) -> str:
    """`did you mean 'slack'? builders remove slack --dry-run`: the command as typed with the name
    `word` put right, its switches kept, so that pasted it does what was asked (a hint that dropped
    `--dry-run` would remove for real). `usual` where that cannot be said: through a template (what
    was typed there is a variable), or when the word is not in the command line exactly once."""
    command = usual
    if os.environ.get(VIA) not in TEMPLATES and _typed.count(word) == 1:
        command = output.command(*[match if arg == word else arg for arg in _typed])
    return f"did you mean {match!r}? {command}"
