"""Throughput of simulate(): 2,000 prospects, 200 partners, 36 months, 1,000 replications, one core.

    python benchmarks/bench_simulate.py [--replications 1000] [--repeats 3]

Prints the median wall time over repeats and company-months per second
(companies x months x replications / seconds). Target: >= 5 million.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import simulator as sim
from benchmarks.common import BASELINE, machine


def measure(replications: int = 1000, repeats: int = 3, scenario: object = BASELINE) -> dict:
    """Median wall time and company-months per second of ``simulate`` (no partner table)."""
    scn = sim.load_scenario(scenario)
    sim.simulate(scn, replications=8, seed=0)  # warm-up: imports, caches
    times = []
    for i in range(repeats):
        t0 = time.perf_counter()
        sim.simulate(scn, replications=replications, seed=i, partners=False)
        times.append(time.perf_counter() - t0)
    wall = statistics.median(times)
    company_months = scn.companies * scn.horizon_months * replications
    return {"seconds": wall, "runs": times, "company_months": company_months, "rate": company_months / wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    scn = sim.load_scenario(BASELINE)
    assert scn.market.prospects == 2000 and scn.channel.partners == 200 and scn.horizon_months == 36
    m = measure(args.replications, args.repeats)
    print(f"machine: {machine()}")
    print(
        f"scenario: {scn.companies:,} companies x {scn.horizon_months} months x {args.replications:,} "
        f"replications = {m['company_months'] / 1e6:.1f} million company-months"
    )
    print(
        f"wall time (median of {args.repeats}): {m['seconds']:.2f} s   runs: "
        + ", ".join(f"{t:.2f}" for t in m["runs"])
    )
    print(f"throughput: {m['rate'] / 1e6:.1f} million company-months per second (target >= 5.0)")


if __name__ == "__main__":
    main()
