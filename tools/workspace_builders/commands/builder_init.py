"""`builders init`: nested repo worktrees in a builder, copy-in files and the setup script."""

from __future__ import annotations

from plumbum import cli

from workspace_builders.commands.base import WithDryRunAndJson
from workspace_builders.engine.create import init_builder


class Init(WithDryRunAndJson):
    DESCRIPTION = "add repo worktrees, copy-in files and run setup, in this builder or the one named"

    repos = cli.SwitchAttr(
        "--repos", str, argname="REPOS", help="repos to add: a,b or a:base,b or all (default: builders.default_repos)"
    )
    builder = cli.SwitchAttr(
        "--builder", str, argname="NAME", help="the builder's name (default: the builder you are in)"
    )

    def main(self) -> int:
        return init_builder(self.location(), self.repos, self.builder, self.dry_run, self.as_json)

