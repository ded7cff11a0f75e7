"""What the user sees: error text, progress lines, tables and JSON.

Progress and messages go to stderr so that stdout holds only the result (the JSON document with
--json).
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import threading
from collections.abc import Sequence

TYPE_CHECKING = False  # typing would cost an import at every start; annotations are never evaluated
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

_lock = threading.Lock()


def say(line: str) -> None:
    """A message or progress line (stderr); safe to call from worker threads."""
    with _lock:
        print(line, file=sys.stderr, flush=True)


def error(message: str, hint: str | None) -> None:
    with _lock:
        print(f"error: {message}", file=sys.stderr)
        if hint:
            print(f"hint: {hint}", file=sys.stderr)
        sys.stderr.flush()


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    from tabulate import tabulate  # only commands that print tables pay for the import

    return tabulate(rows, headers=headers, tablefmt="plain", disable_numparse=True)


def result(text: str) -> None:
    print(text, flush=True)


# The shape of every --json document (schemas/<command>.schema.json): a change to any document's shape,
# other than a key added, bumps it.
JSON_VERSION = 1


def json_document(document: Mapping[str, Any]) -> None:
    print(json.dumps({"version": JSON_VERSION, **document}, indent=2, sort_keys=False), flush=True)


def command(*argv: str | os.PathLike[str]) -> str:
    """A command as it is typed in a shell: every word quoted where it must be, so that a line pasted
    from a hint or a recovery line works, also in a folder with a space or a quote in its name."""
    return shlex.join(os.fspath(word) for word in argv)


def short(sha: str | None) -> str:
    return sha[:10] if sha else "-"
