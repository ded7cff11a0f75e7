"""The world's errors (a file too large, a folder that cannot be written, a path too long, a config
string no process can take) end as `error:` + `hint:` naming the file, exit 1 (2 for bad config),
after the same rollback; never as a bug (exit 3)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from conftest import Builders, Unchanged, builders_dir, commit
from runs import console
from workspace_builders.gitlayer import git, processes


def assert_no_trace(root: Path, name: str) -> None:
    assert not (builders_dir(root) / name).exists()
    assert not (root / ".git/builders/state" / f"{name}.json").exists()
    for repo in [root, *(root / "repos").iterdir()]:
        assert git.run(repo, "branch", "--list", f"builder/{name}") == "", repo
        assert not [w for w in git.worktrees(repo) if builders_dir(root) / name in (w.path, *w.path.parents)], repo


def test_a_file_too_large_while_new_copies_in_is_rolled_back_and_named(root: Path) -> None:
    (root / "workspaces.yaml").write_text('copy: [".env.local"]\n')
    with (root / ".gitignore").open("a") as ignore:
        ignore.write(".env.local\n")
    commit(root, "copy .env.local in")
    secrets = root / ".env.local"
    secrets.write_bytes(b"x" * 200_000)
    done = console(root, "new", "big", "--repos", "alpha", file_size_limit=100_000)  # ulimit -f
    assert done.returncode == 1, done.stderr
    target = builders_dir(root) / "big" / ".env.local"
    assert f"error: File too large: {target}\n" in done.stderr
    assert "hint: a file size limit was reached (see: ulimit -f)" in done.stderr
    assert "rolled back: the workspace is as it was" in done.stderr
    assert "unexpected error" not in done.stderr
    assert_no_trace(root, "big")
    assert secrets.read_bytes() == b"x" * 200_000  # nothing lost
    again = console(root, "new", "big", "--repos", "alpha")  # with the limit lifted, it just works
    assert again.returncode == 0, again.stderr
    assert target.read_bytes() == b"x" * 200_000


@pytest.mark.skipif(os.geteuid() == 0 and not shutil.which("setpriv"), reason="root writes there all the same")
def test_a_state_folder_that_cannot_be_written(root: Path, builders: Builders) -> None:
    assert builders("new", "first").code == 0
    state = root / ".git/builders/state"
    state.chmod(0o555)
    try:
        done = console(root, "new", "second", "--repos", "alpha", as_a_user=True)
    finally:
        state.chmod(0o755)
    assert done.returncode == 1, done.stderr
    assert f"error: Permission denied: {state}/" in done.stderr
    assert f"hint: make {state} writable for you (see: ls -ld {state})" in done.stderr
    assert "unexpected error" not in done.stderr
    assert_no_trace(root, "second")
    assert builders("verify", "first").code == 0


def test_a_state_folder_that_is_not_a_folder(root: Path, builders: Builders, unchanged: Unchanged) -> None:
    """What root meets where a user meets a read-only folder: the state cannot be written."""
    state = root / ".git/builders/state"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text("in the way\n")
    with unchanged():
        done = builders("new", "x", "--repos", "alpha")
    assert done.code == 1, done.err
    assert f"error: Not a directory: {state}" in done.err and "hint: check it; then run" in done.err
    assert "unexpected error" not in done.err
    assert state.read_text() == "in the way\n"


def test_a_root_path_near_path_max(tmp_path: Path, root: Path) -> None:
    deep = tmp_path / "deep"
    while len(str(deep)) < 4045 - 201 - len("/workspace-root"):
        deep = deep / ("d" * 200)
    deep = deep / ("e" * (4045 - len("/workspace-root") - len(str(deep)) - 1))
    deep.mkdir(parents=True)
    moved = deep / "workspace-root"
    root.rename(moved)
    assert len(str(moved)) == 4045  # a lock or state file's path is longer than PATH_MAX
    done = console(moved, "new", "far", "--repos", "alpha")
    assert done.returncode == 1, done.stderr
    assert f"error: File name too long: {moved}/.git/builders/" in done.stderr  # a lock or state file
    assert "unexpected error" not in done.stderr
    assert "hint: the path is too long for the file system: move the workspace to a shorter path" in done.stderr
    assert not os.path.lexists(f"{moved}.builders")
    assert not list((moved / ".git/builders/state").glob("*"))
    assert git.run(moved, "branch", "--list", "builder/far") == ""
    assert git.run(moved, "status", "--porcelain") == ""


def test_a_nul_byte_in_setup_changes_nothing(root: Path, builders: Builders, unchanged: Unchanged) -> None:
    (root / "workspaces.local.yaml").write_text('scripts:\n  setup: "echo a\\0b"\n')
    with unchanged():
        done = builders("new", "n")
    assert done.code == 2
    assert f"error: {root / 'workspaces.local.yaml'}:2: key 'scripts.setup' holds a NUL byte" in done.err
    assert "hint: fix or remove 'scripts.setup' in workspaces.local.yaml" in done.err


def test_a_setup_that_cannot_start_leaves_the_builder_setup_failed(
    root: Path, builders: Builders, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (root / "workspaces.local.yaml").write_text("scripts:\n  setup: 'true'\n")
    only_git = tmp_path / "only-git"
    only_git.mkdir()
    (only_git / "git").symlink_to(processes.program("git", dict(os.environ)))
    monkeypatch.setenv("PATH", str(only_git))  # no sh to run the script with
    done = builders("new", "s")
    assert done.code == 1, done.err
    assert f"error: setup script could not be started in {builders_dir(root) / 's'}: No such file" in done.err
    assert "(the builder is kept, status setup-failed)" in done.err
    assert "hint: fix scripts.setup in" in done.err and "builders init --builder s" in done.err
    recorded = json.loads((root / ".git/builders/state/s.json").read_text())
    assert recorded["status"] == "setup-failed"
