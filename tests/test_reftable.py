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
from pathlib import Path

import pytest

from conftest import REPOS, commit, edit
from runs import console, environment
from sample_workspace import make_workspace
from workspace_builders.gitlayer import git, links


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
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    assert NEW_GIT is not None
    monkeypatch.setenv("PATH", f"{NEW_GIT}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(git, "_git_path", None)  # this module's git layer runs the newer git too
    with open(os.environ["GIT_CONFIG_GLOBAL"], "a", encoding="utf-8") as config:
        config.write("[init]\n\tdefaultRefFormat = reftable\n")
    made = make_workspace(tmp_path, REPOS, files=3)
    assert (made / "repos/alpha/.git/reftable").is_dir() and (made / ".git/reftable").is_dir()
    return made


def _builders(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return console(root, *args, env=environment(path_first=NEW_GIT))


def _worktrees(repo: Path) -> list[str]:
    listed = git.run(repo, "worktree", "list", "--porcelain")
    return [line.removeprefix("worktree ") for line in listed.splitlines() if line.startswith("worktree ")]


def test_a_worktrees_head_is_read_from_git_where_its_file_is_a_stub(root: Path) -> None:
    assert _builders(root, "new", "x", "--repos", "alpha").returncode == 0
    worktree = root.parent / f"{root.name}.builders" / "x" / "repos" / "alpha"
    common_dir = root / "repos/alpha/.git"
    admin = links.link_of(worktree, common_dir).admin
    assert admin is not None and links.read(admin / "HEAD") == "ref: refs/heads/.invalid"
    entry = links.entry_of(worktree, common_dir)
    assert entry is not None and entry.branch == "refs/heads/builder/x"
    assert links.checked_out_anywhere(common_dir, "refs/heads/main", worktree)  # the clone has main
    assert not links.checked_out_anywhere(common_dir, "refs/heads/builder/x", worktree)
    git.run(worktree, "switch", "--quiet", "--detach")
    detached = links.entry_of(worktree, common_dir)
    assert detached is not None and detached.branch is None
    assert detached.head == git.run(worktree, "rev-parse", "HEAD").strip()


def test_new_rolls_back_its_worktrees_and_says_so_truly(root: Path) -> None:
    hook = root / "repos/beta/.git/hooks/post-checkout"  # beta's `git worktree add` fails after making it
    hook.parent.mkdir(exist_ok=True)
    hook.write_text("#!/bin/sh\necho broken hook >&2\nexit 1\n")
    hook.chmod(0o755)
    done = _builders(root, "new", "x", "--repos", "alpha,beta,gamma")
    assert done.returncode == 1 and "broken hook" in done.stderr and "rolled back" in done.stderr
    for repo in (root, *(root / "repos" / name for name in REPOS)):
        assert _worktrees(repo) == [str(repo)], repo
        assert git.resolve_commits(repo, ["refs/heads/builder/x"])["refs/heads/builder/x"] is None
    assert not (root.parent / f"{root.name}.builders" / "x").exists()


def test_a_builder_lands_and_is_removed(root: Path) -> None:
    assert _builders(root, "new", "x", "--repos", "alpha,beta").returncode == 0
    built = root.parent / f"{root.name}.builders" / "x"
    edit(built / "repos/alpha/work.txt", "the builder's work\n")
    work = commit(built / "repos/alpha", "the builder's work")
    landed = _builders(root, "land", "x")
    assert landed.returncode == 0, landed.stderr
    assert git.run(root / "repos/alpha", "rev-parse", "main").strip() == work
    assert (root / "repos/alpha/work.txt").read_text() == "the builder's work\n"
    verified = _builders(root, "verify", "x")
    assert verified.returncode == 0 and "all ok" in verified.stdout, verified.stdout + verified.stderr
    removed = _builders(root, "remove", "x")
    assert removed.returncode == 0, removed.stderr
    assert not built.exists()
    for repo in (root, root / "repos/alpha", root / "repos/beta"):
        assert _worktrees(repo) == [str(repo)]
        assert git.resolve_commits(repo, ["refs/heads/builder/x"])["refs/heads/builder/x"] is None
