"""Where the engine's time goes: a cProfile of ``simulate`` on the baseline, grouped by what runs.

    python benchmarks/profile_engine.py [--replications 500]

Python functions are listed by module and name, numpy calls that cProfile
sees (random draws, ``take``, ``bincount``, sorts) by their own name. The
self time of ``ChannelKernel.step`` is the element-wise arithmetic written in
its body (comparisons, ``exp``, products), which cProfile cannot split.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import simulator as sim
from benchmarks.common import BASELINE


def label(func: tuple[str, int, str]) -> str:
    """A readable name for a pstats function key (file, line, name)."""
    filename, _, name = func
    if filename == "~":  # a builtin or C method: '<method 'take' of 'numpy.ndarray' objects>'
        return name.strip("<>{}")
    path = Path(filename)
    parts = path.with_suffix("").parts
    if "simulator" in parts:
        module = ".".join(parts[parts.index("simulator") :])
        return f"{module}.{name}"
    return f"{path.name}:{name}"


def profile(replications: int = 500, top: int = 12) -> list[dict]:
    """Self time of the most expensive functions of one ``simulate`` run, with their share."""
    scenario = sim.load_scenario(BASELINE)
    sim.simulate(scenario, replications=8)  # warm-up: imports and caches are not the engine
    profiler = cProfile.Profile()
    profiler.enable()
    sim.simulate(scenario, replications=replications, seed=0, partners=False)
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # {func: (cc, nc, tottime, cumtime, callers)}
    total = sum(v[2] for v in stats.values())
    rows = sorted(
        ({"what": label(f), "calls": v[1], "seconds": v[2], "share": v[2] / total} for f, v in stats.items()),
        key=lambda row: -row["seconds"],
    )
    return rows[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=500)
    args = parser.parse_args()
    for row in profile(args.replications):
        print(f"{row['share']:6.1%}  {row['seconds']:7.3f} s  {row['calls']:>7,}  {row['what']}")


if __name__ == "__main__":
    main()
