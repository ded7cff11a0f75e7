"""The base checkout's move under the configs and states real checkouts have: what git's status does
not show (skip-worktree, assume-unchanged, files a sparse checkout expects outside its patterns) is
looked at before anything moves, and a landing that would lose it is refused with nothing changed."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from conftest import Builders, commit, edit, edit_behind_a_lagging_monitor
from runs import console
from workspace_builders.gitlayer import git

REPOS = ("alpha", "beta")
MODULE = "src/pkg01/module00001.py"


def tip(repo: Path) -> str:
    return git.run(repo, "rev-parse", "--verify", "refs/heads/main").strip()


def hide(clone: Path, how: str) -> None:
    """`MODULE` hidden from the clone's `git status`, then edited (or, sparse, written) by its user."""
    if "sparse" in how:
        if how.startswith("non-cone"):
            git.run(clone, "sparse-checkout", "set", "--no-cone", "/docs/")
        else:
            git.run(clone, "sparse-checkout", "set", "--cone", *(["--sparse-index"] if "index" in how else []), "docs")
        git.run(clone, "config", "sparse.expectFilesOutsideOfPatterns", "true")
        assert not (clone / MODULE).exists()
    else:
        git.run(clone, "update-index", f"--{how}", "--", MODULE)
    edit(clone / MODULE, "my own version, never committed\n")
    assert git.run(clone, "status", "--porcelain") == ""  # what the user's git shows


HOW = [
    "skip-worktree",
    "assume-unchanged",
    "sparse, files expected outside",
    "sparse index, files expected outside",
    "non-cone sparse, files expected outside",
]


@pytest.mark.parametrize("landing", ["changes", "deletes"])
@pytest.mark.parametrize("how", HOW)
def test_a_hidden_edit_of_a_file_the_landing_changes_refuses_before_anything_moves(
    root: Path, made: Path, builders: Builders, how: str, landing: str
) -> None:
    work = made / "repos/beta"
    if landing == "changes":
        edit(work / MODULE, "VALUE = 'landed'\n")
    else:
        git.run(work, "rm", "-q", "--", MODULE)
    commit(work, f"beta {landing} the module")
    beta = root / "repos/beta"
    hide(beta, how)
    before = {n: tip(root / "repos" / n) for n in REPOS}
    done = builders("land", "s")
    assert done.code == 1, done.out + done.err
    assert (beta / MODULE).read_text() == "my own version, never committed\n"
    assert f"error: beta: its base main is checked out in {beta} with changes git status does not show" in done.err
    assert f"({MODULE}); nothing landed" in done.err
    assert {n: tip(root / "repos" / n) for n in REPOS} == before  # alpha did not move first
    assert not (root / ".git/builders/landing/s.json").exists()
    shown = done.err.split("hint: ", 1)[1].split("they are: ", 1)[1].split("), ")[0]
    looked = subprocess.run(shown, shell=True, capture_output=True, text=True, check=False)
    assert looked.returncode == 0 and MODULE in looked.stdout, looked.stderr
    unhide = done.err.split("hint: make git look at them (", 1)[1].split("; they are: ")[0]
    assert subprocess.run(unhide, shell=True, check=False).returncode == 0
    assert MODULE in git.run(beta, "status", "--porcelain")  # now git status shows it
    (beta / MODULE).rename(root.parent / "aside.py")
    git.run(beta, "checkout", "--", MODULE)  # sparse: git checks it out again, outside the cone; the landing takes it
    again = builders("land", "s")
    assert again.code == 0, again.err
    assert (root.parent / "aside.py").read_text() == "my own version, never committed\n"
    assert tip(beta) == git.run(work, "rev-parse", "HEAD").strip()


@pytest.mark.parametrize("how", HOW)
def test_a_hidden_file_as_git_wrote_it_is_no_reason_to_refuse(
    root: Path, made: Path, builders: Builders, how: str
) -> None:
    work = made / "repos/beta"
    edit(work / MODULE, "VALUE = 'landed'\n")
    commit(work, "beta changes the module")
    beta = root / "repos/beta"
    original = (beta / MODULE).read_text()
    hide(beta, how)
    edit(beta / MODULE, original)  # as git wrote it (sparse: as git would)
    os.utime(beta / MODULE, (1, 1))  # its stat data unlike the index's, whatever the clock
    done = builders("land", "s")
    if how == "skip-worktree":  # git refuses it (it never refreshes one): before anything moves
        assert done.code == 1, done.out + done.err
        assert f"error: beta: git would not move the files of {beta}" in done.err and "nothing landed" in done.err
        assert not (root / ".git/builders/landing/s.json").exists()
        unflag = done.err.split("git looks at skip-worktree files only once they are plain again: ", 1)[1]
        assert subprocess.run(unflag.split("; ", 1)[0], shell=True, check=False).returncode == 0
        done = builders("land", "s")
    assert done.code == 0, done.err
    assert tip(beta) == git.run(work, "rev-parse", "HEAD").strip()


def test_completing_a_stopped_landing_refuses_a_hidden_file_it_would_delete(
    root: Path, made: Path, builders: Builders
) -> None:
    """A landing stopped while it held the sparse base checkout's index.lock is completed by the next
    run; a file written meanwhile where the checkout expects none (outside its cone) would be deleted
    by the move without a word, as the landing deletes that path."""
    work = made / "repos/beta"
    git.run(work, "rm", "-q", "--", MODULE)
    commit(work, "beta deletes the module")
    beta = root / "repos/beta"
    git.run(beta, "sparse-checkout", "set", "--cone", "docs")
    git.run(beta, "config", "sparse.expectFilesOutsideOfPatterns", "true")
    killed = console(root, "land", "s", fault="land:index-locked:beta")
    assert killed.returncode == -9, killed.stderr
    edit(beta / MODULE, "my own version, never committed\n")
    done = builders("land", "s")
    assert done.code == 1, done.out + done.err
    assert f"error: beta: {beta} has changes that are not the landed files: {MODULE}" in done.err
    assert (beta / MODULE).read_text() == "my own version, never committed\n"
    (beta / MODULE).rename(root.parent / "aside.py")
    again = builders("land", "s")
    assert again.code == 0, again.err
    assert tip(beta) == git.run(work, "rev-parse", "HEAD").strip()
    assert not (beta / ".git/index.lock").exists()


def test_an_edit_a_file_system_monitor_has_not_reported_yet_is_never_written_over(
    root: Path, made: Path, builders: Builders, tmp_path: Path
) -> None:
    """With `core.fsmonitor` (a hook, such as watchman's), git's status and its move of the files trust
    the monitor's word that a file is unchanged; a monitor that has not reported an edit yet (watchman
    settles first) would have the move write over it. The move looks at the files it writes itself."""
    work = made / "repos/beta"
    edit(work / MODULE, "VALUE = 'landed'\n")
    commit(work, "beta changes the module")
    beta = root / "repos/beta"
    edit_behind_a_lagging_monitor(beta, MODULE, "my own version, never committed\n", tmp_path)
    before = {n: tip(root / "repos" / n) for n in REPOS}
    done = builders("land", "s")
    assert done.code == 1, done.out + done.err
    assert f"error: beta: git would not move the files of {beta}" in done.err and MODULE in done.err
    assert "nothing landed" in done.err
    assert (beta / MODULE).read_text() == "my own version, never committed\n"
    assert {n: tip(root / "repos" / n) for n in REPOS} == before


def land_once_or_after_a_stop(root: Path, builders: Builders, stopped: bool, beta: Path, landed: str) -> None:
    """`land s`, or (`stopped`) a run killed once beta's files moved and the run that completes it:
    beta's base at `landed` either way."""
    if stopped:
        killed = console(root, "land", "s", fault="land:files-moved:beta")
        assert killed.returncode == -9, killed.stderr
    done = builders("land", "s")
    assert done.code == 0, done.err
    assert tip(beta) == landed


def convert_checkout(clone: Path, how: str, worktrees: Sequence[Path]) -> None:
    """The clone's files as its user's git writes them: CRLF (core.autocrlf), or through a clean and
    smudge filter (rot13 both ways), every file of each of its `worktrees` checked out again so (the
    config and info/attributes are theirs too)."""
    if how == "core.autocrlf":
        git.run(clone, "config", "core.autocrlf", "true")
    else:
        rot13 = "tr A-Za-z N-ZA-Mn-za-m"
        git.run(clone, "config", "filter.rot.clean", rot13)
        git.run(clone, "config", "filter.rot.smudge", rot13)
        edit(clone / ".git/info/attributes", "*.md filter=rot\n*.py filter=rot\n*.txt filter=rot\n")
    for tree in worktrees:
        for path in git.run(tree, "ls-files", "-z").split("\0"):
            if path:
                (tree / path).unlink()
        git.run(tree, "checkout", "--", ".")
        assert git.run(tree, "status", "--porcelain") == ""


@pytest.mark.parametrize("stopped", [False, True], ids=["whole", "stopped-after-the-files-moved"])
@pytest.mark.parametrize("how", ["core.autocrlf", "a clean and smudge filter"])
def test_a_base_checkout_whose_files_git_converts_lands_and_completes(
    root: Path, made: Path, builders: Builders, how: str, stopped: bool
) -> None:
    """The landed files arrive converted as the checkout's git writes them; a landing stopped once they
    were written is completed by the next run, which knows them for the landed version (compared as
    git stores them)."""
    work = made / "repos/beta"
    edit(work / MODULE, "VALUE = 'landed'\n")
    landed = commit(work, "beta changes the module")
    beta = root / "repos/beta"
    convert_checkout(beta, how, [beta, work])
    land_once_or_after_a_stop(root, builders, stopped, beta, landed)
    expected = {MODULE: "VALUE = 'landed'\n", "new.txt": "beta new\n"}
    for path, text in expected.items():
        on_disk = (beta / path).read_bytes()
        if how == "core.autocrlf":
            assert on_disk == text.replace("\n", "\r\n").encode()
        else:
            assert on_disk == text.translate(str.maketrans(ROT13_FROM, ROT13_TO)).encode()
    assert git.run(beta, "status", "--porcelain", "--untracked-files=all") == ""
    assert not (beta / ".git/index.lock").exists()


ROT13_FROM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ROT13_TO = "NOPQRSTUVWXYZABCDEFGHIJKLMnopqrstuvwxyzabcdefghijklm"


def test_the_move_runs_no_checkout_hook(root: Path, made: Path, builders: Builders, tmp_path: Path) -> None:
    """git's read-tree runs no hook: a post-checkout hook of the base checkout (in core.hooksPath or
    its own hooks folder) is not run by a landing, which writes no file of its own there."""
    marker = tmp_path / "post-checkout-ran"
    hooks = tmp_path / "hooks"
    for folder in (hooks, root / "repos/beta/.git/hooks"):
        edit(folder / "post-checkout", f'#!/bin/sh\necho "$@" >> {marker}\n')
        (folder / "post-checkout").chmod(0o755)
    git.run(root / "repos/alpha", "config", "core.hooksPath", str(hooks))
    done = builders("land", "s")
    assert done.code == 0, done.err
    assert not marker.exists()


@pytest.mark.parametrize("stopped", [False, True], ids=["whole", "stopped-after-the-files-moved"])
@pytest.mark.parametrize("change", ["a file becomes a symlink", "a case-only rename", "a new symlink"])
def test_type_and_case_changes_land(root: Path, made: Path, builders: Builders, change: str, stopped: bool) -> None:
    work = made / "repos/beta"
    if change == "a file becomes a symlink":
        (work / MODULE).unlink()
        (work / MODULE).symlink_to("../pkg00/module00000.py")
    elif change == "a new symlink":
        (work / "link").symlink_to("nowhere")
    else:
        git.run(work, "mv", "README.md", "readme.md")
    landed = commit(work, change)
    beta = root / "repos/beta"
    land_once_or_after_a_stop(root, builders, stopped, beta, landed)
    if change == "a file becomes a symlink":
        assert (beta / MODULE).is_symlink()
    elif change == "a new symlink":
        assert os.readlink(beta / "link") == "nowhere"
    else:
        assert sorted(p.name for p in beta.glob("*.md")) == ["readme.md"]
    assert git.run(beta, "status", "--porcelain", "--untracked-files=all") == ""


@pytest.mark.parametrize("in_the_way", ["ignored file", "folder where a file goes"])
def test_completing_a_stopped_landing_refuses_what_is_in_the_way_of_a_landed_file(
    root: Path, made: Path, builders: Builders, in_the_way: str
) -> None:
    """What a stopped landing found out of its way may be there when the next run completes it: an
    ignored file where a landed one goes (git's move writes over it without a word) is refused as it
    is before anything moves."""
    beta = root / "repos/beta"
    killed = console(root, "land", "s", fault="land:index-locked:beta")
    assert killed.returncode == -9, killed.stderr
    if in_the_way == "ignored file":
        edit(beta / ".git/info/exclude", "new.txt\n")
        mine = beta / "new.txt"
    else:
        mine = beta / "new.txt/keep.txt"
    edit(mine, "mine, never committed\n")
    done = builders("land", "s")
    assert done.code == 1, done.out + done.err
    assert f"error: beta: {beta} has changes that are not the landed files: new.txt" in done.err
    assert mine.read_text() == "mine, never committed\n"
    shown = done.err.split("hint: commit, stash or move them out of the way (they are: ", 1)[1].split(")")[0]
    looked = subprocess.run(shown, shell=True, capture_output=True, text=True, check=False)
    assert looked.returncode == 0 and "new.txt" in looked.stdout, looked.stderr
    shutil.move(beta / "new.txt", root.parent / "aside")
    again = builders("land", "s")
    assert again.code == 0, again.err
    assert (beta / "new.txt").read_text() == "beta new\n"
    assert tip(beta) == git.run(made / "repos/beta", "rev-parse", "HEAD").strip()


@pytest.mark.parametrize("stopped", [False, True], ids=["whole", "stopped-after-the-files-moved"])
@pytest.mark.parametrize(
    "config", [("core.splitIndex", "true"), ("feature.manyFiles", "true"), ("core.untrackedCache", "true")]
)
def test_a_base_checkout_with_index_configs_lands_and_keeps_what_is_not_landed(
    root: Path, made: Path, builders: Builders, config: tuple[str, str], stopped: bool
) -> None:
    """A split index (its shared part beside the index), index v4 with the untracked cache: the move's
    copies of the index (tried, then moved) read them; an untracked file the landing does not touch
    stays, one where it brings a file refuses."""
    beta = root / "repos/beta"
    git.run(beta, "config", *config)
    git.run(beta, "update-index", "--refresh")  # the user's git writes the index so
    git.run(beta, "status", "--porcelain")
    edit(beta / "notes.txt", "mine, untracked\n")
    edit(beta / "new.txt", "mine, where a file lands\n")
    refused = builders("land", "s")
    assert refused.code == 1 and "(new.txt); nothing landed" in refused.err, refused.err
    (beta / "new.txt").unlink()
    if stopped:
        killed = console(root, "land", "s", fault="land:files-moved:beta")
        assert killed.returncode == -9, killed.stderr
    done = builders("land", "s")
    assert done.code == 0, done.err
    assert tip(beta) == git.run(made / "repos/beta", "rev-parse", "HEAD").strip()
    assert (beta / "new.txt").read_text() == "beta new\n"
    assert (beta / "notes.txt").read_text() == "mine, untracked\n"
    assert git.run(beta, "status", "--porcelain", "--untracked-files=all") == "?? notes.txt\n"


def test_a_required_filter_that_fails_mid_move_is_said_and_the_rerun_completes(
    root: Path, made: Path, builders: Builders
) -> None:
    """A `filter.<driver>.required` whose program fails (git-lfs not on the PATH the run has) stops git
    half-way through writing the checkout's files, after the trial (which writes nothing) passed:
    the error says why, and once the filter works the next run completes the landing."""
    work = made / "repos/beta"
    edit(work / MODULE, "VALUE = 'landed'\n")
    landed = commit(work, "beta changes the module")
    beta = root / "repos/beta"
    git.run(beta, "config", "filter.lfs-like.smudge", "false")
    git.run(beta, "config", "filter.lfs-like.clean", "cat")
    git.run(beta, "config", "filter.lfs-like.required", "true")
    edit(beta / ".git/info/attributes", "new.txt filter=lfs-like\n")
    done = builders("land", "s")
    assert done.code == 1, done.out + done.err
    assert "new.txt: smudge filter lfs-like failed" in done.err, done.err
    assert "the landing is partial" in done.err
    git.run(beta, "config", "filter.lfs-like.smudge", "cat")
    again = builders("land", "s")
    assert again.code == 0, again.err
    assert tip(beta) == landed
    assert (beta / "new.txt").read_text() == "beta new\n" and (beta / MODULE).read_text() == "VALUE = 'landed'\n"
    assert git.run(beta, "status", "--porcelain", "--untracked-files=all") == ""


@pytest.mark.parametrize("command", [("sync", "s"), ("sync", "s", "--merge"), ("land", "s")])
def test_an_ignored_file_in_the_builder_where_the_base_brings_one_refuses_before_anything_moves(
    root: Path, made: Path, builders: Builders, command: tuple[str, ...]
) -> None:
    """git's rebase and merge overwrite an ignored file without a word where the commits they bring
    add a tracked file of that name (a user's core.excludesFile, info/exclude or .gitignore hides a
    local settings file; the base starts tracking a default of it). The builder's file is work:
    sync and land refuse, name it, and move nothing."""
    clone = root / "repos/alpha"
    (clone / ".git/info").mkdir(exist_ok=True)
    (clone / ".git/info/exclude").write_text("*.cfg\n")
    mine = made / "repos/alpha/local.cfg"
    mine.write_text("my own settings, never committed\n")
    (clone / "local.cfg").write_text("the project's default\n")
    git.run(clone, "add", "-f", "local.cfg")
    commit(clone, "track a default local.cfg")
    before = git.run(made / "repos/alpha", "rev-parse", "HEAD").strip()
    result = builders(*command)
    assert result.code == 1, result.out + result.err
    assert "local.cfg" in result.err, result.err
    assert mine.read_text() == "my own settings, never committed\n"
    assert git.run(made / "repos/alpha", "rev-parse", "HEAD").strip() == before
