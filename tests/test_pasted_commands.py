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


def hint_of(err: str, after: str) -> str:
    """The command in the hint line, after `after`."""
    found = re.search(rf"^hint: .*?{re.escape(after)}(.*)$", err, re.MULTILINE)
    assert found is not None, err
    return found[1]


def test_the_leftover_branch_hint_works_pasted(
    spaced: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    git.run(spaced, "branch", "builder/y")  # a leftover branch that holds nothing
    err = run(spaced, "new", "y", capfd=capfd, monkeypatch=monkeypatch)
    pasted = hint_of(err, "delete the branch if it holds nothing: ")
    assert shell(pasted, tmp_path).returncode == 0
    assert git.run(spaced, "branch", "--list", "builder/y") == ""
    assert cli.main(["new", "y"]) == 0


def test_the_repos_not_ignored_hint_works_pasted(
    spaced: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ignore = spaced / ".gitignore"
    ignore.write_text("".join(line for line in ignore.read_text().splitlines(True) if line.strip() != "repos/"))
    git.run(spaced, "commit", "--quiet", "-am", "stop ignoring repos/")
    err = run(spaced, "new", "z", capfd=capfd, monkeypatch=monkeypatch)
    assert "is not ignored" in err
    done = shell(hint_of(err, ""), tmp_path)
    assert done.returncode == 0, done.stderr
    assert git.run(spaced, "status", "--porcelain") == ""  # the fix is committed
    assert cli.main(["new", "z"]) == 0


def test_the_no_such_builder_hint_works_pasted(
    spaced: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(spaced)
    assert cli.main(["new", "here"]) == 0
    err = run(spaced, "remove", "nowhere-near", capfd=capfd, monkeypatch=monkeypatch)
    done = shell(hint_of(err, "see the builders there are: "), tmp_path)
    assert done.returncode == 0 and done.stdout == "here\n", done.stderr


def test_the_demo_prints_each_step_as_it_runs_pasted(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import demo

    monkeypatch.setattr(demo, "HERE", tmp_path)
    folder = tmp_path / "a folder's name"
    folder.mkdir()
    demo.step(folder, "sh", "-c", 'printf "%s|" "$PWD" "$@" "$X"', "sh", "it's", "a b", X="$HOME;")
    ran = capfd.readouterr().out
    printed = ran.splitlines()[-2]  # the step's line, then what it printed
    assert printed.startswith("$ ")
    pasted = shell(printed.removeprefix("$ "), tmp_path)
    assert pasted.returncode == 0, pasted.stderr
    assert pasted.stdout == ran.splitlines()[-1] == f"{folder}|it's|a b|$HOME;|"


# Where a printed command is built: each path or value in it goes through output.command, so that it
# works pasted under any folder name. A line that interpolates into one of these commands by hand is
# the defect this finds (the `{folder}` of errors.py's fixes is quoted where it is filled in).
_BY_HAND = re.compile(r"""f["'][^"']*\b(git -C|cd|ls|ls -l[ad]|mv|rm|cat|fuser|fuser -v|mkdir|df -h) \{""")


def test_no_printed_command_interpolates_a_value_unquoted() -> None:
    package = Path(cli.__file__).parent
    found = [
        f"{path.relative_to(package)}:{number}: {line.strip()}"
        for path in sorted(package.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _BY_HAND.search(line)
    ]
    assert found == []
