"""Ordinary checkouts in a workspace root with our hooks installed, against the same checkouts without.

The post-checkout hook runs on every checkout and must return without starting Python. Any hook at
all costs git a fork and an exec of /bin/sh, so a third row compares ours with a hook that only
does `exit 0`: that is the floor no hook can go under.

    python bench/hook.py [--files 50] [--pairs 5]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from common import Comparison, compare, fresh_workspace, report, sh

CHECKOUTS = 40
EMPTY_HOOK = "#!/bin/sh\nexit 0\n"


def _root_with_two_branches(label: str, files: int) -> tuple[Path, Path]:
    place, root, _ = fresh_workspace(f"hook-{label}", 1, 1)
    for index in range(files):
        (root / f"file{index:04d}.txt").write_text(f"{index}\n")
    sh(root, "git", "add", "-A")
    sh(root, "git", "commit", "-q", "-m", "files")
    sh(root, "git", "switch", "-q", "-c", "other")
    (root / "file0000.txt").write_text("changed on other\n")
    sh(root, "git", "commit", "-q", "-am", "other")
    return place, root


def bench_hook(files: int, pairs: int, target: float, against_empty_hook: bool = False) -> Comparison:
    ours_place, ours = _root_with_two_branches("ours", files)
    base_place, base = _root_with_two_branches("base", files)
    sh(ours, "builders", "hooks", "install")
    if against_empty_hook:
        hook = base / ".git" / "hooks" / "post-checkout"
        hook.write_text(EMPTY_HOOK)
        hook.chmod(0o755)

    def checkouts(root: Path) -> None:
        for index in range(CHECKOUTS):
            sh(root, "git", "switch", "-q", "main" if index % 2 == 0 else "other")

    result = compare(
        f"{CHECKOUTS} checkouts, root of {files} files",
        lambda _: checkouts(ours),
        lambda _: checkouts(base),
        target,
        pairs,
        "an exit-0 hook" if against_empty_hook else "no hooks",
    )
    shutil.rmtree(ours_place, ignore_errors=True)
    shutil.rmtree(base_place, ignore_errors=True)
    return result


def bench_hooks(files: int, pairs: int) -> list[Comparison]:
    return [
        bench_hook(files, pairs, 1.15),
        bench_hook(2000, pairs, 1.15),
        bench_hook(files, pairs, 1.15, against_empty_hook=True),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--pairs", type=int, default=5)
    args = parser.parse_args()
    print(report(bench_hooks(args.files, args.pairs)))
    sys.exit(0)
