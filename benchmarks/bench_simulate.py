"""Throughput of simulate(): 2,000 prospects, 200 partners, 36 months, 1,000 replications.

    python benchmarks/bench_simulate.py [--replications 1000] [--repeats 5]

Prints, measured side by side in one run (rounds alternate, so the machine's drifts hit every
figure alike), the median wall time and company-months per second (companies x months x
replications / seconds) of the compiled engine on one thread and on two, and of the numpy
reference kernel. Targets: compiled >= 300 million on one thread, two threads >= 1.7x one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import simulator as sim
from benchmarks.common import BASELINE, machine

#: What is measured: (label, engine, threads).
SETUPS = (
    ("compiled, 1 thread", "compiled", 1),
    ("compiled, 2 threads", "compiled", 2),
    ("numpy reference", "numpy", 1),
)


def measure(
    replications: int = 1000, repeats: int = 3, scenario: object = BASELINE, engine: str = "compiled", threads: int = 1
) -> dict:
    """Median wall time and company-months per second of ``simulate`` (no partner table)."""
    return measure_side_by_side(replications, repeats, scenario, setups=(("", engine, threads),))[""]


def measure_side_by_side(
    replications: int = 1000, repeats: int = 5, scenario: object = BASELINE, setups: tuple = SETUPS
) -> dict[str, dict]:
    """:func:`measure` of each setup, in alternating rounds (round i runs every setup on seed i)."""
    from simulator.engine import compiled

    scn = sim.load_scenario(scenario)
    os.environ.pop("CHANNEL_SIM_ENGINE", None)
    times: dict[str, list[float]] = {label: [] for label, _, _ in setups}
    before = compiled.numba.get_num_threads()
    try:
        for _, engine, threads in setups:  # warm-up: imports, the compiled kernel's cache, thread pool
            compiled.set_threads(min(threads, compiled.numba.config.NUMBA_NUM_THREADS))
            sim.simulate(scn, replications=8, seed=0, engine=engine)
        for i in range(repeats):
            for label, engine, threads in setups:
                compiled.set_threads(min(threads, compiled.numba.config.NUMBA_NUM_THREADS))
                t0 = time.perf_counter()
                sim.simulate(scn, replications=replications, seed=i, partners=False, engine=engine)
                times[label].append(time.perf_counter() - t0)
    finally:
        compiled.set_threads(before)
    company_months = scn.companies * scn.horizon_months * replications
    out = {}
    for label, runs in times.items():
        wall = statistics.median(runs)
        out[label] = {"seconds": wall, "runs": runs, "company_months": company_months, "rate": company_months / wall}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    scn = sim.load_scenario(BASELINE)
    assert scn.market.prospects == 2000 and scn.channel.partners == 200 and scn.horizon_months == 36
    measured = measure_side_by_side(args.replications, args.repeats)
    print(f"machine: {machine()}")
    first = next(iter(measured.values()))
    print(
        f"scenario: {scn.companies:,} companies x {scn.horizon_months} months x {args.replications:,} "
        f"replications = {first['company_months'] / 1e6:.1f} million company-months"
    )
    for label, m in measured.items():
        print(
            f"{label}: {m['rate'] / 1e6:.1f} million company-months per second; wall time (median of "
            f"{args.repeats}) {m['seconds']:.2f} s, runs " + ", ".join(f"{t:.2f}" for t in m["runs"])
        )
    one, two, ref = (measured[label]["rate"] for label, _, _ in SETUPS)
    print(f"compiled vs numpy reference: {one / ref:.1f}x; 2 threads vs 1: {two / one:.2f}x")


if __name__ == "__main__":
    main()
