"""`hooks install` with core.hooksPath pointing at a folder of the project (husky's `.husky/`, a
lefthook or tracked `.githooks/` setup): never writes the project's files; `--force` installs into
the git common dir, and the printed line chains ours from the project's hook files."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from conftest import Builders, Unchanged, builders_dir, commit
from workspace_builders.gitlayer import git
from workspace_builders.model import state
from workspace_builders.model.workspace import discover

HUSKY_PRE_COMMIT = "#!/bin/sh\necho husky ran pre-commit\n"


def husky_root(root: Path) -> Path:
    husky = root / ".husky"
    husky.mkdir()
    (husky / "pre-commit").write_text(HUSKY_PRE_COMMIT)
    (husky / "pre-commit").chmod(0o755)
    commit(root, "husky")
    git.run(root, "config", "core.hooksPath", ".husky")
    return husky


def user_git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, env=dict(os.environ), capture_output=True, text=True, check=False)


def test_a_husky_root_is_refused_with_the_lines_that_chain_ours(
    root: Path, builders: Builders, unchanged: Unchanged
) -> None:
    husky = husky_root(root)
    for switches in ((), ("--dry-run",)):
        with unchanged():
            refused = builders("hooks", "install", *switches)
        assert refused.code == 1
        assert f"error: core.hooksPath is set ({husky}), a folder of the project" in refused.err
        hint = refused.err.split("hint: ", 1)[1]
        assert f"put ours in {root / '.git' / 'hooks'} (builders hooks install --force)" in hint
        assert "husky (in " in hint and '"$(git rev-parse --git-common-dir)/hooks/$(basename "$0")" "$@"' in hint
        assert "lefthook (in lefthook.yml): post-checkout: {commands: {workspace-builders: {run:" in hint
    assert user_git(root, "status", "--porcelain").stdout == ""


def test_force_installs_into_the_common_dir_and_the_husky_line_chains_it(root: Path, builders: Builders) -> None:
    husky = husky_root(root)
    forced = builders("hooks", "install", "--force")
    assert forced.code == 0, forced.err
    assert f"installing into {root / '.git' / 'hooks'}" in forced.err
    assert sorted(p.name for p in husky.iterdir()) == ["pre-commit"]  # no file written there, none renamed
    assert (husky / "pre-commit").read_text() == HUSKY_PRE_COMMIT
    assert git.config_value(root, "core.hooksPath") == ".husky"  # the setting is left as it is
    assert (root / ".git" / "hooks" / "post-checkout").is_file()
    assert user_git(root, "status", "--porcelain").stdout == ""  # the root stays clean: `new` still works
    # The user adds the printed line to their own hook file, as the message says.
    line = re.search(r"husky \(in [^)]*\): (.*?); lefthook", forced.err)
    assert line is not None
    (husky / "post-checkout").write_text(f"#!/bin/sh\n{line[1]}\n")
    (husky / "post-checkout").chmod(0o755)
    commit(root, "chain workspace-builders from husky")
    target = builders_dir(root) / "h"
    done = user_git(root, "worktree", "add", "-b", "builder/h", str(target))
    assert done.returncode == 0, done.stderr
    record = state.load(discover(root).workspace, "h")
    assert record is not None and record.status == state.READY  # our hook ran, through husky's file
    assert builders("new", "after").code == 0, "the root is clean"


def test_a_failing_hook_of_the_users_hooks_path_rolls_new_back_with_a_hint_that_names_it(
    root: Path, builders: Builders, unchanged: Unchanged, tmp_path: Path
) -> None:
    hooks = tmp_path / "my-hooks"
    hooks.mkdir()
    (hooks / "post-checkout").write_text('#!/bin/sh\necho "my hook says no" >&2\nexit 1\n')
    (hooks / "post-checkout").chmod(0o755)
    git.run(root / "repos/alpha", "config", "core.hooksPath", str(hooks))
    with unchanged():
        done = builders("new", "hk", "--repos", "alpha")
    assert done.code == 1
    assert "rolled back: the workspace is as it was" in done.err
    assert "error: git -C" in done.err and "my hook says no" in done.err
    assert f"hint: fix what git says (a failing post-checkout hook in core.hooksPath {hooks}?" in done.err
    git.run(root / "repos/alpha", "config", "--unset", "core.hooksPath")
    assert builders("new", "hk", "--repos", "alpha").code == 0  # the hint, taken
