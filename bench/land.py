"""`builders land` of a builder of N repos, a commit in each, against the same git commands typed one
after another: in each repo `git rebase main` in the builder's worktree, then `git merge --ff-only` of
the builder branch in the clone (where main is checked out). Every base has moved on since the
builders were made, so every land rebases in every repo.

python bench/land.py [--repos 10] [--files 2000] [--pairs 5]
"""

from __future__ import annotations

import shutil
import sys

from common import Comparison, compare, fresh_workspace, main, sh


def bench_land(repos: int, files: int, pairs: int, target: float) -> Comparison:
    place, root, names = fresh_workspace("land", repos, files)
    trees = place / "workspace-root.builders"
    for index in range(pairs):  # both sides land builders made the same way, made before timing
        for side in ("ours", "raw"):
            name = f"{side}{index}"
            sh(root, "builders", "new", name, "--repos", "all")
            for repo in names:
                worktree = trees / name / "repos" / repo
                (worktree / f"{name}.txt").write_text(f"{name}\n", encoding="utf-8")
                sh(worktree, "git", "add", f"{name}.txt")
                sh(worktree, "git", "commit", "--quiet", "-m", f"{name} work")

    for repo in names:  # the bases move on: each land below rebases its commit onto them
        clone = root / "repos" / repo
        (clone / "moved-on.txt").write_text("the base moved on\n", encoding="utf-8")
        sh(clone, "git", "add", "moved-on.txt")
        sh(clone, "git", "commit", "--quiet", "-m", "the base moves on")

    def ours(index: int) -> None:
        sh(root, "builders", "land", f"ours{index}")

    def raw_git(index: int) -> None:
        name = f"raw{index}"
        for repo in names:
            sh(trees / name / "repos" / repo, "git", "rebase", "--quiet", "main")
            sh(root / "repos" / repo, "git", "merge", "--quiet", "--ff-only", f"builder/{name}")

    result = compare(f"land with a rebase, {repos} repos x {files} files", ours, raw_git, target, pairs)
    shutil.rmtree(place, ignore_errors=True)
    return result


if __name__ == "__main__":
    sys.exit(main(bench_land, 0.9, __doc__))
