"""The `builders` command (a plumbum.cli Application), and the one boundary that turns errors into exit codes.

Exit codes: 0 ok; 1 the operation failed or a check found problems; 2 bad usage or bad input
(nothing was changed); 3 unexpected error (a bug; the traceback is written to a log); 130 interrupted
(SIGINT), 143 terminated (SIGTERM).
Each command is an Application at the end of its own module, mounted here by its dotted path, so
running a command imports only that module (and `builders --help` imports them all, for their lines).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from plumbum import cli
from plumbum.cli.application import ShowCompletion, ShowHelp, ShowHelpAll, ShowVersion
from plumbum.cli.switches import PositionalArgumentsError, SwitchError, WrongArgumentType

from workspace_builders import __version__, interrupts, output
from workspace_builders.errors import BuildersError, bad_input, from_the_world

BUG = 3
PROG = "builders"

# What plumbum raises to print help or the version and stop: not usage errors.
_META = (ShowHelp, ShowHelpAll, ShowVersion, ShowCompletion)


def start_dir() -> Path:
    """The folder every command starts from (it finds the workspace from there)."""
    from workspace_builders.workspace import start_folder

    return start_folder()


def check_config() -> None:
    """Load and check the config of the workspace the command starts in (kept for the command's own
    use); outside any workspace there is none, and the command says so itself if it needs one."""
    from workspace_builders.workspace import discover

    try:
        location = discover(start_dir())
    except BuildersError:
        return
    location.workspace.config  # noqa: B018 (loading it is the check)


class Command(cli.Application):
    """Every command and group: a usage error (unknown or abbreviated switch, missing or extra argument,
    bad value) becomes bad input at the one boundary, instead of plumbum's own printout."""

    VERSION = __version__
    ALLOW_ABBREV = False
    SUBCOMMAND_HELPMSG = False
    # Parse, then load and check the workspace's config, then act: a broken workspaces.yaml stops
    # every command run in a workspace, not only those that happen to read it.
    CHECKS_CONFIG = True

    def usage_error(self, message: str) -> BuildersError:
        return bad_input(message, f"see: {self.PROGNAME} --help")

    def one_name(self, given: Sequence[str], tail: str = "") -> str | None:
        """The optional NAME of a command that works on the builder it runs in when none is given
        (plumbum takes no optional positional argument with a default of None)."""
        if len(given) > 1:
            raise self.usage_error(f"unexpected argument: {' '.join(given[1:])}{tail}")
        return given[0] if given else None

    def _parse_args(self, argv: list[str]) -> tuple[dict[Callable[..., None], Any], list[str]]:
        try:
            return super()._parse_args(argv)
        except SwitchError as exc:
            raise self.usage_error(_first_line(exc)) from None

    @staticmethod
    def _handle_argument(val: str, argtype: Callable[[str], Any] | None, name: str) -> Any:
        try:
            return cli.Application._handle_argument(val, argtype, name)
        except WrongArgumentType:  # plumbum's message shows the class and the exception's repr
            kind = getattr(argtype, "__name__", "value")
            raise WrongArgumentType(f"--{name}: {val!r} is not a valid {kind}") from None

    def _validate_args(self, swfuncs: Any, tailargs: Sequence[str]) -> Any:
        try:
            validated = super()._validate_args(swfuncs, tailargs)
        except _META:
            raise
        except PositionalArgumentsError:
            raise self.usage_error(self._positional_problem(tailargs)) from None
        except SwitchError as exc:
            raise self.usage_error(_first_line(exc)) from None
        if self.CHECKS_CONFIG and not isinstance(self, Group):
            check_config()
        return validated

    def _positional_problem(self, given: Sequence[str]) -> str:
        import inspect  # only a usage error pays for it

        spec = inspect.getfullargspec(self.main)
        names = spec.args[1:]
        if len(given) < len(names):
            return f"missing argument: {' '.join(names[len(given) :])}"
        return f"unexpected argument: {' '.join(given[len(names) :])}"


class WithJson(Command):
    as_json = cli.Flag("--json", help="print one JSON document on stdout (shape: README)")


class WithDryRunAndJson(WithJson):
    """What every command that makes or removes builders takes."""

    dry_run = cli.Flag("--dry-run", help="print the plan and change nothing")


class Group(Command):
    """A word that only picks a command: alone it prints its help (exit 2); an unknown command is bad usage."""

    CALL_MAIN_IF_NESTED_COMMAND = False
    USAGE = "    {progname} [SWITCHES] COMMAND [SWITCHES] [ARGS]...\n"

    def main(self, *words: str) -> int:
        if words:
            raise self.usage_error(f"unknown command {words[0]!r}")
        self.help()
        return 2


def _first_line(exc: Exception) -> str:
    return _lower_first(str(exc).splitlines()[0].rstrip(":"))


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


class Builders(Group):
    PROGNAME = PROG
    DESCRIPTION = "Isolated per-session checkouts of a multi-repo workspace, as sibling git worktrees."

    @cli.switch("-C", str, argname="PATH", help="run as if started in PATH (like git -C): a workspace from outside")
    def start_in(self, path: str) -> None:
        import os

        try:
            os.chdir(path)
        except OSError as exc:
            raise bad_input(f"-C {path}: {exc.strerror}", "name an existing folder inside a workspace") from None
        os.environ["PWD"] = os.getcwd()  # what the folder is called for the commands and scripts started here


class Hooks(Group):
    DESCRIPTION = "install or remove the git hooks in the root's git common dir"


class Hook(Group):
    DESCRIPTION = "what the installed git hooks and agent runtimes' worktree hooks call"


class Repos(Group):
    DESCRIPTION = "work on the clones under repos/"


# Mounted by dotted path: plumbum imports a command's module only when that command runs.
Builders.subcommand("new", "workspace_builders.new.New")
Builders.subcommand("add", "workspace_builders.sibling_worktree_add.Add")
Builders.subcommand("init", "workspace_builders.builder_init.Init")
Builders.subcommand("remove", "workspace_builders.safe_remove.Remove")
Builders.subcommand("prune", "workspace_builders.prune.Prune")
Builders.subcommand("list", "workspace_builders.listing.List")
Builders.subcommand("verify", "workspace_builders.verify.Verify")
Builders.subcommand("migrate", "workspace_builders.migrate.Migrate")
Builders.subcommand("path", "workspace_builders.listing.BuilderPath")
Builders.subcommand("scaffold", "workspace_builders.scaffold.Scaffold")
Builders.subcommand("hooks", Hooks)
Hooks.subcommand("install", "workspace_builders.hooks_commands.Install")
Hooks.subcommand("uninstall", "workspace_builders.hooks_commands.Uninstall")
Builders.subcommand("hook", Hook)
Hook.subcommand("post-checkout", "workspace_builders.hook_post_checkout.PostCheckout")
Hook.subcommand("pre-commit", "workspace_builders.hook_pre_commit.PreCommit")
Hook.subcommand("worktree-create", "workspace_builders.hook_worktree.WorktreeCreate")
Hook.subcommand("worktree-remove", "workspace_builders.hook_worktree.WorktreeRemove")
Builders.subcommand("repos", Repos)
Repos.subcommand("sync", "workspace_builders.repos_sync.Sync")
Builders.subcommand("status", "workspace_builders.status.Status")
Builders.subcommand("sync", "workspace_builders.sync.Sync")
Builders.subcommand("land", "workspace_builders.land.Land")
Builders.subcommand("push", "workspace_builders.push.Push")
Builders.subcommand("restore", "workspace_builders.restore.Restore")
Builders.subcommand("run", "workspace_builders.session_run.Run")
Builders.subcommand("exec", "workspace_builders.session_run.Exec")
Builders.subcommand("start", "workspace_builders.session_run.Start")
Builders.subcommand("mcp", "workspace_builders.mcp_server.Mcp")


def main(argv: list[str] | None = None) -> int:
    return run_tool(Builders, PROG, argv)


def run_tool(app: type[cli.Application], prog: str, argv: list[str] | None = None) -> int:
    """Run `app` as the program `prog` (the name its help and hints show): the one error boundary."""
    interrupts.install()
    try:
        _, code = app.run([prog, *(sys.argv[1:] if argv is None else argv)], exit=False)
        return int(code)
    except BuildersError as exc:
        output.error(exc.message, exc.hint)
        return exc.exit_code
    except (KeyboardInterrupt, interrupts.Terminated) as exc:
        output.error("interrupted", "run the same command again: it completes or cleans up what was left")
        return interrupts.exit_code(exc)
    except OSError as exc:  # the world's: a file, a folder or a limit (what the run made is rolled back)
        failed = from_the_world(exc)
        output.error(failed.message, failed.hint)
        return failed.exit_code
    except Exception:
        log = _write_crash_log()
        output.error(
            f"unexpected error (a bug in workspace-builders); the traceback is in {log}", "report it with that file"
        )
        return BUG


def _write_crash_log() -> str:
    import tempfile  # only a crash pays for it
    import traceback

    with tempfile.NamedTemporaryFile("w", prefix="builders-crash-", suffix=".log", delete=False) as log:
        log.write(f"workspace-builders {__version__}\nargv: {sys.argv!r}\n\n")
        log.write(traceback.format_exc())
        return log.name
