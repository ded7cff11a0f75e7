"""The config's scripts (`setup`, `archive`), run in a builder with the builder's environment."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from workspace_builders.base import output
from workspace_builders.engine import builder_env
from workspace_builders.gitlayer import processes
from workspace_builders.model.workspace import Workspace


def run(
    ws: Workspace, kind: str, script: str, name: str, path: Path, repos: Sequence[str], ports: Sequence[int] = ()
) -> int:
    """Run `script` with sh in the builder; its exit code (128 + N when signal N ended it). Output goes
    to stderr, as progress; stdin is empty: the script runs in a process group of its own, where
    reading the terminal would stop it. A SIGINT or SIGTERM to this process reaches it too (then
    it is waited for, killed after a grace, and the stop goes on up).

    OSError when it cannot be started at all (no sh, the builder's folder gone)."""
    output.say(f"running {kind} script: {script}")
    env = builder_env.environ(ws, name, path, repos, ports)
    # Its stdout goes to stderr: stdout is kept for the command's result (--json).
    quiet, to_stderr = processes.DEVNULL, 2
    script_run = processes.start(
        ["sh", "-c", script], str(path), env, stdin=quiet, stdout=to_stderr, stderr=processes.INHERIT, stoppable=True
    )
    return processes.wait(script_run)
