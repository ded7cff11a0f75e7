"""The command tree: every command's help, groups alone, and usage errors naming the right help."""

from __future__ import annotations

import json
import os
from pathlib import Path

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


def test_dash_c_points_at_a_workspace_from_outside(
    root: Path, tmp_path: Path, builders: Builders, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PWD", str(tmp_path))  # -C sets it, as a shell's cd would; put it back after the test
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    made = builders("-C", str(root), "new", "slack", "--repos", "alpha", cwd=outside)
    assert made.code == 0, made.err
    builder = root.parent / f"{root.name}.builders" / "slack"
    assert (builder / "repos/alpha/.git").is_file()
    relative = os.path.relpath(builder, outside)
    found = builders("-C", relative, "path", "slack", cwd=outside)
    assert found.code == 0 and found.out == f"{builder}\n"
    listed = builders("-C", str(root), "list", "--json", cwd=outside)
    assert listed.code == 0 and [b["name"] for b in json.loads(listed.out)["builders"]] == ["slack"]
    alone = builders("list", cwd=outside)  # without -C, outside every workspace
    assert alone.code == 2 and "error: not inside a workspace" in alone.err


def test_dash_c_to_a_missing_folder_is_bad_input(
    root: Path, tmp_path: Path, builders: Builders, unchanged: Unchanged
) -> None:
    with unchanged():
        result = builders("-C", str(tmp_path / "nowhere"), "new", "x")
    assert result.code == 2 and result.out == ""
    assert f"error: -C {tmp_path / 'nowhere'}: No such file or directory" in result.err
    assert "hint: name an existing folder inside a workspace" in result.err
