"""The one environment every script and command of a builder runs with, and finding the builder.

The base is the user's environment less the variables that bind git to a repository
(`git.environ()`); on top: BUILDER_NAME, BUILDER_PATH, WORKSPACE_ROOT, BUILDER_REPOS (comma-separated)
and, when the builder has a port block, BUILDER_PORT (its first port) and BUILDER_PORT_0..N.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from workspace_builders.base import output
from workspace_builders.base.errors import BAD_INPUT, BuildersError, bad_input
from workspace_builders.gitlayer import git, processes
from workspace_builders.model.state import BuilderState
from workspace_builders.model.workspace import Workspace


def variables(ws: Workspace, name: str, path: Path, repos: Sequence[str], ports: Sequence[int] = ()) -> dict[str, str]:
    """The builder's own variables, without the base environment."""
    found = {
        "BUILDER_NAME": name,
        "BUILDER_PATH": str(path),
        "WORKSPACE_ROOT": str(ws.root),
        "BUILDER_REPOS": ",".join(repos),
    }
    if ports:
        found["BUILDER_PORT"] = str(ports[0])
        found.update({f"BUILDER_PORT_{index}": str(port) for index, port in enumerate(ports)})
    return found


def environ(ws: Workspace, name: str, path: Path, repos: Sequence[str], ports: Sequence[int] = ()) -> dict[str, str]:
    return git.environ(**variables(ws, name, path, repos, ports))


def of(ws: Workspace, record: BuilderState) -> dict[str, str]:
    """The environment of a recorded builder."""
    return environ(ws, record.name, Path(record.path), [r.name for r in record.repos], record.ports)


def require_program(program: str, env: dict[str, str], usage: str, exit_code: int = BAD_INPUT) -> None:
    """Refuse a command that is not there before anything runs (exit 2, or `exit_code`), rather than after."""
    if "/" in program:
        return  # a path: relative to where it runs, so only trying tells
    if shutil.which(program, path=env.get("PATH", os.defpath)) is None:
        raise BuildersError(f"command not found: {program!r}", f"check its name and PATH, then: {usage}", exit_code)


def replace_process(argv: Sequence[str], cwd: Path, env: dict[str, str]) -> None:
    """Become `argv` in `cwd`: the terminal, stdin, signals and the exit code are the command's own.

    Everything that can be checked is checked before: after this nothing of ours runs.
    """
    try:
        processes.replace(argv, str(cwd), env)
    except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
        # nothing was run: the command could not be started
        raise bad_input(f"cannot run {argv[0]!r} in {cwd}: {exc.strerror}", "check the command and its path") from None


def say_where(what: str, record: BuilderState) -> None:
    output.say(f"{what} in builder {record.name}: {record.path}")


def require_start_script(ws: Workspace) -> str:
    script = ws.config.start
    if not script:
        raise bad_input(
            "no start script: scripts.start is not set",
            f"set it in {ws.root}/workspaces.yaml, e.g. scripts: {{start: 'opencode serve --project .'}}",
        )
    return script


def start(ws: Workspace, record: BuilderState) -> None:
    """Become the config's `scripts.start` (sh -c: the user's own config text) in the builder, in the
    foreground, with the builder's environment."""
    script = require_start_script(ws)
    say_where(f"starting {script!r}", record)
    replace_process(["sh", "-c", script], Path(record.path), of(ws, record))
