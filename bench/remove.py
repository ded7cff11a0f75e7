"""`builders remove` of a builder of N repos against raw `git worktree remove` + `git branch -d`.

python bench/remove.py [--repos 10] [--files 2000] [--pairs 5]
"""

from __future__ import annotations

import shutil
import sys

from common import Comparison, compare, fresh_workspace, main, sh


def bench_remove(repos: int, files: int, pairs: int, target: float) -> Comparison:
    place, root, names = fresh_workspace("remove", repos, files)
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


if __name__ == "__main__":
    sys.exit(main(bench_remove, 1.0, __doc__))
