"""Timing helpers for the benchmarks: ours and the baseline alternate in one run, medians, ratios."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
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
# Measure the tool as `pip install` leaves it, with its bytecode compiled: an environment that
# forbids writing bytecode would make every run compile the editable checkout's modules again.
ENV.pop("PYTHONDONTWRITEBYTECODE", None)
# Workspaces are generated outside the checkout: editors and indexers that watch a project folder
# make every file git writes there cost more, which would measure them rather than us.
BENCH_DIR = Path(os.environ.get("BENCH_DIR") or Path(tempfile.gettempdir()) / "workspace-builders-bench")


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
    """One row of the table: what we measured, against what, and the target it must meet."""

    scenario: str
    ours: str
    baseline: str
    value: float  # a ratio ours/baseline, or a measure in `unit`
    target: float | None  # None: a row shown for reference, with no target of its own
    unit: str = ""

    @property
    def met(self) -> bool:
        return self.target is None or self.value <= self.target


def compare(
    scenario: str,
    ours: Callable[[int], None],
    baseline: Callable[[int], None],
    target: float | None,
    pairs: int = 5,
    baseline_name: str = "raw git",
) -> Comparison:
    """Time ours(i) and baseline(i) alternately, the one going first swapped each pair."""
    mine, theirs = timed_pairs(ours, baseline, pairs)
    ratios = [m / t for m, t in zip(mine, theirs, strict=True)]
    return Comparison(
        scenario,
        f"{statistics.median(mine):.3f}s",
        f"{statistics.median(theirs):.3f}s ({baseline_name})",
        statistics.median(ratios),
        target,
    )


def timed_pairs(
    first: Callable[[int], None], second: Callable[[int], None], pairs: int
) -> tuple[list[float], list[float]]:
    ones: list[float] = []
    twos: list[float] = []
    for index in range(pairs):
        if index % 2 == 0:
            ones.append(timed(partial(first, index)))
            twos.append(timed(partial(second, index)))
        else:
            twos.append(timed(partial(second, index)))
            ones.append(timed(partial(first, index)))
    return ones, twos


def slope(scenario: str, small: tuple[int, float], large: tuple[int, float], unit: str, target: float) -> Comparison:
    """How the time per unit grows from the small case to the large one (1.0: flat)."""
    (n_small, t_small), (n_large, t_large) = small, large
    per_small, per_large = t_small / n_small, t_large / n_large
    return Comparison(
        scenario,
        f"{per_large * 1000:.1f} ms/{unit} at {n_large}",
        f"{per_small * 1000:.1f} ms/{unit} at {n_small}",
        per_large / per_small,
        target,
    )


def report(results: Sequence[Comparison]) -> str:
    from tabulate import tabulate

    rows = [[r.scenario, r.ours, r.baseline, f"{r.value:.2f}{r.unit}", *_judged(r)] for r in results]
    return tabulate(rows, headers=["scenario", "ours", "baseline", "ratio", "target", "met"], disable_numparse=True)


def _judged(row: Comparison) -> list[str]:
    if row.target is None:
        return ["-", "-"]
    return [f"<= {row.target}{row.unit}", "yes" if row.met else "NO"]


def fresh_workspace(label: str, repos: int, files: int) -> tuple[Path, Path, list[str]]:
    """A new sample workspace under .bench/: (its folder, the root, the repo names)."""
    from sample_workspace import make_workspace

    names = [f"repo{i:02d}" for i in range(repos)]
    place = BENCH_DIR / f"{label}-{repos}x{files}"
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


def copse() -> Path | None:
    """The peer tool `copse`, in a virtualenv of its own under .bench/ (never a project dependency)."""
    venv = PROJECT / ".bench" / "copse-venv"
    command = venv / "bin" / "copse"
    if not command.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        done = subprocess.run(
            [str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", "copse"],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            print(f"copse could not be installed, its rows are left out:\n{done.stderr}", file=sys.stderr)
            return None
    return command
