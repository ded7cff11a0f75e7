"""Finding the workspace root from the root, a builder, a nested repo worktree or a clone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Builders, Unchanged, builders_dir
from workspace_builders.base.errors import BuildersError
from workspace_builders.model.workspace import discover


@pytest.mark.parametrize(
    ("start", "worktree"),
    [
        (".", "root"),
        ("repos/alpha", "root"),
        ("repos/alpha/src", "root"),
        ("B", "builder"),
        ("B/repos/alpha", "builder"),
        ("B/repos/alpha/src/pkg00", "builder"),
    ],
)
def test_discover(root: Path, builders: Builders, start: str, worktree: str) -> None:
    assert builders("new", "b", "--repos", "alpha").code == 0
    builder = builders_dir(root) / "b"
    here = builder / start[2:] if start.startswith("B") else root / start
    found = discover(here)
    assert found.workspace.root == root
    assert found.worktree == (root if worktree == "root" else builder)
    assert found.in_builder == (worktree == "builder")


def test_discover_ignores_a_callers_git_dir(root: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    other = tmp_path / "upstream/beta"
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other))
    assert discover(root).workspace.root == root


def test_outside_any_repository(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    with pytest.raises(BuildersError) as raised:
        discover(tmp_path / "x")
    assert raised.value.exit_code == 2


BUILDERS_SCRIPT = Path(sys.executable).parent / "builders"


def from_deleted_folder(folder: Path, gone: str, *args: str, pwd: bool = True) -> subprocess.CompletedProcess[str]:
    """In a shell in `folder`: the shell command `gone` deletes it, then `builders ARGS` runs (as
    after an agent removed the builder it stood in); `pwd`: whether the shell still knows the path."""
    script = f'cd "$1" && {gone} && shift && ' + ("" if pwd else "unset PWD && ") + '"$@"'
    return subprocess.run(
        ["sh", "-c", script, "sh", str(folder), str(BUILDERS_SCRIPT), *args],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("pwd", [True, False])
@pytest.mark.parametrize("command", [["list"], ["verify"], ["prune"], ["path", "keep"]])
def test_a_deleted_current_folder_works_from_the_workspace(
    root: Path, builders: Builders, command: list[str], pwd: bool
) -> None:
    assert builders("new", "keep").code == 0
    assert builders("new", "gone", "--repos", "alpha").code == 0
    (root / "scratch/deeper").mkdir(parents=True)
    cases = [  # (where the shell stands, what deletes it, the folder the command then works from)
        (builders_dir(root) / "gone/repos/alpha/src", f'"{BUILDERS_SCRIPT}" remove gone', root),
        (root / "scratch/deeper", 'rm -rf "$1"', root / "scratch"),
    ]
    if command[0] in ("list", "path"):  # verify and prune (rightly) flag a stray folder in the builders folder
        (builders_dir(root) / "scratch/deeper").mkdir(parents=True)
        cases.append((builders_dir(root) / "scratch/deeper", 'rm -rf "$1"', root))
    for folder, gone, working_from in cases:
        done = from_deleted_folder(folder, gone, *command, pwd=pwd)
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr and "unexpected error" not in done.stderr
        assert f"note: the current folder {folder} no longer exists; working from {working_from}" in done.stderr
        if command[0] == "path":
            assert done.stdout.endswith(f"{builders_dir(root) / 'keep'}\n")


def test_a_deleted_current_folder_outside_any_workspace_says_what_to_do(
    root: Path, tmp_path_factory: pytest.TempPathFactory, unchanged: Unchanged
) -> None:
    folder = tmp_path_factory.mktemp("elsewhere") / "deeper"
    folder.mkdir(parents=True)
    with unchanged():
        done = from_deleted_folder(folder, 'rm -rf "$1"', "list")
    assert done.returncode == 2
    assert f"error: the current folder {folder} no longer exists, and {folder.parent} is in no workspace" in done.stderr
    assert "hint: cd into your workspace root or one of its builders" in done.stderr


def test_removing_the_builder_you_stand_in_says_so(root: Path, builders: Builders) -> None:
    assert builders("new", "here", "--repos", "alpha").code == 0
    inside = builders_dir(root) / "here/repos/alpha"
    result = builders("remove", "here", cwd=inside)
    assert result.code == 0, result.err
    assert f"you are inside the builder being removed; after it, cd to the root: cd {root}" in result.err
    assert not (builders_dir(root) / "here").exists()
    assert builders("new", "there").code == 0
    assert "inside the builder" not in builders("remove", "there", cwd=root).err
