"""The command tree: every command's help, groups alone, and usage errors naming the right help."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
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


@pytest.mark.parametrize(
    ("path", "usage"),
    [
        (("land",), "[SWITCHES] [NAME]\n"),
        (("status",), "[SWITCHES] [NAME]\n"),
        (("exec",), "[SWITCHES] [NAME] -- CMD [ARGS...]\n"),
        (("run",), "[SWITCHES] [NAME] -- CMD [ARGS...]\n"),
        (("verify",), "[SWITCHES] [NAME...]\n"),
        (("remove",), "[SWITCHES] name\n"),
    ],
)
def test_the_usage_line_says_what_the_command_takes(builders: Builders, path: tuple[str, ...], usage: str) -> None:
    result = builders(*path, "--help")
    assert f"\nUsage:\n    builders {' '.join(path)} {usage}" in result.out  # an optional NAME is not `name...`


@pytest.mark.quick
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


@pytest.mark.quick
def test_version(builders: Builders) -> None:
    result = builders("--version")
    assert result.code == 0 and result.out == f"builders {__version__}\n"


@pytest.mark.quick
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


# `builders ARGS` in a Python that counts the opens of the config files (an audit hook: no hook in the
# tool itself), written to the file named by its first argument at each one (`run` becomes its CMD).
COUNTING = """
import sys
reads = 0
def count(event, args):
    global reads
    if event == "open" and isinstance(args[0], str) and args[0].endswith("/workspaces.yaml"):
        reads += 1
        with open(sys.argv[1], "w") as out:
            out.write(str(reads))
sys.addaudithook(count)
from workspace_builders.cli import main
sys.exit(main(sys.argv[2:]))
"""

ONCE = [
    ["new", "x", "--repos", "alpha"],
    ["list"],
    ["list", "--fast"],
    ["status", "x"],
    ["path", "x"],
    ["exec", "x", "--", "true"],
    ["run", "x", "--", "true"],
    ["land", "x", "--dry-run"],
    ["sync", "x", "--dry-run"],
    ["push", "x", "--dry-run"],
    ["init", "--builder", "x", "--repos", "beta", "--dry-run"],
    ["verify"],
    ["prune", "--dry-run"],
    ["hooks", "install", "--dry-run"],
    ["remove", "x"],
]


def test_each_command_finds_the_workspace_and_reads_its_config_once(root: Path, tmp_path: Path) -> None:
    """The boundary finds the workspace and checks its config; the command acts on what it found."""
    (root / "workspaces.yaml").write_text("version: 1\nbuilders:\n  default_repos: []\n")
    log = tmp_path / "git.log"
    wrapper = tmp_path / "bin/git"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\nexec "{shutil.which("git")}" "$@"\n')
    wrapper.chmod(0o755)
    env = {**os.environ, "PATH": f"{wrapper.parent}{os.pathsep}{os.environ['PATH']}"}
    reads = tmp_path / "reads"
    for args in ONCE:
        log.unlink(missing_ok=True)
        reads.unlink(missing_ok=True)
        done = subprocess.run(
            [sys.executable, "-c", COUNTING, str(reads), *args], cwd=root, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, (args, done.stderr)
        located = [
            line
            for line in log.read_text().splitlines()
            if f"-C {root} rev-parse" in line and "--show-toplevel" in line
        ]
        assert len(located) == 1, (args, located)
        assert reads.read_text() == "1", args
