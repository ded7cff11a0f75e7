"""`remove --force` killed while its `git worktree remove` runs: the removal record, written before
anything was deleted, names every archive; `list --removed` shows it and `restore` completes the
removal and brings every byte back."""

from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path

import pytest

from conftest import Builders, builders_dir, commit
from runs import console, environment, kill_group_of, signal_run, start, wait_for
from test_removal_judge import files_of
from workspace_builders.gitlayer import git

# Runs the real git, except that the `git worktree remove` of the path in PAUSE_AT first says so
# (its pid in the READY file) and then waits on a fifo no one ever writes: the run is killed right
# there, and so is that git, which runs in a process group of its own.
PAUSING_GIT = """#!/bin/sh
for last in "$@"; do :; done
case "$*" in
  *"worktree remove"*) if [ "$last" = "$PAUSE_AT" ]; then echo $$ > "$READY"; cat "$FIFO" > /dev/null; fi ;;
esac
exec "$REAL_GIT" "$@"
"""


def test_remove_force_killed_in_git_worktree_remove_is_found_and_restored(
    root: Path, builders: Builders, tmp_path: Path
) -> None:
    assert builders("new", "x", "--repos", "alpha,beta").code == 0
    builder = builders_dir(root) / "x"
    alpha = builder / "repos/alpha"
    (alpha / "README.md").write_bytes(b"edited, not committed\r\n")
    (alpha / "notes.txt").write_text("untracked in alpha\n")
    (builder / "root-notes.txt").write_text("untracked in the builder\n")
    before = {"root": files_of(builder), "alpha": files_of(alpha), "beta": files_of(builder / "repos/beta")}

    wrapper = tmp_path / "pausing-git"
    wrapper.mkdir()
    (wrapper / "git").write_text(PAUSING_GIT)
    (wrapper / "git").chmod(0o755)
    fifo, ready = tmp_path / "hold", tmp_path / "ready"
    os.mkfifo(fifo)
    env = {
        **environment(path_first=wrapper),
        "REAL_GIT": str(shutil.which("git")),
        "PAUSE_AT": str(builder),  # the builder's own worktree: its nested ones are gone by then
        "FIFO": str(fifo),
        "READY": str(ready),
    }
    run = start(root, "remove", "x", "--force", env=env, output=False)
    try:
        wait_for(ready, run, written=True)  # the git worktree remove of the builder is paused
    finally:
        signal_run(run, signal.SIGKILL, group=True)
        run.wait()
        if ready.exists() and ready.read_text().strip():
            # a SIGKILL reaches no child: the paused git would live on, holding what it holds
            kill_group_of(int(ready.read_text()))

    assert builder.is_dir() and not alpha.exists()  # killed half-way: the nested worktrees are gone
    listed = json.loads(builders("list", "--removed", "--json").out)["removed"]
    (record,) = [r for r in listed if r["name"] == "x"]
    assert record["complete"] is False
    assert set(record["archive_refs"]) == {"root", "alpha"}
    for label, repo in (("root", root), ("alpha", root / "repos/alpha")):
        ref = record["archive_refs"][label].rpartition(" ")[2]
        assert git.resolve_commits(repo, [ref])[ref] is not None

    restored = builders("restore", "x")
    assert restored.code == 0, restored.err
    assert "completing the removal of x that was stopped" in restored.err
    after = {"root": files_of(builder), "alpha": files_of(alpha), "beta": files_of(builder / "repos/beta")}
    assert after == before
    assert builders("verify", "x").code == 0


@pytest.mark.parametrize("point", ["restore:made:root", "restore:made:alpha", "restore:applied:alpha"])
def test_a_restore_killed_half_way_is_completed_by_running_it_again(root: Path, builders: Builders, point: str) -> None:
    (root / "workspaces.yaml").write_text('copy: [".env.local"]\nfiles:\n  .builder-name: "{name}"\n')
    with (root / ".gitignore").open("a") as ignore:
        ignore.write(".env.local\n.builder-name\n")
    commit(root, "copy-in and a per-builder file")
    (root / ".env.local").write_text("SECRET=1\n")
    assert builders("new", "x", "--repos", "alpha,beta").code == 0
    builder = builders_dir(root) / "x"
    assert (builder / ".env.local").read_text() == "SECRET=1\n"
    alpha = builder / "repos/alpha"
    (alpha / "README.md").write_bytes(b"edited\r\n")
    (alpha / "notes.txt").write_text("untracked\n")
    before = files_of(alpha)
    assert builders("remove", "x", "--force").code == 0

    killed = console(root, "restore", "x", fault=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    done = builders("restore", "x")
    assert done.code == 0, done.err
    assert files_of(alpha) == before
    assert (builder / ".env.local").read_text() == "SECRET=1\n"  # copied in again
    assert (builder / ".builder-name").read_text() == "x"  # files: written again
    assert not (root / ".git/builders/restoring/x.json").exists()
    assert builders("verify", "x").code == 0


@pytest.mark.parametrize("command", [("new", "x", "--repos", "alpha"), ("init", "--builder", "x", "--repos", "alpha")])
def test_a_restore_killed_half_way_keeps_its_name_until_it_is_completed(
    root: Path, builders: Builders, command: tuple[str, ...]
) -> None:
    """A restore stopped after it made the builder's folder leaves a mark; a builder made there by
    `new` or `init` meanwhile would be ready, and the next `restore` would write the archived files
    over that session's own work. Until `restore` completes, the name is the restore's: verify says
    so, and new and init refuse with the command that completes it."""
    assert builders("new", "x", "--repos", "alpha").code == 0
    builder = builders_dir(root) / "x"
    (builder / "repos/alpha/README.md").write_text("archived edit\n")
    assert builders("remove", "x", "--force").code == 0
    killed = console(root, "restore", "x", fault="restore:made:root")
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    verified = builders("verify", "x")
    assert verified.code == 1 and "builders restore x" in verified.out, verified.out + verified.err
    made = builders(*command)
    assert made.code == 1, made.out + made.err
    assert "restore" in made.err and "builders restore x" in made.err, made.err
    assert not (builder / "repos/alpha").exists()
    done = builders("restore", "x")
    assert done.code == 0, done.err
    assert (builder / "repos/alpha/README.md").read_text() == "archived edit\n"
    assert builders("verify", "x").code == 0


@pytest.mark.parametrize(
    "command", [("new", "x", "--repos", "alpha,beta"), ("init", "--builder", "x", "--repos", "beta")]
)
def test_a_removal_killed_half_way_is_not_taken_up_as_a_new_builder(
    root: Path, builders: Builders, command: tuple[str, ...]
) -> None:
    """A removal stopped after it archived alpha and removed its worktree leaves the state
    `removing`. `new` and `init` of that name took it up as a stopped creation and said `ready`:
    a builder without the archived edit, and a removal record left incomplete for good. They refuse
    and name the two ways on: complete the removal, or restore it."""
    assert builders("new", "x", "--repos", "alpha,beta").code == 0
    builder = builders_dir(root) / "x"
    (builder / "repos/alpha/README.md").write_text("archived edit\n")
    killed = console(root, "remove", "x", "--force", fault="remove:nested:alpha")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    made = builders(*command)
    assert made.code == 1, made.out + made.err
    assert "builders remove x" in made.err and "builders restore x" in made.err, made.err
    assert json.loads((root / ".git/builders/state/x.json").read_text())["status"] == "removing"
    done = builders("restore", "x")
    assert done.code == 0, done.err
    assert (builder / "repos/alpha/README.md").read_text() == "archived edit\n"


def test_a_land_remove_killed_in_its_removal_names_remove_as_the_one_fix(root: Path, builders: Builders) -> None:
    """`land --remove` killed after the landing, half-way through the removal: verify named
    `builders init --builder x --repos ...` as a fix too (the repos of the state and of git disagree
    while a removal goes), and land again hinted only `builders verify x`. remove completes it."""
    assert builders("new", "x", "--repos", "alpha,beta").code == 0
    builder = builders_dir(root) / "x"
    for repo in ("alpha", "beta"):
        (builder / "repos" / repo / "w.txt").write_text("work\n")
        commit(builder / "repos" / repo, "work")
    killed = console(root, "land", "x", "--remove", fault="remove:nested:alpha")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    verified = builders("verify", "x")
    assert verified.code == 1 and "builders remove x" in verified.out, verified.out
    assert "builders init" not in verified.out, verified.out
    again = builders("land", "x", "--remove")
    assert again.code == 1 and "builders remove x" in again.err, again.err
    done = builders("remove", "x")
    assert done.code == 0, done.err
    assert builders("verify").code == 0


def test_remove_of_a_builder_whose_sync_was_stopped_mid_rebase_names_sync_first(
    root: Path, made: Path, builders: Builders
) -> None:
    """The changes a stopped rebase left (its conflict markers) are no one's work: the refusal
    names the sync that takes the rebase up before --force, which would archive them."""
    (root / "repos/alpha/README.md").write_text("main's own change\n")
    commit(root / "repos/alpha", "main changes the README too")
    killed = console(root, "sync", "s", fault="sync:rebased:alpha")  # killed before it aborts the conflict
    assert killed.returncode == -9 and (root / ".git/builders/rebasing/s.json").exists()
    refused = builders("remove", "s")
    assert refused.code == 1 and (made / "repos/alpha").is_dir()
    assert "hint: a sync of it was stopped mid-rebase: take it up first (builders sync s); else" in refused.err
    taken_up = builders("sync", "s")  # a conflict git stopped on may hold a resolution: never aborted for it
    assert taken_up.code == 1 and "git rebase --abort" in taken_up.err
    assert git.run(made / "repos/alpha", "rebase", "--abort") == ""  # as said: then the worktree is clean
    assert git.run(made / "repos/alpha", "status", "--porcelain") == ""
