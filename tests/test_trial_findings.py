"""What a newcomer's hunt found: work hidden in ignored folders, self-referencing YAML, bases git
refuses outright, the hints for a stopped removal and a builder folder swapped for a symlink."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import Builders, Unchanged, builders_dir, commit
from workspace_builders.gitlayer import git, links


def test_remove_refuses_a_worktree_or_repository_in_an_ignored_folder(
    root: Path, builders: Builders, unchanged: Unchanged
) -> None:
    assert builders("new", "s", "--repos", "alpha").code == 0
    builder = builders_dir(root) / "s"
    (root / "repos/alpha/.git/info").mkdir(exist_ok=True)
    (root / "repos/alpha/.git/info/exclude").write_text(".cache/\n")
    hidden = builder / "repos/alpha/.cache/gwt"
    git.run(root / "repos/gamma", "worktree", "add", "-q", "-b", "side", str(hidden))
    (hidden / "README.md").write_text("uncommitted work\n")
    (root / ".git/info").mkdir(exist_ok=True)
    (root / ".git/info/exclude").write_text("scratch/\n")
    embedded = builder / "scratch/repo"
    git.run(builder, "init", "-q", str(embedded))
    (embedded / "only.txt").write_text("only copy\n")
    commit(embedded, "the only commit")
    for force in ([], ["--force"]):
        with unchanged():
            result = builders("remove", "s", *force)
        assert result.code == 1, result.err
        assert "a git repository or worktree inside the worktree" in result.err
        assert ".cache/gwt" in result.err and "scratch/repo" in result.err
    assert (hidden / "README.md").read_text() == "uncommitted work\n"


def test_a_self_referencing_yaml_alias_is_bad_input(root: Path, builders: Builders, unchanged: Unchanged) -> None:
    (root / "workspaces.local.yaml").write_text("builders: &a {dir: *a}\n")
    with unchanged():
        result = builders("new", "q", "--dry-run")
    assert result.code == 2, result.err
    assert "workspaces.local.yaml:1: a YAML alias of a mapping or list" in result.err
    assert "hint: write the value out in full in workspaces.local.yaml" in result.err


def test_a_base_git_refuses_outright_is_bad_input(root: Path, builders: Builders, unchanged: Unchanged) -> None:
    with unchanged():
        result = builders("new", "u", "--base", "HEAD@{5}")
    assert result.code == 2, result.err
    assert "error: root: base 'HEAD@{5}' cannot be resolved in" in result.err
    assert "hint: check it with: git -C" in result.err


def test_verify_names_a_stopped_removal_with_remove_as_the_fix(root: Path, builders: Builders) -> None:
    assert builders("new", "r", "--repos", "alpha").code == 0
    state_file = root / ".git/builders/state/r.json"
    recorded = json.loads(state_file.read_text())
    state_file.write_text(json.dumps({**recorded, "status": "removing"}))
    checked = json.loads(builders("verify", "r", "--json").out)
    (row,) = [c for c in checked["checks"] if c["check"] == "state: status"]
    assert not row["ok"] and row["hint"].startswith("builders remove r")


def test_verify_fails_a_builder_folder_swapped_for_a_symlink(root: Path, builders: Builders) -> None:
    assert builders("new", "b").code == 0
    builder = builders_dir(root) / "b"
    moved = root.parent / "moved-b"
    builder.rename(moved)
    builder.symlink_to(moved)
    checked = builders("verify", "b")
    assert checked.code == 1
    assert "layout: a folder, not a symlink" in checked.out and "FAIL" in checked.out


def _stillborn(clone: Path, target: Path) -> Path:
    """What `git worktree add --lock --reason <ours>` leaves when killed in its first moments: its
    admin dir with the lock and gitdir written, commondir created but still empty, and the new
    folder's .git file (git writes them in that order)."""
    admin = clone / ".git/worktrees" / target.name
    admin.mkdir(parents=True)
    (admin / "locked").write_text(f"{git.CREATING_MARK}\n")
    (admin / "gitdir").write_text(f"{target / '.git'}\n")
    (admin / "commondir").write_text("")
    target.mkdir(parents=True)
    (target / ".git").write_text(f"gitdir: {admin}\n")
    return admin


def test_a_worktree_add_killed_at_its_start_no_longer_blocks_init_or_prune(root: Path, builders: Builders) -> None:
    assert builders("new", "k", "--repos", "alpha").code == 0
    builder = builders_dir(root) / "k"
    admin = _stillborn(root / "repos/beta", builder / "repos/beta")
    assert git.attempt(root / "repos/beta", "worktree", "list").returncode != 0  # git itself is stuck on it
    done = builders("init", "--builder", "k", "--repos", "beta")
    assert done.code == 0, done.err
    assert not admin.exists() or (admin / "commondir").stat().st_size > 0
    assert builders("verify", "k").code == 0
    admin = _stillborn(root / "repos/gamma", root.parent / "elsewhere" / "gamma")
    pruned = builders("prune")
    assert pruned.code == 0, pruned.err
    assert "the remains of a killed git worktree add" in pruned.out and not admin.exists()
    assert git.attempt(root / "repos/gamma", "worktree", "list").returncode == 0


def test_commits_only_the_head_reflog_reaches_are_refused_then_archived(
    root: Path, builders: Builders, unchanged: Unchanged
) -> None:
    assert builders("new", "g", "--repos", "alpha").code == 0
    nested = builders_dir(root) / "g/repos/alpha"
    git.run(nested, "checkout", "--quiet", "--detach")
    (nested / "detached.txt").write_text("made on a detached HEAD\n")
    left = commit(nested, "detached work")
    git.run(nested, "checkout", "--quiet", "builder/g")  # the commit is now reachable from the reflog only
    with unchanged():
        refused = builders("remove", "g")
    assert refused.code == 1
    assert "commit tip(s) only the HEAD reflog reaches" in refused.err
    forced = builders("remove", "g", "--force")
    assert forced.code == 0, forced.err
    refs = git.run(root / "repos/alpha", "for-each-ref", "--format=%(refname)", "refs/builders/archive/g/").split()
    assert any(git.is_ancestor(root / "repos/alpha", left, ref) for ref in refs)


def test_did_you_mean_ignores_case(root: Path, builders: Builders, unchanged: Unchanged) -> None:
    with unchanged():
        result = builders("new", "x", "--repos", "ALPHA")
    assert result.code == 2 and "did you mean 'alpha'?" in result.err


def test_a_branch_prefix_that_spells_a_ref_is_refused(root: Path, builders: Builders, unchanged: Unchanged) -> None:
    (root / "workspaces.local.yaml").write_text('builders:\n  branch_prefix: "refs/heads/"\n')
    with unchanged():
        result = builders("new", "z1", "--dry-run")
    assert result.code == 2
    assert "branch_prefix" in result.err and "not of a ref" in result.err


def test_verify_of_a_builder_moved_by_hand_says_how_to_link_it_again(root: Path, builders: Builders) -> None:
    assert builders("new", "m").code == 0
    moved = root.parent / "moved-m"
    (builders_dir(root) / "m").rename(moved)
    checked = json.loads(builders("verify", "m", "--json").out)
    (row,) = [c for c in checked["checks"] if c["check"] == "link: not prunable"]
    assert not row["ok"] and row["hint"].startswith(f"if you moved the folder, link it again first: git -C {root}")
    git.run(root, "worktree", "repair", str(moved))  # the hint, with the new path
    assert not [w for w in git.worktrees(root) if w.prunable]


def test_a_finished_worktree_left_marked_and_its_branch_locked_is_taken_up(root: Path, builders: Builders) -> None:
    """What a run killed just after git finished the builder's worktree, while a git it started still
    held the branch's ref lock, leaves: the worktree whole but still marked, a stale `<branch>.lock`."""
    assert builders("new", "k").code == 0
    builder = builders_dir(root) / "k"
    git.run(root, "worktree", "lock", "--reason", git.CREATING_MARK, str(builder))
    (root / ".git/refs/heads/builder/k.lock").write_text("")
    state_file = root / ".git/builders/state/k.json"
    state_file.write_text(json.dumps({**json.loads(state_file.read_text()), "status": "creating"}))
    assert builders("verify", "k").code == 1
    again = builders("new", "k")
    assert again.code == 0, again.err
    assert builders("verify", "k").code == 0
    removed = builders("remove", "k")
    assert removed.code == 0, removed.err
    assert git.run(root, "branch", "--list", "builder/k").strip() == ""  # deleted: the lock no longer stops it


def test_a_folder_with_only_the_empty_dot_git_a_killed_git_left_is_taken_up(root: Path, builders: Builders) -> None:
    assert builders("new", "j", "--repos", "alpha").code == 0
    target = builders_dir(root) / "j/repos/beta"
    admin = _stillborn(root / "repos/beta", target)
    (target / ".git").write_text("")  # git had created the file, not yet written its line
    done = builders("init", "--builder", "j", "--repos", "beta")
    assert done.code == 0, done.err
    assert links.link_of(target, root / "repos/beta/.git").finished and not (admin / "locked").exists()
    assert builders("verify", "j").code == 0


def test_an_unfinished_worktree_whose_folder_git_never_made_is_taken_up(root: Path, builders: Builders) -> None:
    assert builders("new", "f", "--repos", "alpha").code == 0
    target = builders_dir(root) / "f/repos/beta"
    git.run(root / "repos/beta", "worktree", "add", "-q", "--lock", "--reason", git.CREATING_MARK, str(target))
    shutil.rmtree(target)  # registered and marked, with no folder: git was killed before it made it
    done = builders("init", "--builder", "f", "--repos", "beta")
    assert done.code == 0, done.err
    assert builders("verify", "f").code == 0
    assert not [w for w in git.worktrees(root / "repos/beta") if w.unfinished or w.prunable]
