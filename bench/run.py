"""`make bench`: every benchmark, one table. Each compares our command with its baseline in one run."""

from __future__ import annotations

import sys

from common import report
from hook import bench_hooks
from list import bench_list
from new import bench_new
from remove import bench_remove


def main() -> int:
    results = [
        bench_new(repos=10, files=2000, pairs=5, target=0.8),
        bench_remove(repos=10, files=2000, pairs=5, target=1.0),
        *bench_list(builders=100, repos=5, files=50, pairs=5),
        *bench_hooks(files=50, pairs=5),
    ]
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
