"""`builders run`, `exec` and `start`: commands run in a builder, with the builder's environment.

- `run [NAME] -- CMD ARGS...`: CMD in the builder, in the foreground; it takes this process's place,
  so the terminal, stdin, signals and the exit code are its own.
- `exec [NAME] -- CMD ARGS...`: CMD in each repo worktree of the builder, side by side; output lines
  prefixed with the repo, a summary row per repo, exit 1 when any failed.
- `start [NAME]`: the config's `scripts.start` in the builder, in the foreground.

CMD is an argv, run as given, never through a shell.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plumbum import cli

from workspace_builders.base import output, parallel
from workspace_builders.base.errors import COMMAND_NOT_FOUND, bad_input
from workspace_builders.base.names import did_you_mean
from workspace_builders.commands.base import OPTIONAL_NAME, Command, start_dir
from workspace_builders.engine import builder_env
from workspace_builders.gitlayer import processes
from workspace_builders.model import state
from workspace_builders.model.workspace import Location

ROOT = "root"
NOT_STARTED = COMMAND_NOT_FOUND  # the shell's code for a command that could not be run


def run(location: Location, here: Path, name: str | None, argv: Sequence[str]) -> int:
    usage = "builders run [NAME] -- CMD ARGS..."
    record = state.named_or_here(location, name, usage)
    _require_command(argv, "run", name)
    env = builder_env.of(location.workspace, record)
    # As a shell says it: what run would have run is not there (exec, over many repos, refuses with 2).
    builder_env.require_program(argv[0], env, usage, COMMAND_NOT_FOUND)
    builder = Path(record.path)
    # Where you stand when that is inside the builder (repos/click runs in repos/click), else its top.
    builder_env.replace_process(argv, here if here.resolve().is_relative_to(builder.resolve()) else builder, env)
    return 0  # not reached: the process is the command now


def start_session(location: Location, name: str | None) -> int:
    record = state.named_or_here(location, name, "builders start [NAME]")
    builder_env.start(location.workspace, record)
    return 0  # not reached


@dataclass
class Outcome:
    label: str
    path: Path
    exit_code: int | None = None
    lines: list[str] = field(default_factory=list)


def exec_in_repos(
    location: Location,
    name: str | None,
    repos: str | None,
    with_root: bool,
    jobs: int,
    as_json: bool,
    argv: Sequence[str],
) -> int:
    usage = "builders exec [NAME] -- CMD ARGS..."
    record = state.named_or_here(location, name, usage)
    _require_command(argv, "exec", name)
    recorded = {r.name: Path(r.path) for r in record.repos}
    wanted = [r.strip().rstrip("/") for r in (repos or "").split(",") if r.strip()] or list(recorded)
    unknown = [r for r in wanted if r not in recorded]
    if unknown:
        raise bad_input(
            f"builder {record.name} has no repo {', '.join(unknown)}",
            f"{did_you_mean(unknown, list(recorded))}its repos: {', '.join(recorded) or '(none)'}",
        )
    targets = [Outcome(ROOT, Path(record.path))] if with_root else []
    targets += [Outcome(r, recorded[r]) for r in wanted if r in recorded]
    if not targets:
        raise bad_input(
            f"builder {record.name} has no repos to run in",
            f"add some: builders init --builder {record.name} --repos ..., or run in its root: --root",
        )
    env = builder_env.of(location.workspace, record)
    builder_env.require_program(argv[0], env, usage, COMMAND_NOT_FOUND)
    width = max(len(t.label) for t in targets)
    printing = threading.Lock()

    def show(target: Outcome, line: str) -> None:
        target.lines.append(line)
        if not as_json:
            with printing:
                sys.stdout.write(f"{target.label.ljust(width)} | {line}\n")
                sys.stdout.flush()

    for target, error in parallel.failures(parallel.each(targets, lambda t: _run_one(t, argv, env, show), jobs=jobs)):
        show(target, error.message)  # the world stopped it (a folder gone mid-run): nothing more ran there
        target.exit_code = 1
    failed = [t for t in targets if t.exit_code != 0]
    if as_json:
        output.json_document(
            {
                "builder": record.name,
                "command": list(argv),
                "ok": not failed,
                "repos": [
                    {"name": t.label, "path": str(t.path), "exit_code": t.exit_code, "output": t.lines}
                    for t in targets
                ],
            }
        )
    else:
        rows = [[t.label, "?" if t.exit_code is None else str(t.exit_code), str(t.path)] for t in targets]
        output.result(output.table(rows, ["repo", "exit", "path"]))
    if failed:
        output.say(f"failed in {len(failed)} of {len(targets)}: {', '.join(t.label for t in failed)}")
    if any(not t.path.is_dir() for t in failed):
        verify = output.command("builders", "verify", record.name)
        output.say(f"hint: a worktree folder is missing; see what is wrong: {verify}")
    return 1 if failed else 0


def _run_one(target: Outcome, argv: Sequence[str], env: dict[str, str], show: Callable[[Outcome, str], None]) -> None:
    if not target.path.is_dir():  # moved or deleted: not the command's fault, and nothing ran
        show(target, f"no worktree at {target.path}")
        target.exit_code = 1
        return
    try:
        child = processes.start(
            argv,
            str(target.path),
            env,
            stdin=processes.DEVNULL,
            stdout=processes.PIPE,
            stderr=processes.STDOUT,
            stoppable=True,
        )
    except OSError as exc:  # nothing ran: not there, not runnable, or the folder went away
        show(target, f"cannot run {argv[0]!r}: {exc.strerror}")
        target.exit_code = NOT_STARTED
        return
    assert child.stdout is not None
    with child.stdout:
        for raw in child.stdout:
            show(target, raw.decode("utf-8", errors="replace").rstrip("\r\n"))
    # A stop reaches the command's group (processes.py); a worker thread never sees the stop itself.
    target.exit_code = processes.wait(child)


def _require_command(argv: Sequence[str], verb: str, name: str | None) -> None:
    if not argv:  # the example names the builder as it was named, so it runs pasted
        example = output.command("builders", verb, *([name] if name else []), "--", "git", "status")
        raise bad_input("no command given after --", f"for example: {example}")


AFTER_DASHES = " (the command goes after --: NAME -- CMD ARGS...)"


class WithCommand(Command):
    """A command that takes `-- CMD ARGS...`: everything after the first `--` is the command, as typed
    (switches in it are its own), and never a NAME."""

    command: tuple[str, ...] = ()

    def _parse_args(self, argv: list[str]) -> tuple[dict[Callable[..., None], Any], list[str]]:
        if "--" in argv:
            at = argv.index("--")
            self.command = tuple(argv[at + 1 :])
            argv = argv[:at]
        return super()._parse_args(argv)


class Run(WithCommand):
    DESCRIPTION = "run a command in a builder with its environment: run [NAME] -- CMD ARGS..."
    USAGE = "    {progname} [SWITCHES] [NAME] -- CMD [ARGS...]\n"

    def main(self, *name: str) -> int:
        return run(self.location(), start_dir(), self.one_name(name, AFTER_DASHES), self.command)


class Exec(WithCommand):
    DESCRIPTION = "run a command in each repo worktree of a builder, side by side: exec [NAME] -- CMD ARGS..."
    USAGE = "    {progname} [SWITCHES] [NAME] -- CMD [ARGS...]\n"

    as_json = cli.Flag("--json", help="print one JSON document on stdout (shape: README)")
    repos = cli.SwitchAttr("--repos", str, argname="REPOS", help="only these repos: a,b (default: all of them)")
    root = cli.Flag("--root", help="run in the builder's own worktree too")
    jobs = cli.SwitchAttr("--jobs", cli.Range(1, 64), default=parallel.MAX_THREADS, help="how many at once")

    def main(self, *name: str) -> int:
        named = self.one_name(name, AFTER_DASHES)
        return exec_in_repos(self.location(), named, self.repos, self.root, self.jobs, self.as_json, self.command)


class Start(Command):
    DESCRIPTION = "run scripts.start in a builder, in the foreground, with the builder's environment"
    USAGE = OPTIONAL_NAME

    def main(self, *name: str) -> int:
        return start_session(self.location(), self.one_name(name))
