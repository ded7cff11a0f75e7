"""The five tools run on their own (`python -m workspace_builders.TOOL`), through the same error boundary."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Unchanged, builders_dir

TOOLS = ["builder_init", "sibling_worktree_add", "verify", "prune", "safe_remove"]


def tool(root: Path, name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", f"workspace_builders.{name}", *args], cwd=root, capture_output=True, text=True
    )


@pytest.mark.parametrize("name", TOOLS)
def test_each_tool_has_plumbum_help(root: Path, name: str, unchanged: Unchanged) -> None:
    with unchanged():
        result = tool(root, name, "--help")
    assert result.returncode == 0, result.stderr
    assert f"\nUsage:\n    python -m workspace_builders.{name} [SWITCHES]" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize("name", TOOLS)
def test_each_tool_refuses_bad_usage_like_builders(root: Path, name: str, unchanged: Unchanged) -> None:
    with unchanged():
        result = tool(root, name, "--frob")
    assert result.returncode == 2
    assert result.stderr == f"error: unknown switch --frob\nhint: see: python -m workspace_builders.{name} --help\n"


def test_the_tools_make_check_and_remove_a_builder(root: Path) -> None:
    made = tool(root, "sibling_worktree_add", "solo")
    assert made.returncode == 0, made.stderr
    path = builders_dir(root) / "solo"
    assert (path / ".git").is_file() and not (path / "repos/alpha").exists()
    filled = tool(root, "builder_init", "--builder", "solo", "--repos", "alpha")
    assert filled.returncode == 0, filled.stderr
    assert (path / "repos/alpha/.git").is_file()
    checked = tool(root, "verify", "solo")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    removed = tool(root, "safe_remove", "solo")
    assert removed.returncode == 0, removed.stderr
    assert not path.exists()
    assert "solo" not in tool(root, "verify").stdout
    pruned = tool(root, "prune", "--json")
    assert pruned.returncode == 0, pruned.stderr
    assert pruned.stdout.lstrip().startswith("{")


def test_a_failed_check_is_exit_1(root: Path) -> None:
    assert tool(root, "sibling_worktree_add", "gone").returncode == 0
    (builders_dir(root) / "gone" / ".git").unlink()
    result = tool(root, "verify", "gone")
    assert result.returncode == 1, result.stdout + result.stderr
