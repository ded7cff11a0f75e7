"""`builders new --sparse` of a 40-folder, 16,000-file repo checking out one folder, against the same
builder made full by hand (`git worktree add` of the root, then of the repo).

    python bench/sparse.py [--folders 40] [--files 16000] [--pairs 5]
"""

from __future__ import annotations

import argparse
import shutil
import sys

from common import BENCH_DIR, Comparison, compare, report, sh
from sample_workspace import commit_all, make_workspace

TARGET = 0.2


def bench_sparse(folders: int, files: int, pairs: int, target: float = TARGET) -> Comparison:
    place = BENCH_DIR / f"sparse-{folders}x{files}"
    shutil.rmtree(place, ignore_errors=True)
    root = make_workspace(place, ())
    upstream = place / "upstream" / "big"
    upstream.mkdir(parents=True)
    sh(upstream, "git", "init", "--quiet", "--initial-branch=main")
    for index in range(files):
        folder = upstream / f"area{index % folders:02d}" / f"part{index % 7}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"file{index:05d}.txt").write_text(f"file {index}\n" * 8, encoding="utf-8")
    (upstream / "README.md").write_text("# big\n", encoding="utf-8")
    commit_all(upstream, "big: generated")
    sh(root / "repos", "git", "clone", "--quiet", "--", str(upstream), "big")
    trees = place / "workspace-root.builders"

    def ours(index: int) -> None:
        sh(root, "builders", "new", f"ours{index}", "--repos", "big", "--sparse", "big=area07")

    def full_by_hand(index: int) -> None:
        builder, branch = trees / f"raw{index}", f"builder/raw{index}"
        sh(root, "git", "worktree", "add", "--quiet", "--no-track", "-b", branch, str(builder), "HEAD")
        target = str(builder / "repos" / "big")
        sh(
            root / "repos" / "big",
            "git",
            "worktree",
            "add",
            "--quiet",
            "--no-track",
            "-b",
            branch,
            target,
            "origin/HEAD",
        )

    scenario = f"new --sparse, 1 of {folders} folders of a {files}-file repo"
    result = compare(scenario, ours, full_by_hand, target, pairs, "full git worktree add")
    shutil.rmtree(place, ignore_errors=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--folders", type=int, default=40)
    parser.add_argument("--files", type=int, default=16000)
    parser.add_argument("--pairs", type=int, default=5)
    args = parser.parse_args()
    print(report([bench_sparse(args.folders, args.files, args.pairs)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
