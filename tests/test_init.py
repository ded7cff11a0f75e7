"""`builders init` and `builders add`: repos added inside a builder, or to one named."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Builders, Unchanged, builders_dir
from workspace_builders.gitlayer import git


def test_add_then_init_inside_the_builder(root: Path, builders: Builders) -> None:
    assert builders("add", "slack").code == 0
    builder = builders_dir(root) / "slack"
    assert git.run(builder, "branch", "--show-current").strip() == "builder/slack"
    assert not (builder / "repos").exists()
    result = builders("init", "--repos", "alpha", cwd=builder)
    assert result.code == 0, result.err
    assert git.run(builder / "repos/alpha", "branch", "--show-current").strip() == "builder/slack"


def test_init_from_inside_a_nested_repo_adds_more(root: Path, builders: Builders) -> None:
    assert builders("new", "slack", "--repos", "alpha").code == 0
    builder = builders_dir(root) / "slack"
    (builder / "repos/alpha/work.txt").write_text("in progress\n")
    result = builders("init", "--repos", "beta,gamma", cwd=builder / "repos/alpha")
    assert result.code == 0, result.err
    state = json.loads((root / ".git/builders/state/slack.json").read_text())
    assert [r["name"] for r in state["repos"]] == ["alpha", "beta", "gamma"]
    assert (builder / "repos/alpha/work.txt").read_text() == "in progress\n"  # untouched
    assert (builder / "repos/gamma/README.md").is_file()


def test_init_with_a_present_repo_skips_it(root: Path, builders: Builders) -> None:
    assert builders("new", "slack", "--repos", "alpha").code == 0
    result = builders("init", "--builder", "slack", "--repos", "alpha,beta", "--json")
    assert result.code == 0
    assert json.loads(result.out)["actions"] == {"alpha": "present", "beta": "create"}


def test_init_adopts_a_plain_git_worktree(root: Path, builders: Builders) -> None:
    plain = builders_dir(root) / "handmade"
    git.run(root, "worktree", "add", "-q", "-b", "feature/handmade", str(plain))
    result = builders("init", "--repos", "beta", cwd=plain)
    assert result.code == 0, result.err
    # nested repos follow the builder's own branch
    assert git.run(plain / "repos/beta", "branch", "--show-current").strip() == "feature/handmade"
    state = json.loads((root / ".git/builders/state/handmade.json").read_text())
    assert state["branch"] == "feature/handmade" and state["status"] == "ready"


def test_config_comes_from_the_root_not_the_builder(root: Path, builders: Builders) -> None:
    assert builders("add", "slack").code == 0
    builder = builders_dir(root) / "slack"
    (builder / "workspaces.yaml").write_text("scripts:\n  setup: touch pwned\n")
    assert builders("init", "--repos", "alpha", cwd=builder).code == 0
    assert not (builder / "pwned").exists()


def test_init_dry_run(root: Path, builders: Builders, unchanged: Unchanged) -> None:
    assert builders("add", "slack").code == 0
    with unchanged():
        result = builders("init", "--builder", "slack", "--repos", "all", "--dry-run")
    assert result.code == 0
    assert result.out.count("create") == 3


def test_add_json_and_refusal_to_add_twice(root: Path, builders: Builders) -> None:
    result = builders("add", "x", "--json")
    assert json.loads(result.out)["repos"] == []
    again = builders("add", "x")
    assert again.code == 1 and "already exists" in again.err
