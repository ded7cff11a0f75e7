"""The workspace-root templates: `task builder:*` and `make builder-*` drive the real console script."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Builders, builders_dir
from workspace_builders.gitlayer import git

BIN = Path(sys.executable).parent


def shell(cwd: Path, *command: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)


needs_task = pytest.mark.skipif(shutil.which("task", path=str(BIN)) is None, reason="task (go-task-bin) not installed")


@needs_task
def test_task_builder_new_and_init_inside(root: Path) -> None:
    done = shell(root, "task", "builder:new", "NAME=slack", "REPOS=alpha,beta:HEAD")
    assert done.returncode == 0, done.stderr
    builder = builders_dir(root) / "slack"
    assert git.run(builder / "repos/beta", "branch", "--show-current").strip() == "builder/slack"
    # inside a nested repo, task walks up to the builder's Taskfile and acts on this builder
    done = shell(builder / "repos/alpha", "task", "builder:init", "REPOS=gamma")
    assert done.returncode == 0, done.stderr
    assert (builder / "repos/gamma/.git").is_file()


@needs_task
def test_task_requires_name_and_passes_errors_through(root: Path) -> None:
    done = shell(root, "task", "builder:new")
    assert done.returncode != 0 and "NAME" in done.stderr
    done = shell(root, "task", "builder:new", "NAME=x", "REPOS=nope")
    assert "error: unknown repo: nope" in done.stderr
    assert not builders_dir(root).exists()


@needs_task
def test_task_quotes_hostile_values(root: Path) -> None:
    done = shell(root, "task", "builder:new", "NAME=x; touch pwned", "REPOS=alpha")
    assert "invalid builder name" in done.stderr
    assert not (root / "pwned").exists()


def test_make_twins(root: Path) -> None:
    done = shell(root, "make", "--no-print-directory", "builder-new", "NAME=slack", "REPOS=alpha")
    assert done.returncode == 0, done.stderr
    builder = builders_dir(root) / "slack"
    done = shell(builder, "make", "--no-print-directory", "builder-init", "REPOS=beta")
    assert done.returncode == 0, done.stderr
    assert (builder / "repos/beta/.git").is_file()
    done = shell(root, "make", "builder-new", "NAME=x; touch pwned")
    assert "invalid builder name" in done.stderr and not (root / "pwned").exists()
    done = shell(root, "make", "builder-new")
    assert done.returncode != 0 and "error: NAME is required" in done.stderr


@pytest.mark.parametrize("tool", ["make", pytest.param("task", marks=needs_task)])
def test_land_targets_take_args_and_msg_to_the_real_command(root: Path, tool: str) -> None:
    """`ARGS=--squash MSG=...` and `ARGS=--remove` reach `builders land` as switches of its own."""
    target = ["make", "--no-print-directory", "builder-land"] if tool == "make" else ["task", "builder:land"]
    for name, commits in (("s", 2), ("r", 1)):
        assert shell(root, "builders", "new", name, "--repos", "alpha").returncode == 0
        worktree = builders_dir(root) / name / "repos/alpha"
        for n in range(commits):
            (worktree / f"{name}{n}.txt").write_text(f"{n}\n")
            git.run(worktree, "add", f"{name}{n}.txt")
            git.run(worktree, "commit", "-q", "-m", f"{name} step {n}")
    before = git.run(root / "repos/alpha", "rev-parse", "main").strip()
    squashed = shell(root, *target, "NAME=s", "ARGS=--squash", "MSG=the whole fix")
    assert squashed.returncode == 0, squashed.stderr
    log = git.run(root / "repos/alpha", "log", "--format=%s %P", f"{before}..main").splitlines()
    assert log == [f"the whole fix {before}"]  # one commit on the old tip, with the message given
    removed = shell(root, *target, "NAME=r", "ARGS=--remove")
    assert removed.returncode == 0, removed.stderr
    assert (root / "repos/alpha/r0.txt").read_text() == "0\n" and not (builders_dir(root) / "r").exists()


def test_console_script_exit_codes(root: Path) -> None:
    assert shell(root, "builders", "new", "bad/name").returncode == 2
    assert shell(root, "builders", "--version").stdout.strip().endswith("0.1.0")
    done = shell(root, "builders", "new", "x", "--repos", "alpha", "--json")
    assert done.returncode == 0 and done.stdout.startswith("{")


def test_scaffold_never_overwrites(root: Path, builders: Builders) -> None:
    (root / "Makefile").write_text("# mine\n")
    before = (root / ".gitignore").read_text()
    result = builders("scaffold")
    assert result.code == 0
    assert "add the include of builders.mk to Makefile" in result.err
    assert (root / "Makefile").read_text().startswith("# mine\n")  # kept; the include is added after it
    assert (root / ".gitignore").read_text() == before  # the block is there once already


def test_scaffold_into_a_bare_root(tmp_path: Path, builders: Builders) -> None:
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    git.run(fresh, "init", "-q")
    (fresh / ".gitignore").write_text("*.log")
    assert builders("scaffold", cwd=fresh).code == 0
    assert (fresh / ".gitignore").read_text().startswith("*.log\n# >>> workspace-builders >>>\nrepos/\n")
    assert {"Taskfile.yaml", "Makefile", "workspaces.yaml"} <= {p.name for p in fresh.iterdir()}
    assert builders("scaffold", cwd=fresh).code == 0
    assert (fresh / ".gitignore").read_text().count("workspace-builders >>>") == 1


def test_scaffold_names_what_to_commit_and_only_that(tmp_path: Path, builders: Builders) -> None:
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    git.run(fresh, "init", "-q")
    (fresh / "notes.txt").write_text("the user's own, not to be staged by our hint")
    done = builders("scaffold", cwd=fresh)
    assert done.code == 0
    hint = next(line for line in done.err.splitlines() if line.startswith("next: commit the files ("))
    assert "notes.txt" not in hint and "Taskfile.yaml" in hint and ".gitignore" in hint
    pasted = shell(fresh, "sh", "-c", hint.removeprefix("next: commit the files (").removesuffix(")"))
    assert pasted.returncode == 0, pasted.stderr
    assert git.run(fresh, "status", "--porcelain").splitlines() == ["?? notes.txt"]
    again = builders("scaffold", cwd=fresh)
    assert again.code == 0 and "next: commit" not in again.err
    assert "nothing to commit: the files are committed as they are" in again.err


@needs_task
def test_task_list_remove_prune(root: Path) -> None:
    assert shell(root, "task", "builder:new", "NAME=slack", "REPOS=alpha").returncode == 0
    listed = shell(root, "task", "builder:list")
    assert listed.returncode == 0 and "slack" in listed.stdout
    (builders_dir(root) / "slack/repos/alpha/wip.txt").write_text("w")
    refused = shell(root, "task", "builder:remove", "NAME=slack")
    assert refused.returncode != 0 and "would lose" in refused.stderr
    forced = shell(root, "task", "builder:remove", "NAME=slack", "FORCE=1")
    assert forced.returncode == 0, forced.stderr
    assert not (builders_dir(root) / "slack").exists()
    assert shell(root, "task", "builder:prune").returncode == 0


def test_make_remove_twin(root: Path) -> None:
    assert shell(root, "make", "builder-new", "NAME=slack", "REPOS=alpha").returncode == 0
    done = shell(root, "make", "builder-remove", "NAME=slack")
    assert done.returncode == 0, done.stderr
    assert not (builders_dir(root) / "slack").exists()


def test_scaffold_installs_hooks_unless_told_not_to(tmp_path: Path, builders: Builders) -> None:
    plain, hooked = tmp_path / "plain", tmp_path / "hooked"
    for fresh in (plain, hooked):
        fresh.mkdir()
        git.run(fresh, "init", "-q")
    assert builders("scaffold", "--no-hooks", cwd=plain).code == 0
    assert not (plain / ".git/hooks/post-checkout").exists()
    result = builders("scaffold", cwd=hooked)
    assert result.code == 0 and "post-checkout: installed" in result.err
    assert (hooked / ".git/hooks/pre-commit").is_file()


def test_scaffold_force_keeps_the_old_file(root: Path, builders: Builders) -> None:
    (root / "Makefile").write_text("# mine\n")
    result = builders("scaffold", "--force", "--no-hooks")
    assert result.code == 0 and "saved Makefile as Makefile.orig" in result.err
    assert (root / "Makefile.orig").read_text() == "# mine\n"
    assert "builder-new:" in (root / "Makefile").read_text()
    (root / "Makefile").write_text("# mine again\n")
    again = builders("scaffold", "--force", "--no-hooks")
    assert "kept Makefile (Makefile.orig exists" in again.err  # never overwrite the saved copy
    assert (root / "Makefile").read_text() == "# mine again\n"
    assert (root / "Makefile.orig").read_text() == "# mine\n"


def test_scaffold_reports_hooks_it_could_not_install(root: Path, builders: Builders) -> None:
    git.run(root, "config", "core.hooksPath", "elsewhere")
    (root / "Taskfile.yaml").unlink()
    result = builders("scaffold")
    assert result.code == 1
    assert "error: hooks not installed: core.hooksPath is set" in result.err
    assert (root / "Taskfile.yaml").is_file()  # the files were still written


@needs_task
def test_task_builder_new_after_scaffold_of_a_fresh_root(tmp_path: Path, root: Path, builders: Builders) -> None:
    fresh = tmp_path / "fresh"
    (fresh / "repos").mkdir(parents=True)
    git.run(fresh, "init", "-q")
    git.run(fresh / "repos", "clone", "-q", "--", str(root / "repos" / "alpha"), "alpha")
    assert builders("scaffold", cwd=fresh).code == 0
    git.run(fresh, "add", "-A")
    git.run(fresh, "commit", "-q", "-m", "scaffold")
    assert git.run(fresh, "status", "--porcelain") == ""  # repos/ is ignored by the block
    done = shell(fresh, "task", "builder:new", "NAME=first", "REPOS=alpha")
    assert done.returncode == 0, done.stderr
    assert (fresh.parent / "fresh.builders/first/repos/alpha/.git").is_file()


@needs_task
def test_task_repos_sync(root: Path) -> None:
    (root / "workspaces.local.yaml").write_text(f"repos:\n  delta:\n    url: '{root / 'repos' / 'alpha'}'\n")
    done = shell(root, "task", "repos:sync")
    assert done.returncode == 0, done.stderr
    assert "delta: cloned" in done.stderr
    assert (root / "repos/delta/.git").is_dir()


def test_make_repos_sync(root: Path) -> None:
    (root / "workspaces.local.yaml").write_text(f"repos:\n  delta:\n    url: '{root / 'repos' / 'alpha'}'\n")
    done = shell(root, "make", "--no-print-directory", "repos-sync")
    assert done.returncode == 0, done.stderr
    assert (root / "repos/delta/.git").is_dir()


def test_scaffold_force_leaves_what_is_not_a_plain_file(root: Path, builders: Builders) -> None:
    (root / "Makefile").unlink()
    (root / "Makefile").mkdir()
    (root / "Makefile" / "mine.mk").write_text("x\n")
    result = builders("scaffold", "--force", "--no-hooks")
    assert result.code == 0 and "kept Makefile (not a plain file" in result.err
    assert (root / "Makefile" / "mine.mk").read_text() == "x\n"
    assert not (root / "Makefile.orig").exists()
