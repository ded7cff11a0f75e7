"""Crashes: `new` and `remove` killed with SIGKILL at each step, then verify, re-run and prune.

Each fault point (WORKSPACE_BUILDERS_FAULT) stops the real console script there, as `kill -9` would.
"""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import pytest

from conftest import REPOS, builders_dir, commit
from runs import console, signal_run, start
from workspace_builders.gitlayer import git

pytestmark = pytest.mark.slow  # `make check` leaves it out; `make test` runs it

CREATE_POINTS = [
    "create:state-saved",
    "create:root",
    "create:repo:alpha",
    "create:repo:gamma",
    "create:repos",
    "create:copied",
]
REMOVE_POINTS = [
    "remove:state-saved",
    "remove:archived:alpha",
    "remove:archived:root",
    "remove:nested:alpha",
    "remove:nested:gamma",
    "remove:worktrees",
    "remove:branches",
]


def branches(repo: Path) -> list[str]:
    return git.run(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/builder/").split()


def repositories(root: Path) -> list[Path]:
    return [root, *(root / "repos" / r for r in REPOS)]


def assert_clean_after_prune(root: Path) -> None:
    assert console(root, "prune").returncode == 0
    for repo in repositories(root):
        assert not [w for w in git.worktrees(repo) if w.prunable], repo


@pytest.mark.parametrize("point", CREATE_POINTS)
def test_new_killed_then_run_again_completes(root: Path, point: str) -> None:
    (root / ".env.local").write_text("KEY=1\n")
    (root / ".worktreeinclude").write_text(".env.local\n")
    (root / ".gitignore").write_text((root / ".gitignore").read_text() + ".env.local\n")
    commit(root, "copy .env.local into builders")
    killed = console(root, "new", "b", "--repos", "all", fault=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    checked = console(root, "verify")
    assert checked.returncode == 1  # the partial builder is reported ...
    assert any(line.startswith("b ") and " FAIL " in line for line in checked.stdout.splitlines()), checked.stdout
    again = console(root, "new", "b", "--repos", "all")
    assert again.returncode == 0, again.stderr  # ... and the same command completes it
    assert console(root, "verify").returncode == 0
    builder = builders_dir(root) / "b"
    assert (builder / ".env.local").read_text() == "KEY=1\n"
    for repo in repositories(root):
        assert branches(repo) == ["builder/b"]
    assert_clean_after_prune(root)


@pytest.mark.parametrize("point", REMOVE_POINTS)
def test_remove_killed_then_run_again_finishes_and_loses_nothing(root: Path, point: str) -> None:
    assert console(root, "new", "b", "--repos", "all").returncode == 0
    builder = builders_dir(root) / "b"
    (builder / "repos/alpha/wip.txt").write_text("alpha work\n")
    (builder / "notes.txt").write_text("root work\n")
    killed = console(root, "remove", "b", "--force", fault=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    again = console(root, "remove", "b", "--force")
    assert again.returncode == 0, again.stderr
    assert not builder.exists()
    # the work is in an archive ref of its repository, whichever run saved it
    for repo, path, text in ((root / "repos/alpha", "wip.txt", "alpha work\n"), (root, "notes.txt", "root work\n")):
        refs = git.run(repo, "for-each-ref", "--format=%(refname)", "refs/builders/archive/b/").split()
        assert any(git.file_text(repo, f"{ref}:{path}") == text for ref in refs), (repo, refs)
    for repo in repositories(root):
        assert branches(repo) == [], repo  # nothing on them: deleted, by one run or the other
    assert console(root, "verify").returncode == 0
    assert_clean_after_prune(root)


def test_new_killed_at_random_times(root: Path) -> None:
    rng = random.Random(7)
    for attempt in range(4):
        name = f"r{attempt}"
        proc = start(root, "new", name, "--repos", "all", output=False)
        time.sleep(rng.uniform(0.05, 0.6))
        signal_run(proc, signal.SIGKILL, group=False)
        proc.wait()
        again = console(root, "new", name, "--repos", "all")
        assert again.returncode == 0 or "already exists" in again.stderr, again.stderr
    assert console(root, "verify").returncode == 0
    assert_clean_after_prune(root)
