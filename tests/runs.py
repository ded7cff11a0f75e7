"""The console script run as a user runs it, for the tests that stop runs: started in a process group of
its own as a terminal starts a job, waited on until a step is reached (a paused git's marker file), and
sent a signal, to the run alone or to its whole group (a terminal's Ctrl-C)."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workspace_builders.base.faults import FAULT_ENV

BIN = Path(sys.executable).parent
BUILDERS = BIN / "builders"
REACH_SECONDS = 60.0
# What makes root meet file permissions as a user does (it keeps its uid, without the power to
# override them); nothing for a user.
AS_A_USER = (
    ("setpriv", "--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search")
    if os.geteuid() == 0
    else ()
)  # how long a run may take to reach a paused step before the test fails


def environment(*, fault: str | None = None, path_first: Path | None = None) -> dict[str, str]:
    """This process's environment with the console script on PATH (after `path_first`, a folder whose
    `git` wraps the real one), and the fault point WORKSPACE_BUILDERS_FAULT, if any."""
    folders = [str(p) for p in (path_first, BIN) if p is not None]
    env = {**os.environ, "PATH": os.pathsep.join([*folders, os.environ["PATH"]])}
    if fault:
        env[FAULT_ENV] = fault
    return env


def console(
    cwd: Path,
    *args: str,
    env: dict[str, str] | None = None,
    fault: str | None = None,
    file_size_limit: int | None = None,
    as_a_user: bool = False,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """`builders ARGS` run to its end from `cwd`; `file_size_limit` in bytes, as `ulimit -f` sets one;
    `as_a_user`: bound by file permissions even when the tests run as root; `stdin` its input."""

    def limit() -> None:
        if file_size_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    return subprocess.run(
        [*(AS_A_USER if as_a_user else ()), BUILDERS, *args],
        cwd=cwd,
        env=env or environment(fault=fault),
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=limit if file_size_limit is not None else None,
    )


def start(cwd: Path, *args: str, env: dict[str, str] | None = None, output: bool = True) -> subprocess.Popen[str]:
    """`builders ARGS` started in a process group of its own, with SIGINT at its default (a background
    job of a shell script would start with it ignored); its output piped, or dropped."""
    stream = subprocess.PIPE if output else subprocess.DEVNULL
    return subprocess.Popen(
        [BUILDERS, *args],
        cwd=cwd,
        env=env or environment(),
        stdout=stream,
        stderr=stream,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def wait_for(marker: Path, proc: subprocess.Popen[str], *, written: bool = False) -> None:
    """Until `marker` exists (the run reached a paused step), and holds something when `written` (a
    pid being written to it); fails, with the run's output, when the run ended first or the time ran
    out."""
    deadline = time.monotonic() + REACH_SECONDS
    while not (marker.exists() and (not written or marker.read_text().strip())):
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the run ended (exit {proc.returncode}) before {marker.name}: {out or ''}{err or ''}")
        if time.monotonic() > deadline:
            pytest.fail(f"{marker.name} was not reached in {REACH_SECONDS:.0f} s")
        time.sleep(0.02)


def signal_run(proc: subprocess.Popen[str], sig: int, *, group: bool) -> None:
    """`sig` to the run alone (its children run in groups of their own), or to its whole process group,
    as a terminal's Ctrl-C reaches the foreground job."""
    if group:
        with contextlib.suppress(ProcessLookupError):  # the run and all it started have ended
            os.killpg(proc.pid, sig)
    else:
        proc.send_signal(sig)


def kill_group_of(pid: int) -> None:
    """SIGKILL to the process group of `pid` (a paused git, in its own group), if it still runs."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(os.getpgid(pid), signal.SIGKILL)


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie has ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] not in "ZX"


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):  # the task ended meanwhile
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def command_line(pid: int) -> str:
    """The words of `pid`'s command line joined by spaces; "" when it has ended."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").replace("\0", " ")
    except OSError:
        return ""


def processes_running(words: str) -> list[int]:
    """The pids of every process whose command line holds `words`."""
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and words in command_line(int(p.name))]
