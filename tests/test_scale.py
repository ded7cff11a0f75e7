"""Cost that stays flat as builders pile up: at a few hundred builders, `new`, `list --fast`,
`verify NAME` and `remove NAME` run the same git calls and read the same state files as at ten (`list --fast` one
state file more per builder), and a commit in a builder runs the same git commands under our pre-commit
hook, counted, never timed. Also: the creation mark is taken off without a
git process, and never a lock of anyone else's."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from conftest import Builders, builders_dir
from many_builders import add_builders
from sample_workspace import make_workspace
from workspace_builders.gitlayer import git, links

# `builders ARGS` in a Python that counts the state files it opens for reading (an audit hook: no
# hook in the tool itself) and writes the count to the file named by its first argument.
COUNTING = """
import sys
reads = 0
def count(event, args):
    global reads
    if event == "open" and isinstance(args[0], str) and "/builders/state/" in args[0]:
        mode, flags = args[1], args[2]
        if (isinstance(mode, str) and "r" in mode and "+" not in mode) or (mode is None and flags & 3 == 0):
            reads += 1
sys.addaudithook(count)
from workspace_builders.cli import main
try:
    code = main(sys.argv[2:])
finally:
    with open(sys.argv[1], "w") as out:
        out.write(str(reads))
sys.exit(code)
"""


class Counted:
    """Runs `builders` with git behind a wrapper that logs each call, and counts state-file reads."""

    def __init__(self, root: Path, scratch: Path) -> None:
        self.root = root
        self.scratch = scratch
        self.log = scratch / "git.log"
        wrapper = scratch / "bin" / "git"
        wrapper.parent.mkdir(parents=True)
        real = shutil.which("git")
        wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{self.log}"\nexec "{real}" "$@"\n', encoding="utf-8")
        wrapper.chmod(0o755)
        self.env = {**os.environ, "PATH": f"{wrapper.parent}{os.pathsep}{os.environ['PATH']}"}

    def __call__(self, *args: str) -> tuple[Counter[str], int]:
        """(git calls by subcommand, state files read) of one `builders ARGS` run."""
        self.log.unlink(missing_ok=True)
        reads = self.scratch / "reads"
        done = subprocess.run(
            [sys.executable, "-c", COUNTING, str(reads), *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        calls = self.log.read_text().splitlines() if self.log.exists() else []
        return Counter(_subcommand(line) for line in calls), int(reads.read_text())


def _subcommand(line: str) -> str:
    """`-C /x worktree add ...` -> `worktree add`; `-C /x status ...` -> `status`."""
    words = line.split()
    while words and words[0] in ("-C", "-c"):
        words = words[2:]
    return " ".join(words[:2]) if words[:1] in (["worktree"], ["sparse-checkout"]) else " ".join(words[:1])


@pytest.mark.slow
def test_new_list_and_verify_cost_the_same_per_builder_at_hundreds_of_builders(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws", ("alpha", "beta"), files=2)
    counted = Counted(root, tmp_path)
    add_builders(root, 10, copied=True)

    counted("hooks", "install")

    def measure(new_name: str, removed: str) -> dict[str, tuple[Counter[str], int]]:
        return {
            "new": counted("new", new_name, "--repos", "all"),
            "list --fast": counted("list", "--fast"),
            "verify NAME": counted("verify", "m0003"),
            "remove NAME": counted("remove", removed),
            "commit": (commit_traced(builders_dir(root) / "m0002", tmp_path / "trace"), 0),
        }

    few = measure("extra1", "m0004")
    add_builders(root, 240, prefix="n", copied=True)
    many = measure("extra2", "m0005")
    for command in ("new", "verify NAME", "remove NAME", "commit"):  # the same work at any number of builders
        assert many[command] == few[command], command
    assert many["list --fast"][0] == few["list --fast"][0]  # one `git worktree list` per repository
    # One state file per builder, once: 240 more builders, and one made and one removed in between.
    assert many["list --fast"][1] - few["list --fast"][1] == 240
    assert "worktree unlock" not in few["new"][0]  # the creation mark comes off with no git process
    assert "worktree list" not in few["new"][0]  # its one entry is read from the admin dirs
    assert "worktree list" not in few["remove NAME"][0]  # so are the entries of the worktrees removed
    assert few["remove NAME"][0]["worktree remove"] == 3  # the builder and its two repos: it did remove
    assert few["new"][1] <= 4 and few["verify NAME"][1] <= 2  # its own state file, never all of them
    assert few["commit"][0]["rev-parse"] == 1 and "worktree list" not in few["commit"][0]  # the hook ran, listing none


def commit_traced(builder: Path, trace: Path) -> Counter[str]:
    """The git commands a commit in `builder` runs, its hooks' included (GIT_TRACE follows every git
    process the commit starts, whichever git binary a hook finds on PATH)."""
    trace.unlink(missing_ok=True)
    notes = builder / "notes.md"
    with notes.open("a", encoding="utf-8") as out:  # something new to commit each time
        out.write("one more line\n")
    git.run(builder, "add", "notes.md")
    env = {**os.environ, "GIT_TRACE": str(trace)}
    done = subprocess.run(["git", "commit", "-qm", "notes"], cwd=builder, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lines = trace.read_text().splitlines()
    return Counter(_subcommand(line.partition("built-in: git ")[2]) for line in lines if "built-in: git " in line)


def test_the_creation_mark_comes_off_and_another_lock_stays(root: Path, builders: Builders) -> None:
    assert builders("new", "s", "--repos", "alpha").code == 0
    alpha = builders_dir(root) / "s/repos/alpha"
    admin = links.link_of(alpha, root / "repos/alpha/.git").admin
    assert admin is not None and not (admin / "locked").exists()
    git.run(root / "repos/alpha", "worktree", "lock", "--reason", "on a USB stick", str(alpha))
    git.finish_worktree(admin)
    assert (admin / "locked").read_text().strip() == "on a USB stick"
    git.run(root / "repos/alpha", "worktree", "unlock", str(alpha))
    git.run(root / "repos/alpha", "worktree", "lock", "--reason", git.CREATING_MARK, str(alpha))
    git.finish_worktree(admin)
    assert not (admin / "locked").exists()
    assert not git.worktrees(root / "repos/alpha")[1].locked
