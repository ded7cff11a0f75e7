"""Repositories that keep their refs in a reftable (`init.defaultRefFormat = reftable`, git 2.45 and
later): the HEAD file of each of their worktrees is a stub (`ref: refs/heads/.invalid`), so what the
toolkit reads of a worktree's HEAD must come from git. Read from the file, `new` took its own half-made
worktrees for someone else's (kept them, deleted their branch, and said it had rolled back) and
`remove` could not tell a branch checked out elsewhere.

These tests need a git of 2.45 or later: the one on PATH, or the folder BUILDERS_TEST_REFTABLE_GIT
names (CI builds one there).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPOS, edit
from runs import console, environment
from workspace_builders.gitlayer import git

SAMPLE = Path(__file__).resolve().parent.parent / "scripts" / "sample_workspace.py"


def _new_enough_git() -> Path | None:
    named = os.environ.get("BUILDERS_TEST_REFTABLE_GIT")
    on_path = shutil.which("git")
    for folder in [Path(named)] if named else ([Path(on_path).parent] if on_path else []):
        done = subprocess.run([folder / "git", "--version"], capture_output=True, text=True, check=False)
        if done.returncode == 0 and git.parse_version(done.stdout) >= (2, 45):
            return folder
    return None


NEW_GIT = _new_enough_git()
pytestmark = pytest.mark.skipif(
    NEW_GIT is None, reason="needs git 2.45 or later (on PATH, or a folder named by BUILDERS_TEST_REFTABLE_GIT)"
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A sample workspace made by the newer git with `init.defaultRefFormat = reftable`: every git of
    the test, ours included, runs in a process of its own with that git first on PATH."""
    with open(os.environ["GIT_CONFIG_GLOBAL"], "a", encoding="utf-8") as config:
        config.write("[init]\n\tdefaultRefFormat = reftable\n")
    made = subprocess.run(
        [sys.executable, SAMPLE, tmp_path, "--repos", ",".join(REPOS), "--files", "3"],
        env=environment(path_first=NEW_GIT),
        capture_output=True,
        text=True,
        check=True,
    )
    root = Path(made.stdout.strip())
    assert (root / "repos/alpha/.git/reftable").is_dir() and (root / ".git/reftable").is_dir()
    return root


def _builders(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return console(root, *args, env=environment(path_first=NEW_GIT))


def _git(repo: Path, *args: str) -> str:
    assert NEW_GIT is not None
    return subprocess.run(
        [NEW_GIT / "git", "-C", repo, *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def _tip(repo: Path, ref: str) -> str | None:
    assert NEW_GIT is not None
    found = subprocess.run(
        [NEW_GIT / "git", "-C", repo, "rev-parse", "-q", "--verify", ref], capture_output=True, text=True
    )
    return found.stdout.strip() or None


def _worktrees(repo: Path) -> list[str]:
    listed = _git(repo, "worktree", "list", "--porcelain")
    return [line.removeprefix("worktree ") for line in listed.splitlines() if line.startswith("worktree ")]


def _commit(repo: Path, message: str) -> str:
    _git(repo, "add", "-A")
    _git(repo, "commit", "--quiet", "-m", message)
    return _git(repo, "rev-parse", "HEAD")


def test_a_branch_checked_out_elsewhere_is_seen_where_head_files_are_stubs(root: Path, tmp_path: Path) -> None:
    """The worktree's HEAD file says `ref: refs/heads/.invalid`; removal asks git where the builder's
    branch is checked out, and keeps the branch another worktree has."""
    assert _builders(root, "new", "x", "--repos", "alpha").returncode == 0
    worktree = root.parent / f"{root.name}.builders" / "x" / "repos" / "alpha"
    assert (worktree / ".git").read_text().startswith("gitdir: ")
    admin = Path((worktree / ".git").read_text().removeprefix("gitdir: ").strip())
    assert (admin / "HEAD").read_text().strip() == "ref: refs/heads/.invalid"
    elsewhere = tmp_path / "elsewhere"
    _git(root / "repos/alpha", "worktree", "add", "--quiet", "--force", str(elsewhere), "builder/x")
    tip = _tip(root / "repos/alpha", "refs/heads/builder/x")
    removed = _builders(root, "remove", "x")
    assert removed.returncode == 0, removed.stderr
    assert "kept branch in alpha: builder/x (checked out elsewhere)" in removed.stdout + removed.stderr
    assert _tip(root / "repos/alpha", "refs/heads/builder/x") == tip  # kept: it is checked out there
    assert _tip(root, "refs/heads/builder/x") is None  # the root's own branch, checked out nowhere now
    assert str(elsewhere) in _worktrees(root / "repos/alpha")


def test_new_rolls_back_its_worktrees_and_says_so_truly(root: Path) -> None:
    hook = root / "repos/beta/.git/hooks/post-checkout"  # beta's `git worktree add` fails after making it
    hook.parent.mkdir(exist_ok=True)
    hook.write_text("#!/bin/sh\necho broken hook >&2\nexit 1\n")
    hook.chmod(0o755)
    done = _builders(root, "new", "x", "--repos", "alpha,beta,gamma")
    assert done.returncode == 1 and "broken hook" in done.stderr and "rolled back" in done.stderr
    for repo in (root, *(root / "repos" / name for name in REPOS)):
        assert _worktrees(repo) == [str(repo)], repo
        assert _tip(repo, "refs/heads/builder/x") is None
    assert not (root.parent / f"{root.name}.builders" / "x").exists()


def test_a_builder_lands_and_is_removed(root: Path) -> None:
    assert _builders(root, "new", "x", "--repos", "alpha,beta").returncode == 0
    built = root.parent / f"{root.name}.builders" / "x"
    edit(built / "repos/alpha/work.txt", "the builder's work\n")
    work = _commit(built / "repos/alpha", "the builder's work")
    landed = _builders(root, "land", "x")
    assert landed.returncode == 0, landed.stderr
    assert _git(root / "repos/alpha", "rev-parse", "main") == work
    assert (root / "repos/alpha/work.txt").read_text() == "the builder's work\n"
    verified = _builders(root, "verify", "x")
    assert verified.returncode == 0 and "all ok" in verified.stdout, verified.stdout + verified.stderr
    removed = _builders(root, "remove", "x")
    assert removed.returncode == 0, removed.stderr
    assert not built.exists()
    for repo in (root, root / "repos/alpha", root / "repos/beta"):
        assert _worktrees(repo) == [str(repo)]
        assert _tip(repo, "refs/heads/builder/x") is None


def test_a_reftable_lock_a_killed_git_left_is_named_with_its_fix(root: Path) -> None:
    """git says only "cannot lock references" while a killed git's `reftable/tables.list.lock` stays:
    every ref update of the repository fails. The hint names the file, and removing it is the fix."""
    assert _builders(root, "new", "x", "--repos", "alpha").returncode == 0
    built = root.parent / f"{root.name}.builders" / "x"
    edit(built / "repos/alpha/work.txt", "the builder's work\n")
    work = _commit(built / "repos/alpha", "the builder's work")
    lock = root / "repos/alpha/.git/reftable/tables.list.lock"
    lock.touch()
    main = _tip(root / "repos/alpha", "refs/heads/main")
    for args in (("new", "y", "--repos", "alpha"), ("land", "x")):
        refused = _builders(root, *args)
        assert refused.returncode == 1, refused.stderr
        assert "cannot lock references" in refused.stderr
        assert f"hint: a git stopped while it wrote refs leaves {lock} behind" in refused.stderr
        assert f"remove it (rm {lock})" in refused.stderr
    assert _tip(root / "repos/alpha", "refs/heads/main") == main  # nothing landed
    assert _tip(root / "repos/alpha", "refs/heads/builder/y") is None  # nothing made
    lock.unlink()
    landed = _builders(root, "land", "x")
    assert landed.returncode == 0, landed.stderr
    assert _tip(root / "repos/alpha", "refs/heads/main") == work
