"""The command table: every command's help, groups alone, and usage errors naming the right help."""

from __future__ import annotations

import pytest

from conftest import Builders, Unchanged
from workspace_builders import __version__, cli


def _paths(group: cli.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        found.append((*prefix, name))
        if isinstance(command, cli.Group):
            found += _paths(command, (*prefix, name))
    return found


COMMANDS = _paths(cli.BUILDERS)


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(p) for p in COMMANDS])
def test_every_command_has_help(builders: Builders, unchanged: Unchanged, path: tuple[str, ...]) -> None:
    with unchanged():
        result = builders(*path, "--help")
    assert result.code == 0, result.err
    assert result.out.startswith(f"usage: builders {' '.join(path)}")
    assert result.err == ""


def test_top_help_lists_every_command(builders: Builders) -> None:
    result = builders("--help")
    assert result.code == 0
    for name, command in cli.BUILDERS.commands.items():
        assert f"  {name}" in result.out and command.about in result.out


@pytest.mark.parametrize("group", ["hooks", "repos"])
def test_a_group_alone_prints_its_help(builders: Builders, group: str) -> None:
    result = builders(group)
    assert result.code == 2
    assert result.out.startswith(f"usage: builders {group}")
    commands = cli.BUILDERS.commands[group]
    assert isinstance(commands, cli.Group)
    for name in commands.commands:
        assert f"  {name}" in result.out


def test_unknown_subcommand_of_a_group(builders: Builders, unchanged: Unchanged) -> None:
    with unchanged():
        result = builders("hooks", "frob")
    assert result.code == 2
    assert "invalid choice: 'frob'" in result.err and "hint: see: builders hooks --help" in result.err


def test_version(builders: Builders) -> None:
    result = builders("--version")
    assert result.code == 0 and result.out == f"builders {__version__}\n"
