"""The `builders` command: subcommands, and the one boundary that turns errors into exit codes.

Exit codes: 0 ok; 1 the operation failed or a check found problems; 2 bad usage or bad input
(nothing was changed); 3 unexpected error (a bug; the traceback is written to a log); 130 interrupted.
Command modules are imported when their subcommand runs, so start-up stays cheap.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass

from workspace_builders import __version__, interrupts, output
from workspace_builders.errors import BuildersError, bad_input
from workspace_builders.workspace import start_folder

BUG = 3

Run = Callable[[argparse.Namespace], int]


class Parser(argparse.ArgumentParser):
    """Usage errors become BuildersError (exit 2, `error:` and `hint:` on stderr)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise bad_input(message, f"see: {self.prog} --help")


def _flag(parser: Parser, switch: str, about: str) -> None:
    parser.add_argument(switch, action="store_true", help=about)


def _dry_run(parser: Parser, about: str = "print the plan and change nothing") -> None:
    _flag(parser, "--dry-run", about)


def _json(parser: Parser) -> None:
    _flag(parser, "--json", "print one JSON document on stdout (shape: README)")


def _dry_run_and_json(parser: Parser) -> None:
    """What every command that makes or removes builders takes."""
    _dry_run(parser)
    _json(parser)


# Each command: its switches, then what runs it (its module imported only then).


def _new_switches(parser: Parser) -> None:
    parser.add_argument("name")
    parser.add_argument("--repos", help="repos to include: a,b or a:base,b or all (default: builders.default_repos)")
    parser.add_argument("--base", help="the root's base (default HEAD; required when the root has uncommitted changes)")
    _dry_run_and_json(parser)


def _new(args: argparse.Namespace) -> int:
    from workspace_builders.new import new

    return new(start_folder(), args.name, args.repos, args.base, args.dry_run, args.json)


def _add_switches(parser: Parser) -> None:
    parser.add_argument("name")
    parser.add_argument("--base", help="the root's base (default HEAD)")
    _dry_run_and_json(parser)


def _add(args: argparse.Namespace) -> int:
    from workspace_builders.sibling_worktree_add import add

    return add(start_folder(), args.name, args.base, args.dry_run, args.json)


def _init_switches(parser: Parser) -> None:
    parser.add_argument("--repos", help="repos to add: a,b or a:base,b or all (default: builders.default_repos)")
    parser.add_argument("--builder", help="the builder's name (default: the builder you are in)")
    _dry_run_and_json(parser)


def _init(args: argparse.Namespace) -> int:
    from workspace_builders.builder_init import init

    return init(start_folder(), args.repos, args.builder, args.dry_run, args.json)


def _remove_switches(parser: Parser) -> None:
    parser.add_argument("name")
    _flag(parser, "--force", "save what would be lost under refs/builders/archive/..., then remove")
    _flag(parser, "--keep-branches", "keep the builder's branches even when they hold nothing")
    _dry_run_and_json(parser)


def _remove(args: argparse.Namespace) -> int:
    from workspace_builders.safe_remove import remove

    return remove(start_folder(), args.name, args.force, args.keep_branches, args.dry_run, args.json)


def _prune_switches(parser: Parser) -> None:
    _flag(parser, "--empty-trash", "delete what prune moved to the trash (default: older than 7d)")
    parser.add_argument("--older-than", help="with --empty-trash: an age such as 7d, 12h, 30m")
    _dry_run_and_json(parser)


def _prune(args: argparse.Namespace) -> int:
    from workspace_builders.prune import prune

    return prune(start_folder(), args.dry_run, args.json, args.empty_trash, args.older_than)


def _list_switches(parser: Parser) -> None:
    _flag(parser, "--fast", "skip the per-worktree status (dirty, ahead/behind)")
    _flag(parser, "--removed", "list removed builders: when, archive refs, kept branches")
    _json(parser)


def _list(args: argparse.Namespace) -> int:
    from workspace_builders.listing import list_builders

    return list_builders(start_folder(), args.json, args.fast, args.removed)


def _verify_switches(parser: Parser) -> None:
    parser.add_argument("names", nargs="*", metavar="NAME")
    _json(parser)


def _verify(args: argparse.Namespace) -> int:
    from workspace_builders.verify import verify

    return verify(start_folder(), args.names, args.json)


def _migrate(args: argparse.Namespace) -> int:
    from workspace_builders.migrate import migrate

    return migrate(start_folder(), args.dry_run)


def _name_switch(parser: Parser) -> None:
    parser.add_argument("name")


def _path(args: argparse.Namespace) -> int:
    from workspace_builders.listing import builder_path

    output.result(str(builder_path(start_folder(), args.name)))
    return 0


def _scaffold_switches(parser: Parser) -> None:
    _flag(parser, "--force", "replace files that differ from the templates, keeping each old one as NAME.orig")
    _flag(parser, "--no-hooks", "do not install the git hooks")
    _dry_run(parser, "print what would be written and change nothing")


def _scaffold(args: argparse.Namespace) -> int:
    from workspace_builders.scaffold import scaffold

    return scaffold(start_folder(), args.dry_run, force=args.force, hooks=not args.no_hooks)


def _hooks_install_switches(parser: Parser) -> None:
    _flag(parser, "--force", "when core.hooksPath is set, install into the folder it names")
    _dry_run(parser, "print what would be done and change nothing")


def _hooks_install(args: argparse.Namespace) -> int:
    from workspace_builders.hooks_install import install

    return install(start_folder(), args.force, args.dry_run)


def _hooks_uninstall_switches(parser: Parser) -> None:
    _dry_run(parser, "print what would be done and change nothing")


def _hooks_uninstall(args: argparse.Namespace) -> int:
    from workspace_builders.hooks_install import uninstall

    return uninstall(start_folder(), args.dry_run)


def _hook_switches(parser: Parser) -> None:
    parser.add_argument("hook", choices=["post-checkout", "pre-commit"])
    parser.add_argument("args", nargs="*", metavar="ARG", help="post-checkout: OLD NEW FLAG, as git passes them")


def _hook(args: argparse.Namespace) -> int:
    if args.hook == "post-checkout":
        from workspace_builders.hook_post_checkout import post_checkout

        return post_checkout(start_folder(), tuple(args.args))
    from workspace_builders.hook_pre_commit import pre_commit

    return pre_commit(start_folder())


def _sync_switches(parser: Parser) -> None:
    _flag(parser, "--fetch", "also fetch the repos already cloned")
    parser.add_argument("--jobs", type=int, help="clones at a time (default: CPU count, at most 8)")
    _dry_run_and_json(parser)


def _repos_sync(args: argparse.Namespace) -> int:
    from workspace_builders.repos_sync import sync

    return sync(start_folder(), args.jobs, args.fetch, args.dry_run, args.json)


@dataclass(frozen=True)
class Command:
    about: str
    switches: Callable[[Parser], None]
    run: Run


@dataclass(frozen=True)
class Group:
    about: str
    commands: dict[str, Command | Group]


BUILDERS = Group(
    "Isolated per-session checkouts of a multi-repo workspace, as sibling git worktrees.",
    {
        "new": Command(
            "create a builder: a worktree of the root in the builders folder, with repo worktrees", _new_switches, _new
        ),
        "add": Command("create only the builder worktree of the root, with no repos", _add_switches, _add),
        "init": Command(
            "add repo worktrees, copy-in files and run setup, in this builder or the one named", _init_switches, _init
        ),
        "remove": Command(
            "remove a builder and its repo worktrees; refuses when work would be lost", _remove_switches, _remove
        ),
        "prune": Command(
            "clean stale worktree entries, close vanished builders, move proven orphans to the trash",
            _prune_switches,
            _prune,
        ),
        "list": Command(
            "one row per builder: branch, repos, dirty, ahead/behind its base, age, status, path", _list_switches, _list
        ),
        "verify": Command(
            "check layout, links and state of every builder (or those named); exit 1 on a failure",
            _verify_switches,
            _verify,
        ),
        "migrate": Command(
            "move builders of the deprecated nested layout to the sibling builders folder", _dry_run, _migrate
        ),
        "path": Command('print a builder\'s path, for cd "$(builders path NAME)"', _name_switch, _path),
        "scaffold": Command(
            "copy the workspace-root templates into this root and install the hooks", _scaffold_switches, _scaffold
        ),
        "hooks": Group(
            "install or remove the git hooks in the root's git common dir",
            {
                "install": Command(
                    "install the hooks; a hook already there is kept as HOOK.legacy and still runs",
                    _hooks_install_switches,
                    _hooks_install,
                ),
                "uninstall": Command(
                    "remove only our hooks and put back the ones they replaced",
                    _hooks_uninstall_switches,
                    _hooks_uninstall,
                ),
            },
        ),
        "hook": Command("run a hook's checks (what the installed git hooks call)", _hook_switches, _hook),
        "repos": Group(
            "work on the clones under repos/",
            {
                "sync": Command(
                    "clone every repo declared with a url in workspaces.yaml into repos/, in parallel",
                    _sync_switches,
                    _repos_sync,
                )
            },
        ),
    },
)


def _dispatch(prog: str, group: Group, argv: list[str]) -> int:
    """The first word picks the command; only that command's parser is built (argparse is slow to
    build sixteen of them)."""
    chosen = group.commands.get(argv[0]) if argv else None
    if isinstance(chosen, Group):
        return _dispatch(f"{prog} {argv[0]}", chosen, argv[1:])
    if isinstance(chosen, Command):
        parser = Parser(prog=f"{prog} {argv[0]}", description=chosen.about, allow_abbrev=False)
        chosen.switches(parser)
        return chosen.run(parser.parse_args(argv[1:]))
    parser = _group_parser(prog, group)
    parser.parse_args(argv)  # --help, --version, or an error naming what is wrong
    parser.print_help()  # no command at all
    return 2


def _group_parser(prog: str, group: Group) -> Parser:
    width = max(map(len, group.commands)) + 2
    listing = "\n".join(f"  {name.ljust(width)}{command.about}" for name, command in group.commands.items())
    parser = Parser(
        prog=prog,
        description=group.about,
        epilog=f"commands:\n{listing}\n\nsee: {prog} COMMAND --help",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    if prog == "builders":
        parser.add_argument("--version", action="version", version=f"builders {__version__}")
    parser.add_argument("command", nargs="?", choices=group.commands, metavar="COMMAND", help="one of those below")
    return parser


def main(argv: list[str] | None = None) -> int:
    interrupts.install()
    try:
        return _dispatch("builders", BUILDERS, sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:  # --help and --version print, then exit 0
        return int(exc.code or 0)
    except BuildersError as exc:
        output.error(exc.message, exc.hint)
        return exc.exit_code
    except (KeyboardInterrupt, interrupts.Terminated) as exc:
        output.error("interrupted", "run the same command again: it completes or cleans up what was left")
        return interrupts.exit_code(exc)
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
