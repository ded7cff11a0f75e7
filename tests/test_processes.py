"""One process policy: no lock descriptor reaches a hook or user code, a git a killed run left going
still holds its repository, a stop reaches user code (passed on, then killed after a grace) while
git is let finish, and every child gets the signal dispositions a shell would give it."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import Builders, builders_dir
from runs import alive, console, processes_running, signal_run, start, wait_for
from workspace_builders.gitlayer import git, locks, processes

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="reads processes through /proc")


def hook(repo: Path, name: str, body: str) -> None:
    path = repo / ".git" / "hooks" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def lock_files(root: Path) -> Iterator[Path]:
    for repo in [root, *sorted((root / "repos").iterdir())]:
        yield from (repo / ".git").rglob("*.lock")


def assert_no_lock_held(root: Path) -> None:
    """Every lock file of the workspace can be taken at once, and records no running process."""
    found = list(lock_files(root))
    assert found  # the run did take locks
    for path in found:
        fd = os.open(path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError if anyone holds it
            assert locks.live_child(fd) is None, path
        finally:
            os.close(fd)


# --- locks -----------------------------------------------------------------------------------------


def test_a_hooks_background_job_keeps_no_lock(root: Path, builders: Builders, tmp_path: Path) -> None:
    pids = tmp_path / "background"
    # A user's post-checkout that leaves a job running, in the root and in a repo.
    job = f'sleep 30 >/dev/null 2>&1 </dev/null & echo $! >> "{pids}"'
    hook(root, "post-checkout", job)
    hook(root / "repos" / "alpha", "post-checkout", job)
    made = builders("new", "a", "--repos", "alpha")
    assert made.code == 0, made.err
    started = [int(pid) for pid in pids.read_text().split()]
    try:
        assert len(started) == 2 and all(alive(pid) for pid in started)  # still running now
        assert_no_lock_held(root)
        again = builders("new", "b", "--repos", "alpha")  # would wait for the lock, then fail
        assert again.code == 0, again.err
        removed = builders("remove", "a")
        assert removed.code == 0, removed.err
    finally:
        for pid in started:
            os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize(
    ("paused", "said"),
    [
        ("repos/beta", "waiting for another run (or a git it left running) to finish"),
        # The builder's own worktree is made under the builder's lock too: its git holds that as well.
        (".", "waiting for a git that a stopped run left running to finish (pid "),
    ],
    ids=["in-a-repo", "in-the-root"],
)
def test_a_git_that_a_killed_run_left_going_holds_the_repository_until_it_ends(
    root: Path, tmp_path: Path, paused: str, said: str
) -> None:
    began, go = tmp_path / "began", tmp_path / "go"
    # A post-checkout stops `git worktree add` there until the test says go.
    hook(root / paused, "post-checkout", f'touch "{began}"; while [ ! -e "{go}" ]; do sleep 0.02; done')
    first = start(root, "new", "k", "--repos", "alpha,beta")
    wait_for(began, first)
    signal_run(first, signal.SIGKILL, group=True)  # the run's whole group: its git runs in a group of its own
    first.wait()
    assert processes_running("worktree add"), "the git the run started goes on"
    again = start(root, "new", "k", "--repos", "alpha,beta")
    assert again.stderr is not None
    for line in again.stderr:  # the re-run waits for that git ...
        if said in line:
            break
    else:
        pytest.fail(f"the re-run did not wait: {again.wait()}")
    assert again.poll() is None
    go.touch()  # ... until it ends, then completes what the killed run began
    _, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    assert console(root, "verify", "k").returncode == 0
    assert sorted(p.name for p in (builders_dir(root) / "k" / "repos").iterdir()) == ["alpha", "beta"]
    assert_no_lock_held(root)


# --- stops reach user code -------------------------------------------------------------------------

TRAP = 'trap "echo got-$1; exit 7" TERM INT; echo $$ > "$0"; while :; do sleep 0.05; done'
DEAF = 'trap "" TERM INT; echo $$ > "$0"; while :; do sleep 0.05; done'


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_reaches_execs_commands_and_one_that_ignores_it_is_killed(
    root: Path, builders: Builders, tmp_path: Path, sig: int
) -> None:
    assert builders("new", "e", "--repos", "alpha,beta").code == 0
    listening, deaf = tmp_path / "listening.pid", tmp_path / "deaf.pid"
    listens = f"sh -c {_quoted(TRAP)} {listening} {signal.Signals(sig).name}"
    script = f"case $PWD in */alpha) exec {listens};; *) exec sh -c {_quoted(DEAF)} {deaf};; esac"
    proc = start(root, "exec", "e", "--", "sh", "-c", script)
    wait_for(listening, proc, written=True)
    wait_for(deaf, proc, written=True)
    pids = [int(listening.read_text()), int(deaf.read_text())]
    signal_run(proc, sig, group=False)  # as a terminal's Ctrl-C does now: its children have groups of their own
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == (143 if sig == signal.SIGTERM else 130), err
    assert "error: interrupted" in err
    assert f"alpha | got-{signal.Signals(sig).name}" in out  # the command got the signal and ran its trap
    assert not any(alive(pid) for pid in pids)  # and the one that ignored it was killed: nothing orphaned


def test_a_stop_reaches_the_setup_script_and_the_builder_is_setup_failed(root: Path, tmp_path: Path) -> None:
    listening = tmp_path / "setup.pid"
    (root / "workspaces.local.yaml").write_text(
        f"scripts:\n  setup: {json.dumps(f'sh -c {_quoted(TRAP)} {listening} TERM')}\n"
    )
    proc = start(root, "new", "g")
    wait_for(listening, proc, written=True)
    pid = int(listening.read_text())
    signal_run(proc, signal.SIGTERM, group=False)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "got-TERM" in err  # setup's output goes to stderr
    assert not alive(pid)
    recorded = json.loads((root / ".git/builders/state/g.json").read_text())
    assert recorded["status"] == "setup-failed"  # never ready: setup did not finish
    assert (builders_dir(root) / "g").is_dir()  # the builder is kept


def test_a_stop_reaches_the_pre_land_gate_and_nothing_lands(root: Path, builders: Builders, tmp_path: Path) -> None:
    listening = tmp_path / "gate.pid"
    (root / "workspaces.local.yaml").write_text(
        f"scripts:\n  pre_land: {json.dumps(f'sh -c {_quoted(TRAP)} {listening} TERM')}\n"
    )
    assert builders("new", "l", "--repos", "alpha").code == 0
    work = builders_dir(root) / "l" / "repos" / "alpha"
    (work / "landed.txt").write_text("work\n")
    git.run(work, "add", "landed.txt")
    git.run(work, "commit", "--quiet", "-m", "work to land")
    clone = root / "repos" / "alpha"
    before = git.run(clone, "rev-parse", "main")
    proc = start(root, "land", "l")
    wait_for(listening, proc, written=True)
    pid = int(listening.read_text())
    signal_run(proc, signal.SIGTERM, group=False)  # to land's pid alone: the gate runs in a group of its own
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "got-TERM" in err
    assert not alive(pid)  # the gate is not left running, orphaned
    assert git.run(clone, "rev-parse", "main") == before  # nothing landed
    assert git.run(work, "log", "-1", "--format=%s").strip() == "work to land"  # nothing lost


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def test_a_stop_lets_git_finish(root: Path, tmp_path: Path) -> None:
    """A Ctrl-C while git works: git (in its own group) finishes, then the run rolls back cleanly."""
    began, go = tmp_path / "began", tmp_path / "go"
    hook(root, "post-checkout", f'touch "{began}"; while [ ! -e "{go}" ]; do sleep 0.02; done; echo done > "{go}"')
    proc = start(root, "new", "c")
    wait_for(began, proc)
    signal_run(proc, signal.SIGINT, group=True)  # the terminal's Ctrl-C reaches the run's group, not git's
    time.sleep(0.2)
    assert proc.poll() is None  # the run waits for git
    go.write_text("go\n")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert go.read_text() == "done\n"  # the hook ran to its end: git was not stopped
    assert "rolled back: the workspace is as it was" in err
    assert not (builders_dir(root) / "c").exists()
    assert git.run(root, "branch", "--list", "builder/c") == ""


# --- dispositions ----------------------------------------------------------------------------------


def test_run_gives_the_command_sigpipe_at_its_default(root: Path, builders: Builders) -> None:
    assert builders("new", "p").code == 0
    done = console(root, "run", "p", "--", "sh", "-c", "yes | head -1; yes 0 | head -1")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "y\n0\n"
    assert "Broken pipe" not in done.stderr


def test_exec_gives_its_commands_sigpipe_at_its_default(root: Path, builders: Builders) -> None:
    assert builders("new", "q", "--repos", "alpha").code == 0
    done = console(root, "exec", "q", "--", "sh", "-c", "yes | head -1")
    assert done.returncode == 0, done.stderr
    assert "alpha | y" in done.stdout and "Broken pipe" not in done.stdout


# A pipe whose reader ends first: with SIGPIPE ignored, `yes` would print "Broken pipe" and the loop
# would never end (the bounded wait of `timeout` then fails it with 124).
PIPED = "timeout 20 sh -c 'while :; do echo x; done' | head -1; yes | head -1"


def test_setup_and_start_give_their_scripts_sigpipe_at_its_default(root: Path) -> None:
    (root / "workspaces.local.yaml").write_text(
        f"scripts:\n  setup: {json.dumps(PIPED + ' >&2')}\n  start: {json.dumps(PIPED)}\n"
    )
    made = console(root, "new", "s")
    assert made.returncode == 0, made.stderr
    assert "x\ny\n" in made.stderr and "Broken pipe" not in made.stderr  # setup's output goes to stderr
    started = console(root, "start", "s")
    assert started.returncode == 0, started.stderr
    assert started.stdout == "x\ny\n" and "Broken pipe" not in started.stderr


# --- the runner ------------------------------------------------------------------------------------

# What starts a process in Python, by name: only processes.py may say any of them.
_STARTS = ("subprocess", "os.exec", "os.spawn", "os.system", "os.popen", "os.fork", "posix_spawn", "_popen", "Popen(")


def test_the_runner_is_the_only_place_a_process_starts() -> None:
    package = Path(processes.__file__).parent.parent
    starting = {
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if any(word in path.read_text(encoding="utf-8") for word in _STARTS)
    }
    assert starting == {"gitlayer/processes.py"}
