"""`builders add`: the builder itself, a worktree of the root in the sibling builders folder, no repos."""

from __future__ import annotations

from plumbum import cli

from workspace_builders.commands.base import WithDryRunAndJson
from workspace_builders.engine.create import create_builder


class Add(WithDryRunAndJson):
    DESCRIPTION = "create only the builder worktree of the root, with no repos"

    base = cli.SwitchAttr("--base", str, argname="BASE", help="the root's base (default HEAD)")

    def main(self, name: str) -> int:
        ws = self.location().workspace
        return create_builder(ws, name, None, self.base, self.dry_run, self.as_json, with_repos=False)

