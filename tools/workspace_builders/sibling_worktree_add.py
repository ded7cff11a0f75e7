"""`builders add`: the builder itself, a worktree of the root in the sibling builders folder, no repos."""

from __future__ import annotations

from pathlib import Path

from workspace_builders.create import create_builder
from workspace_builders.workspace import discover


def add(start: Path, name: str, base: str | None, dry_run: bool, as_json: bool) -> int:
    return create_builder(discover(start).workspace, name, None, base, dry_run, as_json, with_repos=False)
