"""The `builders` command: subcommands, and the one boundary that turns errors into exit codes.

Exit codes: 0 ok; 1 the operation failed or a check found problems; 2 bad usage or bad input
(nothing was changed); 3 unexpected error (a bug; the traceback is written to a log); 130 interrupted.
Command modules are imported when their subcommand runs, so start-up stays cheap.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Any

from plumbum import cli
from plumbum.cli.application import ShowCompletion, ShowHelp, ShowHelpAll, ShowVersion

from workspace_builders import __version__, output
from workspace_builders.errors import BuildersError, bad_input

_META_SWITCHES = (ShowHelp, ShowHelpAll, ShowVersion, ShowCompletion)
INTERRUPTED = 130
BUG = 3


class Command(cli.Application):
    """Usage errors become BuildersError (exit 2, on stderr) instead of plumbum's text on stdout."""

    def _parse_args(self, argv: list[str]) -> Any:
        try:
            return super()._parse_args(argv)
        except _META_SWITCHES:
            raise  # --help, --version: plumbum answers those itself
        except cli.SwitchError as exc:
            raise bad_input(_lower(str(exc)), f"see: {self._usage_name()} --help") from None

    def _validate_args(self, swfuncs: Any, tailargs: Any) -> Any:
        try:
            return super()._validate_args(swfuncs, tailargs)
        except _META_SWITCHES:
            raise
        except cli.SwitchError as exc:
            raise bad_input(_lower(str(exc)), f"see: {self._usage_name()} --help") from None

    def _usage_name(self) -> str:
        return str(self.PROGNAME)


def _lower(text: str) -> str:
    return text[:1].lower() + text[1:]


class Group(Command):
    """A command made of subcommands: alone, it prints its help."""

    def main(self, *args: str) -> int:
        if args:
            raise bad_input(f"unknown command {args[0]!r}", f"see: {self._usage_name()} --help")
        if not self.nested_command:
            self.help()
            return 2
        return 0


class Builders(Group):
    """Isolated per-session checkouts of a multi-repo workspace, as sibling git worktrees."""

    PROGNAME = "builders"
    VERSION = __version__


class MutatingCommand(Command):
    dry_run = cli.Flag("--dry-run", help="print the plan and change nothing")
    json = cli.Flag("--json", help="print one JSON document on stdout (shape: README)")


@Builders.subcommand("new")
class New(MutatingCommand):
    """Create a builder: a worktree of the root in the builders folder, with nested repo worktrees"""

    PROGNAME = "builders new"
    repos = cli.SwitchAttr(
        "--repos", str, help="repos to include: a,b or a:base,b or all (default: builders.default_repos)"
    )
    base = cli.SwitchAttr(
        "--base", str, help="the root's base (default HEAD; required when the root has uncommitted changes)"
    )

    def main(self, name: str) -> int:
        from workspace_builders.new import new

        return new(Path.cwd(), name, self.repos, self.base, self.dry_run, self.json)


@Builders.subcommand("add")
class Add(MutatingCommand):
    """Create only the builder worktree of the root, with no repos (see: builders init)"""

    PROGNAME = "builders add"
    base = cli.SwitchAttr("--base", str, help="the root's base (default HEAD)")

    def main(self, name: str) -> int:
        from workspace_builders.sibling_worktree_add import add

        return add(Path.cwd(), name, self.base, self.dry_run, self.json)


@Builders.subcommand("init")
class Init(MutatingCommand):
    """Add nested repo worktrees, copy-in files and run setup, in this builder or the one named"""

    PROGNAME = "builders init"
    repos = cli.SwitchAttr(
        "--repos", str, help="repos to add: a,b or a:base,b or all (default: builders.default_repos)"
    )
    builder = cli.SwitchAttr("--builder", str, help="the builder's name (default: the builder you are in)")

    def main(self) -> int:
        from workspace_builders.builder_init import init

        return init(Path.cwd(), self.repos, self.builder, self.dry_run, self.json)


@Builders.subcommand("remove")
class Remove(MutatingCommand):
    """Remove a builder and its repo worktrees; refuses when work would be lost"""

    PROGNAME = "builders remove"
    force = cli.Flag("--force", help="save what would be lost under refs/builders/archive/..., then remove")
    keep_branches = cli.Flag("--keep-branches", help="keep the builder's branches even when they hold nothing")

    def main(self, name: str) -> int:
        from workspace_builders.safe_remove import remove

        return remove(Path.cwd(), name, self.force, self.keep_branches, self.dry_run, self.json)


@Builders.subcommand("prune")
class Prune(MutatingCommand):
    """Clean stale worktree entries, close vanished builders, move proven orphans to the trash"""

    PROGNAME = "builders prune"
    empty_trash = cli.Flag("--empty-trash", help="delete what prune moved to the trash (default: older than 7d)")
    older_than = cli.SwitchAttr("--older-than", str, help="with --empty-trash: an age such as 7d, 12h, 30m")

    def main(self) -> int:
        from workspace_builders.prune import prune

        return prune(Path.cwd(), self.dry_run, self.json, self.empty_trash, self.older_than)


@Builders.subcommand("list")
class List(Command):
    """One row per builder: branch, repos, dirty, ahead/behind its base, age, status, path"""

    PROGNAME = "builders list"
    json = cli.Flag("--json", help="print one JSON document on stdout (shape: README)")
    fast = cli.Flag("--fast", help="skip the per-worktree status (dirty, ahead/behind)")
    removed = cli.Flag("--removed", help="list removed builders: when, archive refs, kept branches")

    def main(self) -> int:
        from workspace_builders.listing import list_builders

        return list_builders(Path.cwd(), self.json, self.fast, self.removed)


@Builders.subcommand("verify")
class Verify(Command):
    """Check layout, links and state of every builder (or those named); exit 1 when any check fails"""

    PROGNAME = "builders verify"
    json = cli.Flag("--json", help="print one JSON document on stdout (shape: README)")

    def main(self, *names: str) -> int:
        from workspace_builders.verify import verify

        return verify(Path.cwd(), list(names), self.json)


@Builders.subcommand("migrate")
class Migrate(Command):
    """Move builders of the deprecated nested layout (inside the root) to the sibling builders folder"""

    PROGNAME = "builders migrate"
    dry_run = cli.Flag("--dry-run", help="print the plan and change nothing")

    def main(self) -> int:
        from workspace_builders.migrate import migrate

        return migrate(Path.cwd(), self.dry_run)


@Builders.subcommand("path")
class PathOf(Command):
    """Print a builder's path, for cd "$(builders path NAME)" """

    PROGNAME = "builders path"

    def main(self, name: str) -> int:
        from workspace_builders.listing import builder_path

        output.result(str(builder_path(Path.cwd(), name)))
        return 0


@Builders.subcommand("scaffold")
class Scaffold(Command):
    """Copy the workspace-root templates (Taskfile.yaml, Makefile, ...) into this root and install the hooks"""

    PROGNAME = "builders scaffold"
    dry_run = cli.Flag("--dry-run", help="print what would be written and change nothing")
    force = cli.Flag("--force", help="replace files that differ from the templates, keeping each old one as NAME.orig")
    no_hooks = cli.Flag("--no-hooks", help="do not install the git hooks")

    def main(self) -> int:
        from workspace_builders.scaffold import scaffold

        return scaffold(Path.cwd(), self.dry_run, force=self.force, hooks=not self.no_hooks)


@Builders.subcommand("hooks")
class Hooks(Group):
    """Install or remove the git hooks (post-checkout, pre-commit) in the root's git common dir"""

    PROGNAME = "builders hooks"


@Hooks.subcommand("install")
class HooksInstall(Command):
    """Install the hooks for the root and every builder; a hook already there is kept as HOOK.legacy and still runs"""

    PROGNAME = "builders hooks install"
    dry_run = cli.Flag("--dry-run", help="print what would be done and change nothing")
    force = cli.Flag("--force", help="when core.hooksPath is set, install into the folder it names")

    def main(self) -> int:
        from workspace_builders.hooks_install import install

        return install(Path.cwd(), self.force, self.dry_run)


@Hooks.subcommand("uninstall")
class HooksUninstall(Command):
    """Remove only our hooks and put back the ones they replaced, byte for byte"""

    PROGNAME = "builders hooks uninstall"
    dry_run = cli.Flag("--dry-run", help="print what would be done and change nothing")

    def main(self) -> int:
        from workspace_builders.hooks_install import uninstall

        return uninstall(Path.cwd(), self.dry_run)


@Builders.subcommand("hook")
class Hook(Command):
    """Run a hook's checks (what the installed git hooks call): post-checkout OLD NEW FLAG, or pre-commit"""

    PROGNAME = "builders hook"

    def main(self, hook: str, *args: str) -> int:
        if hook == "post-checkout":
            from workspace_builders.hook_post_checkout import post_checkout

            return post_checkout(Path.cwd(), args)
        if hook == "pre-commit":
            from workspace_builders.hook_pre_commit import pre_commit

            return pre_commit(Path.cwd())
        raise bad_input(f"unknown hook {hook!r}", "builders hook post-checkout OLD NEW FLAG | builders hook pre-commit")


@Builders.subcommand("repos")
class Repos(Group):
    """Work on the clones under repos/"""

    PROGNAME = "builders repos"


@Repos.subcommand("sync")
class ReposSync(Command):
    """Clone every repo declared with a url in workspaces.yaml into repos/, in parallel; skip ones present"""

    PROGNAME = "builders repos sync"
    dry_run = cli.Flag("--dry-run", help="print the plan and change nothing")
    json = cli.Flag("--json", help="print one JSON document on stdout (shape: README)")
    fetch = cli.Flag("--fetch", help="also fetch the repos already cloned")
    jobs = cli.SwitchAttr("--jobs", int, help="clones at a time (default: CPU count, at most 8)")

    def main(self) -> int:
        from workspace_builders.repos_sync import sync

        return sync(Path.cwd(), self.jobs, self.fetch, self.dry_run, self.json)


def main(argv: list[str] | None = None) -> int:
    args = ["builders", *(sys.argv[1:] if argv is None else argv)]
    try:
        _, code = Builders.run(args, exit=False)
        return int(code)
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

    with tempfile.NamedTemporaryFile("w", prefix="builders-crash-", suffix=".log", delete=False) as log:
        log.write(f"workspace-builders {__version__}\nargv: {sys.argv!r}\n\n")
        log.write(traceback.format_exc())
        return log.name
