"""`make bench`: every benchmark, one table. Each compares our command with its baseline in one run.

Workspaces are generated in the system's temporary folder (BENCH_DIR overrides it).

    python bench/run.py [--sizes 10,100,1000]
"""

from __future__ import annotations

import argparse
import sys

from common import report
from exec import bench_exec, bench_exec_slow_command
from hook import bench_hooks
from land import bench_land
from list import bench_list
from new import bench_all_new
from remove import bench_remove, bench_remove_real
from scale import bench_scale
from sparse import bench_sparse
from startup import bench_startup

PAIRS = 5
CHEAP_PAIRS = 11  # scenarios of a fraction of a second: more pairs, less noise


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--sizes",
        default="10,100,1000",
        help="builders in the workspaces of the scale rows (1000 takes some minutes: 10,100 skips it)",
    )
    sizes = tuple(int(size) for size in parser.parse_args().sizes.split(","))
    results = [
        *bench_all_new(PAIRS),
        bench_remove(repos=10, files=2000, pairs=PAIRS, target=1.0),
        bench_remove_real(pairs=PAIRS, target=1.2),
        bench_land(repos=10, files=2000, pairs=PAIRS, target=0.9),
        bench_exec(repos=10, files=2000, pairs=PAIRS, target=1.0),
        bench_exec_slow_command(repos=10, pairs=PAIRS, target=0.35),
        bench_sparse(folders=40, files=16000, pairs=PAIRS),
        *bench_list(builders=100, repos=5, files=50, pairs=CHEAP_PAIRS),
        *bench_scale(sizes, repos=3, files=20, pairs=3),
        *bench_hooks(files=50, pairs=CHEAP_PAIRS),
        *bench_startup(pairs=CHEAP_PAIRS),
    ]
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
