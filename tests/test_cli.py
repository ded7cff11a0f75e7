"""The command tree: every command's help, groups alone, and usage errors naming the right help."""

from __future__ import annotations

import pytest

from conftest import Builders, Unchanged, mounted
from workspace_builders import __version__, cli

COMMANDS = sorted(mounted(cli.Builders))


def _about(path: tuple[str, ...]) -> str:
    app = mounted(cli.Builders)[path]
    if isinstance(app, str):
        module, name = app.rsplit(".", 1)
        app = getattr(__import__(module, fromlist=[name]), name)
    assert isinstance(app, type) and isinstance(app.DESCRIPTION, str)
    return app.DESCRIPTION


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(p) for p in COMMANDS])
def test_every_command_has_help(builders: Builders, unchanged: Unchanged, path: tuple[str, ...]) -> None:
    with unchanged():
        result = builders(*path, "--help")
    assert result.code == 0, result.err
    assert f"\nUsage:\n    builders {' '.join(path)} [SWITCHES]" in result.out  # plumbum.cli's help
    assert " ".join(_about(path).split()) in " ".join(result.out.split())
    assert result.err == ""


def test_top_help_lists_every_command(builders: Builders) -> None:
    result = builders("--help")
    assert result.code == 0
    words = " ".join(result.out.split())  # plumbum wraps the lines to the terminal's width
    for path in COMMANDS:
        if len(path) == 1:
            assert f"\n    {path[0]} " in result.out and " ".join(_about(path).split()) in words


@pytest.mark.parametrize("group", ["hooks", "hook", "repos"])
def test_a_group_alone_prints_its_help(builders: Builders, group: str) -> None:
    result = builders(group)
    assert result.code == 2
    assert f"\nUsage:\n    builders {group} " in result.out
    for path in COMMANDS:
        if path[:1] == (group,) and len(path) == 2:
            assert f"\n    {path[1]} " in result.out


def test_unknown_subcommand_of_a_group(builders: Builders, unchanged: Unchanged) -> None:
    with unchanged():
        result = builders("hooks", "frob")
    assert result.code == 2
    assert result.err == "error: unknown command 'frob'\nhint: see: builders hooks --help\n"


def test_version(builders: Builders) -> None:
    result = builders("--version")
    assert result.code == 0 and result.out == f"builders {__version__}\n"
