"""`sync` and `land` rebase, merge and squash with the user's git config in force: settings real users
have either leave the run as it would be without them, or stop it with every repo put back and git's
own words; none moves a branch that is not the builder's, and none loses a commit."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import Builders, commit, edit
from workspace_builders.gitlayer import git


def tip(repo: Path, ref: str = "refs/heads/main") -> str:
    return git.run(repo, "rev-parse", "--verify", ref).strip()


def user_config(*pairs: tuple[str, str]) -> None:
    """Set in the private HOME's ~/.gitconfig, as a user's own would be."""
    config = os.environ["GIT_CONFIG_GLOBAL"]
    for key, value in pairs:
        git.run(Path(config).parent, "config", "--file", config, key, value)


def main_moves(root: Path) -> str:
    edit(root / "repos/alpha/other.txt", "from main\n")
    return commit(root / "repos/alpha", "alpha main moves")


def beta_conflicts(root: Path) -> None:
    edit(root / "repos/beta/new.txt", "the base's own version\n")
    commit(root / "repos/beta", "beta main conflicts")


@pytest.mark.parametrize("command", ["sync", "land"])
def test_rebase_update_refs_moves_no_other_branch(root: Path, builders: Builders, made: Path, command: str) -> None:
    user_config(("rebase.updateRefs", "true"))
    alpha, clone = made / "repos/alpha", root / "repos/alpha"
    mine = tip(alpha, "HEAD")
    git.run(clone, "branch", "users-own", mine)  # a user's branch at the builder's commit
    assert builders("new", "t", "--repos", "alpha").code == 0
    other = made.parent / "t/repos/alpha"
    git.run(other, "reset", "--quiet", "--keep", mine)  # another builder's branch there too (checked out)
    main = main_moves(root)
    done = builders(command, "s")
    assert done.code == 0, done.err
    assert git.is_ancestor(alpha, main, "HEAD") and tip(alpha, "HEAD") != mine
    assert tip(clone, "refs/heads/users-own") == mine
    assert tip(clone, "refs/heads/builder/t") == mine


def test_rebase_update_refs_and_a_conflict_leave_every_other_branch(root: Path, builders: Builders, made: Path) -> None:
    user_config(("rebase.updateRefs", "true"))
    alpha, clone = made / "repos/alpha", root / "repos/alpha"
    mine = tip(alpha, "HEAD")
    git.run(clone, "branch", "users-own", mine)
    main_moves(root)
    beta_conflicts(root)
    done = builders("sync", "s")
    assert done.code == 1 and "stops on a conflict in: new.txt" in done.err
    assert tip(alpha, "HEAD") == mine  # put back
    assert tip(clone, "refs/heads/users-own") == mine  # and never moved


@pytest.mark.parametrize("command", ["sync", "land"])
def test_a_merge_commit_in_the_builder_is_not_flattened_by_a_rebase(
    root: Path, builders: Builders, made: Path, command: str
) -> None:
    """A rebase replays the commits merged and drops what the merge commit itself changed."""
    alpha, clone = made / "repos/alpha", root / "repos/alpha"
    git.run(clone, "branch", "side", "main")
    side = root.parent / "side"
    git.run(clone, "worktree", "add", "--quiet", str(side), "side")
    edit(side / "side.txt", "side\n")
    commit(side, "side work")
    git.run(alpha, "merge", "--quiet", "--no-commit", "--no-ff", "side")
    edit(alpha / "fix.txt", "made while merging\n")
    git.run(alpha, "add", "fix.txt")
    mine = commit(alpha, "merge side, with a fix")
    main = main_moves(root)
    done = builders(command, "s")
    assert done.code == 1
    assert "error: alpha: builder/s has a merge commit" in done.err and "nothing moved" in done.err
    assert "hint: bring it up with a merge instead: builders sync s --merge" in done.err
    assert tip(alpha, "HEAD") == mine and tip(clone) == main
    assert builders("sync", "s", "--merge").code == 0  # the hint, taken
    assert builders("land", "s").code == 0
    assert (clone / "fix.txt").read_text() == "made while merging\n"
    assert (clone / "side.txt").exists() and (clone / "other.txt").exists()
