"""`make bench`: every benchmark, one table. Each compares our command with its baseline in one run.

Workspaces are generated in the system's temporary folder (BENCH_DIR overrides it).
"""

from __future__ import annotations

import sys

from common import report
from exec import bench_exec
from hook import bench_hooks
from land import bench_land
from list import bench_list
from new import bench_all_new
from remove import bench_remove
from startup import bench_startup

PAIRS = 5
CHEAP_PAIRS = 11  # scenarios of a fraction of a second: more pairs, less noise


def main() -> int:
    results = [
        *bench_all_new(PAIRS),
        bench_remove(repos=10, files=2000, pairs=PAIRS, target=1.0),
        bench_land(repos=10, files=2000, pairs=PAIRS, target=1.0),
        bench_exec(repos=10, files=2000, pairs=PAIRS, target=1.0),
        *bench_list(builders=100, repos=5, files=50, pairs=CHEAP_PAIRS),
        *bench_hooks(files=50, pairs=CHEAP_PAIRS),
        *bench_startup(pairs=CHEAP_PAIRS),
    ]
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
