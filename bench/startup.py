"""Where start-up time goes: the bare interpreter, importing plumbum.cli, `builders --version`,
`builders list --fast`, and commits in a root with our hooks installed.

Each row compares one step with the one below it, so the ratios say what each step adds:
plumbum.cli's import over the bare interpreter; `builders --version` (the whole command line, no
command module) over that import; `list --fast` in a small workspace over `--version`; and
ordinary commits with our hooks against the same commits under a pre-commit hook that only does
`exit 0` (the floor for any hook: our pre-commit hook exits in sh, without starting Python).

    python bench/startup.py [--pairs 11]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from common import Comparison, compare, fresh_workspace, report, sh

RUNS = 10  # commands per timed sample: each is a few tens of milliseconds
COMMITS = 20
EMPTY_HOOK = "#!/bin/sh\nexit 0\n"
PYTHON = sys.executable


def _runs(cwd: Path, *command: str) -> None:
    for _ in range(RUNS):
        sh(cwd, *command)


def bench_startup(pairs: int) -> list[Comparison]:
    place, root, _ = fresh_workspace("startup", 2, 20)
    for name in ("one", "two"):
        sh(root, "builders", "new", name, "--repos", "all")
    rows = [
        compare(
            f"python -c 'import plumbum.cli', x{RUNS}",
            lambda _: _runs(root, PYTHON, "-c", "import plumbum.cli"),
            lambda _: _runs(root, PYTHON, "-c", "pass"),
            6.0,
            pairs,
            "python -c pass",
        ),
        compare(
            f"builders --version, x{RUNS}",
            lambda _: _runs(root, "builders", "--version"),
            lambda _: _runs(root, PYTHON, "-c", "import plumbum.cli"),
            1.3,
            pairs,
            "import plumbum.cli",
        ),
        compare(
            f"builders list --fast, 2 builders, x{RUNS}",
            lambda _: _runs(root, "builders", "list", "--fast"),
            lambda _: _runs(root, "builders", "--version"),
            1.5,
            pairs,
            "builders --version",
        ),
    ]
    shutil.rmtree(place, ignore_errors=True)
    rows.append(bench_commits(pairs))
    return rows


def bench_commits(pairs: int) -> Comparison:
    ours_place, ours, _ = fresh_workspace("commit-ours", 1, 1)
    base_place, base, _ = fresh_workspace("commit-base", 1, 1)
    sh(ours, "builders", "hooks", "install")
    hook = base / ".git" / "hooks" / "pre-commit"
    hook.write_text(EMPTY_HOOK)
    hook.chmod(0o755)

    def commits(root: Path, index: int) -> None:
        for number in range(COMMITS):
            (root / "notes.txt").write_text(f"{index} {number}\n")
            sh(root, "git", "commit", "-q", "--allow-empty", "-am", "notes")

    for root in (ours, base):
        (root / "notes.txt").write_text("start\n")
        sh(root, "git", "add", "notes.txt")
    result = compare(
        f"{COMMITS} commits with our hooks installed",
        lambda index: commits(ours, index),
        lambda index: commits(base, index),
        1.3,
        pairs,
        "an exit-0 pre-commit hook",
    )
    shutil.rmtree(ours_place, ignore_errors=True)
    shutil.rmtree(base_place, ignore_errors=True)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=11)
    args = parser.parse_args()
    print(report(bench_startup(args.pairs)))
    sys.exit(0)
