"""Throughput of simulate(): 2,000 prospects, 200 partners, 36 months, 1,000 replications, one core.

    python benchmarks/bench_simulate.py [--replications 1000] [--repeats 3]

Prints the median wall time over repeats and company-months per second
(companies x months x replications / seconds). Target: >= 5 million.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")  # one core

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import simulator as sim  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    scenario = sim.load_scenario(ROOT / "scenarios" / "baseline.yaml")
    assert scenario.market.prospects == 2000 and scenario.channel.partners == 200
    assert scenario.horizon_months == 36
    sim.simulate(scenario, replications=8, seed=0)  # warm-up: imports, caches

    times = []
    for i in range(args.repeats):
        t0 = time.perf_counter()
        sim.simulate(scenario, replications=args.replications, seed=i, partners=False)
        times.append(time.perf_counter() - t0)
    wall = statistics.median(times)
    company_months = scenario.companies * scenario.horizon_months * args.replications
    rate = company_months / wall
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print(
        f"scenario: {scenario.companies:,} companies x {scenario.horizon_months} months x "
        f"{args.replications:,} replications = {company_months / 1e6:.1f} million company-months"
    )
    print(f"wall time (median of {args.repeats}): {wall:.2f} s   runs: {', '.join(f'{t:.2f}' for t in times)}")
    print(f"throughput: {rate / 1e6:.1f} million company-months per second (target >= 5.0)")


if __name__ == "__main__":
    main()
