"""Timing helpers for the benchmarks: ours and the baseline alternate in one run, medians, ratios."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
sys.path.insert(0, str(PROJECT / "scripts"))
BIN = Path(sys.executable).parent
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}


def sh(cwd: Path, *command: str) -> None:
    """Run a command; fail loudly, since a benchmark of a failing command measures nothing."""
    done = subprocess.run(command, cwd=cwd, env=ENV, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"benchmark command failed: {' '.join(command)}\n{done.stderr}")


def timed(action: Callable[[], None]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


@dataclass
class Comparison:
    scenario: str
    ours: float  # median seconds
    baseline: float
    ratio: float  # median of the pair-by-pair ratios
    target: float
    baseline_name: str = "raw git"

    @property
    def met(self) -> bool:
        return self.ratio <= self.target


def compare(
    scenario: str,
    ours: Callable[[int], None],
    baseline: Callable[[int], None],
    target: float,
    pairs: int = 5,
    baseline_name: str = "raw git",
) -> Comparison:
    """Time ours(i) and baseline(i) alternately, the one going first swapped each pair."""
    mine: list[float] = []
    theirs: list[float] = []
    for index in range(pairs):
        if index % 2 == 0:
            mine.append(timed(partial(ours, index)))
            theirs.append(timed(partial(baseline, index)))
        else:
            theirs.append(timed(partial(baseline, index)))
            mine.append(timed(partial(ours, index)))
    ratios = [m / t for m, t in zip(mine, theirs, strict=True)]
    return Comparison(
        scenario, statistics.median(mine), statistics.median(theirs), statistics.median(ratios), target, baseline_name
    )


def report(results: Sequence[Comparison]) -> str:
    from tabulate import tabulate

    rows = [
        [
            r.scenario,
            f"{r.ours:.3f}s",
            f"{r.baseline:.3f}s ({r.baseline_name})",
            f"{r.ratio:.2f}",
            f"<= {r.target}",
            "yes" if r.met else "NO",
        ]
        for r in results
    ]
    return tabulate(rows, headers=["scenario", "ours", "baseline", "ratio", "target", "met"], disable_numparse=True)


def fresh_workspace(label: str, repos: int, files: int) -> tuple[Path, Path, list[str]]:
    """A new sample workspace under .bench/: (its folder, the root, the repo names)."""
    from sample_workspace import make_workspace

    names = [f"repo{i:02d}" for i in range(repos)]
    place = PROJECT / ".bench" / f"{label}-{repos}x{files}"
    shutil.rmtree(place, ignore_errors=True)
    return place, make_workspace(place, names, files), names


def main(bench: Callable[[int, int, int, float], Comparison], target: float, doc: str | None) -> int:
    """The command line every benchmark script shares: --repos, --files, --pairs."""
    import argparse

    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    parser.add_argument("--repos", type=int, default=10)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--pairs", type=int, default=5)
    args = parser.parse_args()
    print(report([bench(args.repos, args.files, args.pairs, target)]))
    return 0
