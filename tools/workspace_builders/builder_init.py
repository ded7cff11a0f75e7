"""`builders init`: nested repo worktrees in a builder, copy-in files and the setup script."""

from __future__ import annotations

from pathlib import Path

from workspace_builders.create import init_builder
from workspace_builders.workspace import discover


def init(start: Path, repos: str | None, builder: str | None, dry_run: bool, as_json: bool) -> int:
    return init_builder(discover(start), repos, builder, dry_run, as_json)
