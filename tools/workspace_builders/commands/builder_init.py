"""`builders init`: nested repo worktrees in a builder, copy-in files and the setup script."""

from __future__ import annotations

from pathlib import Path

from plumbum import cli

from workspace_builders.commands.base import WithDryRunAndJson, start_dir
from workspace_builders.engine.create import init_builder
from workspace_builders.model.workspace import discover


def init(start: Path, repos: str | None, builder: str | None, dry_run: bool, as_json: bool) -> int:
    return init_builder(discover(start), repos, builder, dry_run, as_json)


class Init(WithDryRunAndJson):
    DESCRIPTION = "add repo worktrees, copy-in files and run setup, in this builder or the one named"

    repos = cli.SwitchAttr(
        "--repos", str, argname="REPOS", help="repos to add: a,b or a:base,b or all (default: builders.default_repos)"
    )
    builder = cli.SwitchAttr(
        "--builder", str, argname="NAME", help="the builder's name (default: the builder you are in)"
    )

    def main(self) -> int:
        return init(start_dir(), self.repos, self.builder, self.dry_run, self.as_json)

