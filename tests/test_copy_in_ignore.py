"""Copy-in never makes a secret committable: a file is copied only where the new worktree ignores it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from conftest import Builders, builders_dir, commit
from workspace_builders.gitlayer import git
from workspace_builders.model import state
from workspace_builders.model.workspace import discover


def secrets_ignored_only_from_now_on(repo: Path) -> str:
    """Put `.env` and `.secrets/key` in `repo`, ignored by a commit made now; the commit before it."""
    older = git.run(repo, "rev-parse", "HEAD").strip()
    with (repo / ".gitignore").open("a") as out:
        out.write(".env\n.secrets/\n")
    commit(repo, "ignore the secrets")
    (repo / ".env").write_text("TOKEN=1\n")
    (repo / ".secrets").mkdir()
    (repo / ".secrets/key").write_text("k\n")
    (repo / ".worktreeinclude").write_text(".env\n.secrets/\n")
    return older


def committable(worktree: Path) -> list[str]:
    """What `git add -A` would stage there."""
    out = git.run(worktree, "status", "--porcelain=v1", "-z", "--untracked-files=all")
    return sorted(entry[3:] for entry in out.split("\0") if entry)


def test_base_older_than_the_ignore_line(root: Path, builders: Builders) -> None:
    older = secrets_ignored_only_from_now_on(root)
    alpha = root / "repos/alpha"
    alpha_older = secrets_ignored_only_from_now_on(alpha)
    result = builders("new", "x", "--base", older, "--repos", f"alpha:{alpha_older},beta:main", "--json")
    assert result.code == 0, result.err
    builder = builders_dir(root) / "x"
    for where in (builder, builder / "repos/alpha"):
        assert not (where / ".env").exists()
        assert not (where / ".secrets").exists()
        assert committable(where) == []
        for name in (".env", ".secrets/key"):
            assert f"warning: not copied {name} into {where}: it is not ignored there" in result.err
    assert json.loads(result.out)["copied"] == []
    record = state.load(discover(root).workspace, "x")
    assert record is not None and record.copied == []


def test_only_what_the_builder_ignores_is_copied(root: Path, builders: Builders) -> None:
    secrets_ignored_only_from_now_on(root)
    (root / "local.env").write_text("L=1\n")  # ignored in the root only, through info/exclude
    (root / ".git/info").mkdir(exist_ok=True)
    (root / ".git/info/exclude").write_text("local.env\n")
    (root / ".worktreeinclude").write_text(".env\n.secrets/\nlocal.env\n")
    result = builders("new", "x", "--json")
    assert result.code == 0, result.err
    builder = builders_dir(root) / "x"
    # info/exclude lives in the common dir: the builder ignores local.env as well
    assert sorted(json.loads(result.out)["copied"]) == [".env", ".secrets/key", "local.env"]
    assert (builder / ".env").read_text() == "TOKEN=1\n"
    assert committable(builder) == []
    assert "warning" not in result.err


def test_hook_branching_from_an_older_branch(root: Path, builders: Builders) -> None:
    git.run(root, "branch", "old")
    secrets_ignored_only_from_now_on(root)
    assert builders("hooks", "install").code == 0
    target = builders_dir(root) / "y"
    done = subprocess.run(
        ["git", "worktree", "add", "-b", "builder/y", str(target), "old"],
        cwd=root,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "warning: not copied .env " in done.stderr
    assert "warning: not copied .secrets/key " in done.stderr
    assert not (target / ".env").exists() and not (target / ".secrets").exists()
    assert committable(target) == []
    record = state.load(discover(root).workspace, "y")
    assert record is not None and record.status == state.READY and record.copied == []
