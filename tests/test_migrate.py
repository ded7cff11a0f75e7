"""`builders migrate`: the deprecated nested layout becomes the sibling layout, work intact."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from conftest import Builders, Unchanged, builders_dir, commit
from workspace_builders.base.faults import FAULT_ENV
from workspace_builders.gitlayer import git


def nested_layout(root: Path) -> Path:
    """The seed's layout: .builders/<name> in the root, ignored, with repos/<r> worktrees inside."""
    with (root / ".gitignore").open("a") as out:
        out.write(".builders/\n")
    commit(root, "ignore .builders/")
    old = root / ".builders/old"
    git.run(root, "worktree", "add", "-q", "-b", "builder/old", str(old))
    for repo in ("alpha", "beta"):
        git.run(root / "repos" / repo, "worktree", "add", "-q", "-b", "builder/old", str(old / "repos" / repo))
    return old


def test_nested_layout_becomes_sibling_with_work_intact(root: Path, builders: Builders) -> None:
    old = nested_layout(root)
    (old / "repos/alpha/feature.txt").write_text("committed work\n")
    work = commit(old / "repos/alpha", "feature")
    (old / "repos/beta/README.md").write_text("uncommitted edit\n")
    (old / "notes.txt").write_text("untracked in the builder\n")
    assert builders("verify").code == 1
    dry = builders("migrate", "--dry-run")
    assert dry.code == 0 and old.exists() and "move" in dry.out
    result = builders("migrate")
    assert result.code == 0, result.err
    new = builders_dir(root) / "old"
    assert not old.exists()
    assert (new / "notes.txt").read_text() == "untracked in the builder\n"
    assert (new / "repos/beta/README.md").read_text() == "uncommitted edit\n"
    assert git.run(new / "repos/alpha", "rev-parse", "HEAD").strip() == work
    assert git.run(new / "repos/alpha", "branch", "--show-current").strip() == "builder/old"
    assert git.run(new, "branch", "--show-current").strip() == "builder/old"
    # git's own view moved with it, in the root and in each clone
    assert any(w.path == new for w in git.worktrees(root))
    assert any(w.path == new / "repos/alpha" for w in git.worktrees(root / "repos/alpha"))
    verified = json.loads(builders("verify", "--json").out)
    assert verified["ok"], [c for c in verified["checks"] if not c["ok"]]
    # and it is a builder like any other now: removal refuses the uncommitted edit
    assert builders("remove", "old").code == 1


def test_refuses_locked_and_existing_target(root: Path, builders: Builders, unchanged: Unchanged) -> None:
    old = nested_layout(root)
    git.run(root, "worktree", "lock", str(old))
    (builders_dir(root) / "old").mkdir(parents=True)
    with unchanged():
        result = builders("migrate")
    assert result.code == 1 and "locked" in result.err
    git.run(root, "worktree", "unlock", str(old))
    with unchanged():
        result = builders("migrate")
    assert result.code == 1 and "already exists" in result.err


def test_nothing_to_migrate(builders: Builders) -> None:
    result = builders("migrate")
    assert result.code == 0 and "nothing to migrate" in result.out


def _console(root: Path, *args: str, fault: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    if fault:
        env[FAULT_ENV] = fault
    return subprocess.run(["builders", *args], cwd=root, env=env, capture_output=True, text=True, check=False)


def test_migrate_killed_after_the_move_is_named_and_completed_by_a_rerun(root: Path) -> None:
    old = nested_layout(root)
    (old / "repos/beta/README.md").write_text("uncommitted edit\n")
    killed = _console(root, "migrate", fault="migrate:moved")
    assert killed.returncode == -signal.SIGKILL
    new = builders_dir(root) / "old"
    assert new.is_dir() and not old.exists()
    checked = _console(root, "verify", "old")
    assert checked.returncode == 1
    # the nested worktrees' clones still name the old place: verify finds them on disk and says so
    assert "alpha" in checked.stdout and "link: admin dir names it back" in checked.stdout
    assert "migrating" in checked.stdout
    again = _console(root, "migrate")
    assert again.returncode == 0, again.stderr
    assert _console(root, "verify").returncode == 0
    assert (new / "repos/beta/README.md").read_text() == "uncommitted edit\n"
    # prune now keeps the nested entries: they point at the new place
    assert _console(root, "prune").returncode == 0
    assert any(w.path == new / "repos/alpha" for w in git.worktrees(root / "repos/alpha"))
