"""Scaffold into a root with its own Taskfile and Makefile: both kept, the targets included once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import Builders, builders_dir, commit
from workspace_builders.engine import includes

BIN = Path(sys.executable).parent
needs_task = pytest.mark.skipif(shutil.which("task", path=str(BIN)) is None, reason="task (go-task-bin) not installed")

OWN_TASKFILE = 'version: "3"\n\ntasks:\n  hello:\n    cmds: [echo hello from mine]\n'
OWN_MAKEFILE = "all:\n\t@echo default is mine\n"


def shell(cwd: Path, *command: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    for key in ("NAME", "REPOS", "BASE", "FORCE", "MAKEFLAGS", "MAKELEVEL"):
        env.pop(key, None)
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)


@needs_task
def test_scaffold_includes_the_targets_into_the_users_files(root: Path, builders: Builders) -> None:
    (root / "Taskfile.yaml").write_text(OWN_TASKFILE)
    (root / "Makefile").write_text(OWN_MAKEFILE)
    for _ in range(2):
        result = builders("scaffold", "--no-hooks")
        assert result.code == 0, result.err
    taskfile, makefile = (root / "Taskfile.yaml").read_text(), (root / "Makefile").read_text()
    assert taskfile.startswith(OWN_TASKFILE) and makefile.startswith(OWN_MAKEFILE)
    assert taskfile.count("Taskfile.builders.yml") == 1 and makefile.count("include builders.mk") == 1
    assert "kept Taskfile.yaml (it includes Taskfile.builders.yml)" in result.err
    templates = Path(__file__).resolve().parent.parent / "templates/workspace-root"
    assert (root / "Taskfile.builders.yml").read_bytes() == (templates / "Taskfile.yaml").read_bytes()
    assert (root / "builders.mk").read_bytes() == (templates / "Makefile").read_bytes()
    commit(root, "scaffold")
    assert shell(root, "task", "hello").stdout == "hello from mine\n"
    assert shell(root, "make").stdout == "default is mine\n"  # the user's first target stays the default
    done = shell(root, "task", "builder:new", "NAME=viatask", "REPOS=alpha")
    assert done.returncode == 0, done.stderr
    done = shell(root, "make", "builder-new", "NAME=viamake", "REPOS=beta")
    assert done.returncode == 0, done.stderr
    assert (builders_dir(root) / "viatask/repos/alpha").is_dir()
    assert (builders_dir(root) / "viamake/repos/beta").is_dir()


@pytest.mark.parametrize(("own", "template"), [("Taskfile.yml", "Taskfile.yaml"), ("GNUmakefile", "Makefile")])
def test_force_never_writes_the_template_beside_a_users_file_of_another_name(
    root: Path, builders: Builders, own: str, template: str
) -> None:
    (root / template).unlink()
    (root / own).write_text(OWN_TASKFILE if own.startswith("Taskfile") else OWN_MAKEFILE)
    result = builders("scaffold", "--force", "--no-hooks")
    assert result.code == 0, result.err
    assert not (root / template).exists()  # task and make read the user's file first: this one would be dead
    assert (root / own).read_text().count("builders.") == 1  # the include of builders.mk / Taskfile.builders.yml


def test_the_include_goes_under_existing_includes() -> None:
    text = 'version: "3"\nincludes:\n    docs: ./docs/Taskfile.yml\n\ntasks:\n    a:\n        cmds: [echo a]\n'
    changed = includes._with_task_include(text)
    assert changed is not None
    document = yaml.safe_load(changed)
    assert document["includes"] == {
        "docs": "./docs/Taskfile.yml",
        "builders": {"taskfile": "./Taskfile.builders.yml", "flatten": True},
    }
    assert includes._with_task_include(changed) == changed  # once


@pytest.mark.parametrize(
    "text",
    [
        'version: "3"\nincludes: {docs: ./docs/Taskfile.yml}\n',  # flow style: no line to add under
        'version: "3"\nincludes:\n  builders: ./other.yml\n',  # the name is taken
        "just: [a, broken\n",
    ],
)
def test_an_include_that_cannot_be_added_safely_is_left_to_the_user(root: Path, builders: Builders, text: str) -> None:
    assert includes._with_task_include(text) is None
    (root / "Taskfile.yaml").write_text(text)
    result = builders("scaffold", "--no-hooks")
    assert (root / "Taskfile.yaml").read_text() == text
    assert "could not add the include safely" in result.err
