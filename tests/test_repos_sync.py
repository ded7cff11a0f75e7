"""`builders repos sync`: clone declared repos in parallel; a failure leaves no partial folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import Builders, Unchanged, commit
from sample_workspace import make_repo
from workspace_builders.gitlayer import git


def declare(root: Path, repos: dict[str, str | None]) -> None:
    lines = ["repos:"]
    for name, url in repos.items():
        lines.append(f"  {name}:" + (f"\n    url: '{url}'" if url else " {}"))
    (root / "workspaces.local.yaml").write_text("\n".join(lines) + "\n")  # ignored: the root stays clean


def upstream(root: Path, name: str) -> Path:
    path = root.parent / "upstream" / name
    if not path.exists():
        make_repo(path, 2, name)
    return path


def test_sync_clones_missing_ones_and_goes_on_past_a_bad_url(root: Path, builders: Builders) -> None:
    declare(
        root,
        {
            "alpha": str(upstream(root, "alpha")),
            "delta": str(upstream(root, "delta")),
            "epsilon": str(upstream(root, "epsilon")),
            "broken": str(root.parent / "no-such-upstream"),
        },
    )
    result = builders("repos", "sync", "--jobs", "2")
    assert result.code == 1
    assert "  alpha: present" in result.err
    assert f"  delta: cloned from {upstream(root, 'delta')}" in result.err
    assert f"  broken: FAILED: git clone {root.parent / 'no-such-upstream'} failed: fatal:" in result.err
    assert "error: 1 of 4 repo(s) failed: broken" in result.err
    for name in ("delta", "epsilon"):
        assert git.run(root / "repos" / name, "rev-parse", "HEAD") == git.run(upstream(root, name), "rev-parse", "HEAD")
    assert sorted(p.name for p in (root / "repos").iterdir()) == ["alpha", "beta", "delta", "epsilon", "gamma"]
    # the new clones are usable at once
    assert builders("new", "b", "--repos", "delta").code == 0


def test_sync_fetch_updates_existing_clones(root: Path, builders: Builders) -> None:
    source = upstream(root, "alpha")
    declare(root, {"alpha": str(source)})
    (source / "new.txt").write_text("new\n")
    newest = commit(source, "newer")
    assert builders("repos", "sync").code == 0
    assert git.run(root / "repos/alpha", "rev-parse", "origin/main").strip() != newest
    result = builders("repos", "sync", "--fetch")
    assert result.code == 0 and "  alpha: fetched" in result.err
    assert git.run(root / "repos/alpha", "rev-parse", "origin/main").strip() == newest


def test_sync_json_and_a_folder_in_the_way(root: Path, builders: Builders) -> None:
    in_the_way = root / "repos" / "delta"
    in_the_way.mkdir()
    (in_the_way / "notes.txt").write_text("mine\n")
    declare(root, {"delta": str(upstream(root, "delta")), "nourl": None})
    result = builders("repos", "sync", "--json")
    assert result.code == 1
    document = json.loads(result.out)
    rows = {row["name"]: row for row in document["repos"]}
    assert document["ok"] is False
    assert rows["delta"]["action"] == "failed" and "is not a git repository" in rows["delta"]["error"]
    assert rows["nourl"]["action"] == "missing, no url" and rows["nourl"]["error"] is None
    assert (in_the_way / "notes.txt").read_text() == "mine\n"  # never touched


def test_sync_dry_run_and_bad_input_change_nothing(root: Path, builders: Builders, unchanged: Unchanged) -> None:
    declare(root, {"delta": str(upstream(root, "delta"))})
    with unchanged():
        planned = builders("repos", "sync", "--dry-run")
        assert planned.code == 0 and "delta" in planned.out and "clone" in planned.out
        zero = builders("repos", "sync", "--jobs", "0")
        assert zero.code == 2 and "error: --jobs must be 1 or more" in zero.err


def test_sync_refuses_when_repos_is_not_ignored(root: Path, builders: Builders, unchanged: Unchanged) -> None:
    declare(root, {"delta": str(upstream(root, "delta"))})
    gitignore = root / ".gitignore"
    gitignore.write_text(gitignore.read_text().replace("repos/\n", ""))
    with unchanged():
        result = builders("repos", "sync")
    assert result.code == 2 and "repos/ is not ignored" in result.err


def test_sync_creates_repos_folder(tmp_path: Path, root: Path, builders: Builders) -> None:
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    git.run(fresh, "init", "-q")
    (fresh / ".gitignore").write_text("repos/\n")
    declare(fresh, {"delta": str(upstream(root, "delta"))})
    result = builders("repos", "sync", cwd=fresh)
    assert result.code == 0, result.err
    assert (fresh / "repos/delta/.git").is_dir()
    assert not [p for p in (fresh / "repos").iterdir() if p.name.startswith(".")]  # no temporary folders left


@pytest.mark.quick
def test_no_declared_repos_is_a_note_not_an_error(root: Path, builders: Builders, unchanged: Unchanged) -> None:
    # the sample root has clones made by hand and no `repos:` key: that is a supported workspace
    with unchanged():
        result = builders("repos", "sync")
        assert result.code == 0
        assert "note: no repos are declared in workspaces.yaml, so there is nothing to clone" in result.err
        assert "error:" not in result.err
        as_json = builders("repos", "sync", "--json")
        assert as_json.code == 0
        assert json.loads(as_json.out) == {"version": 1, "dry_run": False, "ok": True, "repos": []}
