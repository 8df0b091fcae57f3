"""Throughput with the decision-grade mechanics on and off: MODEL.md's model against ramp-up, size elasticity and tiers.

    python benchmarks/bench_tiers.py [--replications 1000] [--repeats 5]

Runs, alternately (so a busy machine slows all alike), the baseline without ramp-up and size elasticity
(MODEL.md's model), the baseline (ramp-up over 12 months, size elasticity 0.5) and
scenarios/tiered_program.yaml (the baseline with three tiers), and prints for each the fastest and the
median CPU time of ``simulate`` without the partner table, and the slowdowns (fastest against fastest).
Target: ramp, elasticity and tiers together cost at most 15% of the engine's throughput.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import simulator as sim
from benchmarks.common import BASELINE, ROOT, machine

TIERED = ROOT / "scenarios" / "tiered_program.yaml"


def measure(replications: int = 1000, repeats: int = 5) -> dict[str, list[float]]:
    """CPU seconds of each run, per scenario (``baseline``, ``tiered``), runs interleaved."""
    plain = sim.load_scenario(BASELINE, activation__ramp_months=0, recruitment__size_elasticity=0.0)
    scenarios = {"model": plain, "baseline": sim.load_scenario(BASELINE), "tiered": sim.load_scenario(TIERED)}
    for scn in scenarios.values():
        sim.simulate(scn, replications=8, seed=0)  # warm-up: imports, caches
    runs: dict[str, list[float]] = {name: [] for name in scenarios}
    for i in range(repeats):
        for name, scn in scenarios.items():
            t0 = time.process_time()
            sim.simulate(scn, replications=replications, seed=i, partners=False)
            runs[name].append(time.process_time() - t0)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    runs = measure(args.replications, args.repeats)
    print(f"machine: {machine()}")
    scn = sim.load_scenario(BASELINE)
    company_months = scn.companies * scn.horizon_months * args.replications
    for name, times in runs.items():
        print(
            f"{name}: fastest {min(times):.2f} s, median {statistics.median(times):.2f} s CPU "
            f"({company_months / min(times) / 1e6:.1f} million company-months per second at the fastest)"
        )
    ramp = min(runs["baseline"]) / min(runs["model"]) - 1
    every = min(runs["tiered"]) / min(runs["model"]) - 1
    print(f"ramp and elasticity cost {ramp:+.1%}; with tiers too {every:+.1%} of the time (target <= +15%)")


if __name__ == "__main__":
    main()
