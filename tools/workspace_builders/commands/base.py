"""What every command is: a plumbum.cli Application whose usage errors end as bad input (exit 2) at the
one boundary (cli.run_tool), and the switches every command of a kind takes.

plumbum reports usage errors itself, through three methods of its Application (`_parse_args`,
`_validate_args`, `_handle_argument`); this is the one place that refines them, and
tests/test_imports.py::test_plumbum_methods_refined_here fails when plumbum changes them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from plumbum import cli
from plumbum.cli.application import ShowCompletion, ShowHelp, ShowHelpAll, ShowVersion
from plumbum.cli.switches import PositionalArgumentsError, SwitchError, WrongArgumentType

from workspace_builders import __version__
from workspace_builders.base import interface
from workspace_builders.base.errors import BuildersError, bad_input
from workspace_builders.base.names import closest

TYPE_CHECKING = False  # annotations are never evaluated
if TYPE_CHECKING:
    from workspace_builders.model.workspace import Location

# What plumbum raises to print help or the version and stop: not usage errors.
_META = (ShowHelp, ShowHelpAll, ShowVersion, ShowCompletion)


def start_dir() -> Path:
    """The folder every command starts from (it finds the workspace from there)."""
    from workspace_builders.model.workspace import start_folder

    return start_folder()


def find_workspace(check_config: bool = True) -> Location | BuildersError:
    """The workspace the command starts in, its config loaded and checked (a broken one raises); outside
    any workspace, the error that says so, for the command to raise if it needs one."""
    from workspace_builders.model.workspace import discover

    try:
        location = discover(start_dir())
    except BuildersError as exc:
        return exc
    if check_config:
        location.workspace.config  # noqa: B018 (loading it is the check)
    return location


class Command(cli.Application):
    """Every command and group: a usage error (unknown or abbreviated switch, missing or extra argument,
    bad value) becomes bad input at the one boundary, instead of plumbum's own printout."""

    VERSION = __version__
    ALLOW_ABBREV = False
    SUBCOMMAND_HELPMSG = False
    # Parse, then load and check the workspace's config, then act: a broken workspaces.yaml stops
    # every command run in a workspace, not only those that happen to read it.
    CHECKS_CONFIG = True
    _found: Location | BuildersError | None = None

    def usage_error(self, message: str, typed: str | None = None, known: Sequence[str] = ()) -> BuildersError:
        """Bad usage: exit 2, the hint the help; or, for a misspelt `typed` close to one of `known`,
        the command line as typed with it put right."""
        match = closest(typed, known) if typed else None
        if typed and match:
            return bad_input(message, interface.meant(typed, match, f"see: {self.PROGNAME} --help"))
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
            message = _first_line(exc)
            unknown = message.startswith("unknown switch ")
            typed = message.removeprefix("unknown switch ").split("=")[0] if unknown else None
            known = [f"--{name}" for name in self._switches_by_name if len(name) > 1]
            raise self.usage_error(message, typed, known) from None

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
            self._found = find_workspace()
        return validated

    def location(self) -> Location:
        """The workspace this command runs in, found once at the boundary with its config checked (the
        commands act on this one, never discover it again); the error when it starts outside one."""
        found = self._found if self._found is not None else find_workspace(self.CHECKS_CONFIG)
        self._found = found
        if isinstance(found, BuildersError):
            raise found
        return found

    def _positional_problem(self, given: Sequence[str]) -> str:
        import inspect  # only a usage error pays for it

        spec = inspect.getfullargspec(self.main)
        names = spec.args[1:]
        if len(given) < len(names):
            return f"missing argument: {' '.join(names[len(given) :])}"
        return f"unexpected argument: {' '.join(given[len(names) :])}"


# The usage line of a command whose NAME may be left out inside a builder (plumbum would show the
# `*name` it is taken as: `name...`).
OPTIONAL_NAME = "    {progname} [SWITCHES] [NAME]\n"


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
            raise self.usage_error(f"unknown command {words[0]!r}", words[0], sorted(self._subcommands))
        self.help()
        return 2


def _first_line(exc: Exception) -> str:
    return _lower_first(str(exc).splitlines()[0].rstrip(":"))


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
