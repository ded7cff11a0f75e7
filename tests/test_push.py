"""`builders push`: a repository without the remote is skipped with a note; `--repos` picks some."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import Builders, Unchanged, builders_dir, commit
from workspace_builders.gitlayer import git


def bare_origin(root: Path, name: str) -> Path:
    bare = root.parent / "bare" / f"{name}.git"
    git.run(root.parent, "clone", "--quiet", "--bare", str(root.parent / "upstream" / name), str(bare))
    git.run(root / "repos" / name, "remote", "set-url", "origin", str(bare))
    return bare


def branch_at(repo: Path, branch: str = "builder/s") -> str | None:
    ref = f"refs/heads/{branch}"
    return git.resolve_commits(repo, [ref])[ref]


@pytest.fixture
def made(root: Path, builders: Builders) -> Path:
    """Builder `s` with alpha and beta, a commit in each and one in the builder itself (the root has no origin)."""
    assert builders("new", "s", "--repos", "alpha,beta").code == 0
    path = builders_dir(root) / "s"
    for where in (path, path / "repos/alpha", path / "repos/beta"):
        (where / "work.txt").write_text("work\n")
        commit(where, "work")
    return path


@pytest.mark.quick
def test_a_repository_without_origin_is_skipped_with_a_note(root: Path, builders: Builders, made: Path) -> None:
    alpha, beta = bare_origin(root, "alpha"), bare_origin(root, "beta")
    done = builders("push", "s")
    assert done.code == 0, done.err
    assert f"note: root: skipped, {root} has no remote 'origin' (add one: git -C {root} remote add origin URL)" in (
        done.err
    )
    assert "error:" not in done.err
    assert "alpha: pushed builder/s (1 commit(s)) to origin" in done.out and "root:" not in done.out
    assert branch_at(alpha) == git.run(made / "repos/alpha", "rev-parse", "HEAD").strip()
    assert branch_at(beta) == git.run(made / "repos/beta", "rev-parse", "HEAD").strip()
    as_json = builders("push", "s", "--json", "--dry-run")
    rows = {r["repo"]: r for r in json.loads(as_json.out)["repos"]}
    assert rows["root"]["skipped"] == "no remote 'origin'" and rows["root"]["error"] is None
    assert rows["alpha"]["skipped"] is None


def test_push_repos_pushes_only_those_named(root: Path, builders: Builders, made: Path) -> None:
    alpha, beta = bare_origin(root, "alpha"), bare_origin(root, "beta")
    done = builders("push", "s", "--repos", "beta")
    assert done.code == 0, done.err
    assert branch_at(alpha) is None
    assert branch_at(beta) == git.run(made / "repos/beta", "rev-parse", "HEAD").strip()
    assert "note: root" not in done.err  # not asked for: not mentioned


def test_push_repos_naming_no_worktree_of_the_builder_is_bad_input(
    root: Path, builders: Builders, made: Path, unchanged: Unchanged
) -> None:
    bare_origin(root, "alpha")
    with unchanged():
        done = builders("push", "s", "--repos", "alpah,gamma")
    assert done.code == 2 and done.out == ""
    assert "error: not in builder s: alpah, gamma" in done.err
    assert "hint: did you mean 'alpha' for 'alpah'" in done.err and "its worktrees: root, alpha, beta" in done.err
