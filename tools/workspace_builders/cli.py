"""The `builders` command: subcommands, and the one boundary that turns errors into exit codes.

Exit codes: 0 ok; 1 the operation failed or a check found problems; 2 bad usage or bad input
(nothing was changed); 3 unexpected error (a bug; the traceback is written to a log); 130 interrupted.
Command modules are imported when their subcommand runs, so start-up stays cheap.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from workspace_builders import __version__, output
from workspace_builders.errors import BuildersError, bad_input

INTERRUPTED = 130
BUG = 3

Run = Callable[[argparse.Namespace], int]


class Parser(argparse.ArgumentParser):
    """Usage errors become BuildersError (exit 2, `error:` and `hint:` on stderr)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise bad_input(message, f"see: {self.prog} --help")


def _new(args: argparse.Namespace) -> int:
    from workspace_builders.new import new

    return new(Path.cwd(), args.name, args.repos, args.base, args.dry_run, args.json)


def _add(args: argparse.Namespace) -> int:
    from workspace_builders.sibling_worktree_add import add

    return add(Path.cwd(), args.name, args.base, args.dry_run, args.json)


def _init(args: argparse.Namespace) -> int:
    from workspace_builders.builder_init import init

    return init(Path.cwd(), args.repos, args.builder, args.dry_run, args.json)


def _remove(args: argparse.Namespace) -> int:
    from workspace_builders.safe_remove import remove

    return remove(Path.cwd(), args.name, args.force, args.keep_branches, args.dry_run, args.json)


def _prune(args: argparse.Namespace) -> int:
    from workspace_builders.prune import prune

    return prune(Path.cwd(), args.dry_run, args.json, args.empty_trash, args.older_than)


def _list(args: argparse.Namespace) -> int:
    from workspace_builders.listing import list_builders

    return list_builders(Path.cwd(), args.json, args.fast, args.removed)


def _verify(args: argparse.Namespace) -> int:
    from workspace_builders.verify import verify

    return verify(Path.cwd(), args.names, args.json)


def _migrate(args: argparse.Namespace) -> int:
    from workspace_builders.migrate import migrate

    return migrate(Path.cwd(), args.dry_run)


def _path(args: argparse.Namespace) -> int:
    from workspace_builders.listing import builder_path

    output.result(str(builder_path(Path.cwd(), args.name)))
    return 0


def _scaffold(args: argparse.Namespace) -> int:
    from workspace_builders.scaffold import scaffold

    return scaffold(Path.cwd(), args.dry_run, force=args.force, hooks=not args.no_hooks)


def _hooks_install(args: argparse.Namespace) -> int:
    from workspace_builders.hooks_install import install

    return install(Path.cwd(), args.force, args.dry_run)


def _hooks_uninstall(args: argparse.Namespace) -> int:
    from workspace_builders.hooks_install import uninstall

    return uninstall(Path.cwd(), args.dry_run)


def _hook(args: argparse.Namespace) -> int:
    if args.hook == "post-checkout":
        from workspace_builders.hook_post_checkout import post_checkout

        return post_checkout(Path.cwd(), tuple(args.args))
    from workspace_builders.hook_pre_commit import pre_commit

    return pre_commit(Path.cwd())


def _repos_sync(args: argparse.Namespace) -> int:
    from workspace_builders.repos_sync import sync

    return sync(Path.cwd(), args.jobs, args.fetch, args.dry_run, args.json)


Commands = argparse._SubParsersAction  # what add_subparsers returns


def _command(commands: Commands[Parser], name: str, about: str, run: Run | None = None) -> Parser:
    """A subcommand; without `run` it is a group, which run alone prints its help and exits 2."""
    parser = commands.add_parser(name, help=about, description=about, allow_abbrev=False)
    parser.set_defaults(run=run or _help_of(parser), prog=parser.prog)
    return parser


def _help_of(parser: Parser) -> Run:
    def run(_: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    return run


def _subcommands(parser: Parser) -> Commands[Parser]:
    return parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=Parser)


def _flag(parser: Parser, switch: str, about: str) -> None:
    parser.add_argument(switch, action="store_true", help=about)


def _dry_run(parser: Parser, about: str = "print the plan and change nothing") -> None:
    _flag(parser, "--dry-run", about)


def _json(parser: Parser) -> None:
    _flag(parser, "--json", "print one JSON document on stdout (shape: README)")


def parser() -> Parser:
    top = Parser(
        prog="builders",
        description="Isolated per-session checkouts of a multi-repo workspace, as sibling git worktrees.",
        allow_abbrev=False,  # `--f` must never be taken for `--force`
    )
    top.add_argument("--version", action="version", version=f"builders {__version__}")
    top.set_defaults(run=_help_of(top), prog=top.prog)
    commands = _subcommands(top)

    new = _command(
        commands, "new", "create a builder: a worktree of the root in the builders folder, with repo worktrees", _new
    )
    new.add_argument("name")
    new.add_argument("--repos", help="repos to include: a,b or a:base,b or all (default: builders.default_repos)")
    new.add_argument("--base", help="the root's base (default HEAD; required when the root has uncommitted changes)")
    _dry_run(new)
    _json(new)

    add = _command(commands, "add", "create only the builder worktree of the root, with no repos", _add)
    add.add_argument("name")
    add.add_argument("--base", help="the root's base (default HEAD)")
    _dry_run(add)
    _json(add)

    init = _command(
        commands, "init", "add repo worktrees, copy-in files and run setup, in this builder or the one named", _init
    )
    init.add_argument("--repos", help="repos to add: a,b or a:base,b or all (default: builders.default_repos)")
    init.add_argument("--builder", help="the builder's name (default: the builder you are in)")
    _dry_run(init)
    _json(init)

    remove = _command(
        commands, "remove", "remove a builder and its repo worktrees; refuses when work would be lost", _remove
    )
    remove.add_argument("name")
    _flag(remove, "--force", "save what would be lost under refs/builders/archive/..., then remove")
    _flag(remove, "--keep-branches", "keep the builder's branches even when they hold nothing")
    _dry_run(remove)
    _json(remove)

    prune = _command(
        commands,
        "prune",
        "clean stale worktree entries, close vanished builders, move proven orphans to the trash",
        _prune,
    )
    _flag(prune, "--empty-trash", "delete what prune moved to the trash (default: older than 7d)")
    prune.add_argument("--older-than", help="with --empty-trash: an age such as 7d, 12h, 30m")
    _dry_run(prune)
    _json(prune)

    listing = _command(
        commands, "list", "one row per builder: branch, repos, dirty, ahead/behind its base, age, status, path", _list
    )
    _flag(listing, "--fast", "skip the per-worktree status (dirty, ahead/behind)")
    _flag(listing, "--removed", "list removed builders: when, archive refs, kept branches")
    _json(listing)

    verify = _command(
        commands,
        "verify",
        "check layout, links and state of every builder (or those named); exit 1 on a failure",
        _verify,
    )
    verify.add_argument("names", nargs="*", metavar="NAME")
    _json(verify)

    migrate = _command(
        commands, "migrate", "move builders of the deprecated nested layout to the sibling builders folder", _migrate
    )
    _dry_run(migrate)

    path = _command(commands, "path", 'print a builder\'s path, for cd "$(builders path NAME)"', _path)
    path.add_argument("name")

    scaffold = _command(
        commands, "scaffold", "copy the workspace-root templates into this root and install the hooks", _scaffold
    )
    _flag(scaffold, "--force", "replace files that differ from the templates, keeping each old one as NAME.orig")
    _flag(scaffold, "--no-hooks", "do not install the git hooks")
    _dry_run(scaffold, "print what would be written and change nothing")

    hooks = _subcommands(_command(commands, "hooks", "install or remove the git hooks in the root's git common dir"))
    install = _command(
        hooks,
        "install",
        "install the hooks; a hook already there is kept as HOOK.legacy and still runs",
        _hooks_install,
    )
    _flag(install, "--force", "when core.hooksPath is set, install into the folder it names")
    _dry_run(install, "print what would be done and change nothing")
    uninstall = _command(
        hooks, "uninstall", "remove only our hooks and put back the ones they replaced", _hooks_uninstall
    )
    _dry_run(uninstall, "print what would be done and change nothing")

    hook = _command(commands, "hook", "run a hook's checks (what the installed git hooks call)", _hook)
    hook.add_argument("hook", choices=["post-checkout", "pre-commit"])
    hook.add_argument("args", nargs="*", metavar="ARG", help="post-checkout: OLD NEW FLAG, as git passes them")

    repos = _subcommands(_command(commands, "repos", "work on the clones under repos/"))
    sync = _command(
        repos, "sync", "clone every repo declared with a url in workspaces.yaml into repos/, in parallel", _repos_sync
    )
    _flag(sync, "--fetch", "also fetch the repos already cloned")
    sync.add_argument("--jobs", type=int, help="clones at a time (default: CPU count, at most 8)")
    _dry_run(sync)
    _json(sync)
    return top


def main(argv: list[str] | None = None) -> int:
    try:
        args, unknown = parser().parse_known_args(sys.argv[1:] if argv is None else argv)
        if unknown:  # named here, so that the hint names the subcommand's help
            raise bad_input(
                f"unknown argument{'s' if len(unknown) > 1 else ''}: {' '.join(unknown)}", f"see: {args.prog} --help"
            )
        code: int = args.run(args)
        return code
    except SystemExit as exc:  # --help and --version print, then exit 0
        return int(exc.code or 0)
    except BuildersError as exc:
        output.error(exc.message, exc.hint)
        return exc.exit_code
    except KeyboardInterrupt:
        output.error("interrupted", "run the same command again: it completes or cleans up what was left")
        return INTERRUPTED
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
