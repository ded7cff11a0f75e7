"""`builders list` over B builders x R repos against a raw `git status --porcelain` loop over the
same worktrees; and `list --fast` against one `git worktree list` per repository.

    python bench/list.py [--repos 5] [--files 50] [--pairs 5] [--builders 100]
"""

from __future__ import annotations

import argparse
import sys

from common import Comparison, compare, fresh_workspace, report, sh


def bench_list(builders: int, repos: int, files: int, pairs: int) -> list[Comparison]:
    place, root, names = fresh_workspace(f"list-{builders}", repos, files)
    for index in range(builders):
        sh(root, "builders", "new", f"b{index:03d}", "--repos", "all")
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
