"""The git hooks, installed with `builders hooks install` and fired by plain git, as a user runs it."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Builders, Unchanged, builders_dir
from workspace_builders.base.errors import BuildersError
from workspace_builders.engine import hooks_install
from workspace_builders.gitlayer import git
from workspace_builders.model import state
from workspace_builders.model.workspace import discover


def user_git(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """git as a person runs it: not through our git module, so our hooks see an outside caller."""
    return subprocess.run(
        ["git", *args], cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True, check=False
    )


def hooks_of(root: Path) -> Path:
    return root / ".git" / "hooks"


def foreign_hook(root: Path, name: str, content: bytes, mode: int = 0o755) -> Path:
    """A hook of the user's own, there before ours."""
    hook = hooks_of(root) / name
    hook.parent.mkdir(exist_ok=True)
    hook.write_bytes(content)
    hook.chmod(mode)
    return hook


def point_hooks_at(root: Path, python: Path) -> None:
    """Make the installed hooks run `python` rather than the interpreter that installed them."""
    for name in ("post-checkout", "pre-commit"):
        hook = hooks_of(root) / name
        lines = [
            f"builders_python='{python}'" if line.startswith("builders_python=") else line
            for line in hook.read_text().splitlines()
        ]
        hook.write_text("\n".join(lines) + "\n")


def instrument(root: Path, marker: Path) -> None:
    """Point the installed hooks at a python that first notes each start in `marker`."""
    wrapper = marker.parent / "python-wrapper"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> "{marker}"\nexec "{sys.executable}" "$@"\n')
    wrapper.chmod(0o755)
    point_hooks_at(root, wrapper)


@pytest.fixture
def hooked(root: Path, builders: Builders) -> Path:
    assert builders("hooks", "install").code == 0
    return root


def test_install_writes_both_hooks_once(root: Path, builders: Builders) -> None:
    first = builders("hooks", "install")
    assert first.code == 0, first.err
    hooks = {name: hooks_of(root) / name for name in ("post-checkout", "pre-commit")}
    for hook in hooks.values():
        assert hook.stat().st_mode & stat.S_IXUSR
        assert sys.executable in hook.read_text()
    before = {name: hook.read_bytes() for name, hook in hooks.items()}
    again = builders("hooks", "install")
    assert again.code == 0 and again.err.count("already installed") == 2
    assert {name: hook.read_bytes() for name, hook in hooks.items()} == before
    assert not list(hooks_of(root).glob("*.legacy"))


def test_install_dry_run_changes_nothing(root: Path, builders: Builders, unchanged: Unchanged) -> None:
    with unchanged():
        result = builders("hooks", "install", "--dry-run")
    assert result.code == 0 and "would install" in result.err


def test_new_worktree_in_builders_folder_becomes_a_builder(hooked: Path) -> None:
    root = hooked
    (root / "workspaces.local.yaml").write_text(
        "builders:\n  default_repos: [alpha, beta]\ncopy: ['.env.local']\nscripts:\n  setup: touch setup-ran\n"
    )
    (root / ".gitignore").write_text((root / ".gitignore").read_text() + ".env.local\n")
    git.run(root, "commit", "-q", "-m", "ignore .env.local", "--", ".gitignore")  # the builder must ignore it too
    (root / ".env.local").write_text("SECRET=1\n")
    target = builders_dir(root) / "slack"
    done = user_git(root, "worktree", "add", "-b", "builder/slack", str(target))
    assert done.returncode == 0, done.stderr
    assert "making slack a builder" in done.stderr
    for repo in ("alpha", "beta"):
        nested = target / "repos" / repo
        assert git.run(nested, "branch", "--show-current").strip() == "builder/slack"
        assert git.locate(nested) is not None
        assert git.locate(nested).common_dir == (root / "repos" / repo / ".git")  # type: ignore[union-attr]
    assert not (target / "repos" / "gamma").exists()
    assert (target / ".env.local").read_text() == "SECRET=1\n"
    assert (target / "setup-ran").exists()
    record = state.load(discover(root).workspace, "slack")
    assert record is not None and record.status == state.READY
    assert [r.name for r in record.repos] == ["alpha", "beta"]


def test_builder_repos_from_the_environment(hooked: Path) -> None:
    target = builders_dir(hooked) / "env"
    done = user_git(hooked, "worktree", "add", str(target), BUILDER_REPOS="gamma")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (target / "repos").iterdir()) == ["gamma"]
    # a plain `git worktree add` names the branch after the folder; the nested repos follow it
    assert git.run(target / "repos/gamma", "branch", "--show-current").strip() == "env"


def test_a_failed_init_names_the_worktree_and_the_command_that_finishes_it(hooked: Path, builders: Builders) -> None:
    target = builders_dir(hooked) / "typo"
    done = user_git(hooked, "worktree", "add", str(target), BUILDER_REPOS="alpah")
    assert done.returncode == 2  # git made the worktree; the hook's exit is git's
    assert "error: unknown repo: alpah" in done.stderr
    assert f"{target} was made but is a plain worktree (no repos, no state) until init runs" in done.stderr
    assert "hint: make it a builder: builders init --builder typo --repos ...  (did you mean 'alpha'?" in done.stderr
    assert target.is_dir() and state.load(discover(hooked).workspace, "typo") is None
    verified = builders("verify", "typo")
    assert verified.code == 1
    assert "no state file: a plain worktree (builders init never ran here, or failed)" in verified.out
    assert "make it a builder: builders init --builder typo --repos ..." in verified.out
    finished = builders("init", "--builder", "typo", "--repos", "alpha")
    assert finished.code == 0, finished.err
    assert builders("verify", "typo").code == 0


def test_nested_worktree_is_refused_and_kept(hooked: Path) -> None:
    nested = hooked / ".trees" / "x"
    done = user_git(hooked, "worktree", "add", str(nested))
    assert done.returncode != 0
    assert "deprecated nested layout" in done.stderr
    assert f"worktree move {nested} {builders_dir(hooked) / 'x'}" in done.stderr
    assert (nested / ".git").is_file()  # git keeps the worktree; the hook only reports
    assert not (nested / "repos").exists()
    assert not builders_dir(hooked).exists()


def test_ordinary_checkouts_start_no_python(hooked: Path, tmp_path: Path) -> None:
    marker = tmp_path / "python-started"
    instrument(hooked, marker)
    builder = builders_dir(hooked) / "b"
    assert user_git(hooked, "worktree", "add", "-b", "builder/b", str(builder), BUILDER_REPOS="alpha").returncode == 0
    assert marker.read_text().count("hook post-checkout") == 1  # the instrument works: a new worktree starts it
    marker.unlink()
    for where in (hooked, builder):
        topic = f"topic-{where.name}"
        for args in (["switch", "-c", topic], ["checkout", "-"], ["switch", topic], ["checkout", "HEAD", "--", "."]):
            done = user_git(where, *args)
            assert done.returncode == 0, done.stderr
    assert not marker.exists()


def test_hooks_from_inside_a_builder_act_on_the_root_repositories(hooked: Path) -> None:
    first = builders_dir(hooked) / "first"
    assert user_git(hooked, "worktree", "add", str(first), BUILDER_REPOS="alpha").returncode == 0
    done = user_git(first, "worktree", "add", "../second", BUILDER_REPOS="beta")
    assert done.returncode == 0, done.stderr
    second = builders_dir(hooked) / "second"
    nested = git.locate(second / "repos/beta")
    assert nested is not None and nested.common_dir == hooked / "repos/beta/.git"
    assert [w.path for w in git.worktrees(hooked)][-1] == second
    # the first builder's own nested repo was not touched
    assert sorted(p.name for p in (first / "repos").iterdir()) == ["alpha"]


def test_our_own_worktree_add_does_not_fire_the_hook_again(hooked: Path, builders: Builders, tmp_path: Path) -> None:
    marker = tmp_path / "python-started"
    instrument(hooked, marker)
    assert builders("new", "quiet", "--repos", "alpha").code == 0
    assert not marker.exists()


# --- pre-commit ----------------------------------------------------------------------------------


def test_pre_commit_refuses_a_staged_clone(hooked: Path) -> None:
    assert user_git(hooked, "add", "-f", "repos/alpha").returncode == 0
    done = user_git(hooked, "commit", "-m", "oops")
    assert done.returncode == 1
    assert "repos/alpha: a clone (gitlink) under repos/" in done.stderr
    assert "hint: unstage them (the files stay on disk): git reset --quiet -- repos/alpha\n" in done.stderr
    assert user_git(hooked, "reset", "--quiet", "--", "repos/alpha").returncode == 0  # the hint works
    assert user_git(hooked, "diff", "--cached", "--name-only").stdout == ""
    assert user_git(hooked, "log", "--format=%s", "-1").stdout.strip() != "oops"


def test_pre_commit_refuses_files_under_repos_and_nested_builders(hooked: Path) -> None:
    notes = hooked / "repos" / "notes"
    notes.mkdir()
    (notes / "todo.txt").write_text("x")
    nested = hooked / ".trees" / "x"
    assert user_git(hooked, "worktree", "add", str(nested)).returncode != 0  # refused, kept
    user_git(hooked, "add", "-f", "repos/notes/todo.txt")
    user_git(hooked, "add", ".trees")
    done = user_git(hooked, "commit", "-m", "oops")
    assert done.returncode == 1
    assert "repos/notes/todo.txt: a file under repos/" in done.stderr
    assert ".trees/x/: a builders folder inside the root" in done.stderr


def test_pre_commit_refuses_dropping_the_repos_rule_also_with_commit_a(hooked: Path) -> None:
    gitignore = hooked / ".gitignore"
    gitignore.write_text(gitignore.read_text().replace("repos/\n", ""))
    done = user_git(hooked, "commit", "-am", "tidy")  # git hands the hook a temporary index
    assert done.returncode == 1
    assert ".gitignore: the change stops ignoring repos/" in done.stderr
    gitignore.write_text(gitignore.read_text() + "*.tmp\n/repos\n")  # still ignored, another spelling
    done = user_git(hooked, "commit", "-am", "tidy")
    assert done.returncode == 0, done.stderr


def test_pre_commit_lets_ordinary_commits_through(hooked: Path) -> None:
    (hooked / "notes.md").write_text("hello\n")
    user_git(hooked, "add", "notes.md")
    done = user_git(hooked, "commit", "-m", "notes")
    assert done.returncode == 0, done.stderr
    assert user_git(hooked, "log", "--format=%s", "-1").stdout.strip() == "notes"


def test_pre_commit_in_a_builder_checks_the_builder_index(hooked: Path, builders: Builders) -> None:
    assert builders("new", "b", "--repos", "alpha").code == 0
    builder = builders_dir(hooked) / "b"
    user_git(builder, "add", "-f", "repos/alpha")
    done = user_git(builder, "commit", "-m", "oops")
    assert done.returncode == 1 and "repos/alpha: a clone (gitlink)" in done.stderr
    (hooked / "fine.txt").write_text("ok\n")  # the root's own index is not the one looked at
    user_git(hooked, "add", "fine.txt")
    assert user_git(hooked, "commit", "-m", "fine").returncode == 0


def test_hook_without_builders_says_so(hooked: Path, tmp_path: Path) -> None:
    point_hooks_at(hooked, Path("/nonexistent/python"))
    (hooked / ".gitignore").write_text((hooked / ".gitignore").read_text() + "*.tmp\n")
    user_git(hooked, "add", ".gitignore")
    done = user_git(hooked, "commit", "-m", "ignore", PATH="/usr/bin:/bin")
    assert done.returncode == 1
    assert "error: workspace-builders is not installed: not at /nonexistent/python" in done.stderr
    assert "hint:" in done.stderr


def no_python(root: Path) -> dict[str, str]:
    """Point the hooks at no interpreter, with no `builders` on PATH: a commit that starts Python fails."""
    point_hooks_at(root, Path("/nonexistent/python"))
    return {"PATH": "/usr/bin:/bin"}


def a_commit_starts_python(worktree: Path, root: Path) -> bool:
    """Commit a note in `worktree` (of `root`) with the hooks pointed at no Python: whether the
    pre-commit hook's filter sent the commit to Python (which then fails to start)."""
    env = no_python(root)
    (worktree / "notes.md").write_text("hello\n")
    user_git(worktree, "add", "notes.md")
    done = user_git(worktree, "commit", "-m", "notes", **env)
    if done.returncode == 1 and "workspace-builders is not installed" in done.stderr:
        return True
    assert done.returncode == 0, done.stderr
    assert user_git(worktree, "log", "--format=%s", "-1").stdout.strip() == "notes"
    return False


def test_pre_commit_of_ordinary_files_starts_no_python(hooked: Path) -> None:
    env = no_python(hooked)
    (hooked / "notes.md").write_text("hello\n")
    (hooked / "docs").mkdir()
    (hooked / "docs" / "repos.md").write_text("about repos/\n")  # the word, not the folder
    user_git(hooked, "add", "notes.md", "docs")
    done = user_git(hooked, "commit", "-m", "notes", **env)
    assert done.returncode == 0, done.stderr
    (hooked / "notes.md").write_text("changed\n")
    done = user_git(hooked, "commit", "-am", "again", **env)  # a temporary index, in GIT_INDEX_FILE
    assert done.returncode == 0, done.stderr
    assert user_git(hooked, "log", "--format=%s", "-2").stdout.split() == ["again", "notes"]


def test_pre_commit_still_refuses_a_clone_after_the_sh_filter(hooked: Path) -> None:
    user_git(hooked, "add", "-f", "repos/alpha")
    done = user_git(hooked, "commit", "-m", "oops")
    assert done.returncode == 1 and "repos/alpha: a clone (gitlink) under repos/" in done.stderr


STARTS_PYTHON = {
    "a path under repos/": ("repos/x.txt", "-f"),
    "a quoted path under repos/": ("repos/tab\there.txt", "-f"),
    "a nested .gitignore": ("sub/.gitignore", "--"),
}


@pytest.mark.parametrize(("path", "flag"), STARTS_PYTHON.values(), ids=STARTS_PYTHON.keys())
def test_pre_commit_starts_python_for_what_it_checks(hooked: Path, path: str, flag: str) -> None:
    env = no_python(hooked)
    (hooked / path).parent.mkdir(exist_ok=True)
    (hooked / path).write_text("x\n")
    assert user_git(hooked, "add", flag, path).returncode == 0
    done = user_git(hooked, "commit", "-m", "staged", **env)
    assert done.returncode == 1 and "workspace-builders is not installed" in done.stderr


def test_pre_commit_starts_python_for_a_gitlink_outside_repos(hooked: Path) -> None:
    env = no_python(hooked)
    sha = git.run(hooked / "repos/alpha", "rev-parse", "HEAD").strip()
    assert user_git(hooked, "update-index", "--add", "--cacheinfo", f"160000,{sha},vendor/alpha").returncode == 0
    done = user_git(hooked, "commit", "-m", "gitlink", **env)
    assert done.returncode == 1 and "workspace-builders is not installed" in done.stderr


def test_pre_commit_starts_python_when_a_worktree_lies_inside_the_root(hooked: Path) -> None:
    assert user_git(hooked, "worktree", "add", str(hooked / ".trees" / "x")).returncode != 0  # refused, kept
    assert a_commit_starts_python(hooked, hooked)


def test_pre_commit_in_a_builder_among_siblings_starts_no_python(hooked: Path, builders: Builders) -> None:
    for name in ("one", "two", "three"):  # sibling builders: worktrees of the root outside it
        assert builders("new", name, "--repos", "alpha").code == 0
    assert not a_commit_starts_python(builders_dir(hooked) / "two", hooked)


def test_pre_commit_starts_python_for_a_worktree_inside_the_root_reached_by_a_link(
    hooked: Path, tmp_path: Path
) -> None:
    link = tmp_path / "linked-root"
    link.symlink_to(hooked)  # the nested worktree is added by a path through the link
    assert user_git(link, "worktree", "add", str(link / ".trees" / "x")).returncode != 0  # refused, kept
    assert a_commit_starts_python(link, hooked)


def test_pre_commit_starts_python_for_a_worktree_it_cannot_place(hooked: Path, builders: Builders) -> None:
    assert builders("new", "b").code == 0
    gitdir = next((hooked / ".git" / "worktrees").glob("*/gitdir"))
    gitdir.write_text("../../../elsewhere/b/.git\n")  # a relative path, as newer gits can write
    assert a_commit_starts_python(hooked, hooked)


def test_pre_commit_starts_python_when_the_builders_folder_is_moved(hooked: Path) -> None:
    (hooked / "workspaces.local.yaml").write_text('builders:\n  dir: ".builders"\n')
    assert a_commit_starts_python(hooked, hooked)


# --- legacy hooks, core.hooksPath, uninstall -----------------------------------------------------


def test_foreign_hook_is_chained_and_restored_byte_for_byte(root: Path, builders: Builders, tmp_path: Path) -> None:
    ran = tmp_path / "legacy-ran"
    original = f'#!/bin/sh\n# the team\'s own hook\r\necho legacy >> "{ran}"\n'.encode()
    foreign = foreign_hook(root, "pre-commit", original, 0o750)
    assert builders("hooks", "install").code == 0
    assert (hooks_of(root) / "pre-commit.legacy").read_bytes() == original
    assert builders("hooks", "install").code == 0  # twice: the legacy hook is not wrapped again
    assert (hooks_of(root) / "pre-commit.legacy").read_bytes() == original
    user_git(root, "add", "-f", "repos/alpha")
    done = user_git(root, "commit", "-m", "oops")
    assert done.returncode == 1 and "a clone (gitlink)" in done.stderr
    assert ran.read_text() == "legacy\n"  # the foreign hook ran first, and ours still refused
    result = builders("hooks", "uninstall")
    assert result.code == 0 and "put back" in result.err
    assert foreign.read_bytes() == original
    assert stat.S_IMODE(foreign.stat().st_mode) == 0o750
    assert not (hooks_of(root) / "pre-commit.legacy").exists()
    assert not (hooks_of(root) / "post-checkout").exists()


def test_a_failing_legacy_pre_commit_stops_the_commit(root: Path, builders: Builders) -> None:
    foreign_hook(root, "pre-commit", b"#!/bin/sh\necho 'legacy says no' >&2\nexit 3\n")
    assert builders("hooks", "install").code == 0
    (root / "notes.md").write_text("x")
    user_git(root, "add", "notes.md")
    done = user_git(root, "commit", "-m", "x")
    assert done.returncode == 1 and "legacy says no" in done.stderr


def test_install_refuses_when_both_hook_and_legacy_exist(root: Path, builders: Builders, unchanged: Unchanged) -> None:
    for name in ("pre-commit", "pre-commit.legacy"):
        foreign_hook(root, name, b"#!/bin/sh\nexit 0\n")
    with unchanged():
        result = builders("hooks", "install")
    assert result.code == 1
    assert "pre-commit.legacy is taken" in result.err and "hint: merge" in result.err
    assert not (hooks_of(root) / "post-checkout").exists()  # nothing half-done


def test_core_hooks_path_refused_unless_forced(
    root: Path, builders: Builders, unchanged: Unchanged, tmp_path: Path
) -> None:
    own_hooks = tmp_path / "my-hooks"  # the user's own folder, outside the project
    git.run(root, "config", "core.hooksPath", str(own_hooks))
    with unchanged():
        refused = builders("hooks", "install")
    assert refused.code == 1
    assert "core.hooksPath is set" in refused.err and "--force" in refused.err
    forced = builders("hooks", "install", "--force")
    assert forced.code == 0 and f"installing into {own_hooks}" in forced.err
    assert not (hooks_of(root) / "pre-commit").exists()
    user_git(root, "add", "-f", "repos/alpha")
    done = user_git(root, "commit", "-m", "oops")
    assert done.returncode == 1 and "a clone (gitlink)" in done.stderr  # git runs them from there
    user_git(root, "reset", "--quiet", "--", "repos/alpha")
    assert builders("hooks", "uninstall").code == 0
    assert not (own_hooks / "pre-commit").exists()


def test_uninstall_leaves_foreign_hooks(root: Path, builders: Builders) -> None:
    foreign = foreign_hook(root, "post-checkout", b"#!/bin/sh\nexit 0\n")
    result = builders("hooks", "uninstall")
    assert result.code == 0 and "no workspace-builders hooks are installed" in result.err
    assert foreign.read_text() == "#!/bin/sh\nexit 0\n"


def test_a_root_without_repos_gets_a_builder_of_no_repos(hooked: Path) -> None:
    shutil.rmtree(hooked / "repos")
    target = builders_dir(hooked) / "bare"
    done = user_git(hooked, "worktree", "add", str(target))
    assert done.returncode == 0, done.stderr
    record = state.load(discover(hooked).workspace, "bare")
    assert record is not None and record.status == state.READY and record.repos == []


def test_hook_falls_back_to_builders_on_path(hooked: Path) -> None:
    point_hooks_at(hooked, Path("/nonexistent/python"))
    path = f"{Path(sys.executable).parent}{os.pathsep}/usr/bin:/bin"
    user_git(hooked, "add", "-f", "repos/alpha")
    done = user_git(hooked, "commit", "-m", "oops", PATH=path)
    assert done.returncode == 1 and "a clone (gitlink)" in done.stderr
    user_git(hooked, "reset", "-q", "--", "repos/alpha")
    target = builders_dir(hooked) / "via-path"
    made = user_git(hooked, "worktree", "add", str(target), PATH=path, BUILDER_REPOS="beta")
    assert made.returncode == 0, made.stderr
    assert (target / "repos/beta/.git").is_file()


def test_hook_commands_refuse_bad_arguments(root: Path, builders: Builders, tmp_path: Path) -> None:
    unknown = builders("hook", "pre-push")
    assert unknown.code == 2 and "error: unknown command 'pre-push'" in unknown.err
    short = builders("hook", "post-checkout", "abc")
    assert short.code == 2 and "takes 3 arguments" in short.err
    outside = tmp_path / "not-a-repo"
    outside.mkdir()
    result = builders("hooks", "install", cwd=outside)
    assert result.code == 2 and "not inside a workspace" in result.err
    assert not (outside / ".git").exists()


def test_hook_scripts_are_posix_sh() -> None:
    from importlib import resources

    for name in ("post-checkout", "pre-commit"):
        script = resources.files("workspace_builders.hooks") / name
        done = subprocess.run(["sh", "-n"], input=script.read_text(), capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        assert script.read_text().startswith("#!/bin/sh\n")


def test_uninstall_dry_run_changes_nothing(root: Path, builders: Builders) -> None:
    foreign_hook(root, "pre-commit", b"#!/bin/sh\nexit 0\n")
    assert builders("hooks", "install").code == 0
    before = {p.name: p.read_bytes() for p in hooks_of(root).iterdir()}
    result = builders("hooks", "uninstall", "--dry-run")
    assert result.code == 0
    assert "pre-commit: would remove" in result.err and "put back pre-commit.legacy" in result.err
    assert {p.name: p.read_bytes() for p in hooks_of(root).iterdir()} == before


def test_a_pre_commit_framework_hook_is_not_chained(root: Path, builders: Builders, unchanged: Unchanged) -> None:
    framework = b"#!/usr/bin/env bash\n# File generated by pre-commit: https://pre-commit.com\nexit 0\n"
    foreign_hook(root, "pre-commit", framework)
    with unchanged():
        result = builders("hooks", "install")
    assert result.code == 1
    assert "written by the pre-commit framework" in result.err and ".pre-commit-config.yaml" in result.err
    assert (hooks_of(root) / "pre-commit").read_bytes() == framework


def test_ours_moved_aside_by_another_tool_runs_once(hooked: Path, builders: Builders) -> None:
    """A tool that installs itself the same way (the pre-commit framework does) keeps ours as .legacy
    and calls it: ours must do its checks, not call itself again."""
    hooks = hooks_of(hooked)
    (hooks / "pre-commit").rename(hooks / "pre-commit.legacy")
    foreign_hook(hooked, "pre-commit", b'#!/bin/sh\nexec "$(dirname "$0")/pre-commit.legacy" "$@"\n')
    user_git(hooked, "add", "-f", "repos/alpha")
    done = subprocess.run(
        ["git", "commit", "-m", "oops"], cwd=hooked, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1 and "a clone (gitlink)" in done.stderr
    result = builders("hooks", "uninstall")
    assert result.code == 0 and "removed ours from" in result.err
    assert not (hooks / "pre-commit.legacy").exists()
    assert (hooks / "pre-commit").read_bytes().startswith(b"#!/bin/sh\nexec")  # theirs stays


def test_post_checkout_twice_sets_up_once(hooked: Path, builders: Builders) -> None:
    (hooked / "workspaces.local.yaml").write_text("scripts:\n  setup: echo ran >> setup-runs\n")
    target = builders_dir(hooked) / "twice"
    assert user_git(hooked, "worktree", "add", str(target), BUILDER_REPOS="alpha").returncode == 0
    head = git.run(target, "rev-parse", "HEAD").strip()
    again = builders("hook", "post-checkout", git.NULL_SHA, head, "1", cwd=target)
    assert again.code == 0, again.err
    assert (target / "setup-runs").read_text() == "ran\n"


def test_keeping_a_hook_as_legacy_never_replaces_a_legacy_that_appeared(root: Path) -> None:
    # install checked that no .legacy was there; one that appears before the move must survive it
    hook = foreign_hook(root, "pre-commit", b"#!/bin/sh\necho mine\n")
    legacy = foreign_hook(root, "pre-commit.legacy", b"#!/bin/sh\necho appeared meanwhile\r\n")
    with pytest.raises(FileExistsError):
        hooks_install.move_no_replace(hook, legacy)
    assert hook.read_bytes() == b"#!/bin/sh\necho mine\n"
    assert legacy.read_bytes() == b"#!/bin/sh\necho appeared meanwhile\r\n"
    hook.unlink()
    hooks_install.move_no_replace(legacy, hook)  # the move itself, when nothing is in the way
    assert hook.read_bytes() == b"#!/bin/sh\necho appeared meanwhile\r\n" and not legacy.exists()


def test_uninstall_never_overwrites_a_foreign_hook_that_appeared(root: Path, builders: Builders) -> None:
    foreign_hook(root, "pre-commit", b"#!/bin/sh\necho theirs\n")
    assert builders("hooks", "install").code == 0
    hook, legacy = hooks_of(root) / "pre-commit", hooks_of(root) / "pre-commit.legacy"
    # uninstall checked that the hook was ours; another tool then wrote its own in its place
    hook.write_bytes(b"#!/bin/sh\necho newcomer\n")
    with pytest.raises(BuildersError, match="changed while uninstalling"):
        hooks_install._take_ours_away(hook)
    assert hook.read_bytes() == b"#!/bin/sh\necho newcomer\n"
    # ours taken away, then a foreign hook appears before the legacy one is put back
    with pytest.raises(FileExistsError):
        hooks_install.move_no_replace(legacy, hook)
    assert hook.read_bytes() == b"#!/bin/sh\necho newcomer\n"
    assert legacy.read_bytes() == b"#!/bin/sh\necho theirs\n"
    assert sorted(p.name for p in hooks_of(root).iterdir() if "removing" in p.name) == []
