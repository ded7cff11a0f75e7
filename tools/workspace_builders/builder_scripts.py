"""The config's scripts (`setup`, `archive`), run in a builder with the builder's environment."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from workspace_builders import builder_env, output, processes
from workspace_builders.workspace import Workspace


def run(
    ws: Workspace, kind: str, script: str, name: str, path: Path, repos: Sequence[str], ports: Sequence[int] = ()
) -> int:
    """Run `script` with sh in the builder; its exit code. Output goes to stderr, as progress."""
    output.say(f"running {kind} script: {script}")
    env = builder_env.environ(ws, name, path, repos, ports)
    # stdout=2: stdout is kept for the command's result (--json).
    script_run = processes.start(
        ["sh", "-c", script], str(path), env, stdin=processes.INHERIT, stdout=2, stderr=processes.INHERIT
    )
    code: int = script_run.wait()
    return code
