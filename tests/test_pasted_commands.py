"""Every printed command works when pasted into a shell, also under a folder with a space or a quote."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from sample_workspace import make_workspace
from workspace_builders import cli
from workspace_builders.base import output
from workspace_builders.gitlayer import git


def shell(line: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", "-c", line], cwd=cwd, env=dict(os.environ), capture_output=True, text=True)


@pytest.mark.parametrize("word", ["plain", "with space", "it's", "$HOME", "a;b", "-dash", ""])
def test_a_command_survives_the_shell(tmp_path: Path, word: str) -> None:
    done = shell(output.command("printf", "%s\\n", word), tmp_path)
    assert done.stdout == f"{word}\n"


@pytest.fixture
def spaced(tmp_path: Path) -> Path:
    return make_workspace(tmp_path / "my work's folder", ("alpha",), files=2)


def run(root: Path, *args: str, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(root)
    capfd.readouterr()
    cli.main(list(args))
    return capfd.readouterr().err


def test_the_hooks_path_hint_works_pasted(
    spaced: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    git.run(spaced, "config", "core.hooksPath", str(tmp_path / "elsewhere"))
    err = run(spaced, "hooks", "install", capfd=capfd, monkeypatch=monkeypatch)
    pasted = re.search(r"drop the setting: (.*)\)$", err, re.MULTILINE)
    assert pasted is not None, err
    assert shell(pasted[1], tmp_path).returncode == 0
    assert git.config_value(spaced, "core.hooksPath") is None
