"""`builders remove` of a builder of N repos against raw `git worktree remove` + `git branch -d`.

python bench/remove.py [--repos 10] [--files 2000] [--pairs 5]
"""

from __future__ import annotations

import argparse
import shutil
import sys

from common import PROJECT, Comparison, compare, report, sh
from sample_workspace import make_workspace


def bench_remove(repos: int, files: int, pairs: int, target: float) -> Comparison:
    names = [f"repo{i:02d}" for i in range(repos)]
    place = PROJECT / ".bench" / f"remove-{repos}x{files}"
    shutil.rmtree(place, ignore_errors=True)
    root = make_workspace(place, names, files)
    trees = place / "workspace-root.builders"
    for index in range(pairs):  # both sides remove builders made the same way, made before timing
        for side in ("ours", "raw"):
            sh(root, "builders", "new", f"{side}{index}", "--repos", "all")

    def ours(index: int) -> None:
        sh(root, "builders", "remove", f"ours{index}")

    def raw_git(index: int) -> None:
        builder = trees / f"raw{index}"
        for name in names:
            clone = root / "repos" / name
            sh(clone, "git", "worktree", "remove", str(builder / "repos" / name))
            sh(clone, "git", "branch", "--quiet", "-d", f"builder/raw{index}")
        sh(root, "git", "worktree", "remove", str(builder))
        sh(root, "git", "branch", "--quiet", "-d", f"builder/raw{index}")

    result = compare(f"remove, {repos} repos x {files} files", ours, raw_git, target, pairs)
    shutil.rmtree(place, ignore_errors=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repos", type=int, default=10)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--pairs", type=int, default=5)
    args = parser.parse_args()
    print(report([bench_remove(args.repos, args.files, args.pairs, 1.0)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
