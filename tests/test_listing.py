"""`builders list`: one row per builder with repos, dirty and ahead/behind; --fast; --removed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import Builders, Unchanged, builders_dir, commit
from workspace_builders.gitlayer import git


def rows(builders: Builders, *flags: str) -> dict[str, dict[str, object]]:
    result = builders("list", "--json", *flags)
    assert result.code == 0, result.err
    return {row["name"]: row for row in json.loads(result.out)["builders"]}


@pytest.mark.quick
def test_rows_show_repos_dirty_and_ahead(root: Path, builders: Builders) -> None:
    assert builders("new", "a", "--repos", "alpha,beta").code == 0
    assert builders("new", "b").code == 0
    (builders_dir(root) / "a/repos/beta/x.txt").write_text("x")
    (builders_dir(root) / "a/repos/alpha/feature.txt").write_text("f")
    commit(builders_dir(root) / "a/repos/alpha", "one ahead")
    found = rows(builders)
    assert found["a"]["repos"] == ["alpha", "beta"]
    assert found["a"]["dirty"] == 1 and found["a"]["ahead"] == 1 and found["a"]["behind"] == 0
    assert found["b"]["repos"] == [] and found["b"]["dirty"] == 0 and found["b"]["status"] == "ready"
    # the root moves on: builder b is one behind its base
    (root / "NEWS").write_text("n")
    commit(root)
    assert rows(builders)["b"]["behind"] == 1
    table = builders("list").out
    assert "alpha,beta" in table and "+1/-1" in table  # a: one ahead in alpha, one behind in the root


def test_list_and_status_count_untracked_files_the_users_config_hides(root: Path, builders: Builders) -> None:
    """`status.showUntrackedFiles=no` hides new files from `git status`; list and status still count
    them, so a builder holding nothing but new files is never shown as clean."""
    git.run(root, "config", "--global", "status.showUntrackedFiles", "no")
    assert builders("new", "a", "--repos", "alpha").code == 0
    alpha = builders_dir(root) / "a/repos/alpha"
    (alpha / "new.txt").write_text("only here\n")
    assert git.run(alpha, "status", "--porcelain") == ""  # what the user's own status shows
    assert rows(builders)["a"]["dirty"] == 1
    status = json.loads(builders("status", "a", "--json").out)
    assert {w["label"]: w["untracked"] for w in status["worktrees"]} == {"root": [], "alpha": ["new.txt"]}


def test_fast_skips_status(root: Path, builders: Builders) -> None:
    assert builders("new", "a", "--repos", "alpha").code == 0
    (builders_dir(root) / "a/new.txt").write_text("x")
    row = rows(builders, "--fast")["a"]
    assert row["dirty"] is None and row["repos"] == ["alpha"]


def test_nested_layout_and_vanished_builders_are_flagged(root: Path, builders: Builders) -> None:
    git.run(root, "worktree", "add", "-q", "-b", "old", str(root / ".builders/old"))
    assert builders("new", "gone").code == 0
    shutil.rmtree(builders_dir(root) / "gone")
    found = rows(builders)
    assert str(found["old"]["status"]).startswith("nested")
    assert str(found["gone"]["status"]).startswith("missing")


def test_removed(root: Path, builders: Builders) -> None:
    assert builders("new", "a", "--repos", "alpha").code == 0
    (builders_dir(root) / "a/repos/alpha/wip.txt").write_text("w")
    assert builders("remove", "a", "--force").code == 0
    result = builders("list", "--removed", "--json")
    (record,) = json.loads(result.out)["removed"]
    assert record["name"] == "a" and "refs/builders/archive/a/" in record["archive_refs"]["alpha"]
    assert "refs/builders/archive/a/" in builders("list", "--removed", "a").out


@pytest.mark.quick
def test_removed_rows_are_narrow_and_take_a_name_and_last(
    root: Path, builders: Builders, unchanged: Unchanged
) -> None:
    for name in ("a", "b", "c"):
        assert builders("new", name, "--repos", "alpha").code == 0
        (builders_dir(root) / name / "repos/alpha/wip.txt").write_text("w")
        assert builders("remove", name, "--force").code == 0
    # removal times set apart (a run this fast may remove all three in one second), not in name order
    for record, day in zip(sorted((root / ".git/builders/removed").glob("*.json")), ("03", "01", "02"), strict=True):
        document = json.loads(record.read_text())
        record.write_text(json.dumps({**document, "removed_at": f"2026-01-{day}T00:00:00Z"}))
    every = builders("list", "--removed")
    assert every.code == 0
    lines = every.out.splitlines()
    assert lines[0].split() == ["name", "removed", "archived", "branches", "kept"]
    assert [line.split()[0] for line in lines[1:]] == ["b", "c", "a"]  # oldest first
    assert all(len(line) < 80 for line in lines) and "refs/builders" not in every.out
    assert lines[1].split()[2] == "alpha"  # the worktrees archived, by name
    last = builders("list", "--removed", "--last", "2", "--json")
    assert [r["name"] for r in json.loads(last.out)["removed"]] == ["c", "a"]
    named = builders("list", "--removed", "a")
    assert named.code == 0 and [line.split()[0] for line in named.out.splitlines()[1:]] == ["a"]
    assert "refs/builders/archive/a/" in named.out  # in full
    with unchanged():
        unknown = builders("list", "--removed", "bb")
        assert unknown.code == 2 and "error: no removal of a builder named 'bb' is recorded" in unknown.err
        assert "hint: did you mean 'b'? builders list --removed b" in unknown.err
        alone = builders("list", "a")
        assert alone.code == 2 and "error: NAME goes with --removed" in alone.err
        assert "hint: builders list --removed a" in alone.err
        negative = builders("list", "--removed", "--last", "-1")
        assert negative.code == 2 and "error: --last must be 0 or more, not -1" in negative.err


def break_index(worktree: Path) -> None:
    """A truncated index: `git status` fails there (real breakage, no mock)."""
    index = git.run(worktree, "rev-parse", "--path-format=absolute", "--git-path", "index").strip()
    Path(index).write_bytes(b"garbage")


def test_a_status_git_cannot_read_is_unknown_not_clean(root: Path, builders: Builders) -> None:
    assert builders("new", "a", "--repos", "alpha,beta").code == 0
    assert builders("new", "b", "--repos", "alpha").code == 0
    break_index(builders_dir(root) / "a/repos/alpha")
    result = builders("list", "--json")
    assert result.code == 1
    found = {row["name"]: row for row in json.loads(result.out)["builders"]}
    assert found["a"]["dirty"] is None and found["a"]["ahead"] is None and found["a"]["behind"] is None
    assert found["b"]["dirty"] == 0 and found["b"]["ahead"] == 0  # the others are still measured
    alpha = builders_dir(root) / "a/repos/alpha"
    assert f"error: builder a, worktree alpha ({alpha}): git -C {alpha} status" in result.err
    assert f"hint: look at it: git -C {alpha} status" in result.err
    table = builders("list")
    assert table.code == 1 and "error: builder a, worktree alpha" in table.err
    line_a = next(line.split() for line in table.out.splitlines() if line.startswith("a "))
    assert line_a[3:5] == ["alpha?", "?"]  # dirty, ahead/behind: unknown, never "no"


def test_a_repository_git_cannot_read_is_named(root: Path, builders: Builders) -> None:
    assert builders("new", "a", "--repos", "alpha,beta").code == 0
    with (root / "repos/beta/.git/config").open("a") as config:
        config.write("[broken\n")
    result = builders("list", "--json")
    assert result.code == 1
    assert json.loads(result.out)["builders"][0]["name"] == "a"  # the rest is still listed
    assert f"error: {root / 'repos/beta'}: its worktrees are left out" in result.err
    assert f"hint: look at it: git -C {root / 'repos/beta'} worktree list" in result.err


@pytest.mark.parametrize("pruned", [False, True], ids=["folder deleted", "then pruned by git"])
def test_a_repo_worktree_deleted_by_hand_is_unknown_never_clean_and_made_again_on_its_branch(
    root: Path, builders: Builders, pruned: bool
) -> None:
    assert builders("new", "rmx", "--repos", "alpha,beta").code == 0
    beta = builders_dir(root) / "rmx/repos/beta"
    (beta / "work.txt").write_text("to land\n")
    commit(beta, "beta work, not landed")
    shutil.rmtree(beta)
    if pruned:
        git.run(root / "repos/beta", "worktree", "prune")
    listed = builders("list", "--json")
    assert listed.code == 1
    row = json.loads(listed.out)["builders"][0]
    assert row["dirty"] is None and row["ahead"] is None  # what it held is unknown, not "clean"
    assert row["status"] == "broken: repos/beta gone (run: builders verify rmx)"
    assert f"error: builder rmx: its worktree of beta ({beta}) is gone" in listed.err
    assert "hint: look at it: builders verify rmx" in listed.err
    table = builders("list")
    assert table.code == 1 and "beta?" in table.out and "ready" not in table.out
    fast = builders("list", "--fast")
    assert fast.code == 1 and "broken: repos/beta gone" in fast.out
    status = builders("status", "rmx")
    assert status.code == 1 and "hint: see what is wrong and its fix: builders verify rmx" in status.err
    if pruned:  # verify's fix, as printed, brings it back on its branch with its commit
        verified = builders("verify", "rmx")
        assert verified.code == 1 and "builders init --builder rmx --repos beta" in verified.out
        again = builders("init", "--builder", "rmx", "--repos", "beta")
        assert again.code == 0, again.err
        assert git.run(beta, "log", "-1", "--format=%s").strip() == "beta work, not landed"
        assert (beta / "work.txt").read_text() == "to land\n"
        relisted = builders("list", "--json")
        assert relisted.code == 0 and json.loads(relisted.out)["builders"][0]["ahead"] == 1
