"""`builders prune`: stale entries, vanished builders, and orphans moved to the trash only with proof."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from conftest import Builders, Unchanged, builders_dir
from workspace_builders.gitlayer import git


def make(builders: Builders, name: str, repos: str = "alpha") -> None:
    assert builders("new", name, "--repos", repos).code == 0


def test_builder_deleted_by_hand(root: Path, builders: Builders) -> None:
    make(builders, "x", "alpha,beta")
    shutil.rmtree(builders_dir(root) / "x")
    dry = builders("prune", "--dry-run")
    assert dry.code == 0 and "would be closed: x" in dry.out
    assert (root / ".git/builders/state/x.json").exists()
    result = builders("prune", "--json")
    document = json.loads(result.out)
    assert document["closed"] and len(document["pruned"]) >= 3
    assert not (root / ".git/builders/state/x.json").exists()
    for repo in (root, root / "repos/alpha", root / "repos/beta"):
        assert len(git.worktrees(repo)) == 1  # no prunable admin entries left
        assert "builder/x" in git.run(repo, "branch", "--list", "builder/x")  # branches are kept


def test_orphan_with_state_proof_goes_to_the_trash_with_its_work(root: Path, builders: Builders) -> None:
    make(builders, "x", "alpha")
    builder = builders_dir(root) / "x"
    (builder / "repos/alpha/work.txt").write_text("uncommitted\n")
    shutil.rmtree(root / ".git/worktrees/x")  # the root's admin entry is gone: an orphan
    result = builders("prune")
    assert result.code == 0, result.err
    assert "trashed:" in result.out and "a state file records it" in result.out
    assert not builder.exists()
    (trashed,) = (builders_dir(root) / ".trash").iterdir()
    assert (trashed / "repos/alpha/work.txt").read_text() == "uncommitted\n"
    # the nested worktree was repaired in place: still a working checkout, not pruned
    assert git.run(trashed / "repos/alpha", "status", "--porcelain").strip() == "?? work.txt"
    assert any(w.path == trashed / "repos/alpha" for w in git.worktrees(root / "repos/alpha"))


def test_folder_without_proof_is_left_alone(root: Path, builders: Builders, unchanged: Unchanged) -> None:
    make(builders, "x")
    stranger = builders_dir(root) / "stranger"
    stranger.mkdir()
    (stranger / "file").write_text("mine\n")
    fake = builders_dir(root) / "fake"
    fake.mkdir()
    (fake / ".git").write_text(f"gitdir: {root}/.git/worktrees/nothing-here\n")
    with unchanged():
        result = builders("prune")
    assert result.code == 0
    assert f"left alone: {stranger}" in result.out and f"left alone: {fake}" in result.out


def test_locked_entries_are_not_pruned(root: Path, builders: Builders) -> None:
    make(builders, "x")
    builder = builders_dir(root) / "x"
    git.run(root, "worktree", "lock", str(builder))
    os.rename(builder, builders_dir(root) / "moved-away")
    builders("prune")
    assert any(w.path == builder for w in git.worktrees(root))


def test_empty_trash_only_old_and_only_ours(root: Path, builders: Builders) -> None:
    trash = builders_dir(root) / ".trash"
    trash.mkdir(parents=True)
    old, recent, foreign = trash / "a-20200101T000000Z", trash / "b-29990101T000000Z", trash / "user-notes"
    for folder in (old, recent, foreign):
        folder.mkdir()
    result = builders("prune", "--empty-trash", "--older-than", "7d")
    assert result.code == 0, result.err
    assert not old.exists() and recent.exists() and foreign.exists()


def test_bad_age(builders: Builders, unchanged: Unchanged) -> None:
    with unchanged():
        assert builders("prune", "--empty-trash", "--older-than", "soon").code == 2
        assert builders("prune", "--older-than", "7d").code == 2


def test_a_repository_where_git_fails_is_named_and_the_others_are_pruned(root: Path, builders: Builders) -> None:
    make(builders, "x", "alpha,beta")
    shutil.rmtree(builders_dir(root) / "x")
    beta = root / "repos/beta"
    with (beta / ".git/config").open("a") as config:
        config.write("[broken\n")  # every git command in beta now fails
    result = builders("prune")
    assert result.code == 1
    assert f"error: {beta}: git -C {beta} worktree prune" in result.err
    assert f"hint: fix what git says (git -C {beta} worktree prune --verbose), then run again: builders prune" in (
        result.err
    )
    for repo in (root, root / "repos/alpha"):
        assert len(git.worktrees(repo)) == 1  # the loop went on
