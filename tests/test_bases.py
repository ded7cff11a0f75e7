"""One base rule for creation, `list` and `status`: the local branch origin/HEAD names, else the
current branch; the local branch is what `land` moves, so everything agrees after an unpushed land."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Builders, Unchanged, builders_dir, commit
from workspace_builders.gitlayer import git


def tip(repo: Path, ref: str = "HEAD") -> str:
    return git.run(repo, "rev-parse", ref).strip()


def state_of(root: Path, name: str) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((root / f".git/builders/state/{name}.json").read_text())
    return loaded


@pytest.mark.quick
def test_after_an_unpushed_land_the_next_builder_starts_from_the_local_branch(root: Path, builders: Builders) -> None:
    assert builders("new", "first", "--repos", "alpha").code == 0
    worktree = builders_dir(root) / "first/repos/alpha"
    (worktree / "landed.txt").write_text("landed\n")
    landed = commit(worktree, "work to land")
    result = builders("land", "first")
    assert result.code == 0, result.err
    clone = root / "repos/alpha"
    assert tip(clone, "main") == landed and tip(clone, "origin/main") != landed  # landed, not pushed
    # list and status count the landed builder against the same tip: nothing ahead, nothing behind
    listed = builders("list", "--json")
    assert listed.code == 0, listed.err
    (row,) = json.loads(listed.out)["builders"]
    assert (row["ahead"], row["behind"]) == (0, 0)
    status = builders("status", "first", "--json")
    assert status.code == 0
    worktrees = json.loads(status.out)["worktrees"]
    assert [(w["ahead"], w["behind"]) for w in worktrees] == [(0, 0), (0, 0)]
    assert worktrees[1]["upstream"] == {"ref": "origin/main", "track": "ahead 1"}  # how main stands to its remote
    assert "main [origin/main: ahead 1]" in builders("status", "first").out
    # and the note says the local branch is ahead of its remote
    assert "note: alpha: main is 1 commit(s) ahead of origin/main" in listed.err
    made = builders("new", "second", "--repos", "alpha")
    assert made.code == 0, made.err
    second = builders_dir(root) / "second/repos/alpha"
    assert tip(second) == landed and (second / "landed.txt").read_text() == "landed\n"
    assert "repos/alpha on builder/second from main" in made.err
    assert "note: main is 1 commit(s) ahead of origin/main" in made.err
    recorded = state_of(root, "second")
    assert recorded["base_ref"] == "refs/heads/main"
    assert [r["base_ref"] for r in recorded["repos"]] == ["refs/heads/main"]  # type: ignore[attr-defined]


def test_the_base_is_origin_heads_local_branch_even_when_the_clone_is_elsewhere(root: Path, builders: Builders) -> None:
    clone = root / "repos/beta"
    main = tip(clone, "main")
    git.run(clone, "switch", "-q", "-c", "feature")
    (clone / "feature.txt").write_text("feature\n")
    commit(clone, "feature work")
    (clone / "README.md").write_text("uncommitted edit\n")  # dirt on another branch: cannot affect the base
    made = builders("new", "x", "--repos", "beta")
    assert made.code == 0, made.err
    assert tip(builders_dir(root) / "x/repos/beta") == main
    assert f"note: beta: {clone} has uncommitted changes (README.md); they stay there" in made.err
    assert (clone / "README.md").read_text() == "uncommitted edit\n"


def test_without_origin_the_base_is_the_current_branch(root: Path, builders: Builders) -> None:
    git.run(root, "switch", "-q", "-c", "topic")
    (root / "topic.txt").write_text("topic\n")
    topic = commit(root, "topic")
    clone = root / "repos/gamma"
    git.run(clone, "remote", "remove", "origin")
    git.run(clone, "switch", "-q", "-c", "dev")
    (clone / "dev.txt").write_text("dev\n")
    dev = commit(clone, "dev")
    made = builders("new", "x", "--repos", "gamma")
    assert made.code == 0, made.err
    assert tip(builders_dir(root) / "x") == topic and tip(builders_dir(root) / "x/repos/gamma") == dev
    recorded = state_of(root, "x")
    assert recorded["base_ref"] == "refs/heads/topic"
    assert [r["base_ref"] for r in recorded["repos"]] == ["refs/heads/dev"]  # type: ignore[attr-defined]


def test_a_dirty_root_on_a_branch_does_not_block_new(root: Path, builders: Builders) -> None:
    (root / "README.md").write_text("edited\n")
    made = builders("new", "x")
    assert made.code == 0, made.err
    assert f"note: root: {root} has uncommitted changes (README.md); they stay there" in made.err
    assert (builders_dir(root) / "x/README.md").read_text() == "# A sample workspace root\n"
    assert (root / "README.md").read_text() == "edited\n"


@pytest.mark.quick
@pytest.mark.parametrize(("via", "spelled"), [(None, "--repos beta:HEAD"), ("make", "REPOS=beta:HEAD")])
def test_a_dirty_detached_clone_is_refused_in_the_words_of_the_interface(
    root: Path, builders: Builders, unchanged: Unchanged, monkeypatch: pytest.MonkeyPatch, via: str | None, spelled: str
) -> None:
    clone = root / "repos/beta"
    git.run(clone, "remote", "remove", "origin")  # no origin/HEAD: the detached HEAD is all there is
    git.run(clone, "switch", "-q", "--detach")
    (clone / "README.md").write_text("edited\n")
    if via:
        monkeypatch.setenv("BUILDERS_VIA", via)
    with unchanged():
        refused = builders("new", "x", "--repos", "alpha,beta")
    assert refused.code == 1
    assert f"error: beta: {clone} has uncommitted changes (README.md), a detached HEAD and no base was given" in (
        refused.err
    )
    assert f"hint: commit or stash them, or choose the base explicitly ({spelled})" in refused.err
    assert builders("new", "x", "--repos", "alpha,beta:HEAD").code == 0
    assert (builders_dir(root) / "x/repos/beta/README.md").read_text() == "# beta\n"


def test_list_notes_a_base_branch_behind_its_remote(root: Path, tmp_path: Path, builders: Builders) -> None:
    assert builders("new", "x", "--repos", "alpha").code == 0
    upstream = tmp_path / "upstream/alpha"
    (upstream / "more.txt").write_text("more\n")
    commit(upstream, "upstream moved on")
    git.run(root / "repos/alpha", "fetch", "-q")
    listed = builders("list")
    assert listed.code == 0, listed.err
    assert "note: alpha: main is 1 commit(s) behind origin/main" in listed.err
    assert "+0/-0" in listed.out  # counted against the local main, which has not moved


@pytest.mark.parametrize(("via", "called", "spelled"), [(None, "--repos", "--repos {}"), ("task", "REPOS", "REPOS={}")])
def test_a_bad_repos_value_is_named_as_it_was_given(
    builders: Builders,
    unchanged: Unchanged,
    monkeypatch: pytest.MonkeyPatch,
    via: str | None,
    called: str,
    spelled: str,
) -> None:
    if via:
        monkeypatch.setenv("BUILDERS_VIA", via)
    with unchanged():
        alone = builders("new", "x", "--repos", "all,alpha")
        invalid = builders("new", "x", "--repos", "../alpha")
        twice = builders("new", "x", "--repos", "alpha,alpha")
        nothing = builders("new", "x", "--repos", " , ")
    assert alone.code == invalid.code == twice.code == nothing.code == 2
    assert f"error: ',' in {called} names no repo" in nothing.err
    assert f"hint: name them: {spelled.format('alpha,beta')}; or leave it out for the default repos" in nothing.err
    assert f"error: 'all' stands alone in {called}" in alone.err
    assert f"hint: use {spelled.format('all')}, or list the repos by name" in alone.err
    assert f"error: invalid repo '../alpha' in {called}:" in invalid.err
    assert f"e.g. {spelled.format('ai-dev,k8s-lab:origin/main')}" in invalid.err
    assert f"error: repo 'alpha' is listed twice in {called}" in twice.err


@pytest.mark.parametrize("tool", ["make", "task"])
def test_the_templates_hint_in_their_own_words(root: Path, unchanged: Unchanged, tool: str) -> None:
    bin_dir = Path(sys.executable).parent
    if shutil.which(tool, path=f"{bin_dir}:/usr/bin:/bin") is None:
        pytest.skip(f"{tool} not installed")
    clone = root / "repos/beta"
    git.run(clone, "remote", "remove", "origin")
    git.run(clone, "switch", "-q", "--detach")
    (clone / "README.md").write_text("edited\n")
    env = {k: v for k, v in os.environ.items() if k not in {"NAME", "REPOS", "BUILDERS_VIA", "MAKEFLAGS"}}
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    command = ["make", "builder-new"] if tool == "make" else ["task", "builder:new"]
    with unchanged():
        done = subprocess.run(
            [*command, "NAME=x", "REPOS=beta"], cwd=root, env=env, capture_output=True, text=True, check=False
        )
    assert done.returncode != 0
    assert "hint: commit or stash them, or choose the base explicitly (REPOS=beta:HEAD)" in done.stderr


def test_a_builder_made_by_plain_git_worktree_add_gets_the_same_base(root: Path, builders: Builders) -> None:
    assert builders("hooks", "install").code == 0
    target = builders_dir(root) / "plain"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}  # the hook runs builders
    done = subprocess.run(
        ["git", "worktree", "add", "-q", "-b", "builder/plain", str(target)], cwd=root, env=env, check=False
    )
    assert done.returncode == 0
    assert state_of(root, "plain")["base_ref"] == "refs/heads/main"
    status = builders("status", "plain", "--json")
    assert status.code == 0 and json.loads(status.out)["worktrees"][0]["base"] == "main"
