"""`builders new`: the builder and its nested repo worktrees, created as one unit.

Everything is planned first (names, repos, bases, paths, branches), then applied; a failure undoes
what this run made. Re-running after a crash takes up what the crashed run left.
"""

from __future__ import annotations

from collections.abc import Sequence

from plumbum import cli

from workspace_builders.commands.base import WithDryRunAndJson
from workspace_builders.engine import builder_env
from workspace_builders.engine.create import create_builder
from workspace_builders.model import sparse, state
from workspace_builders.model.workspace import Workspace


def new(
    ws: Workspace,
    name: str,
    repos: str | None,
    base: str | None,
    dry_run: bool,
    as_json: bool,
    then_start: bool = False,
    sparse_folders: Sequence[str] = (),
) -> int:
    overrides = sparse.parse_overrides(sparse_folders)  # before anything is looked at
    if then_start:
        builder_env.require_start_script(ws)  # before anything is made
    code = create_builder(ws, name, repos, base, dry_run, as_json, sparse_overrides=overrides)
    record = state.load(ws, name)
    if then_start and not dry_run and code == 0 and record is not None:
        builder_env.start(ws, record)
    return code


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
        help="the root's base (default: the local branch of origin/HEAD, else the checked-out branch; needed when "
        "the root's HEAD is detached and it has uncommitted changes)",
    )

    sparse_folders = cli.SwitchAttr(
        "--sparse",
        str,
        list=True,
        argname="REPO=DIR,DIR",
        help="check out only these folders of REPO (and its top-level files), over its sparse preset; once per repo",
    )

    start = cli.Flag("--start", help="then run scripts.start in it, in the foreground (builders start)")

    def main(self, name: str) -> int:
        return new(
            self.location().workspace,
            name,
            self.repos,
            self.base,
            self.dry_run,
            self.as_json,
            self.start,
            self.sparse_folders,
        )
