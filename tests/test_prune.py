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


def test_a_removal_stopped_after_its_worktrees_went_is_left_to_remove(root: Path, builders: Builders) -> None:
    """A `remove --force` killed once its worktrees are gone leaves its state `removing` and its
    record incomplete. prune must not close it as a builder deleted by hand: that wrote a second
    record (branches "kept" that the removal had deleted, no archive), which `restore` then took,
    and left the first one incomplete forever. verify names it with the command that completes it."""
    from runs import console

    make(builders, "x", "alpha")
    alpha = builders_dir(root) / "x/repos/alpha"
    (alpha / "README.md").write_text("archived edit\n")
    killed = console(root, "remove", "x", "--force", fault="remove:worktrees")
    assert killed.returncode < 0, killed.stderr
    verified = builders("verify")
    assert verified.code == 1 and "builders remove x" in verified.out, verified.out
    pruned = builders("prune")
    assert pruned.code == 0, pruned.err
    assert "closed" not in pruned.out, pruned.out
    assert json.loads((root / ".git/builders/state/x.json").read_text())["status"] == "removing"
    done = builders("remove", "x", "--force")
    assert done.code == 0, done.err
    records = [json.loads(p.read_text()) for p in (root / ".git/builders/removed").glob("x.*.json")]
    assert len(records) == 1 and records[0]["complete"] is True, records
    assert builders("verify").code == 0
    restored = builders("restore", "x")
    assert restored.code == 0, restored.err
    assert (alpha / "README.md").read_text() == "archived edit\n"


def test_a_prune_stopped_between_trashing_and_repairing_loses_no_worktree_link(root: Path, builders: Builders) -> None:
    """prune moves an orphan to the trash, then repairs its nested worktrees' links. Stopped in
    between, the next prune must repair them before its `git worktree prune`, which would otherwise
    delete their admin entries: each one's index (a staged file) and HEAD (a detached commit, then
    reachable from nothing)."""
    from runs import console

    make(builders, "x", "alpha,beta")
    builder = builders_dir(root) / "x"
    alpha, beta = builder / "repos/alpha", builder / "repos/beta"
    git.run(alpha, "checkout", "--quiet", "--detach")
    (alpha / "d.txt").write_text("detached work\n")
    git.run(alpha, "add", "d.txt")
    git.run(alpha, "commit", "--quiet", "-m", "detached work")
    detached = git.run(alpha, "rev-parse", "HEAD").strip()
    (beta / "s.txt").write_text("staged only\n")
    git.run(beta, "add", "s.txt")
    shutil.rmtree(root / ".git/worktrees/x")  # the root's admin entry is gone: an orphan
    killed = console(root, "prune", fault="prune:trashed")
    assert killed.returncode < 0, killed.stderr
    again = builders("prune")
    assert again.code == 0, again.out + again.err
    (trashed,) = (builders_dir(root) / ".trash").iterdir()
    for repo, nested in ((root / "repos/alpha", "alpha"), (root / "repos/beta", "beta")):
        listed = [w.path for w in git.worktrees(repo)]
        assert trashed / "repos" / nested in listed, (repo, listed, again.out)
    assert git.run(trashed / "repos/alpha", "rev-parse", "HEAD").strip() == detached
    assert "s.txt" in git.run(trashed / "repos/beta", "diff", "--cached", "--name-only")
