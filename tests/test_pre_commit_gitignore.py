"""The pre-commit hook asks git whether the staged .gitignore, as committed, still ignores repos/."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import Builders, Unchanged

REFUSED = ".gitignore: the change stops ignoring repos/"


def user_git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """git as a person runs it, so our installed hooks fire."""
    return subprocess.run(["git", *args], cwd=cwd, env=dict(os.environ), capture_output=True, text=True, check=False)


@pytest.fixture
def hooked(root: Path, builders: Builders) -> Path:
    assert builders("hooks", "install").code == 0
    return root


def stage_gitignore(root: Path, old: str, new: str) -> None:
    gitignore = root / ".gitignore"
    text = gitignore.read_text()
    assert old in text
    gitignore.write_text(text.replace(old, new))
    assert user_git(root, "add", ".gitignore").returncode == 0


def head(root: Path) -> str:
    return user_git(root, "rev-parse", "HEAD").stdout


def assert_refused(root: Path, unchanged: Unchanged) -> None:
    before = head(root)
    with unchanged():
        done = user_git(root, "commit", "-q", "-m", "tidy")
    assert done.returncode == 1
    assert "error: this commit would break the workspace layout" in done.stderr and REFUSED in done.stderr
    assert "hint: keep a 'repos/' line in .gitignore" in done.stderr
    assert head(root) == before


def assert_accepted(root: Path) -> None:
    before = head(root)
    done = user_git(root, "commit", "-q", "-m", "tidy")
    assert done.returncode == 0, done.stderr
    assert head(root) != before


@pytest.mark.parametrize("spelling", ["repos/*", "/repos/", "repos", "repos/**"])
def test_other_spellings_git_still_ignores_are_accepted(hooked: Path, spelling: str) -> None:
    stage_gitignore(hooked, "repos/\n", f"{spelling}\n")
    assert_accepted(hooked)


def test_removing_the_line_is_refused(hooked: Path, unchanged: Unchanged) -> None:
    stage_gitignore(hooked, "repos/\n", "")
    assert_refused(hooked, unchanged)


def test_a_negation_is_refused(hooked: Path, unchanged: Unchanged) -> None:
    stage_gitignore(hooked, "repos/\n", "repos/\n!repos/\n")
    assert_refused(hooked, unchanged)


def test_local_excludes_do_not_count(hooked: Path, unchanged: Unchanged, tmp_path: Path) -> None:
    # info/exclude and core.excludesFile are this machine's: the commit would not carry them
    (hooked / ".git/info").mkdir(exist_ok=True)
    (hooked / ".git/info/exclude").write_text("repos/\n")
    excludes = tmp_path / "global-excludes"
    excludes.write_text("repos/\n")
    assert user_git(hooked, "config", "core.excludesFile", str(excludes)).returncode == 0
    stage_gitignore(hooked, "repos/\n", "")
    assert_refused(hooked, unchanged)


def test_the_staged_content_decides_not_the_working_tree(hooked: Path, unchanged: Unchanged) -> None:
    gitignore = hooked / ".gitignore"
    kept = gitignore.read_text()
    stage_gitignore(hooked, "repos/\n", "")
    gitignore.write_text(kept)  # fixed on disk only: the commit would still drop the line
    assert_refused(hooked, unchanged)
    stage_gitignore(hooked, "repos/\n", "repos/*\n")
    gitignore.write_text(kept.replace("repos/\n", ""))  # broken on disk only: the commit is fine
    assert_accepted(hooked)
