"""`builders new`: the builder and its nested repo worktrees, created as one unit.

Everything is planned first (names, repos, bases, paths, branches), then applied; a failure undoes
what this run made. Re-running after a crash takes up what the crashed run left.
"""

from __future__ import annotations

from pathlib import Path

from workspace_builders.create import create_builder
from workspace_builders.workspace import discover


def new(start: Path, name: str, repos: str | None, base: str | None, dry_run: bool, as_json: bool) -> int:
    return create_builder(discover(start).workspace, name, repos, base, dry_run, as_json)
