"""Every command a hint of land, sync and verify prints works when pasted into a shell as printed, in a
workspace whose folder has a space and a quote in its name."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import REPOS, Builders, builders_dir, commit, edit
from runs import console, environment
from sample_workspace import make_workspace
from workspace_builders.gitlayer import git


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return make_workspace(tmp_path / "team's work", REPOS, files=3)


@pytest.fixture
def made(root: Path, builders: Builders) -> Path:
    assert builders("new", "s", "--repos", "alpha,beta").code == 0
    path = builders_dir(root) / "s"
    edit(path / "repos/alpha/README.md", "alpha, changed\n")
    commit(path / "repos/alpha", "alpha work")
    return path


def between(text: str, before: str, after: str) -> str:
    assert before in text, text
    return text.split(before, 1)[1].split(after, 1)[0]


def pasted(root: Path, command: str) -> subprocess.CompletedProcess[str]:
    """`command` as pasted into a shell in `root`."""
    return subprocess.run(
        command, shell=True, cwd=root, env=environment(), capture_output=True, text=True, check=False
    )


def fix_of(table: str, check: str) -> str:
    """The fix column of verify's row for `check`: the command after the detail."""
    row = next(line for line in table.splitlines() if check in line)
    return row[row.index("git -C ") :]


def test_land_hints_work_as_printed(root: Path, made: Path, builders: Builders) -> None:
    alpha_clone, alpha_work = root / "repos/alpha", made / "repos/alpha"
    edit(alpha_work / "scratch.txt", "not committed\n")
    dirty = builders("land", "s")
    assert dirty.code == 1
    look = "git -C " + between(dirty.err, "(git -C ", ")")
    assert "scratch.txt" in pasted(root, look).stdout
    (alpha_work / "scratch.txt").unlink()

    edit(alpha_clone / "README.md", "edited in the clone\n")
    base_dirty = builders("land", "s")
    assert base_dirty.code == 1
    look = "git -C " + between(base_dirty.err, "(git -C ", ")")
    assert "README.md" in pasted(root, look).stdout
    git.run(alpha_clone, "checkout", "--", "README.md")

    lock = alpha_clone / ".git/index.lock"
    lock.write_text("")
    held = builders("land", "s")
    assert held.code == 1
    remove = "rm " + between(held.err, "remove it: rm ", "\n")
    assert pasted(root, remove).returncode == 0 and not lock.exists()

    edit(alpha_clone / "README.md", "theirs\n")
    commit(alpha_clone, "a teammate's change to the same line")
    conflict = builders("land", "s")
    assert conflict.code == 1
    resolve = between(conflict.err, "resolve it by hand: ", "\n")
    started = pasted(root, resolve)
    assert "CONFLICT" in started.stdout + started.stderr  # the rebase it names, started where it must be
    assert (git.git_dir(alpha_work) / "rebase-merge").is_dir()
    git.run(alpha_work, "rebase", "--abort")


def test_a_stopped_sync_is_named_by_verify_with_fixes_that_work_as_printed(
    root: Path, made: Path, builders: Builders
) -> None:
    alpha_clone, alpha_work = root / "repos/alpha", made / "repos/alpha"
    edit(alpha_clone / "other.txt", "from main\n")
    commit(alpha_clone, "alpha main moves")
    killed = console(root, "sync", "s", fault="sync:rebased:alpha")
    assert killed.returncode == -9
    checked = builders("verify", "s")
    assert checked.code == 1
    assert "builders sync s" in checked.out
    assert pasted(root, "builders sync s").returncode == 0
    git.run(alpha_work, "switch", "--detach", "-q")
    detached = builders("verify", "s")
    assert detached.code == 1
    switch = fix_of(detached.out, "HEAD on a branch")
    assert pasted(root, switch).returncode == 0, switch
    assert git.run(alpha_work, "symbolic-ref", "HEAD").strip() == "refs/heads/builder/s"
    assert builders("verify", "s").code == 0


def test_verify_names_a_rebase_under_way_with_the_command_that_ends_it(
    root: Path, made: Path, builders: Builders
) -> None:
    alpha_clone, alpha_work = root / "repos/alpha", made / "repos/alpha"
    edit(alpha_clone / "README.md", "theirs\n")
    commit(alpha_clone, "a teammate's change to the same line")
    assert git.attempt(alpha_work, "rebase", "main").returncode != 0  # the user's own rebase, stopped
    checked = builders("verify", "s")
    assert checked.code == 1
    assert "a rebase is under way" in checked.out
    fix = fix_of(checked.out, "HEAD on a branch")
    assert fix.endswith("rebase --abort")
    assert pasted(root, fix).returncode == 0, fix
    assert builders("verify", "s").code == 0
