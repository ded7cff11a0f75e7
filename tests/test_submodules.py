"""Submodules: `new` and `init` check out the submodules of each new worktree that has them (unless
`builders.submodules: false`), say so, and roll them back with the rest."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

from conftest import Builders, builders_dir, commit, edit
from runs import console, start
from sample_workspace import make_repo
from test_landing_windows import Pause
from workspace_builders.gitlayer import git


def with_submodule(root: Path, tmp_path: Path, repo: str = "alpha") -> Path:
    """`repo` gets a file:// submodule `lib` (the test HOME allows the file protocol for submodules)."""
    inner = tmp_path / "upstream-lib"
    make_repo(inner, 2, "lib")
    clone = root / "repos" / repo
    git.run(clone, "submodule", "add", "--quiet", str(inner), "lib")
    head = commit(clone, "add the lib submodule")
    git.run(clone, "update-ref", "refs/remotes/origin/main", head)  # as if pushed and fetched: the base
    return inner


def test_new_checks_out_submodules_and_says_so(root: Path, builders: Builders, tmp_path: Path) -> None:
    inner = with_submodule(root, tmp_path)
    done = builders("new", "s", "--repos", "alpha,beta")
    assert done.code == 0, done.err
    assert "  alpha: submodules updated (git submodule update --init --recursive)" in done.err
    assert "beta: submodules" not in done.err  # beta has none
    lib = builders_dir(root) / "s" / "repos" / "alpha" / "lib"
    assert (lib / "README.md").read_text() == "# lib\n"
    assert git.run(lib, "rev-parse", "HEAD") == git.run(inner, "rev-parse", "HEAD")
    assert builders("verify", "s").code == 0


def test_init_checks_out_submodules_too(root: Path, builders: Builders, tmp_path: Path) -> None:
    with_submodule(root, tmp_path)
    assert builders("new", "i").code == 0
    done = builders("init", "--builder", "i", "--repos", "alpha")
    assert done.code == 0, done.err
    assert "alpha: submodules updated" in done.err
    assert (builders_dir(root) / "i" / "repos/alpha/lib/README.md").is_file()


def test_submodules_can_be_left_out(root: Path, builders: Builders, tmp_path: Path) -> None:
    with_submodule(root, tmp_path)
    (root / "workspaces.local.yaml").write_text("builders:\n  submodules: false\n")
    done = builders("new", "o", "--repos", "alpha")
    assert done.code == 0, done.err
    assert ": submodules " not in done.err
    lib = builders_dir(root) / "o" / "repos/alpha/lib"
    assert lib.is_dir() and list(lib.iterdir()) == []  # git's own default: the folder, empty


def test_a_submodule_that_fails_rolls_back_the_builder(root: Path, builders: Builders, tmp_path: Path) -> None:
    inner = with_submodule(root, tmp_path)
    with_submodule(root, tmp_path / "other", repo="beta")
    moved = tmp_path / "gone"
    inner.rename(moved)  # alpha's submodule cannot be cloned now; beta's can
    clones = {name: git.run(root / "repos" / name, "rev-parse", "HEAD") for name in ("alpha", "beta")}
    done = builders("new", "f", "--repos", "alpha,beta")
    assert done.code == 1, done.err
    assert "alpha: submodules FAILED" in done.err and "rolled back: the workspace is as it was" in done.err
    assert not (builders_dir(root) / "f").exists()
    assert not (root / ".git/builders/state/f.json").exists()
    for name, head in clones.items():
        clone = root / "repos" / name
        assert git.run(clone, "rev-parse", "HEAD") == head  # nothing lost
        assert git.run(clone, "branch", "--list", "builder/f") == ""
        assert [w.path for w in git.worktrees(clone)] == [clone]
        assert not list((clone / ".git" / "worktrees").glob("*"))
    inner_back = moved.rename(inner)
    assert inner_back == inner
    again = builders("new", "f", "--repos", "alpha,beta")
    assert again.code == 0, again.err


def test_a_bad_submodules_value_is_refused(root: Path, builders: Builders) -> None:
    (root / "workspaces.local.yaml").write_text("builders:\n  submodules: 'yes'\n")
    done = builders("new", "b")
    assert done.code == 2
    assert "workspaces.local.yaml:2: key 'builders.submodules' must be true or false, not str" in done.err


def bumped_submodule(root: Path, tmp_path: Path, builders: Builders, known: bool = True) -> tuple[Path, Path]:
    """alpha's submodule `lib` gets a commit bringing `notes.txt`, which builder `s` lands; the clone's
    submodule knows the commit (unless not `known`), and the clone has `submodule.recurse`. (inner, clone)"""
    inner = with_submodule(root, tmp_path)
    assert builders("new", "s", "--repos", "alpha").code == 0
    (inner / "notes.txt").write_text("the lib's notes\n")
    bumped = commit(inner, "lib notes")
    built = builders_dir(root) / "s" / "repos" / "alpha"
    git.run(built / "lib", "fetch", "--quiet", str(inner), "main")
    git.run(built / "lib", "checkout", "--quiet", "--detach", bumped)
    commit(built, "the lib with notes")
    clone = root / "repos" / "alpha"
    if known:
        git.run(clone / "lib", "fetch", "--quiet", str(inner), "main")
    git.run(clone, "config", "submodule.recurse", "true")
    return inner, clone


@pytest.mark.parametrize("ignore", [None, "untracked", "all"])
def test_land_refuses_a_base_checkout_whose_submodule_holds_untracked_files(
    root: Path, builders: Builders, tmp_path: Path, ignore: str | None
) -> None:
    """With `submodule.recurse`, moving the base checkout moves its submodules too, and git writes a
    file the submodule's new commit brings over an untracked one of that name without a word: the
    untracked file in the submodule is someone's work, so the landing is refused, whatever the
    checkout's `submodule.<name>.ignore` hides from its `git status`."""
    _, clone = bumped_submodule(root, tmp_path, builders)
    (clone / "lib" / "notes.txt").write_text("my own notes, never committed\n")
    if ignore:
        git.run(clone, "config", "submodule.lib.ignore", ignore)
    before = git.run(clone, "rev-parse", "HEAD")
    done = builders("land", "s")
    assert done.code == 1, done.out + done.err
    assert "uncommitted changes (lib)" in done.err and "nothing landed" in done.err
    assert "status --ignore-submodules=none" in done.err  # what shows them, whatever the ignore settings
    assert (clone / "lib" / "notes.txt").read_text() == "my own notes, never committed\n"
    assert git.run(clone, "rev-parse", "HEAD") == before


@pytest.mark.parametrize("ignore", [None, "untracked", "all"])
def test_completing_a_stopped_landing_refuses_a_submodule_with_untracked_files(
    root: Path, builders: Builders, tmp_path: Path, ignore: str | None
) -> None:
    """A landing stopped once it held the base checkout's index.lock is completed by the next run; an
    untracked file made in the checkout's submodule meanwhile, where the submodule's new commit brings
    one, would be written over by the move (submodule.recurse) whatever the ignore settings hide."""
    _, clone = bumped_submodule(root, tmp_path, builders)
    if ignore:
        git.run(clone, "config", "submodule.lib.ignore", ignore)
    before = git.run(clone, "rev-parse", "HEAD")
    killed = console(root, "land", "s", fault="land:index-locked:alpha")
    assert killed.returncode == -9, killed.stderr
    (clone / "lib" / "notes.txt").write_text("my own notes, never committed\n")
    done = builders("land", "s")
    assert done.code == 1, done.out + done.err
    assert f"error: alpha: {clone} has changes that are not the landed files: lib" in done.err
    assert f"(they are: git -C {clone} status --ignore-submodules=none --ignored --short -- lib)" in done.err
    assert (clone / "lib" / "notes.txt").read_text() == "my own notes, never committed\n"
    assert git.run(clone, "rev-parse", "HEAD") == before
    (clone / "lib" / "notes.txt").unlink()
    again = builders("land", "s")
    assert again.code == 0, again.err
    assert (clone / "lib" / "notes.txt").read_text() == "the lib's notes\n"
    assert git.run(clone, "status", "--porcelain", "--ignore-submodules=none") == ""


@pytest.mark.parametrize("point", ["files-moved", "ref-moved"])
def test_a_landing_stopped_after_its_move_took_the_submodule_along_completes(
    root: Path, builders: Builders, tmp_path: Path, point: str
) -> None:
    """With submodule.recurse the move checks the submodule out at its landed commit with the rest; a
    stop after that leaves the submodule differing from the (old) index: the landed commit, with no
    change of its own, is the stopped move's doing, and the next run completes the landing."""
    _, clone = bumped_submodule(root, tmp_path, builders)
    killed = console(root, "land", "s", fault=f"land:{point}:alpha")
    assert killed.returncode == -9, killed.stderr
    assert (clone / "lib" / "notes.txt").read_text() == "the lib's notes\n"  # moved before the stop
    done = builders("land", "s")
    assert done.code == 0, done.err
    landed = git.run(builders_dir(root) / "s" / "repos" / "alpha", "rev-parse", "HEAD")
    assert git.run(clone, "rev-parse", "HEAD") == landed
    assert git.run(clone, "status", "--porcelain", "--ignore-submodules=none", "--untracked-files=all") == ""
    assert not (clone / ".git" / "index.lock").exists()


def test_a_submodule_commit_the_base_checkout_lacks_refuses_before_anything_moves(
    root: Path, builders: Builders, tmp_path: Path
) -> None:
    """With submodule.recurse, moving the base checkout checks its submodule out at the landed commit,
    which the checkout's submodule may not have (it was made in the builder's): git would refuse
    half-way through the landing; it is found before the journal is written, and said."""
    inner, clone = bumped_submodule(root, tmp_path, builders, known=False)
    before = git.run(clone, "rev-parse", "HEAD")
    done = builders("land", "s")
    assert done.code == 1, done.out + done.err
    assert f"error: alpha: git would not move the files of {clone}" in done.err and "nothing landed" in done.err
    assert "Submodule 'lib'" in done.err
    assert git.run(clone, "rev-parse", "HEAD") == before
    assert not (root / ".git/builders/landing/s.json").exists()
    assert git.run(clone, "status", "--porcelain", "--ignore-submodules=none") == ""
    git.run(clone / "lib", "fetch", "--quiet", str(inner), "main")
    again = builders("land", "s")
    assert again.code == 0, again.err
    assert (clone / "lib" / "notes.txt").read_text() == "the lib's notes\n"


@pytest.mark.skipif(sys.platform != "linux", reason="process groups and signals as on Linux")
def test_a_power_cut_while_the_move_checks_out_the_submodule_loses_nothing(
    root: Path, builders: Builders, tmp_path: Path
) -> None:
    """The run and every git of it killed while the move writes the submodule's files (as a power cut
    stops them): the next run refuses while the submodule's own index.lock is there (git names it),
    and once it is removed completes the landing."""
    _, clone = bumped_submodule(root, tmp_path, builders)
    pause = Pause(tmp_path)
    script = (
        f'if mkdir "{pause.dir}/taken" 2>/dev/null; then echo $$ > "{pause.dir}/pid"; touch "{pause.dir}/reached"; '
        f'while [ ! -e "{pause.dir}/go" ]; do sleep 0.02; done; fi; cat'
    )
    git.run(clone / "lib", "config", "filter.pause.smudge", f"sh -c '{script}'")
    git.run(clone / "lib", "config", "filter.pause.clean", "cat")
    sub_git = clone / ".git/modules/lib"
    edit(sub_git / "info/attributes", "notes.txt filter=pause\n")
    proc = start(root, "land", "s", env=pause.env(""))
    pause.wait_reached(proc)
    os.killpg(os.getpgid(int((pause.dir / "pid").read_text())), signal.SIGKILL)  # git, its children
    proc.kill()
    proc.communicate(timeout=60)
    lock = sub_git / "index.lock"
    assert lock.exists()
    refused = console(root, "land", "s")
    assert refused.returncode == 1, refused.stderr
    assert f"Unable to create '{lock}'" in refused.stderr
    lock.unlink()
    done = console(root, "land", "s")
    assert done.returncode == 0, done.stderr
    landed = git.run(builders_dir(root) / "s" / "repos" / "alpha", "rev-parse", "HEAD")
    assert git.run(clone, "rev-parse", "HEAD") == landed
    assert (clone / "lib" / "notes.txt").read_text() == "the lib's notes\n"
    assert git.run(clone, "status", "--porcelain", "--ignore-submodules=none", "--untracked-files=all") == ""


@pytest.mark.parametrize("dirt", ["a change of its own", "a commit only in it"])
def test_land_refuses_a_base_checkout_whose_submodule_has_work_of_its_own(
    root: Path, builders: Builders, tmp_path: Path, dirt: str
) -> None:
    """With submodule.recurse the move checks the submodule out at its landed commit: an edit in it,
    or a commit made in it that no branch of it holds, is refused before anything moves, whatever
    `submodule.<name>.ignore` hides."""
    _, clone = bumped_submodule(root, tmp_path, builders)
    git.run(clone, "config", "submodule.lib.ignore", "all")
    lib = clone / "lib"
    edit(lib / "README.md", "# lib, my own edit\n")
    mine = None if dirt == "a change of its own" else commit(lib, "my own lib commit")
    before = git.run(clone, "rev-parse", "HEAD")
    done = builders("land", "s")
    assert done.code == 1, done.out + done.err
    assert "uncommitted changes (lib)" in done.err and "nothing landed" in done.err
    assert git.run(clone, "rev-parse", "HEAD") == before
    assert not (root / ".git/builders/landing/s.json").exists()
    assert (lib / "README.md").read_text() == "# lib, my own edit\n"
    if mine:
        assert git.run(lib, "rev-parse", "HEAD").strip() == mine


@pytest.mark.parametrize("ignore", [None, "untracked", "all"])
@pytest.mark.parametrize("command", ["sync", "land"])
def test_a_builder_whose_submodule_holds_untracked_files_is_not_brought_up_over_them(
    root: Path, builders: Builders, tmp_path: Path, ignore: str | None, command: str
) -> None:
    """With `submodule.recurse`, the rebase that brings a builder's worktree up to its base moves its
    submodules too, and git writes a file the base's submodule commit brings over an untracked one of
    that name: the run refuses before it, whatever `submodule.<name>.ignore` hides from git status."""
    inner = with_submodule(root, tmp_path)
    assert builders("new", "s", "--repos", "alpha").code == 0
    built = builders_dir(root) / "s" / "repos" / "alpha"
    edit(built / "work.txt", "the builder's work\n")
    commit(built, "the builder's work")
    (inner / "notes.txt").write_text("the lib's notes\n")
    bumped = commit(inner, "lib notes")
    clone = root / "repos" / "alpha"
    git.run(clone / "lib", "fetch", "--quiet", str(inner), "main")
    git.run(clone / "lib", "checkout", "--quiet", "--detach", bumped)
    commit(clone, "the base bumps the lib")
    git.run(built / "lib", "fetch", "--quiet", str(inner), "main")  # the builder's submodule knows it
    (built / "lib" / "notes.txt").write_text("my own notes, never committed\n")
    git.run(clone, "config", "submodule.recurse", "true")
    if ignore:
        git.run(clone, "config", "submodule.lib.ignore", ignore)
    tip = git.run(built, "rev-parse", "HEAD")
    done = builders(command, "s")
    assert done.code == 1, done.out + done.err
    assert "uncommitted or untracked: lib" in done.err and "nothing was changed" in done.err
    assert "status --ignore-submodules=none" in done.err  # what shows it, whatever the ignore settings
    assert (built / "lib" / "notes.txt").read_text() == "my own notes, never committed\n"
    assert git.run(built, "rev-parse", "HEAD") == tip
