"""The user's git environment reaches git and the scripts; only what binds git to a repository is dropped."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import Builders, builders_dir, commit
from runs import console, environment
from workspace_builders.gitlayer import git

# What `git -c` would set, given the way a corporate setup or CI does: through the environment.
CONFIG_ENV = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "workspace.seen", "GIT_CONFIG_VALUE_0": "from the env"}
SETUP = "git config --get workspace.seen > seen.txt; env | grep '^GIT_' | sort > git-env.txt"


def run_builders(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return console(cwd, *args, env={**environment(), **env})


def variables(listing: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in listing.read_text().splitlines())


def test_user_settings_kept_repository_binding_dropped(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    kept = {
        **CONFIG_ENV,
        "GIT_SSL_CAINFO": "/etc/corp/ca.pem",
        "GIT_EXEC_PATH": "/opt/git/libexec/git-core",
        "GIT_ALLOW_PROTOCOL": "file:https",
        "GIT_HTTP_PROXY_AUTHMETHOD": "basic",
        "GIT_CONFIG_PARAMETERS": "'http.proxy'='http://proxy:3128'",
        "GIT_CEILING_DIRECTORIES": str(tmp_path),
        "GIT_DISCOVERY_ACROSS_FILESYSTEM": "1",
    }
    binding = ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR"]
    binding += ["GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_PREFIX", "GIT_NAMESPACE", "GIT_QUARANTINE_PATH"]
    for key, value in kept.items():
        monkeypatch.setenv(key, value)
    for key in binding:
        monkeypatch.setenv(key, str(tmp_path / "elsewhere"))
    env = git.environ()
    assert {k: env.get(k) for k in kept} == kept
    assert not set(binding) & set(env)


def test_config_from_the_environment_reaches_git_calls(root: Path) -> None:
    # a clone URL only the user's insteadOf (given through GIT_CONFIG_*) turns into a real one
    upstream = root.parent / "upstream" / "alpha"
    (root / "workspaces.local.yaml").write_text("repos:\n  delta:\n    url: 'corp:alpha'\n")
    rewrite = {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"url.{upstream.parent}/.insteadOf",
        "GIT_CONFIG_VALUE_0": "corp:",
    }
    done = run_builders(root, "repos", "sync", **rewrite)
    assert done.returncode == 0, done.stderr
    assert (root / "repos/delta/.git").is_dir()


def test_setup_script_gets_the_users_git_environment(root: Path, builders: Builders, tmp_path: Path) -> None:
    (root / "workspaces.yaml").write_text(f'scripts:\n  setup: "{SETUP}; git rev-parse --show-toplevel > top.txt"\n')
    commit(root)
    # a hook of the user's own that calls builders passes its repository on: GIT_DIR, GIT_WORK_TREE
    other = tmp_path / "other"
    git.run(tmp_path, "init", "-q", str(other))
    bound = {"GIT_DIR": str(other / ".git"), "GIT_WORK_TREE": str(other), "GIT_INDEX_FILE": str(other / "index")}
    done = run_builders(root, "new", "x", "--repos", "alpha", **CONFIG_ENV, GIT_SSL_CAINFO="/etc/corp/ca.pem", **bound)
    assert done.returncode == 0, done.stderr
    builder = builders_dir(root) / "x"
    assert (builder / "seen.txt").read_text() == "from the env\n"
    assert (builder / "top.txt").read_text() == f"{builder}\n"
    seen = variables(builder / "git-env.txt")
    assert seen["GIT_SSL_CAINFO"] == "/etc/corp/ca.pem" and seen["GIT_CONFIG_COUNT"] == "1"
    assert not set(bound) & set(seen)


def test_hook_run_setup_gets_gits_own_variables_less_the_binding_ones(root: Path, builders: Builders) -> None:
    # git runs the hook with its own GIT_* (GIT_EXEC_PATH, GIT_PREFIX; GIT_DIR for a plain checkout)
    (root / "workspaces.yaml").write_text(f'scripts:\n  setup: "{SETUP}"\n')
    commit(root)
    assert builders("hooks", "install").code == 0
    target = builders_dir(root) / "y"
    done = subprocess.run(
        ["git", "worktree", "add", "-b", "builder/y", str(target)],
        cwd=root,
        env={**os.environ, **CONFIG_ENV},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (target / "seen.txt").read_text() == "from the env\n"
    seen = variables(target / "git-env.txt")
    assert seen["GIT_CONFIG_KEY_0"] == "workspace.seen"
    assert "GIT_EXEC_PATH" in seen  # set by git for the hook, and kept
    assert not {"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_PREFIX"} & set(seen)  # GIT_PREFIX: set by git
