"""Small input rough edges: a trailing `/`, misspelt names, a prefix-less builder named like a base,
`--repos all` with repos that cannot be used, and which file a failing setup script came from."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import Builders, Unchanged, builders_dir, commit
from workspace_builders.gitlayer import git


def test_a_trailing_slash_from_tab_completion_is_accepted(root: Path, builders: Builders) -> None:
    made = builders("new", "x", "--repos", "alpha/,beta/:main")
    assert made.code == 0, made.err
    builder = builders_dir(root) / "x"
    assert (builder / "repos/alpha/.git").is_file() and (builder / "repos/beta/.git").is_file()
    added = builders("init", "--repos", "gamma/", cwd=builder)
    assert added.code == 0, added.err
    assert (builder / "repos/gamma/.git").is_file()


def test_an_unknown_repo_suggests_the_closest(root: Path, builders: Builders, unchanged: Unchanged) -> None:
    with unchanged():
        result = builders("new", "x", "--repos", "alpah")
    assert result.code == 2
    assert "error: unknown repo: alpah" in result.err
    assert "hint: did you mean 'alpha'? known repos" in result.err
    with unchanged():
        result = builders("new", "x", "--repos", "alpah,bta")
    assert result.code == 2 and "hint: did you mean 'alpha' for 'alpah', 'beta' for 'bta'?" in result.err
    with unchanged():
        result = builders("new", "x", "--repos", "zzz")
    assert result.code == 2 and "did you mean" not in result.err and "hint: known repos" in result.err


def test_init_repos_suggests_the_closest(root: Path, builders: Builders, unchanged: Unchanged) -> None:
    assert builders("new", "slack", "--repos", "alpha").code == 0
    with unchanged():
        result = builders("init", "--repos", "gamm", cwd=builders_dir(root) / "slack")
    assert result.code == 2
    assert "error: unknown repo: gamm" in result.err and "hint: did you mean 'gamma'?" in result.err


@pytest.mark.parametrize(
    ("args", "code", "hint"),
    [
        (["remove", "slak"], 2, "hint: did you mean 'slack'? builders remove slack"),
        (["path", "slak"], 2, "hint: did you mean 'slack'? builders path slack"),
        (["verify", "slak"], 2, "hint: did you mean 'slack'? builders verify slack"),
        (["init", "--builder", "slak"], 2, "hint: did you mean 'slack'? builders init --builder slack"),
        # the switches typed stay in it: pasted, it does what was asked, not a removal for real
        (["remove", "slak", "--dry-run"], 2, "hint: did you mean 'slack'? builders remove slack --dry-run\n"),
        (
            ["land", "slak", "--squash", "-m", "what it did", "--push"],
            2,
            "hint: did you mean 'slack'? builders land slack --squash -m 'what it did' --push\n",
        ),
        (
            ["init", "--builder", "slak", "--repos", "alpha"],
            2,
            "hint: did you mean 'slack'? builders init --builder slack --repos alpha\n",
        ),
        (["status", "slak", "--json"], 2, "hint: did you mean 'slack'? builders status slack --json\n"),
    ],
)
def test_an_unknown_builder_suggests_the_closest(
    root: Path, builders: Builders, unchanged: Unchanged, args: list[str], code: int, hint: str
) -> None:
    assert builders("new", "slack", "--repos", "alpha").code == 0
    with unchanged():
        result = builders(*args)
    assert result.code == code
    assert "error: no builder" in result.err and "slak" in result.err
    assert hint in result.err


def test_an_unknown_builder_through_a_template_is_suggested_by_its_name_alone(
    root: Path, builders: Builders, unchanged: Unchanged, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert builders("new", "slack", "--repos", "alpha").code == 0
    monkeypatch.setenv("BUILDERS_VIA", "make")  # `make builder-remove NAME=slak`: no command line to repeat
    with unchanged():
        result = builders("remove", "slak", "--dry-run")
    assert result.code == 2 and "hint: did you mean 'slack'? builders remove slack\n" in result.err


@pytest.mark.parametrize(
    "args", [["status", "slack"], ["sync", "slack"], ["land", "slack"], ["exec", "slack", "--", "true"]]
)
def test_a_builder_whose_folder_was_deleted_is_named_as_such(
    root: Path, builders: Builders, unchanged: Unchanged, args: list[str]
) -> None:
    assert builders("new", "slack", "--repos", "alpha").code == 0
    shutil.rmtree(builders_dir(root) / "slack")
    with unchanged():
        result = builders(*args)
    assert result.code == 2
    assert f"error: builder 'slack' has no folder: {builders_dir(root) / 'slack'} is gone" in result.err
    assert "did you mean" not in result.err and result.err.endswith(": builders prune\n")
    assert builders("prune").code == 0  # the hint, as printed
    assert builders("restore", "slack").code == 0 and builders(*args).code == 0


def test_no_prefix_never_suggests_deleting_a_checked_out_or_base_branch(
    root: Path, builders: Builders, unchanged: Unchanged
) -> None:
    (root / "workspaces.yaml").write_text('builders:\n  branch_prefix: ""\n')
    commit(root)
    git.run(root, "branch", "dev")
    for args in (["new", "main"], ["new", "dev", "--base", "dev"], ["add", "main"]):
        with unchanged():
            result = builders(*args)
        assert result.code == 1, args
        assert "already exists in" in result.err
        assert "hint: pick another builder name" in result.err
        assert "branch -d" not in result.err, args
    # a leftover branch that is neither checked out nor the base may still be deleted by hand
    git.run(root, "branch", "leftover")
    result = builders("new", "leftover")
    assert result.code == 1 and f"git -C {root} branch -d leftover" in result.err


def test_repos_all_skips_what_cannot_be_used(root: Path, builders: Builders, unchanged: Unchanged) -> None:
    (root / "repos/empty").mkdir()
    git.run(root / "repos/empty", "init", "-q")
    (root / "workspaces.local.yaml").write_text(
        "repos:\n  alpha:\n  beta:\n  gamma:\n  missing:\n    url: /nowhere\n  empty:\n"
    )
    result = builders("new", "x", "--repos", "all")
    assert result.code == 0, result.err
    assert "skipping missing: declared but not cloned" in result.err
    assert "skipping empty: " in result.err and "has no commits" in result.err
    nested = builders_dir(root) / "x/repos"
    assert sorted(p.name for p in nested.iterdir()) == ["alpha", "beta", "gamma"]
    with unchanged():
        named = builders("new", "y", "--repos", "alpha,missing")
    assert named.code == 2
    assert "error: declared but not cloned into" in named.err and "hint: clone them: builders repos sync" in named.err


def test_setup_failure_names_the_file_it_came_from(root: Path, builders: Builders) -> None:
    (root / "workspaces.yaml").write_text("scripts:\n  setup: 'true'\n")
    commit(root)
    (root / "workspaces.local.yaml").write_text("scripts:\n  setup: 'exit 3'\n")
    result = builders("new", "x")
    assert result.code == 1
    assert "error: setup script failed with exit 3" in result.err
    assert f"hint: fix scripts.setup in {root / 'workspaces.local.yaml'}, then run it again" in result.err
    (root / "workspaces.local.yaml").unlink()
    (root / "workspaces.yaml").write_text("scripts:\n  setup: 'exit 4'\n")
    commit(root)
    result = builders("new", "y")
    assert result.code == 1 and f"hint: fix scripts.setup in {root / 'workspaces.yaml'}," in result.err
