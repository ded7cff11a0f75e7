"""The `builders` command (a plumbum.cli Application), and the one boundary that turns errors into exit codes.

Exit codes: 0 ok; 1 the operation failed or a check found problems; 2 bad usage or bad input
(nothing was changed); 3 unexpected error (a bug; the traceback is written to a log); 4 `land` landed
but its --push or --remove did not complete; 127 `run`/`exec`: the command is not there; 130
interrupted (SIGINT), 143 terminated (SIGTERM).
Each command is an Application at the end of its own module, mounted here by its dotted path, so
running a command imports only that module (and `builders --help` imports them all, for their lines).
"""

from __future__ import annotations

import sys

from plumbum import cli

from workspace_builders import __version__
from workspace_builders.base import interface, interrupts, output
from workspace_builders.base.errors import BuildersError, bad_input, from_the_world
from workspace_builders.commands.base import Group

BUG = 3
PROG = "builders"


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
Builders.subcommand("new", "workspace_builders.commands.new.New")
Builders.subcommand("add", "workspace_builders.commands.sibling_worktree_add.Add")
Builders.subcommand("init", "workspace_builders.commands.builder_init.Init")
Builders.subcommand("remove", "workspace_builders.commands.safe_remove.Remove")
Builders.subcommand("prune", "workspace_builders.commands.prune.Prune")
Builders.subcommand("list", "workspace_builders.commands.listing.List")
Builders.subcommand("verify", "workspace_builders.commands.verify.Verify")
Builders.subcommand("migrate", "workspace_builders.commands.migrate.Migrate")
Builders.subcommand("path", "workspace_builders.commands.listing.BuilderPath")
Builders.subcommand("scaffold", "workspace_builders.commands.scaffold.Scaffold")
Builders.subcommand("hooks", Hooks)
Hooks.subcommand("install", "workspace_builders.commands.hooks_commands.Install")
Hooks.subcommand("uninstall", "workspace_builders.commands.hooks_commands.Uninstall")
Builders.subcommand("hook", Hook)
Hook.subcommand("post-checkout", "workspace_builders.commands.hook_post_checkout.PostCheckout")
Hook.subcommand("pre-commit", "workspace_builders.commands.hook_pre_commit.PreCommit")
Hook.subcommand("worktree-create", "workspace_builders.commands.hook_worktree.WorktreeCreate")
Hook.subcommand("worktree-remove", "workspace_builders.commands.hook_worktree.WorktreeRemove")
Builders.subcommand("repos", Repos)
Repos.subcommand("sync", "workspace_builders.commands.repos_sync.Sync")
Builders.subcommand("status", "workspace_builders.commands.status.Status")
Builders.subcommand("sync", "workspace_builders.commands.sync.Sync")
Builders.subcommand("land", "workspace_builders.commands.land.Land")
Builders.subcommand("push", "workspace_builders.commands.push.Push")
Builders.subcommand("restore", "workspace_builders.commands.restore.Restore")
Builders.subcommand("run", "workspace_builders.commands.session_run.Run")
Builders.subcommand("exec", "workspace_builders.commands.session_run.Exec")
Builders.subcommand("start", "workspace_builders.commands.session_run.Start")
Builders.subcommand("mcp", "workspace_builders.commands.mcp_server.Mcp")


def main(argv: list[str] | None = None) -> int:
    return run_tool(Builders, PROG, argv)


def run_tool(app: type[cli.Application], prog: str, argv: list[str] | None = None) -> int:
    """Run `app` as the program `prog` (the name its help and hints show): the one error boundary."""
    interrupts.install()
    args = sys.argv[1:] if argv is None else argv
    interface.typed(prog, args)
    try:
        _, code = app.run([prog, *args], exit=False)
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
