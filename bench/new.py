"""`builders new` of N repos x M files against the same git commands typed one after another.

python bench/new.py [--repos 10] [--files 2000] [--pairs 5]
"""

from __future__ import annotations

import argparse
import shutil
import sys

from common import PROJECT, Comparison, compare, report, sh
from sample_workspace import make_workspace


def bench_new(repos: int, files: int, pairs: int, target: float) -> Comparison:
    names = [f"repo{i:02d}" for i in range(repos)]
    place = PROJECT / ".bench" / f"new-{repos}x{files}"
    shutil.rmtree(place, ignore_errors=True)
    root = make_workspace(place, names, files)
    trees = place / "workspace-root.builders"

    def ours(index: int) -> None:
        sh(root, "builders", "new", f"ours{index}", "--repos", "all")

    def raw_git(index: int) -> None:
        builder = trees / f"raw{index}"
        branch = f"builder/raw{index}"
        sh(root, "git", "worktree", "add", "--quiet", "--no-track", "-b", branch, str(builder), "HEAD")
        for name in names:
            target = builder / "repos" / name
            sh(
                root / "repos" / name,
                "git",
                "worktree",
                "add",
                "--quiet",
                "--no-track",
                "-b",
                branch,
                str(target),
                "origin/HEAD",
            )

    result = compare(f"new, {repos} repos x {files} files", ours, raw_git, target, pairs)
    shutil.rmtree(place, ignore_errors=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repos", type=int, default=10)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--pairs", type=int, default=5)
    args = parser.parse_args()
    print(report([bench_new(args.repos, args.files, args.pairs, 0.8)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
