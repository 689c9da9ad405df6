"""How a roll-up scales with the number of reading processes, measured in the same run.

Usage: python benchmarks/bench_rollup.py [--accounts N] [--jobs N]
Writes N demo plans (default 120) to a temporary folder, rolls them up with one reading
process (the baseline) and with ``--jobs`` processes (default: one per CPU), and prints each
time, the accounts per second and the ratio parallel / serial. Peak memory of this process is
printed too: the roll-up keeps one small record per account, not the workbooks.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kamxl.demo import demo_plans
from kamxl.rollup import rollup
from kamxl.template import get_template
from kamxl.workbooks import save_plan


def timed_rollup(folder: Path, out: Path, jobs: int) -> float:
    start = time.perf_counter()
    result = rollup(folder, output=out, history=False, jobs=jobs)
    elapsed = time.perf_counter() - start
    assert not result.skipped, result.skipped
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=120)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args(argv)
    template = get_template()
    with tempfile.TemporaryDirectory() as tmp:
        plans = Path(tmp) / "plans"
        for plan in demo_plans(template, seed=11, count=args.accounts):
            save_plan(plan, plans, template=template, macros=False)
        n = len(list(plans.iterdir()))
        serial = timed_rollup(plans, Path(tmp) / "serial.xlsx", 1)
        parallel = timed_rollup(plans, Path(tmp) / "parallel.xlsx", args.jobs)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{n} account workbooks")
    print(f"{'jobs':>5} {'seconds':>9} {'accounts/s':>11}")
    print(f"{1:>5} {serial:>9.2f} {n / serial:>11.1f}")
    print(f"{args.jobs:>5} {parallel:>9.2f} {n / parallel:>11.1f}")
    print(f"ratio parallel/serial: {parallel / serial:.2f}")
    print(f"peak memory of the main process: {peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
