"""scripts.setup: runs in the new builder with its environment; a failure keeps the builder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import Builders, builders_dir, commit


def test_setup_runs_with_the_builder_env(root: Path, builders: Builders) -> None:
    script = 'env | grep -E "^(BUILDER_|WORKSPACE_ROOT)" | sort > setup.out; pwd >> setup.out; echo noise'
    (root / "workspaces.yaml").write_text(f"scripts:\n  setup: '{script}'\n")
    commit(root)
    result = builders("new", "x", "--repos", "alpha,beta", "--json")
    assert result.code == 0, result.err
    json.loads(result.out)  # the script's stdout did not spill into the JSON document
    assert "noise" in result.err
    builder = builders_dir(root) / "x"
    lines = (builder / "setup.out").read_text().splitlines()
    assert lines == [
        "BUILDER_NAME=x",
        f"BUILDER_PATH={builder}",
        "BUILDER_REPOS=alpha,beta",
        f"WORKSPACE_ROOT={root}",
        str(builder),
    ]


def test_setup_sees_no_git_dir_of_the_caller(root: Path, builders: Builders, monkeypatch: pytest.MonkeyPatch) -> None:
    (root / "workspaces.yaml").write_text("scripts:\n  setup: 'echo \"[$GIT_DIR]\" > seen'\n")
    commit(root)
    monkeypatch.setenv("GIT_DIR", str(root / ".git"))
    assert builders("new", "x").code == 0
    assert (builders_dir(root) / "x/seen").read_text() == "[]\n"


def test_setup_failure_keeps_the_builder(root: Path, builders: Builders) -> None:
    (root / "workspaces.yaml").write_text("scripts:\n  setup: 'echo failing >&2; exit 7'\n")
    commit(root)
    result = builders("new", "x", "--repos", "alpha")
    assert result.code == 1
    assert "setup script failed with exit 7" in result.err and "builders init --builder x" in result.err
    builder = builders_dir(root) / "x"
    assert (builder / "repos/alpha/README.md").is_file()
    state = json.loads((root / ".git/builders/state/x.json").read_text())
    assert state["status"] == "setup-failed"
    # fixed, init runs it again and the builder becomes ready
    (root / "workspaces.yaml").write_text("scripts:\n  setup: 'true'\n")
    assert builders("init", "--builder", "x").code == 0
    assert json.loads((root / ".git/builders/state/x.json").read_text())["status"] == "ready"
