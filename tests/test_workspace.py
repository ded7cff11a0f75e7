"""Finding the workspace root from the root, a builder, a nested repo worktree or a clone."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Builders, builders_dir
from workspace_builders.errors import BuildersError
from workspace_builders.workspace import discover


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
