"""`.pre-commit-hooks.yaml`, run by the pre-commit framework itself from a snapshot of this project."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import builders_dir, commit, copy_project
from workspace_builders.gitlayer import git

pytestmark = pytest.mark.slow  # `make check` leaves it out; `make test` runs it

PRE_COMMIT = Path(sys.executable).parent / "pre-commit"


@pytest.fixture(scope="module")
def hooks_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """This project's files as they are now (committed or not), committed in a repository of their own."""
    snapshot = tmp_path_factory.mktemp("hooks-repo")
    copy_project(snapshot)
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    identity = ["-c", "user.name=Snapshot", "-c", "user.email=snapshot@example.com"]
    for args in (["init", "-q"], ["add", "-A"], [*identity, "commit", "-q", "-m", "snapshot"]):
        subprocess.run(["git", *args], cwd=snapshot, env=env, check=True, capture_output=True)
    sha = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=snapshot, env=env, check=True, capture_output=True, text=True
    )
    return snapshot, sha.stdout.strip()


def test_pre_commit_framework_runs_both_hooks(
    root: Path, hooks_repo: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    repo, sha = hooks_repo
    (root / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {repo}\n  rev: {sha}\n  hooks:\n  - id: workspace-layout\n  - id: builder-setup\n"
    )
    commit(root, "use the pre-commit framework")
    (root / "workspaces.local.yaml").write_text("builders:\n  default_repos: [beta]\n")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path_factory.getbasetemp() / "pre-commit-home")}

    def run(cwd: Path, *command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)

    installed = run(root, str(PRE_COMMIT), "install", "--install-hooks", "-t", "pre-commit", "-t", "post-checkout")
    assert installed.returncode == 0, installed.stdout + installed.stderr

    builder = builders_dir(root) / "framed"
    done = run(root, "git", "worktree", "add", str(builder))
    assert done.returncode == 0, done.stdout + done.stderr
    assert (builder / "repos/beta/.git").is_file()
    assert git.run(builder / "repos/beta", "branch", "--show-current").strip() == "framed"

    nested = run(root, "git", "worktree", "add", str(root / "nested"))
    assert nested.returncode != 0 and "deprecated nested layout" in nested.stdout + nested.stderr

    run(root, "git", "add", "-f", "repos/alpha")
    refused = run(root, "git", "commit", "-m", "oops")
    assert refused.returncode == 1
    assert "repos/alpha: a clone (gitlink)" in refused.stdout + refused.stderr
    run(root, "git", "reset", "-q", "--", "repos/alpha")
    (root / "notes.md").write_text("fine\n")
    run(root, "git", "add", "notes.md")
    accepted = run(root, "git", "commit", "-m", "notes")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
