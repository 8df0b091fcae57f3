"""What the reliability checks cost: validating every point of a design, proving every chunk of a sweep.

    python benchmarks/bench_checks.py [--points 10000] [--chunks 400]

1. Seconds to make (and so validate, point by point) a grid design of ``--points`` distinct points of the
   baseline scenario, and of the same grid over a scenario with three levers (a lever program is compiled
   by each point's validation).
2. Seconds for :func:`open_sweep` to read a finished sweep of ``--chunks`` chunks, with every chunk proven
   (sha256 of its bytes, its point and replications checked) against the plain read of the same files.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import BASELINE, machine

LEVERS = [
    {"name": "mdf", "effects": {"activation.monthly_probability": 0.2}, "months": [1, 12]},
    {"name": "training", "effects": {"activation.monthly_probability": 0.1}, "cost": {"per_partner_month": 50}},
    {"name": "portal", "effects": {"activation.monthly_probability": 0.05}, "cost": {"fixed_per_month": 2000}},
]


def design_seconds(points: int, levers: bool) -> tuple[float, int]:
    import simulator as sim
    from simulator.sweeps import SweepDesign

    base = sim.load_scenario(BASELINE, **({"program__levers": LEVERS} if levers else {}))
    side = int(points**0.5)
    grid = {"recruitment.nurture_per_month": list(range(side)), "activation.window_months": list(range(1, side + 1))}
    grid["market.prospects"] = list(range(1000, 1000 + max(1, points // (side * side))))
    started = time.perf_counter()
    design = SweepDesign.grid(base, grid, replications=1)
    elapsed = time.perf_counter() - started
    assert len(design.points) >= points * 0.9
    return elapsed, len(design.points)


def open_seconds(chunks: int) -> dict:
    import pandas as pd

    from simulator import load_scenario
    from simulator.sweeps import SweepDesign, open_sweep, sweep

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "s"
        base = load_scenario(BASELINE, horizon_months=6)
        design = SweepDesign.grid(base, {"recruitment.nurture_per_month": list(range(chunks // 4))}, 8, seed=1)
        sweep(design, out=folder, workers=1, chunk_size=2, progress=False)
        files = sorted((folder / "kpis").glob("chunk-*"))
        open_sweep(folder)  # both timings below then read from a warm file cache
        t0 = time.perf_counter()
        plain = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
        t_plain = time.perf_counter() - t0
        t0 = time.perf_counter()
        proven = open_sweep(folder)
        t_proven = time.perf_counter() - t0
        assert len(plain) == len(proven)
        return {"chunks": len(files), "plain": t_plain, "proven": t_proven}


def measure(points: int = 10_000, chunks: int = 400) -> dict:
    """Both checks: ``designs`` as (levers, seconds, points) for a design without and with levers, and
    ``open`` as :func:`open_seconds` returns it."""
    designs = [(levers, *design_seconds(points, levers)) for levers in (False, True)]
    return {"designs": designs, "open": open_seconds(chunks)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--chunks", type=int, default=400)
    args = parser.parse_args()
    print(machine())
    m = measure(args.points, args.chunks)
    for levers, seconds, n in m["designs"]:
        print(
            f"design of {n:,} points{' (3 levers)' if levers else ''}: {seconds:.2f} s "
            f"({1e3 * seconds / n:.2f} ms per point)"
        )
    o = m["open"]
    print(
        f"open_sweep of {o['chunks']} chunks: {o['proven']:.2f} s proven, {o['plain']:.2f} s plain read "
        f"({1e3 * (o['proven'] - o['plain']) / o['chunks']:.2f} ms per chunk for the proof)"
    )


if __name__ == "__main__":
    main()
