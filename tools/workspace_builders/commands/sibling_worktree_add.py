"""`builders add`: the builder itself, a worktree of the root in the sibling builders folder, no repos."""

from __future__ import annotations

from pathlib import Path

from plumbum import cli

from workspace_builders.commands.base import WithDryRunAndJson, start_dir
from workspace_builders.engine.create import create_builder
from workspace_builders.model.workspace import discover


def add(start: Path, name: str, base: str | None, dry_run: bool, as_json: bool) -> int:
    return create_builder(discover(start).workspace, name, None, base, dry_run, as_json, with_repos=False)


class Add(WithDryRunAndJson):
    DESCRIPTION = "create only the builder worktree of the root, with no repos"

    base = cli.SwitchAttr("--base", str, argname="BASE", help="the root's base (default HEAD)")

    def main(self, name: str) -> int:
        return add(start_dir(), name, self.base, self.dry_run, self.as_json)

