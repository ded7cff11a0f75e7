"""`builders new` against the same git commands typed one after another, and against the peer `copse`.

Rows: 10 repos x 2000 files against raw git and against copse; 1 repo, where Python's start-up
counts; and the time per repo from 10 to 100 repos (flat is 1.0).

    python bench/new.py [--repos 10] [--files 2000] [--pairs 5]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from common import Comparison, compare, copse, fresh_workspace, report, sh, slope


def _raw_git(root: Path, trees: Path, names: list[str], label: str) -> None:
    builder = trees / label
    branch = f"builder/{label}"
    sh(root, "git", "worktree", "add", "--quiet", "--no-track", "-b", branch, str(builder), "HEAD")
    for name in names:
        target = builder / "repos" / name
        clone = root / "repos" / name
        sh(clone, "git", "worktree", "add", "--quiet", "--no-track", "-b", branch, str(target), "origin/HEAD")


def bench_new(repos: int, files: int, pairs: int, target: float, copse_target: float | None = None) -> list[Comparison]:
    place, root, names = fresh_workspace("new", repos, files)
    trees = place / "workspace-root.builders"
    scale = f"{repos} repo{'s' if repos > 1 else ''} x {files} files"
    results = [
        compare(
            f"new, {scale}",
            lambda i: sh(root, "builders", "new", f"ours{i}", "--repos", "all"),
            lambda i: _raw_git(root, trees, names, f"raw{i}"),
            target,
            pairs,
        )
    ]
    peer = copse() if copse_target is not None else None
    if peer is not None and copse_target is not None:
        tasks = place / "copse-tasks"
        picks = [arg for name in names for arg in ("-r", name)]
        results.append(
            compare(
                f"new, {scale}",
                lambda i: sh(root, "builders", "new", f"vs{i}", "--repos", "all"),
                lambda i: sh(
                    root / "repos",
                    str(peer),
                    "new",
                    f"t{i}",
                    *picks,
                    "--no-fetch",
                    "--from",
                    "local",
                    "--no-setup",
                    "--root",
                    str(tasks),
                ),
                copse_target,
                pairs,
                "copse",
            )
        )
    shutil.rmtree(place, ignore_errors=True)
    return results


def bench_new_scale(small: int, large: int, files: int, pairs: int, target: float) -> Comparison:
    """`new` of all repos in a workspace of `small` repos and one of `large`: the time per repo."""
    medians = []
    for count in (small, large):
        place, root, _ = fresh_workspace("new-scale", count, files)
        times = []
        for index in range(pairs):
            start = time.perf_counter()
            sh(root, "builders", "new", f"s{index}", "--repos", "all")
            times.append(time.perf_counter() - start)
        medians.append((count, sorted(times)[len(times) // 2]))
        shutil.rmtree(place, ignore_errors=True)
    return slope(
        f"new, time per repo, {small} -> {large} repos x {files} files", medians[0], medians[1], "repo", target
    )


def bench_all_new(pairs: int) -> list[Comparison]:
    return [
        *bench_new(10, 2000, pairs, 0.7, copse_target=0.55),
        *bench_new(1, 2000, pairs, 1.3),
        bench_new_scale(10, 100, 50, pairs, 1.25),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=10)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--pairs", type=int, default=5)
    args = parser.parse_args()
    print(report(bench_new(args.repos, args.files, args.pairs, 0.7, copse_target=0.55)))
    sys.exit(0)
