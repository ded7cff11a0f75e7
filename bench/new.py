"""`builders new` of N repos x M files against the same git commands typed one after another.

python bench/new.py [--repos 10] [--files 2000] [--pairs 5]
"""

from __future__ import annotations

import shutil
import sys

from common import Comparison, compare, fresh_workspace, main, sh


def bench_new(repos: int, files: int, pairs: int, target: float) -> Comparison:
    place, root, names = fresh_workspace("new", repos, files)
    trees = place / "workspace-root.builders"

    def ours(index: int) -> None:
        sh(root, "builders", "new", f"ours{index}", "--repos", "all")

    def raw_git(index: int) -> None:
        builder = trees / f"raw{index}"
        branch = f"builder/raw{index}"
        sh(root, "git", "worktree", "add", "--quiet", "--no-track", "-b", branch, str(builder), "HEAD")
        for name in names:
            target = builder / "repos" / name
            clone = root / "repos" / name
            sh(clone, "git", "worktree", "add", "--quiet", "--no-track", "-b", branch, str(target), "origin/HEAD")

    result = compare(f"new, {repos} repos x {files} files", ours, raw_git, target, pairs)
    shutil.rmtree(place, ignore_errors=True)
    return result


if __name__ == "__main__":
    sys.exit(main(bench_new, 0.8, __doc__))
