"""`builders new`: the sibling layout, bases, plan/apply as one unit, rollback and resume."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import Builders, Unchanged, builders_dir, commit, snapshot
from workspace_builders.gitlayer import git


@pytest.mark.quick
def test_new_makes_the_sibling_layout(root: Path, builders: Builders) -> None:
    result = builders("new", "slack", "--repos", "alpha,beta")
    assert result.code == 0, result.err
    builder = builders_dir(root) / "slack"
    assert builder.is_dir() and not builder.is_relative_to(root)
    # the builder: a worktree of the root on its own branch, linked both ways
    assert (builder / ".git").read_text().strip() == f"gitdir: {root}/.git/worktrees/slack"
    assert Path(root / ".git/worktrees/slack/gitdir").read_text().strip() == f"{builder}/.git"
    assert git.run(builder, "branch", "--show-current").strip() == "builder/slack"
    assert (builder / "README.md").read_text() == (root / "README.md").read_text()
    # each nested repo worktree: a worktree of its clone, same branch, at the local branch origin/HEAD names
    for repo in ("alpha", "beta"):
        nested = builder / "repos" / repo
        assert (nested / ".git").read_text().strip() == f"gitdir: {root}/repos/{repo}/.git/worktrees/{repo}"
        assert git.run(nested, "branch", "--show-current").strip() == "builder/slack"
        assert git.run(nested, "rev-parse", "HEAD") == git.run(root / "repos" / repo, "rev-parse", "main")
    assert not (builder / "repos" / "gamma").exists()
    # the builder's git status is clean: repos/ is ignored, nothing shows as embedded repositories
    assert git.run(builder, "status", "--porcelain") == ""
    state = json.loads((root / ".git/builders/state/slack.json").read_text())
    assert state["status"] == "ready"
    assert state["path"] == str(builder)
    assert state["base_commit"] == git.run(root, "rev-parse", "HEAD").strip()
    assert [r["name"] for r in state["repos"]] == ["alpha", "beta"]
    assert state["base_ref"] == "refs/heads/main"
    assert state["repos"][0]["base_ref"] == "refs/heads/main"
    assert "alpha:" in result.err  # a progress line per repo


def test_nested_branches_do_not_track_anything(root: Path, builders: Builders) -> None:
    assert builders("new", "slack", "--repos", "alpha").code == 0
    config = git.attempt(root / "repos/alpha", "config", "--get-regexp", r"^branch\.builder/")
    assert config.stdout == ""


def test_name_colon_base_and_config_base(root: Path, builders: Builders) -> None:
    alpha = root / "repos/alpha"
    first = git.run(alpha, "rev-parse", "HEAD").strip()
    (alpha / "new.txt").write_text("x")
    second = commit(alpha)
    (root / "workspaces.yaml").write_text("repos:\n  alpha:\n  beta:\n    base: HEAD\n")
    commit(root)
    (root / "repos/beta/b.txt").write_text("x")
    beta_head = commit(root / "repos/beta")
    result = builders("new", "x", "--repos", f"alpha:{first},beta")
    assert result.code == 0, result.err
    builder = builders_dir(root) / "x"
    assert git.run(builder / "repos/alpha", "rev-parse", "HEAD").strip() == first != second
    assert git.run(builder / "repos/beta", "rev-parse", "HEAD").strip() == beta_head


def test_all_means_every_repo(root: Path, builders: Builders) -> None:
    assert builders("new", "x", "--repos", "all").code == 0
    assert sorted(p.name for p in (builders_dir(root) / "x/repos").iterdir()) == ["alpha", "beta", "gamma"]


def test_default_repos_from_config(root: Path, builders: Builders) -> None:
    (root / "workspaces.local.yaml").write_text("builders:\n  default_repos: [gamma]\n")
    assert builders("new", "x").code == 0
    assert [p.name for p in (builders_dir(root) / "x/repos").iterdir()] == ["gamma"]


def test_configured_builders_dir_and_prefix(root: Path, builders: Builders) -> None:
    (root / "workspaces.yaml").write_text('builders:\n  dir: "../trees/{root}"\n  branch_prefix: "agent/"\n')
    commit(root)
    assert builders("new", "x", "--repos", "alpha").code == 0
    builder = root.parent / "trees" / root.name / "x"
    assert git.run(builder / "repos/alpha", "branch", "--show-current").strip() == "agent/x"


@pytest.mark.quick
def test_dry_run_prints_the_plan_and_changes_nothing(root: Path, builders: Builders, unchanged: Unchanged) -> None:
    with unchanged():
        result = builders("new", "slack", "--repos", "alpha,beta", "--dry-run")
    assert result.code == 0
    assert "create" in result.out and "repos/beta" in result.out
    with unchanged():
        result = builders("new", "slack", "--repos", "alpha", "--dry-run", "--json")
    document = json.loads(result.out)
    assert document["dry_run"] is True
    assert document["actions"] == {"root": "create", "alpha": "create"}


def test_json_result_document(root: Path, builders: Builders) -> None:
    result = builders("new", "slack", "--repos", "beta", "--json")
    document = json.loads(result.out)  # stdout holds the document and nothing else
    assert document["name"] == "slack"
    assert document["status"] == "ready"
    assert document["branch"] == "builder/slack"
    assert document["repos"][0]["name"] == "beta"
    assert document["repos"][0]["path"] == str(builders_dir(root) / "slack/repos/beta")


def test_existing_builder_is_refused(root: Path, builders: Builders, unchanged: Unchanged) -> None:
    assert builders("new", "x", "--repos", "alpha").code == 0
    with unchanged():
        result = builders("new", "x", "--repos", "beta")
    assert result.code == 1
    assert "already exists" in result.err and "builders init --builder x" in result.err


@pytest.mark.quick
def test_rollback_when_one_repo_fails_midway(root: Path, builders: Builders) -> None:
    """A failing post-checkout hook in beta makes its `git worktree add` fail after it made things."""
    hook = root / "repos/beta/.git/hooks/post-checkout"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text("#!/bin/sh\necho broken hook >&2\nexit 1\n")
    hook.chmod(0o755)
    before = snapshot(root.parent)
    result = builders("new", "x", "--repos", "alpha,beta,gamma")
    assert result.code == 1
    assert "beta" in result.err and "broken hook" in result.err
    assert "rolled back" in result.err
    assert snapshot(root.parent) == before
    for repo in ("alpha", "beta", "gamma"):
        assert "builder/x" not in git.run(root / "repos" / repo, "branch", "--list")


def test_branch_taken_in_one_clone_is_refused_before_anything(
    root: Path, builders: Builders, unchanged: Unchanged
) -> None:
    git.run(root / "repos/gamma", "branch", "builder/x")
    with unchanged():
        result = builders("new", "x", "--repos", "alpha,beta,gamma")
    assert result.code == 1
    assert "branch builder/x already exists" in result.err and "gamma" in result.err


def test_rerun_after_a_crash_completes(root: Path, builders: Builders) -> None:
    """A run killed after the builder and one repo were made: state says creating; re-run finishes."""
    assert builders("new", "x", "--repos", "alpha,beta").code == 0
    builder = builders_dir(root) / "x"
    state_file = root / ".git/builders/state/x.json"
    recorded = json.loads(state_file.read_text())
    # take the builder back to what a crash after its second repo's branch was made would leave
    git.run(root / "repos/beta", "worktree", "remove", str(builder / "repos/beta"))
    recorded["status"] = "creating"
    state_file.write_text(json.dumps(recorded))
    result = builders("new", "x", "--repos", "alpha,beta")
    assert result.code == 0, result.err
    assert git.run(builder / "repos/beta", "branch", "--show-current").strip() == "builder/x"
    assert json.loads(state_file.read_text())["status"] == "ready"


def test_parallel_repos_all_created(tmp_path: Path, builders: Builders, root: Path) -> None:
    # more repos than one thread would take; every one made, each under its own lock
    assert builders("new", "many", "--repos", "alpha,beta,gamma").code == 0
    for repo in ("alpha", "beta", "gamma"):
        assert any(w.path == builders_dir(root) / "many/repos" / repo for w in git.worktrees(root / "repos" / repo))


def test_lock_held_by_another_run(root: Path, builders: Builders, unchanged: Unchanged) -> None:
    import fcntl

    lock = root / ".git/builders/locks/x.lock"
    lock.parent.mkdir(parents=True)
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with unchanged():
            result = builders("new", "x", "--repos", "alpha")
    assert result.code == 1
    assert "another run holds builder 'x'" in result.err


@pytest.mark.parametrize("where", ["builder", "nested"])
def test_path_prints_the_builder(root: Path, builders: Builders, where: str) -> None:
    assert builders("new", "x", "--repos", "alpha").code == 0
    builder = builders_dir(root) / "x"
    cwd = builder if where == "builder" else builder / "repos/alpha"
    result = builders("path", "x", cwd=cwd)
    assert result.out.strip() == str(builder)


def test_rerun_after_a_crash_keeps_what_the_crashed_run_made(root: Path, builders: Builders) -> None:
    """The re-run names fewer repos than the crashed run: the one it already made stays recorded."""
    assert builders("new", "x", "--repos", "alpha,beta").code == 0
    state_file = root / ".git/builders/state/x.json"
    recorded = json.loads(state_file.read_text())
    recorded["status"] = "creating"
    state_file.write_text(json.dumps(recorded))
    assert builders("new", "x", "--repos", "alpha").code == 0
    after = json.loads(state_file.read_text())
    assert after["status"] == "ready"
    assert [r["name"] for r in after["repos"]] == ["alpha", "beta"]
    assert json.loads(builders("verify", "--json", "x").out)["ok"]


@pytest.mark.quick
def test_every_taken_branch_is_named_in_one_error_with_a_hint_that_works(
    root: Path, builders: Builders, unchanged: Unchanged
) -> None:
    assert builders("new", "x", "--repos", "alpha,beta").code == 0
    shutil.rmtree(builders_dir(root) / "x")  # deleted by hand, then pruned: its branches stay
    assert builders("prune").code == 0
    with unchanged():
        refused = builders("new", "x", "--repos", "alpha,beta,gamma")
    assert refused.code == 1 and refused.out == ""
    alpha, beta = root / "repos/alpha", root / "repos/beta"
    assert (
        f"error: branch builder/x already exists in 3 repositories: root ({root}), alpha ({alpha}), beta ({beta})\n"
        in refused.err
    )
    assert refused.err.count("error:") == 1
    hint = refused.err.split("hint: pick another builder name, or delete the leftover branches if they hold nothing: ")
    assert len(hint) == 2
    done = subprocess.run(hint[1].strip(), shell=True, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    made = builders("new", "x", "--repos", "alpha,beta,gamma")
    assert made.code == 0, made.err
