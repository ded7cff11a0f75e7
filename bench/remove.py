"""`builders remove` of a builder of N repos against raw `git worktree remove` + `git branch -d`; and
of a builder of 4 repos shaped like real ones (the file count, folder depth and file sizes of click,
flask, requests and poetry, generated: no history).

python bench/remove.py [--repos 10] [--files 2000] [--pairs 5]   (both rows; --repos and --files shape the first)
"""

from __future__ import annotations

import random
import shutil
import sys
from pathlib import Path

from common import BENCH_DIR, Comparison, compare, fresh_workspace, report, sh
from sample_workspace import commit_all, make_workspace

# name: (tracked files, deepest folder level, mean file size in bytes), as in those projects' trees.
REAL_SHAPES = {
    "click": (180, 4, 9000),
    "flask": (240, 5, 6000),
    "requests": (150, 3, 8000),
    "poetry": (1000, 7, 4000),
}


def bench_remove(repos: int, files: int, pairs: int, target: float) -> Comparison:
    place, root, names = fresh_workspace("remove", repos, files)
    trees = place / "workspace-root.builders"
    for index in range(pairs):  # both sides remove builders made the same way, made before timing
        for side in ("ours", "raw"):
            sh(root, "builders", "new", f"{side}{index}", "--repos", "all")

    result = _compare_removals(f"remove, {repos} repos x {files} files", root, trees, names, pairs, target)
    shutil.rmtree(place, ignore_errors=True)
    return result


def _compare_removals(
    scenario: str, root: Path, trees: Path, names: list[str], pairs: int, target: float
) -> Comparison:
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

    return compare(scenario, ours, raw_git, target, pairs)


def shaped_repo(path: Path, files: int, depth: int, size: int, seed: int) -> None:
    """A one-commit repository of `files` files in folders down to `depth` levels, `size` bytes each
    on average, text (so git compresses and diffs it as it would source code)."""
    rng = random.Random(seed)
    path.mkdir(parents=True)
    sh(path, "git", "init", "--quiet", "--initial-branch=main")
    line = "def function_{0}(value: int) -> int:\n    return value * {0}  # a line of source\n"
    for index in range(files):
        level = 1 + index % depth
        folder = path.joinpath(*(f"d{rng.randrange(3 if level > 1 else 6)}" for _ in range(level)))
        folder.mkdir(parents=True, exist_ok=True)
        lines = max(1, int(rng.expovariate(1 / size)) // len(line))
        text = "".join(line.format(index * 1000 + n) for n in range(lines))
        (folder / f"module{index:04d}.py").write_text(text, encoding="utf-8")
    (path / "README.md").write_text(f"# {path.name}\n", encoding="utf-8")
    commit_all(path, f"{path.name}: generated")


def real_sized_workspace(label: str) -> tuple[Path, Path, list[str]]:
    """A workspace whose repos are REAL_SHAPES: (its folder, the root, the repo names)."""
    place = BENCH_DIR / label
    shutil.rmtree(place, ignore_errors=True)
    root = make_workspace(place, ())
    for seed, (name, (files, depth, size)) in enumerate(REAL_SHAPES.items()):
        shaped_repo(place / "upstream" / name, files, depth, size, seed)
        sh(root / "repos", "git", "clone", "--quiet", "--", str(place / "upstream" / name), name)
    return place, root, list(REAL_SHAPES)


def bench_remove_real(pairs: int, target: float) -> Comparison:
    place, root, names = real_sized_workspace("remove-real")
    for index in range(pairs):
        for side in ("ours", "raw"):
            sh(root, "builders", "new", f"{side}{index}", "--repos", "all")
    scenario = "remove, 4 real-sized repos (click, flask, requests, poetry)"
    result = _compare_removals(scenario, root, place / "workspace-root.builders", names, pairs, target)
    shutil.rmtree(place, ignore_errors=True)
    return result


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repos", type=int, default=10)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--pairs", type=int, default=5)
    args = parser.parse_args()
    rows = [bench_remove(args.repos, args.files, args.pairs, 1.0), bench_remove_real(args.pairs, 1.2)]
    print(report(rows))
    sys.exit(0)
