"""What `land` asks git, counted (never timed): a fixed number of calls per repo, and no question
about the same two commits asked twice in one run."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

from conftest import commit, edit
from runs import console, environment

# A rebase and a move in each repo, with every check before and under the locks: the count today
# is 17 per repo. Before the rebase: the worktree's branch and changes, the branch and base tips, the
# base checkout's changes (found from the worktrees' HEAD files, no git), one listing of the branch's
# own commits (its counts, a merge commit a rebase would flatten, a rewritten base), and the files
# the rebase would write over. Under the locks: the base's ref update tried as a transaction (which
# checks its tip), the checkout's changes, hidden files and what is in the way, and the move tried
# with nothing written. A change that adds a call to each repo without need shows here.
MOST_CALLS_PER_REPO = 17


def test_land_asks_git_a_fixed_number_of_questions_per_repo(root: Path, made: Path, tmp_path: Path) -> None:
    for name in ("alpha", "beta"):  # each base moves on: the landing rebases in both repos
        edit(root / "repos" / name / "moved-on.txt", "the base moved on\n")
        commit(root / "repos" / name, "the base moves on")
    log = tmp_path / "calls.log"
    wrapper_dir = tmp_path / "logging-bin"
    wrapper_dir.mkdir()
    real = shutil.which("git")
    (wrapper_dir / "git").write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{real}" "$@"\n')
    (wrapper_dir / "git").chmod(0o755)
    done = console(root, "land", "s", env=environment(path_first=wrapper_dir))
    assert done.returncode == 0, done.stderr
    assert "alpha: rebased onto main" in done.stderr and "beta: rebased onto main" in done.stderr
    for name in ("alpha", "beta"):  # the trial of each move leaves no copy of its index behind
        assert not list((root / "repos" / name / ".git").glob("builders-land-trial-index*"))
    calls = log.read_text().splitlines()
    for name in ("alpha", "beta"):
        here = [c for c in calls if f" {made}/repos/{name} " in c or f" {root}/repos/{name} " in c]
        assert 10 <= len(here) <= MOST_CALLS_PER_REPO, "\n".join(here)
    questions = [c for c in calls if " merge-base --is-ancestor " in c or " rev-list --left-right " in c]
    words = [c.split() for c in questions]  # the two commits asked about: `A...B`, or `A B`
    pairs = [w[-1].replace("...", " ") if "..." in w[-1] else " ".join(w[-2:]) for w in words]
    asked = Counter(pairs)
    assert questions and all(n == 1 for n in asked.values()), asked
