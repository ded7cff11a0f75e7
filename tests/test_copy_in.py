"""Copy-in: ignored files named by .worktreeinclude or copy: reach new worktrees, safely."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import Builders, builders_dir, commit


def ignore(repo: Path, *patterns: str) -> None:
    with (repo / ".gitignore").open("a") as out:
        out.write("".join(f"{p}\n" for p in patterns))
    commit(repo, "ignore")


def test_worktreeinclude_in_root_and_clone(root: Path, builders: Builders) -> None:
    ignore(root, ".env.local", "secrets/", "build/")
    (root / ".env.local").write_text("TOKEN=1\n")
    (root / "secrets").mkdir()
    (root / "secrets/key").write_text("k\n")
    (root / "build").mkdir()
    (root / "build/out.o").write_text("o\n")
    (root / ".worktreeinclude").write_text("# what a builder needs\n.env.local\nsecrets/\n")
    alpha = root / "repos/alpha"
    ignore(alpha, ".env")
    (alpha / ".env").write_text("A=1\n")
    (alpha / ".worktreeinclude").write_text(".env\n")
    # based on the clone's main, which ignores .env (origin/HEAD does not: see test_copy_in_ignore.py)
    result = builders("new", "x", "--repos", "alpha:main,beta", "--json")
    assert result.code == 0, result.err
    builder = builders_dir(root) / "x"
    assert (builder / ".env.local").read_text() == "TOKEN=1\n"
    assert (builder / "secrets/key").read_text() == "k\n"
    assert not (builder / "build").exists()  # ignored, but not asked for
    assert (builder / "repos/alpha/.env").read_text() == "A=1\n"
    assert not (builder / ".worktreeinclude").exists()  # untracked, not ignored: not a candidate
    assert not (builder / "repos/alpha/repos").exists()
    import json

    assert sorted(json.loads(result.out)["copied"]) == [".env.local", "repos/alpha/.env", "secrets/key"]


def test_copy_config_and_never_the_clones(root: Path, builders: Builders) -> None:
    ignore(root, "*.local")
    (root / "db.local").write_text("x\n")
    (root / "workspaces.yaml").write_text('copy: ["*.local", "repos/", "repos"]\n')
    commit(root)
    assert builders("new", "x", "--repos", "alpha").code == 0
    builder = builders_dir(root) / "x"
    assert (builder / "db.local").read_text() == "x\n"
    # repos/ holds only the nested worktree made by git, never copies of the clones
    assert sorted(p.name for p in (builder / "repos").iterdir()) == ["alpha"]
    assert (builder / "repos/alpha/.git").is_file()


def test_symlinks_are_not_followed_or_copied(root: Path, builders: Builders, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "private").write_text("do not copy\n")
    ignore(root, "linked", "link.env", "data/")
    os.symlink(outside, root / "linked")
    os.symlink(outside / "private", root / "link.env")
    (root / "data").mkdir()
    (root / "data/real").write_text("r\n")
    os.symlink(outside, root / "data/escape")
    (root / ".worktreeinclude").write_text("linked\nlink.env\ndata/\n")
    assert builders("new", "x").code == 0
    builder = builders_dir(root) / "x"
    assert not os.path.lexists(builder / "linked")
    assert not os.path.lexists(builder / "link.env")
    assert (builder / "data/real").read_text() == "r\n"
    assert not os.path.lexists(builder / "data/escape")


def test_never_overwrites(root: Path, builders: Builders) -> None:
    # .gitignore is tracked: even if a pattern names it, the builder keeps its checked-out copy
    ignore(root, ".env")
    (root / ".env").write_text("root\n")
    (root / ".worktreeinclude").write_text(".env\n.gitignore\n")
    assert builders("add", "x").code == 0
    builder = builders_dir(root) / "x"
    (builder / ".env").write_text("builder's own\n")
    (root / "workspaces.yaml").write_text("")
    assert builders("init", "--repos", "alpha", cwd=builder).code == 0
    assert (builder / ".env").read_text() == "builder's own\n"
    assert (builder / ".gitignore").read_text() == (root / ".gitignore").read_text()
