"""No url runs a command: git is always called with `protocol.ext.allow=never`, `repos sync` uses git's
default protocols whatever the user's config says, and urls that would run something or be read as an
option are refused when the config is read."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import Builders, Unchanged, builders_dir
from runs import console, environment
from sample_workspace import make_repo
from workspace_builders.gitlayer import git


def allow_every_protocol() -> None:
    """What a user does to get file:// submodules working: every protocol allowed, ext:: included."""
    home = Path.home()
    with (home / ".gitconfig").open("a", encoding="utf-8") as config:
        config.write('[protocol]\n\tallow = always\n[protocol "ext"]\n\tallow = always\n')


def running_url(marker: Path) -> str:
    return f"ext::sh -c touch% {marker}"


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("ext::sh -c touch% /tmp/x", "uses the ext:: or fd:: transport"),
        ("EXT::sh -c id", "uses the ext:: or fd:: transport"),
        ("fd::3", "uses the ext:: or fd:: transport"),
        ("--upload-pack=touch /tmp/x", "starts with '-', which git would read"),
    ],
)
def test_a_url_that_would_run_something_is_refused_at_load(
    root: Path, builders: Builders, unchanged: Unchanged, url: str, said: str
) -> None:
    (root / "workspaces.local.yaml").write_text(f"repos:\n  delta:\n    url: '{url}'\n")
    with unchanged():
        result = builders("repos", "sync")
    assert result.code == 2
    assert f"workspaces.local.yaml:3: key 'repos.delta.url' {said}" in result.err
    assert "hint: fix or remove 'repos.delta.url'" in result.err
    assert not (root / "repos" / "delta").exists()


def test_a_builders_dir_that_starts_with_a_dash_is_refused(
    root: Path, builders: Builders, unchanged: Unchanged
) -> None:
    (root / "workspaces.local.yaml").write_text("builders:\n  dir: '--x'\n")
    with unchanged():
        result = builders("new", "a")
    assert result.code == 2 and "key 'builders.dir' starts with '-'" in result.err


def test_fetch_of_an_ext_remote_runs_nothing_even_when_the_user_allows_it(
    root: Path, builders: Builders, tmp_path: Path
) -> None:
    allow_every_protocol()
    marker = tmp_path / "ran"
    clone = root / "repos" / "alpha"
    git.run(clone, "remote", "set-url", "origin", running_url(marker))  # the clone's own config, not tracked
    upstream = root.parent / "upstream" / "alpha"
    (root / "workspaces.local.yaml").write_text(f"repos:\n  alpha:\n    url: '{upstream}'\n")
    before = git.run(clone, "rev-parse", "HEAD")
    result = builders("repos", "sync", "--fetch")
    assert result.code == 1 and "alpha: FAILED" in result.err
    assert "transport 'ext' not allowed" in result.err
    assert not marker.exists()
    assert git.run(clone, "rev-parse", "HEAD") == before


def test_a_submodule_with_an_ext_url_runs_nothing_even_when_the_user_allows_it(
    root: Path, builders: Builders, tmp_path: Path
) -> None:
    allow_every_protocol()
    marker = tmp_path / "ran"
    clone = root / "repos" / "alpha"
    inner = tmp_path / "inner"
    make_repo(inner, 1, "inner")
    # A tracked .gitmodules whose url runs a command, and its gitlink: as a clone of someone's repo has it.
    sha = git.run(inner, "rev-parse", "HEAD").strip()
    git.run(clone, "update-index", "--add", "--cacheinfo", f"160000,{sha},inner")
    (clone / "inner").mkdir()  # not checked out here, as after a plain clone
    (clone / ".gitmodules").write_text(f'[submodule "inner"]\n\tpath = inner\n\turl = {running_url(marker)}\n')
    git.run(clone, "add", ".gitmodules")
    git.run(clone, "commit", "--quiet", "-m", "a submodule whose url runs a command")
    git.run(clone, "update-ref", "refs/remotes/origin/main", "HEAD")  # as if pushed and fetched: the base
    result = builders("new", "s", "--repos", "alpha")
    assert result.code == 1, result.err
    assert "transport 'ext' not allowed" in result.err and "rolled back: the workspace is as it was" in result.err
    assert not marker.exists()
    assert not (builders_dir(root) / "s").exists()
    assert git.run(clone, "branch", "--list", "builder/s") == ""


def test_every_git_call_forbids_ext_and_sync_forces_the_default_protocols(root: Path, tmp_path: Path) -> None:
    """A `git` on PATH that logs its arguments: each call a run makes starts with the ext:: ban, and
    the clone and fetch of `repos sync` also set git's default protocols over the user's."""
    log, wrapper = tmp_path / "calls.log", tmp_path / "logging-bin"
    wrapper.mkdir()
    (wrapper / "git").write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{shutil.which("git")}" "$@"\n')
    (wrapper / "git").chmod(0o755)
    upstream = root.parent / "upstream"
    (root / "workspaces.local.yaml").write_text(
        f"repos:\n  alpha:\n    url: '{upstream / 'alpha'}'\n  delta:\n    url: '{upstream / 'beta'}'\n"
    )
    env = environment(path_first=wrapper)
    for command in (["new", "p", "--repos", "alpha"], ["status", "p"], ["repos", "sync", "--fetch"], ["remove", "p"]):
        done = console(root, *command, env=env)
        assert done.returncode == 0, (command, done.stderr)
    calls = log.read_text().splitlines()
    assert len(calls) > 20
    assert [c for c in calls if not c.startswith("-c protocol.ext.allow=never ")] == []
    transfers = [c for c in calls if " clone " in c or " fetch " in c]
    assert any(" clone " in c for c in transfers) and any(" fetch " in c for c in transfers)
    for call in transfers:
        assert "-c protocol.allow=user " in call and "-c protocol.file.allow=user " in call, call
