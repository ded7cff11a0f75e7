"""The built wheel carries the hooks and the templates (top-level folders here): an installed `builders`
scaffolds a root, installs the hooks and makes a builder."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from conftest import builders_dir, copy_project
from sample_workspace import commit_all, make_workspace

pytestmark = pytest.mark.slow  # `make check` leaves it out; `make test` runs it


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel built from this project's files as they are now (and its dependencies)."""
    snapshot = tmp_path_factory.mktemp("project")
    copy_project(snapshot)
    wheels = tmp_path_factory.mktemp("wheels")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run([*pip, "wheel", "--no-deps", str(snapshot), "-w", str(wheels)], check=True, capture_output=True)
    (wheel,) = wheels.glob("workspace_builders-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"workspace_builders/hooks/pre-commit", "workspace_builders/templates/workspace-root/Taskfile.yaml"} <= names
    env = tmp_path_factory.mktemp("venv") / "venv"
    venv.create(env, with_pip=True)
    install = [str(env / "bin/python"), "-m", "pip", "--disable-pip-version-check", "--quiet", "install", str(wheel)]
    subprocess.run(install, check=True, capture_output=True)
    return env / "bin/builders"


def test_installed_wheel_scaffolds_and_makes_a_builder(installed: Path, tmp_path: Path) -> None:
    root = make_workspace(tmp_path, ("alpha",), files=2, scaffolded=False)
    assert not (root / "Taskfile.yaml").exists()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}

    def builders(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(installed), *args], cwd=root, env=env, capture_output=True, text=True)

    scaffolded = builders("scaffold")
    assert scaffolded.returncode == 0, scaffolded.stderr
    for name in ("Taskfile.yaml", "Makefile", "workspaces.yaml"):
        assert (root / name).is_file(), name
    assert "# >>> workspace-builders >>>" in (root / ".gitignore").read_text()
    for hook in ("post-checkout", "pre-commit"):
        text = (root / ".git/hooks" / hook).read_text()
        assert text.startswith("#!/bin/sh\n# workspace-builders ") and str(installed.parent / "python") in text
    commit_all(root, "add workspace-builders")
    made = builders("new", "x", "--repos", "alpha")
    assert made.returncode == 0, made.stderr
    assert (builders_dir(root) / "x/repos/alpha/.git").is_file()
