"""`builders hook post-checkout`: what git's post-checkout hook runs once a new worktree of the root exists.

A new worktree in the builders folder becomes a full builder (repos, copy-in files, setup, state);
one inside the root (the deprecated nested layout) is refused with the command that moves it.
The shell hook has already filtered out ordinary checkouts; this checks again, for callers such as
the pre-commit framework that start Python every time.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from workspace_builders.base import output
from workspace_builders.base.errors import BuildersError, bad_input
from workspace_builders.base.names import check_builder_name
from workspace_builders.commands.base import Command
from workspace_builders.engine.create import init_builder
from workspace_builders.gitlayer import git
from workspace_builders.model import state
from workspace_builders.model.workspace import Location

# The pre-commit framework passes git's hook arguments in these instead.
_FRAMEWORK_ARGS = ("PRE_COMMIT_FROM_REF", "PRE_COMMIT_TO_REF", "PRE_COMMIT_CHECKOUT_TYPE")


def post_checkout(location: Location, args: Sequence[str]) -> int:
    if not args:
        args = [os.environ.get(key, "") for key in _FRAMEWORK_ARGS]
    if len(args) != 3:
        raise bad_input("post-checkout takes 3 arguments: previous HEAD, new HEAD, flag", "git passes them")
    previous = args[0]
    if os.environ.get(git.RUNNING_MARK) or previous.strip("0") or not previous:
        return 0  # workspace-builders made this checkout, or it is an ordinary one
    ws, worktree = location.workspace, location.worktree
    if not location.in_builder:
        return 0  # the root itself: not a linked worktree
    if worktree.is_relative_to(ws.root):
        raise BuildersError(
            f"new worktree {worktree} is inside the workspace root (the deprecated nested layout); "
            f"builders live in the sibling folder {ws.builders_dir}",
            "move it: "
            + output.command("git", "-C", ws.root, "worktree", "move", worktree, ws.builders_dir / worktree.name),
        )
    if worktree.parent != ws.builders_dir:
        output.say(f"note: {worktree} is not in the builders folder {ws.builders_dir}; left a plain worktree")
        return 0
    check_builder_name(worktree.name)
    known = state.load(ws, worktree.name)
    if known is not None and known.status == state.READY and Path(known.path) == worktree:
        return 0  # set up already: the hook ran twice (ours and the pre-commit framework's, say)
    repos = os.environ.get("BUILDER_REPOS")
    output.say(f"workspace-builders: making {worktree.name} a builder")
    try:
        return init_builder(location, repos, None, dry_run=False, as_json=False)
    except BuildersError as exc:
        # git has made the worktree whatever happens here: say what it is now and how to finish it.
        plain = state.load(ws, worktree.name) is None
        raise BuildersError(
            f"{exc.message}; {worktree} was made"
            + (" but is a plain worktree (no repos, no state) until init runs" if plain else ", but not finished"),
            f"make it a builder: builders init --builder {worktree.name} --repos ..."
            + (f"  ({exc.hint})" if exc.hint else ""),
            exc.exit_code,
        ) from None


class PostCheckout(Command):
    DESCRIPTION = "what git's post-checkout hook runs: a new worktree in the builders folder becomes a builder"
    USAGE = "    {progname} [SWITCHES] [OLD NEW FLAG]\n"

    def main(self, *old_new_flag: str) -> int:
        # No arguments: the pre-commit framework passes them in the environment instead.
        return post_checkout(self.location(), old_new_flag)
