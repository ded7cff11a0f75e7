"""`restore` stopped while git makes a worktree again (a smudge filter holds the checkout), by SIGKILL,
SIGINT and SIGTERM to the run or its process group: running it again completes it, every byte of
the archived work comes back, and the clone stays usable for every later builder."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conftest import Builders, builders_dir
from runs import console, start
from test_landing_windows import STOPS, Pause, stop
from test_removal_judge import files_of
from workspace_builders.gitlayer import git

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="process groups and signals as on Linux")


@pytest.mark.parametrize("stop_with", list(STOPS))
def test_restore_stopped_in_git_worktree_add_is_completed_by_running_it_again(
    root: Path, builders: Builders, tmp_path: Path, stop_with: str
) -> None:
    assert builders("new", "x", "--repos", "alpha,beta").code == 0
    alpha = builders_dir(root) / "x/repos/alpha"
    (alpha / "README.md").write_bytes(b"edited, never committed\r\n")
    (alpha / "notes.txt").write_text("untracked\n")
    before = files_of(alpha)
    assert builders("remove", "x", "--force").code == 0
    pause = Pause(tmp_path)
    pause.smudge_in(root / "repos/alpha", "README.md")  # git stops while it writes the worktree's files
    proc = start(root, "restore", "x", env=pause.env(""))
    pause.wait_reached(proc)
    sig, group = STOPS[stop_with]
    code, err = stop(proc, pause, sig, group)
    assert code != 3, err
    again = console(root, "restore", "x")
    assert again.returncode == 0, again.stderr
    assert files_of(alpha) == before
    assert git.run(alpha, "symbolic-ref", "HEAD").strip() == "refs/heads/builder/x"
    # whole, not the half-made worktree the stopped run left: its index holds every file of HEAD
    assert sorted(git.run(alpha, "status", "--porcelain").splitlines()) == [" M README.md", "?? notes.txt"]
    assert "locked" not in git.run(root / "repos/alpha", "worktree", "list", "--porcelain")
    verified = console(root, "verify", "x")
    assert verified.returncode == 0, verified.stdout
    later = builders("new", "y", "--repos", "alpha")  # the clone works for every later session
    assert later.code == 0, later.err
