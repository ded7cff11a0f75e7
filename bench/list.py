"""`builders list` over B builders x R repos against a raw `git status --porcelain` loop over the
same worktrees; `list --fast` against one `git worktree list` per repository; the time per builder
from 10 builders to B (flat is 1.0); and the peak memory of `list` at B builders.

    python bench/list.py [--repos 5] [--files 50] [--pairs 5] [--builders 100]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from common import ENV, Comparison, compare, fresh_workspace, report, sh, slope

SMALL = 10
MEMORY_LIMIT_MB = 60.0
# `builders list` in a Python that reports its own peak resident memory (git's processes not counted).
PEAK_MEMORY = (
    "import resource, sys; from workspace_builders.cli import main; main(['list']); "
    "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)"
)


def median_time(root: Path, *args: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        sh(root, "builders", *args)
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def peak_memory_mb(root: Path) -> float:
    done = subprocess.run(
        [sys.executable, "-c", PEAK_MEMORY], cwd=root, env=ENV, capture_output=True, text=True, check=True
    )
    return int(done.stderr.strip().splitlines()[-1]) / 1024  # Linux reports KiB


def bench_list(builders: int, repos: int, files: int, pairs: int) -> list[Comparison]:
    place, root, names = fresh_workspace(f"list-{builders}", repos, files)
    for index in range(builders):
        sh(root, "builders", "new", f"b{index:03d}", "--repos", "all")
        if index + 1 == SMALL:
            at_small = median_time(root, "list", runs=pairs)
    trees = place / "workspace-root.builders"
    worktrees = [trees / f"b{i:03d}" for i in range(builders)]
    worktrees += [w / "repos" / name for w in list(worktrees) for name in names]
    repositories = [root, *(root / "repos" / name for name in names)]

    def status_loop(_: int) -> None:
        for worktree in worktrees:
            sh(worktree, "git", "status", "--porcelain")

    def worktree_lists(_: int) -> None:
        for repository in repositories:
            sh(repository, "git", "worktree", "list", "--porcelain")

    scale = f"{builders} builders x {repos} repos"
    at_large = median_time(root, "list", runs=pairs)
    memory = peak_memory_mb(root)
    return [
        compare(f"list, {scale}", lambda _: sh(root, "builders", "list"), status_loop, 0.7, pairs, "git status loop"),
        compare(
            f"list --fast, {scale}",
            lambda _: sh(root, "builders", "list", "--fast"),
            worktree_lists,
            3.0,
            pairs,
            "git worktree list per repo",
        ),
        slope(
            f"list, time per builder, {SMALL} -> {builders} builders",
            (SMALL, at_small),
            (builders, at_large),
            "builder",
            1.25,
        ),
        Comparison(f"list, peak memory, {scale}", f"{memory:.1f} MB", "-", memory, MEMORY_LIMIT_MB, " MB"),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--builders", type=int, default=100)
    parser.add_argument("--repos", type=int, default=5)
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--pairs", type=int, default=5)
    args = parser.parse_args()
    print(report(bench_list(args.builders, args.repos, args.files, args.pairs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
