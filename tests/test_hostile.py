"""Hostile input: odd names, REPOS lists, config values, caller environment, paths. Never a crash,
never a write outside the builders folder and the repositories' own git dirs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Builders, Unchanged, builders_dir
from sample_workspace import make_workspace
from workspace_builders.base.names import name_problem
from workspace_builders.gitlayer import git

HOSTILE_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
pieces = st.sampled_from(
    ["..", "/", " ", "-", "--", ":", ",", ".lock", "~", "\\", "@{", "*", "\n", "é", "all", "alpha"]
)
hostile_text = st.lists(st.one_of(pieces, st.text(max_size=4)), max_size=6).map("".join)


def outside_files(root: Path) -> list[str]:
    """Everything in the workspace's parent folder, except the builders folder (which may grow)."""
    return sorted(str(p) for p in root.parent.iterdir() if p != builders_dir(root))


@HOSTILE_SETTINGS
@given(name=hostile_text)
def test_any_builder_name_is_refused_or_planned(root: Path, builders: Builders, name: str) -> None:
    before = outside_files(root)
    result = builders("new", name, "--repos", "alpha", "--dry-run")
    assert result.code in (0, 2), result.err
    if result.code == 2:
        assert result.err.startswith("error: ") and "hint: " in result.err
    else:
        assert name_problem(name) is None
    assert not builders_dir(root).exists()
    assert outside_files(root) == before


@HOSTILE_SETTINGS
@given(repos=hostile_text)
def test_any_repos_list_is_refused_or_planned(root: Path, builders: Builders, repos: str) -> None:
    result = builders("new", "b", "--repos", repos, "--dry-run")
    assert result.code in (0, 2), result.err
    assert "Traceback" not in result.err
    assert not builders_dir(root).exists()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}", fullmatch=True))
def test_valid_names_make_and_remove_a_builder_in_its_place(root: Path, builders: Builders, name: str) -> None:
    if name_problem(name) is not None or not git.branch_name_ok_started(f"builder/{name}")():
        return
    made = builders("new", name, "--repos", "alpha")
    assert made.code == 0, made.err
    assert (builders_dir(root) / name / "repos/alpha/.git").is_file()
    assert builders("remove", name).code == 0
    assert not (builders_dir(root) / name).exists()


@pytest.mark.parametrize("folder", ["/", "..", "../..", "~", ".", "repos", "repos/alpha/trees"])
def test_hostile_builders_dir_is_refused(root: Path, builders: Builders, unchanged: Unchanged, folder: str) -> None:
    (root / "workspaces.local.yaml").write_text(f"builders:\n  dir: '{folder}'\n")
    with unchanged():
        result = builders("new", "b", "--repos", "alpha")
    assert result.code == 2, result.err
    assert "hint: set builders.dir" in result.err


def test_caller_git_environment_is_ignored(
    root: Path, builders: Builders, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    git.run(other, "init", "-q")
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other))
    monkeypatch.setenv("GIT_INDEX_FILE", str(other / ".git" / "index"))
    result = builders("new", "b", "--repos", "alpha")
    assert result.code == 0, result.err
    assert git.locate(builders_dir(root) / "b" / "repos/alpha") is not None
    assert not (other / ".git" / "worktrees").exists()
    assert not (other / ".git" / "refs" / "heads" / "builder").exists()


def test_spaces_and_unicode_in_paths(tmp_path: Path, builders: Builders) -> None:
    root = make_workspace(tmp_path / "my wörk space", ("a b", "ünï"), files=2)
    made = builders("new", "b", "--repos", "all", cwd=root)
    assert made.code == 0, made.err
    builder = builders_dir(root) / "b"
    assert (builder / "repos" / "ünï" / ".git").is_file()
    assert builders("verify", cwd=root).code == 0
    (builder / "repos" / "a b" / "wip ü.txt").write_text("work\n")
    refused = builders("remove", "b", cwd=root)
    assert refused.code == 1 and "wip" in refused.err
    assert builders("remove", "b", "--force", cwd=root).code == 0
    assert not builder.exists()


def test_read_only_builders_folder_fails_cleanly(root: Path, builders: Builders, tmp_path: Path) -> None:
    import subprocess

    read_only = tmp_path / "read-only"
    read_only.mkdir()
    if os.geteuid() != 0:
        read_only.chmod(0o555)
    else:  # root ignores permissions: a read-only file system refuses root too
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(read_only)], check=False)
        if mounted.returncode != 0:
            pytest.skip("running as root and cannot mount a read-only tmpfs: nothing here is read-only for root")
    (root / "workspaces.local.yaml").write_text(f"builders:\n  dir: '{read_only}'\n")
    try:
        result = builders("new", "b", "--repos", "alpha")
    finally:
        if os.geteuid() == 0:
            subprocess.run(["umount", str(read_only)], check=False)
        read_only.chmod(0o755)
    assert result.code == 1, result.err
    assert "error: " in result.err and "rolled back" in result.err
    assert list(read_only.iterdir()) == []
    for repo in (root, root / "repos/alpha"):
        assert git.run(repo, "branch", "--list", "builder/*") == ""
        assert len(git.worktrees(repo)) == 1


def test_repo_replaced_by_a_symlink_elsewhere(root: Path, builders: Builders, tmp_path: Path) -> None:
    assert builders("new", "b", "--repos", "alpha").code == 0
    nested = builders_dir(root) / "b" / "repos" / "alpha"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious.txt").write_text("keep me\n")
    moved = nested.with_name("alpha.real")
    nested.rename(moved)
    nested.symlink_to(elsewhere)
    result = builders("remove", "b", "--force")
    assert result.code == 1 and "repos/alpha" in result.err
    assert (elsewhere / "precious.txt").read_text() == "keep me\n"


def test_builders_folder_that_is_a_file_fails_cleanly(root: Path, builders: Builders) -> None:
    blocker = builders_dir(root)
    blocker.write_text("not a folder\n")
    result = builders("new", "b", "--repos", "alpha,beta")
    assert result.code == 2, result.err
    assert result.err.startswith("error: builders folder") and "hint: move it away" in result.err
    assert blocker.read_text() == "not a folder\n"
    for repo in (root, root / "repos/alpha", root / "repos/beta"):
        assert git.run(repo, "branch", "--list", "builder/*") == ""
        assert len(git.worktrees(repo)) == 1


include_lines = st.lists(
    st.sampled_from(["..", "../secret.txt", "/etc/passwd", "../../*", "*", "**", "!.env.local", ".env.local", "../"]),
    min_size=1,
    max_size=4,
)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=include_lines, in_config=st.booleans())
def test_copy_in_patterns_never_reach_outside(
    root: Path, builders: Builders, lines: list[str], in_config: bool
) -> None:
    (root.parent / "secret.txt").write_text("outside\n")
    (root / ".env.local").write_text("KEY=1\n")  # untracked: copy-in candidates must be ignored files
    git.run(root, "config", "core.excludesFile", str(root.parent / "excludes"))
    (root.parent / "excludes").write_text(".env.local\n.worktreeinclude\n")
    if in_config:
        quoted = ", ".join(f"'{line}'" for line in lines)
        (root / "workspaces.local.yaml").write_text(f"copy: [{quoted}]\n")
        (root / ".worktreeinclude").unlink(missing_ok=True)
    else:
        (root / ".worktreeinclude").write_text("\n".join(lines) + "\n")
        (root / "workspaces.local.yaml").unlink(missing_ok=True)
    before = outside_files(root)
    name = f"c{len(list(builders_dir(root).iterdir())) if builders_dir(root).exists() else 0}"
    result = builders("new", name, "--repos", "alpha")
    assert result.code in (0, 2), result.err
    assert outside_files(root) == before
    builder = builders_dir(root) / name
    if result.code == 0:
        copied = {
            p.relative_to(builder).as_posix() for p in builder.rglob("*") if p.is_file() and ".git" not in p.parts
        }
        assert "secret.txt" not in {Path(c).name for c in copied}
        assert all(not Path(c).is_absolute() for c in copied)


def test_full_disk_rolls_back(root: Path, builders: Builders, tmp_path: Path) -> None:
    import subprocess

    tiny = tmp_path / "tiny"
    tiny.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(tiny)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here to fill up: {mounted.stderr.decode().strip()}")
    try:
        alpha = root / "repos/alpha"
        (alpha / "big.bin").write_bytes(os.urandom(1024 * 1024))
        git.run(alpha, "add", "big.bin")
        git.run(alpha, "commit", "-q", "-m", "big")
        (root / "workspaces.local.yaml").write_text(f"builders:\n  dir: '{tiny / 'builders'}'\n")
        result = builders("new", "b", "--repos", "beta,alpha:HEAD")
        assert result.code == 1, result.err
        assert "rolled back" in result.err
        assert not (tiny / "builders" / "b").exists()
        for repo in (root, alpha, root / "repos/beta"):
            assert git.run(repo, "branch", "--list", "builder/*") == ""
            assert len(git.worktrees(repo)) == 1
    finally:
        subprocess.run(["umount", str(tiny)], check=False)
