"""Cost per builder as builders pile up: `new`, `list --fast`, `list`, `verify`, `verify NAME`,
`remove NAME`, `prune` and a commit under our hooks at 10, 100 and 1000 builders x 3 repos.

The builders are added quickly (scripts/many_builders.py: one `git worktree add` per repository, the
rest laid out as git lays out a worktree). `new` is timed against the same git commands typed by
hand at each size, alternately (for reference). Then each command is timed in the smallest and the
largest workspace alternately: the median pair-by-pair ratio of the time per builder (or per call,
for a command about one builder) at the largest size over that at the smallest; 1.0 is flat.

    python bench/scale.py [--sizes 10,100,1000] [--repos 3] [--files 20] [--pairs 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

from common import Comparison, compare, fresh_workspace, report, sh, timed_pairs
from many_builders import add_builders

SIZES = (10, 100, 1000)
FLAT = 1.25  # the target of every slope row


def _raw_new(root: Path, trees: Path, names: list[str], label: str) -> None:
    builder = trees / label
    branch = f"builder/{label}"
    sh(root, "git", "worktree", "add", "--quiet", "--no-track", "-b", branch, str(builder), "HEAD")
    for name in names:
        target = str(builder / "repos" / name)
        sh(
            root / "repos" / name,
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


def _populated(size: int, repos: int, files: int) -> tuple[Path, Path, list[str]]:
    place, root, names = fresh_workspace(f"scale-{size}", repos, files)
    add_builders(root, size, copied=True)
    return place, root, names


def _raw_remove(root: Path, trees: Path, names: list[str], label: str) -> None:
    for name in names:
        sh(root / "repos" / name, "git", "worktree", "remove", str(trees / label / "repos" / name))
        sh(root / "repos" / name, "git", "branch", "--quiet", "-D", f"builder/{label}")
    sh(root, "git", "worktree", "remove", str(trees / label))
    sh(root, "git", "branch", "--quiet", "-D", f"builder/{label}")


Sized = tuple[int, Callable[[int], None]]  # a workspace's number of builders, and a command run there


def _grows(
    scenario: str, small: Sized, large: Sized, pairs: int, per_builder: bool, target: float | None = FLAT
) -> Comparison:
    """The same command in the small workspace and the large one, alternately: the median pair-by-pair
    ratio of the time per builder (`per_builder`) or per call; 1.0 is flat."""
    (n_small, at_small), (n_large, at_large) = small, large
    smalls, larges = timed_pairs(at_small, at_large, pairs)
    unit = "builder" if per_builder else "call"
    n_small, n_large = (n_small, n_large) if per_builder else (1, 1)
    return Comparison(
        scenario,
        f"{statistics.median(larges) / n_large * 1000:.1f} ms/{unit} at {large[0]}",
        f"{statistics.median(smalls) / n_small * 1000:.1f} ms/{unit} at {small[0]}",
        statistics.median((big / n_large) / (little / n_small) for big, little in zip(larges, smalls, strict=True)),
        target,
    )


def _against_raw_git(size: int, repos: int, root: Path, trees: Path, names: list[str], pairs: int) -> Comparison:
    def ours(index: int) -> None:
        sh(root, "builders", "new", f"ours{index}", "--repos", "all")

    def raw(index: int) -> None:
        _raw_new(root, trees, names, f"raw{index}")

    # For reference: how `new` compares with git's own commands as builders pile up (git's own
    # `worktree add` reads every worktree of the repository); its target is the flat row below.
    return compare(f"new at {size} builders x {repos} repos", ours, raw, None, pairs)


def bench_scale(sizes: tuple[int, ...] = SIZES, repos: int = 3, files: int = 20, pairs: int = 3) -> list[Comparison]:
    """Every workspace is made first, so that the sizes are measured alternately, in the same run."""
    spaces = {size: _populated(size, repos, files) for size in sizes}
    rows = []
    for size, (place, root, names) in spaces.items():
        trees = place / "workspace-root.builders"
        rows.append(_against_raw_git(size, repos, root, trees, names, pairs))
        for index in range(pairs):  # plain worktrees would fail `verify`: the rest measures builders only
            _raw_remove(root, trees, names, f"raw{index}")
    small, large = min(sizes), max(sizes)
    (_, small_root, _), (_, large_root, _) = spaces[small], spaces[large]

    def both(*args: str) -> tuple[Sized, Sized]:
        return (small, lambda _: sh(small_root, "builders", *args)), (
            large,
            lambda _: sh(large_root, "builders", *args),
        )

    for what in (("list", "--fast"), ("list",), ("verify",), ("prune",)):  # their work grows with the builders
        scenario = f"{' '.join(what)}, time per builder, {small} -> {large} builders"
        rows.append(_grows(scenario, *both(*what), pairs, per_builder=True))
    rows.append(_grows(f"verify NAME, {small} -> {large} builders", *both("verify", "m0003"), pairs, per_builder=False))
    new_small: Sized = (small, lambda i: sh(small_root, "builders", "new", f"more{i}", "--repos", "all"))
    new_large: Sized = (large, lambda i: sh(large_root, "builders", "new", f"more{i}", "--repos", "all"))
    rows.append(_grows(f"new, {small} -> {large} builders", new_small, new_large, pairs, per_builder=False))
    remove_small: Sized = (small, lambda i: sh(small_root, "builders", "remove", f"more{i}"))
    remove_large: Sized = (large, lambda i: sh(large_root, "builders", "remove", f"more{i}"))
    rows.append(
        _grows(f"remove NAME, {small} -> {large} builders", remove_small, remove_large, pairs, per_builder=False)
    )
    for hooked in (small_root, large_root):
        sh(hooked, "builders", "hooks", "install")

    def commit_in(root: Path) -> Callable[[int], None]:
        builder = root.parent / "workspace-root.builders" / "m0001"

        def commit(index: int) -> None:
            with (builder / "notes.md").open("a", encoding="utf-8") as notes:
                notes.write(f"{index}\n")
            sh(builder, "git", "add", "notes.md")
            sh(builder, "git", "commit", "--quiet", "-m", f"notes {index}")

        return commit

    scenario = f"a commit under our hooks, {small} -> {large} builders"
    rows.append(_grows(scenario, (small, commit_in(small_root)), (large, commit_in(large_root)), pairs, False))
    # For reference: how git's own commands for one builder grow over the same workspaces (what `new`
    # and `remove NAME` run of git's is part of their rows above).
    (small_place, _, small_names), (large_place, _, large_names) = spaces[small], spaces[large]
    small_trees, large_trees = small_place / "workspace-root.builders", large_place / "workspace-root.builders"
    raw_new_small: Sized = (small, lambda i: _raw_new(small_root, small_trees, small_names, f"git{i}"))
    raw_new_large: Sized = (large, lambda i: _raw_new(large_root, large_trees, large_names, f"git{i}"))
    rows.append(
        _grows(f"raw git new, {small} -> {large} builders", raw_new_small, raw_new_large, pairs, False, target=None)
    )
    raw_remove_small: Sized = (small, lambda i: _raw_remove(small_root, small_trees, small_names, f"git{i}"))
    raw_remove_large: Sized = (large, lambda i: _raw_remove(large_root, large_trees, large_names, f"git{i}"))
    scenario = f"raw git remove, {small} -> {large} builders"
    rows.append(_grows(scenario, raw_remove_small, raw_remove_large, pairs, False, target=None))
    for place, _, _ in spaces.values():
        shutil.rmtree(place, ignore_errors=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--repos", type=int, default=3)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    sizes = tuple(int(s) for s in args.sizes.split(","))
    print(report(bench_scale(sizes, args.repos, args.files, args.pairs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
