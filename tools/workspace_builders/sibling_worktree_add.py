"""`builders add`: the builder itself, a worktree of the root in the sibling builders folder."""

from __future__ import annotations

from pathlib import Path

from workspace_builders import builder_init, checkout, git, output, state
from workspace_builders.checkout import Checkout
from workspace_builders.errors import BuildersError, bad_input
from workspace_builders.locks import builder_lock
from workspace_builders.names import check_builder_name, check_ref
from workspace_builders.state import BuilderState
from workspace_builders.workspace import Workspace, discover

ROOT = "root"


def plan_builder(ws: Workspace, name: str, base: str | None, previous: BuilderState | None) -> Checkout:
    """Validate everything about the builder worktree itself; create nothing."""
    branch = ws.branch(name)
    if not git.branch_name_ok(branch):
        raise bad_input(f"{branch!r} is not a valid branch name", "pick a simpler builder name")
    ws.check_builders_dir()
    if not git.has_commits(ws.root):
        raise bad_input(
            f"the workspace root {ws.root} has no commits",
            f'make a first commit: git -C {ws.root} commit --allow-empty -m "initial commit"',
        )
    ws.require_repos_ignored()
    if previous is not None and previous.status == state.READY:
        raise BuildersError(
            f"builder {name!r} already exists at {previous.path}",
            f"add repos to it with: builders init --builder {name} --repos ..., or pick another name",
        )
    return checkout.plan(
        ROOT,
        ws.root,
        ws.common_dir,
        ws.builder_path(name),
        branch,
        [check_ref(base, "--base")] if base else ["HEAD"],
        explicit=base is not None,
        resumable=previous.base_commit if previous else None,
    )


def new_record(name: str, builder: Checkout) -> BuilderState:
    return BuilderState(name, str(builder.target), builder.branch, builder.base_ref, builder.base_commit)


def add(start: Path, name: str, base: str | None, dry_run: bool, as_json: bool) -> int:
    ws = discover(start).workspace
    check_builder_name(name)
    with builder_lock(ws, name):
        previous = state.load(ws, name)
        builder = plan_builder(ws, name, base, previous)
        record = new_record(name, builder)
        if not dry_run:
            output.say(f"builder {name}: creating")
            builder_init.build(ws, record, [builder], previous)
            builder_init.finish(ws, record)
        builder_init.show([builder], record, dry_run, as_json)
    return 0
