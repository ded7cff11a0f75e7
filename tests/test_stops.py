"""Runs stopped *during* their git calls: SIGKILL while a git child runs (the run alone, or its whole
process group), SIGINT and SIGTERM at random moments. After each stop: `verify` names what is partial,
nothing says `ready` that is not, the same command completes it, `remove` takes it away, `prune`
leaves no prunable entry, no branch is left behind, no work is lost.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import builders_dir
from runs import children, command_line, console, environment, signal_run, start
from sample_workspace import make_workspace
from workspace_builders.gitlayer import git, links

pytestmark = [
    pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="finds git children through /proc"),
    pytest.mark.slow,  # `make check` leaves it out; `make test` runs it
]


def stop_during_git(proc: subprocess.Popen[str], words: str, sig: int, group: bool, rng: random.Random) -> bool:
    """Send `sig` while a git child whose command line holds `words` runs; False if none was seen."""
    deadline = time.monotonic() + 20
    while proc.poll() is None and time.monotonic() < deadline:
        if any(words in command_line(child) for child in children(proc.pid)):
            time.sleep(rng.uniform(0, 0.01))
            signal_run(proc, sig, group=group)
            proc.wait()
            return True
    proc.wait()
    return False


def branches(repo: Path, name: str) -> list[str]:
    return git.run(repo, "for-each-ref", "--format=%(refname:short)", f"refs/heads/builder/{name}").split()


def repositories(root: Path) -> list[Path]:
    return [root, *sorted((root / "repos").iterdir())]


def state_of(root: Path, name: str) -> dict[str, object] | None:
    path = root / ".git/builders/state" / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def assert_ready_means_whole(root: Path, name: str) -> None:
    """Nothing says `ready` that is not: a ready state has every worktree finished at both ends."""
    recorded = state_of(root, name)
    if recorded is None or recorded["status"] != "ready":
        return
    assert links.link_of(Path(str(recorded["path"])), root / ".git").finished
    for repo in recorded["repos"]:  # type: ignore[attr-defined]
        assert links.link_of(Path(repo["path"]), root / "repos" / repo["name"] / ".git").finished, repo


def assert_no_trace(root: Path, name: str, said: str = "") -> None:
    """The workspace as it was before `name`: no folder, state, branch or worktree entry (trash aside)."""
    assert not (builders_dir(root) / name).exists()
    assert state_of(root, name) is None
    for repo in repositories(root):
        assert branches(repo, name) == [], (repo, said)
        assert not [w for w in git.worktrees(repo) if name in w.path.parts], repo


def assert_pruned_clean(root: Path) -> None:
    done = console(root, "prune")
    assert done.returncode == 0, done.stderr
    for repo in repositories(root):
        assert not [w for w in git.worktrees(repo) if w.prunable or w.unfinished], repo


@pytest.fixture
def big(tmp_path: Path) -> Path:
    """Six repos of 400 files: `git worktree add` takes long enough to be caught running."""
    return make_workspace(tmp_path, [f"r{n}" for n in range(6)], files=400)


@pytest.mark.parametrize("group", [False, True], ids=["run-only", "process-group"])
def test_new_killed_while_git_adds_a_worktree(big: Path, group: bool) -> None:
    rng = random.Random(11 + group)
    hits = 0
    for attempt in range(6):
        name = f"k{attempt}"
        proc = start(big, "new", name, "--repos", "all")
        hit = stop_during_git(proc, "worktree add", signal.SIGKILL, group, rng)
        hits += hit
        assert_ready_means_whole(big, name)
        if hit:
            checked = console(big, "verify", name)
            assert checked.returncode == 1, checked.stdout  # verify names the partial builder
            assert f"{name} " in checked.stdout and "FAIL" in checked.stdout
        again = console(big, "new", name, "--repos", "all")
        assert again.returncode == 0, again.stderr  # the same command completes it
        assert console(big, "verify", name).returncode == 0
        assert_ready_means_whole(big, name)
        builder = builders_dir(big) / name
        assert sorted(p.name for p in (builder / "repos").iterdir()) == [f"r{n}" for n in range(6)]
        for repo in repositories(big):
            assert branches(repo, name) == [f"builder/{name}"]
        removed = console(big, "remove", name)
        assert removed.returncode == 0, removed.stderr  # nothing in it to lose
        assert_no_trace(big, name)
    assert hits >= 4  # the stops really fell while git was running
    assert_pruned_clean(big)


@pytest.mark.parametrize("group", [False, True], ids=["run-only", "process-group"])
def test_init_killed_while_git_adds_a_worktree(big: Path, group: bool) -> None:
    rng = random.Random(23 + group)
    assert console(big, "new", "i", "--repos", "r0").returncode == 0
    builder = builders_dir(big) / "i"
    (builder / "repos/r0/work.txt").write_text("uncommitted work\n")
    hits = 0
    for attempt, repo in enumerate(["r1", "r2,r3", "r4,r5"]):
        proc = start(builder, "init", "--repos", repo)
        hits += stop_during_git(proc, "worktree add", signal.SIGKILL, group, random.Random(attempt + rng.random()))
        assert_ready_means_whole(big, "i")
        again = console(builder, "init", "--repos", repo)
        assert again.returncode == 0, again.stderr
    assert hits >= 2
    assert console(big, "verify", "i").returncode == 0
    assert (builder / "repos/r0/work.txt").read_text() == "uncommitted work\n"
    assert sorted(p.name for p in (builder / "repos").iterdir()) == [f"r{n}" for n in range(6)]
    assert_pruned_clean(big)


@pytest.mark.parametrize("group", [False, True], ids=["run-only", "process-group"])
def test_remove_killed_while_git_removes_loses_nothing(big: Path, group: bool) -> None:
    rng = random.Random(31 + group)
    hits = 0
    for attempt in range(4):
        name = f"x{attempt}"
        assert console(big, "new", name, "--repos", "all").returncode == 0
        builder = builders_dir(big) / name
        (builder / "repos/r2/wip.txt").write_text(f"work {attempt}\n")
        (builder / "notes.txt").write_text(f"notes {attempt}\n")
        proc = start(big, "remove", name, "--force")
        hits += stop_during_git(proc, "worktree remove", signal.SIGKILL, group, rng)
        again = console(big, "remove", name, "--force")
        assert again.returncode == 0, again.stderr
        assert not builder.exists()
        saved = ((big / "repos/r2", "wip.txt", f"work {attempt}\n"), (big, "notes.txt", f"notes {attempt}\n"))
        for repo, path, text in saved:
            refs = git.run(repo, "for-each-ref", "--format=%(refname)", f"refs/builders/archive/{name}/").split()
            assert any(git.file_text(repo, f"{ref}:{path}") == text for ref in refs), (repo, refs)
        for repo in repositories(big):
            assert branches(repo, name) == [], repo
    assert hits >= 2
    assert console(big, "verify").returncode == 0
    assert_pruned_clean(big)


@pytest.fixture
def twelve(tmp_path: Path) -> Path:
    return make_workspace(tmp_path, [f"s{n:02d}" for n in range(12)], files=60)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_new_of_twelve_repos_interrupted_at_random_moments(twelve: Path, sig: int) -> None:
    rng = random.Random(sig)
    began = time.monotonic()
    assert console(twelve, "new", "timing", "--repos", "all").returncode == 0
    duration = time.monotonic() - began
    assert console(twelve, "remove", "timing").returncode == 0
    interrupted = 0
    for attempt in range(8):
        name = f"t{attempt}"
        proc = start(twelve, "new", name, "--repos", "all")
        time.sleep(rng.uniform(0.1, duration))
        signal_run(proc, sig, group=attempt % 2 == 1)  # Ctrl-C in a terminal reaches git too
        _, err = proc.communicate(timeout=60)
        assert_ready_means_whole(twelve, name)
        recorded = state_of(twelve, name)
        if recorded is not None and recorded["status"] == "ready":  # done before the signal counted
            assert console(twelve, "verify", name).returncode == 0
            assert console(twelve, "remove", name).returncode == 0
            continue
        interrupted += 1
        if proc.returncode == -sig:  # stopped while Python itself was starting, before any of ours ran
            assert err == ""
        else:
            assert proc.returncode == (130 if sig == signal.SIGINT else 143), err
            assert "error: interrupted" in err
        assert "could not undo" not in err, err
        # Stopped before it made anything, or rolled back: either way, and as it says, no trace.
        assert_no_trace(twelve, name, err)
    assert interrupted >= 4
    assert console(twelve, "verify").returncode == 0
    assert_pruned_clean(twelve)


def test_prune_racing_new_and_remove_leaves_live_builders_alone(twelve: Path) -> None:
    """prune run over and over while builders are made and removed: never closes, trashes or unlinks
    a live one (new saves its state before its folder exists; remove takes folders away)."""
    for attempt in range(3):
        name = f"p{attempt}"
        making = start(twelve, "new", name, "--repos", "all")
        while making.poll() is None:
            assert console(twelve, "prune").returncode == 0
        assert making.returncode == 0, making.stderr.read() if making.stderr else ""
        assert console(twelve, "verify", name).returncode == 0
        removing = start(twelve, "remove", name)
        while removing.poll() is None:
            assert console(twelve, "prune").returncode == 0
        assert removing.returncode == 0
        assert_no_trace(twelve, name)
        # one removal record, the real one: prune never wrote a false one for the live builder
        removed = json.loads(console(twelve, "list", "--removed", "--json").stdout)["removed"]
        assert [r["name"] for r in removed].count(name) == 1
    assert console(twelve, "verify").returncode == 0
    assert not (builders_dir(twelve) / ".trash").exists()


def test_prune_leaves_a_stopped_creation_to_its_command(twelve: Path) -> None:
    proc = start(twelve, "new", "c", "--repos", "all")
    assert stop_during_git(proc, "worktree add", signal.SIGKILL, True, random.Random(5))
    assert console(twelve, "prune").returncode == 0
    assert state_of(twelve, "c") is not None  # not closed: `new` completes it
    assert console(twelve, "new", "c", "--repos", "all").returncode == 0
    assert console(twelve, "verify", "c").returncode == 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_as_git_starts_is_rolled_back_with_what_git_then_made(
    root: Path, tmp_path: Path, sig: signal.Signals
) -> None:
    """The stop reaches the run the moment git has started (a git that signals its parent, then goes
    on): the rollback waits for that git and takes back what it made, so "rolled back" is true. (A
    stop that lands between git's start and its record in the lock is held off until the record is
    written; that window is too narrow to hit from here.)"""
    real = subprocess.run(["sh", "-c", "command -v git"], capture_output=True, text=True, check=True).stdout.strip()
    wrapper = tmp_path / "signalling-git" / "git"
    wrapper.parent.mkdir()
    wrapper.write_text(
        f'#!/bin/sh\ncase " $* " in *" worktree add "*) kill -{int(sig)} $PPID; sleep 0.3 ;; esac\nexec "{real}" "$@"\n'
    )
    wrapper.chmod(0o755)
    for attempt in range(3):  # the stop lands at a slightly different moment each time
        name = f"s{attempt}"
        done = console(root, "new", name, "--repos", "alpha", env=environment(path_first=wrapper.parent))
        assert done.returncode in (130, 143), done.stderr
        assert "rolled back: the workspace is as it was" in done.stderr, done.stderr
        for repo in (root, root / "repos/alpha"):
            assert git.run(repo, "branch", "--list", f"builder/{name}") == "", repo
            assert f"/{name}" not in git.run(repo, "worktree", "list")
        assert not (builders_dir(root) / name).exists()
