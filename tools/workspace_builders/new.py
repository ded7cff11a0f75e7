"""`builders new`: the builder and its nested repo worktrees, created as one unit.

Everything is planned first (names, repos, bases, paths, branches), then applied; a failure undoes
what this run made. Re-running after a crash takes up what the crashed run left.
"""

from __future__ import annotations

from pathlib import Path

from plumbum import cli

from workspace_builders.cli import WithDryRunAndJson, start_dir
from workspace_builders.create import create_builder
from workspace_builders.workspace import discover


def new(start: Path, name: str, repos: str | None, base: str | None, dry_run: bool, as_json: bool) -> int:
    return create_builder(discover(start).workspace, name, repos, base, dry_run, as_json)


class New(WithDryRunAndJson):
    DESCRIPTION = "create a builder: a worktree of the root in the builders folder, with repo worktrees"

    repos = cli.SwitchAttr(
        "--repos",
        str,
        argname="REPOS",
        help="repos to include: a,b or a:base,b or all (default: builders.default_repos)",
    )
    base = cli.SwitchAttr(
        "--base",
        str,
        argname="BASE",
        help="the root's base (default HEAD; required when the root has uncommitted changes)",
    )

    def main(self, name: str) -> int:
        return new(start_dir(), name, self.repos, self.base, self.dry_run, self.as_json)
