"""`builders list`: one row per builder with repos, dirty and ahead/behind; --fast; --removed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import Builders, builders_dir, commit
from workspace_builders import git


def rows(builders: Builders, *flags: str) -> dict[str, dict[str, object]]:
    result = builders("list", "--json", *flags)
    assert result.code == 0, result.err
    return {row["name"]: row for row in json.loads(result.out)}


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
    (record,) = json.loads(result.out)
    assert record["name"] == "a" and "refs/builders/archive/a/" in record["archive_refs"]["alpha"]
    assert "refs/builders/archive/a/" in builders("list", "--removed").out
