"""All the performance figures, in one run on one machine, written to benchmarks/results.md.

    python benchmarks/run.py [--quick]

1. Throughput (company-months per second) of the engine and of the plain
   per-agent Mesa reference model (benchmarks/reference/) on the baseline,
   and their ratio (target: the engine at least 20x faster, ~10 million/s).
2. The cost of a company-month in numpy uniform draws (target: at most 12).
3. How run time grows with companies, months and replications: fitted
   exponents of time ~ size^k (target: k close to 1, linear).
4. Peak memory of a 10,000-replication run and of a 100-point sweep
   (target: under 2 GB).
5. The time of ``python run.py size scenarios/baseline.yaml``.
6. The speed-up of a sweep with 2 workers (target: at least 1.7x), beside
   what two cores allow for two independent simulations.
7. Where the engine's time goes (cProfile).
8. The time of ``calibrate`` on a large export (bench_calibrate.py; target: under 30 s).
9. The time of ``run.py optimize`` over every catalogue lever, and what it finds
   (bench_optimize.py; target: under 5 minutes).
10. The dashboard's first answer and slider update in headless Chromium
    (bench_dashboard.py; targets: within 5 s and 3 s).
11. What the reliability checks cost: validating sweep points, proving sweep chunks (bench_checks.py).

``--quick`` runs every section on small sizes (a smoke test of the scripts, about 3 minutes on two
cores) and leaves results.md alone.

Every time is the median of several runs; memory is the peak resident set of
a fresh process running only that workload.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import simulator as sim
from benchmarks import (
    bench_calibrate,
    bench_checks,
    bench_dashboard,
    bench_optimize,
    bench_simulate,
    bench_size,
    bench_sweep,
    bench_tiers,
    profile_engine,
)
from benchmarks.common import BASELINE, ROOT, machine, run_child
from benchmarks.reference.model import throughput as reference_throughput
from simulator.formatting import money

RESULTS = ROOT / "benchmarks" / "results.md"
NUMBERS_CHANGED = (
    "Engine: the compiled kernel (numba; `simulator/engine/compiled.py`) unless a row says otherwise. The engine's "
    "numbers changed once with it (2026-12-01): random numbers are a counter-based hash of (seed, replication, "
    "month, purpose, company) shared by both kernels, and run-rates are float64; every figure below, in the "
    "README and in the notebooks was measured or regenerated after that change."
)


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def draws_per_company_month(repeats: int = 7, replications: int = 300) -> dict:
    """A company-month of the engine in numpy uniform draws (float64, drawn 100,000 at a time).

    Engine and draws are timed alternately and the median of the ratios is
    kept, so drifts in the machine's speed (frequent on shared VMs) cancel.
    """
    rng = np.random.default_rng(0)
    out = np.empty(100_000)
    scn = sim.load_scenario(BASELINE)
    sim.simulate(scn, replications=8)
    company_months = scn.companies * scn.horizon_months * replications
    ratios, draw_ns, cm_ns = [], [], []
    for i in range(repeats):
        t0 = time.perf_counter()
        sim.simulate(scn, replications=replications, seed=i, partners=False)
        per_cm = (time.perf_counter() - t0) / company_months * 1e9
        t0 = time.perf_counter()
        for _ in range(200):
            rng.random(out=out)
        per_draw = (time.perf_counter() - t0) / (200 * out.size) * 1e9
        ratios.append(per_cm / per_draw)
        draw_ns.append(per_draw)
        cm_ns.append(per_cm)
    return {
        "ratio": statistics.median(ratios),
        "draw_ns": statistics.median(draw_ns),
        "company_month_ns": statistics.median(cm_ns),
        "ratios": ratios,
    }


def scaled_baseline(factor: float) -> sim.Scenario:
    """The baseline with market, channel and recruitment all scaled by ``factor``."""
    base = sim.load_scenario(BASELINE)
    ch = base.channel
    return base.override(
        market__prospects=round(base.market.prospects * factor),
        channel__signed=round(ch.signed * factor),
        channel__active=round(ch.active * factor),
        channel__collaborating=round(ch.collaborating * factor),
        channel__dormant=round(ch.dormant * factor),
        recruitment__nurture_per_month=round(base.recruitment.nurture_per_month * factor),
    )


def exponent(sizes: list[float], seconds: list[float]) -> float:
    """Slope of log(time) against log(size)."""
    return float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0])


def scaling(repeats: int, reps: int) -> list[dict]:
    """Run time against companies, months and replications, with the fitted exponents."""
    base = sim.load_scenario(BASELINE)
    sim.simulate(base, replications=4)  # warm-up
    rows = []

    def timed(scn: sim.Scenario, r: int) -> float:
        return median_time(lambda: sim.simulate(scn, replications=r, partners=False), repeats)

    factors = [0.5, 1, 2, 4]
    t = [timed(scaled_baseline(f), reps) for f in factors]
    rows.append(
        {
            "what": "companies (market, channel and recruitment scaled together)",
            "sizes": [scaled_baseline(f).companies for f in factors],
            "seconds": t,
        }
    )
    horizons = [12, 24, 48, 96]
    t = [timed(base.override(horizon_months=h), reps) for h in horizons]
    rows.append({"what": "months (baseline; recruitment reaches further each month)", "sizes": horizons, "seconds": t})
    channel = base.override(
        market__prospects=0,
        recruitment__nurture_per_month=0,
        channel__active=1800,
        channel__collaborating=200,
        channel__dormant=200,
        channel__signed=0,
    )
    t = [timed(channel.override(horizon_months=h), reps) for h in horizons]
    rows.append({"what": "months (2,200 partners, no recruitment)", "sizes": horizons, "seconds": t})
    counts = [reps // 2, reps, 2 * reps, 4 * reps]
    t = [timed(base, r) for r in counts]
    rows.append({"what": "replications (baseline)", "sizes": counts, "seconds": t})
    for row in rows:
        row["exponent"] = exponent(row["sizes"], row["seconds"])
    return rows


def memory_of_large_run(replications: int) -> dict:
    return run_child(f"""
import time
import simulator as sim
t0 = time.perf_counter()
result = sim.simulate({str(BASELINE)!r}, replications={replications}, seed=0)
report(wall=time.perf_counter() - t0, monthly_rows=len(result.monthly), partner_rows=len(result.partners))
""")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and smaller runs (a smoke test)")
    args = parser.parse_args()
    repeats = 1 if args.quick else 3
    lines: list[str] = []
    started = [time.perf_counter()]

    def say(text: str = "") -> None:
        if text.startswith("## "):  # each section measures, then writes: the time since the last heading is its own
            now = time.perf_counter()
            print(f"({now - started[-1]:.0f} s) {text[3:]}", file=sys.stderr, flush=True)
            started.append(now)
        print(text, flush=True)
        lines.append(text)

    from simulator.engine import compiled

    compiled.set_threads(1)  # one core unless a section says otherwise (section 1 times one and two threads)
    say("# Benchmark results")
    say()
    say(f"Measured {dt.date.today().isoformat()} with `python benchmarks/run.py`{' --quick' if args.quick else ''}.")
    say(f"Machine: {machine()}.")
    say()
    say(NUMBERS_CHANGED)
    say()

    # 1. The compiled engine, its numpy reference and the per-agent reference, side by side.
    engine_reps = 200 if args.quick else 1000
    side = bench_simulate.measure_side_by_side(replications=engine_reps, repeats=max(repeats, 3))
    one, two, numpy_ref = (side[label]["rate"] for label, _, _ in bench_simulate.SETUPS)
    ref_rates = [reference_throughput(BASELINE, replications=2 if args.quick else 3, seed=i) for i in range(repeats)]
    reference = statistics.median(ref_rates)
    say("## 1. Throughput on the baseline (2,200 companies, 36 months)")
    say()
    say(
        f"`simulate` of {engine_reps:,} replications without the partner table, the three engine setups timed in "
        f"alternating rounds (median of {max(repeats, 3)} each), so the shared machine's drifts hit them alike."
    )
    say()
    say("| model | company-months per second | target |")
    say("|---|---:|---|")
    say(f"| compiled engine, one thread | {one / 1e6:.1f} million | >= 300 million |")
    say(f"| compiled engine, two threads | {two / 1e6:.1f} million ({two / one:.2f}x one thread) | >= 1.7x |")
    say(f'| numpy reference kernel (`engine="numpy"`), one core | {numpy_ref / 1e6:.1f} million | |')
    say(f"| per-agent Mesa reference (`benchmarks/reference`) | {reference / 1e6:.2f} million | about 0.5 million |")
    say(f"| compiled (one thread) vs numpy reference | {one / numpy_ref:.1f}x | >= 6x |")
    say(f"| compiled (one thread) vs per-agent reference | {one / reference:.0f}x | >= 20x |")
    say()

    # 2. Cost of a company-month in uniform draws.
    cost = draws_per_company_month(repeats=3 if args.quick else 9)
    say("## 2. Cost of a company-month")
    say()
    say(
        f"One numpy uniform draw (`Generator.random`, float64, 100,000 per call): {cost['draw_ns']:.2f} ns. "
        f"One company-month of the engine: {cost['company_month_ns']:.1f} ns. Timed alternately, the ratio is "
        f"**{cost['ratio']:.1f} draws** per company-month (median of {len(cost['ratios'])}: "
        f"{min(cost['ratios']):.1f} to {max(cost['ratios']):.1f}; target: at most 12)."
    )
    say()

    # 3. Scaling.
    grown = scaling(repeats, 100 if args.quick else 500)
    say("## 3. How run time grows")
    say()
    say("| size varied | sizes | seconds (median) | fitted exponent |")
    say("|---|---|---|---:|")
    for row in grown:
        say(
            f"| {row['what']} | {', '.join(f'{s:,}' for s in row['sizes'])} | "
            f"{', '.join(f'{s:.2f}' for s in row['seconds'])} | {row['exponent']:.2f} |"
        )
    say()
    say(
        "An exponent of 1 is linear. With recruitment on, a month's work covers only the companies recruitment "
        "can have reached by then (today's partners plus the prospects nurtured so far), so a month costs more "
        "as the horizon lengthens, never more than every company every month; fixed costs per month and per "
        "block of replications pull the other way on small runs. The partners-only row has every company in "
        "play from month 1."
    )
    say()

    # 4. Memory.
    big = memory_of_large_run(1000 if args.quick else 10_000)
    small_sweep = bench_sweep.memory(20, 20 if args.quick else 50)
    large_sweep = bench_sweep.memory(100, 20 if args.quick else 50)
    say("## 4. Peak memory")
    say()
    say("| workload | wall time | peak resident memory | target |")
    say("|---|---:|---:|---|")
    say(
        f"| `simulate` baseline, {1000 if args.quick else 10_000:,} replications, with the partner table "
        f"({big['partner_rows']:,} rows) | {big['wall']:.1f} s | {big['peak_mb']:,.0f} MB | < 2 GB |"
    )
    for points, r in ((20, small_sweep), (100, large_sweep)):
        say(
            f"| sweep, {points} points x {20 if args.quick else 50} replications, 2 workers | {r['wall']:.1f} s | "
            f"driver {r['peak_mb']:,.0f} MB, largest worker {r['children_peak_mb']:,.0f} MB | < 2 GB, flat in points |"
        )
    say()

    # 5. Sizing.
    size = bench_size.measure(
        repeats=1 if args.quick else 3, extra=["--max-replications", "400"] if args.quick else None
    )
    runs = ", ".join(f"{t:.1f}" for t in size["runs"])
    tried = f" ({size['tried']} values tried)" if size["tried"] else ""
    say("## 5. Sizing")
    say()
    say(
        f"`python run.py size scenarios/baseline.yaml` (adaptive: 400 replications per value, more near the "
        f"boundary up to 4,000; both cores, fresh processes, numba's cache warm): "
        f"**{size['seconds']:.1f} s** (median of {len(size['runs'])}: {runs}; targets: under 10 s, and under 2 s "
        f"with the compiled kernel). Answer: {size['answer']}{tried}."
    )
    say()

    # Parallel sweeps, for completeness.
    sweep_reps = 50 if args.quick else 200  # the quick run checks the script, not the figure
    s = bench_sweep.speedup(points=20, replications=sweep_reps, repeats=1 if args.quick else 7)
    c = bench_sweep.ceiling(replications=200 if args.quick else 1000, repeats=1 if args.quick else 7)
    say("## 6. Sweeps in parallel")
    say()
    say(
        f"20 points x {sweep_reps} replications of the baseline: {s['walls'][1]:.2f} s with 1 worker, "
        f"{s['walls'][2]:.2f} s with 2 (medians of {len(s['ratios'])}; libraries imported before the clock "
        f"starts). Runs made back to back give a median "
        f"speed-up of **{s['ratio']:.2f}x** ({min(s['ratios']):.2f} to {max(s['ratios']):.2f}; "
        f"target: at least 1.7x)."
    )
    say()
    say(
        f"For comparison, the machine's own parallel efficiency, measured the same way: two independent "
        f"simulations side by side in two processes run {c['ratio']:.2f}x as fast as one after the other "
        f"({min(c['ratios']):.2f} to {max(c['ratios']):.2f}), with no sweep machinery at all. Both figures move "
        "with the load of the shared VM (see their ranges); a sweep near the second one loses little to "
        "starting the pool, shipping scenarios and writing chunk files."
    )
    say()

    # 7. Profile.
    profiled = profile_engine.profile(replications=100 if args.quick else 500)
    say("## 7. Where the time goes")
    say()
    say(
        "`python benchmarks/profile_engine.py`: cProfile of `simulate` on the baseline (500 replications), "
        "self time of the most expensive calls. `ChannelKernel.step`'s own time is the element-wise arithmetic "
        "in its body (comparisons of draws with thresholds, `exp` of the growth factors, products)."
    )
    say()
    say("| share | seconds | calls | what |")
    say("|---:|---:|---:|---|")
    for row in profiled:
        say(f"| {row['share']:.1%} | {row['seconds']:.3f} | {row['calls']:,} | `{row['what']}` |")
    say()

    # 8. Calibration.
    scale = 0.1 if args.quick else 1.0
    cal = bench_calibrate.measure(repeats=repeats, scale=scale)
    rows = ", ".join(f"{v:,} {k} rows" for k, v in cal["sizes"].items())
    say("## 8. Calibration")
    say()
    say(
        f"`calibrate` on a synthetic export of {cal['partners']:,} partners over {cal['months']} months ({rows}; "
        f"`benchmarks/bench_calibrate.py{' --scale 0.1' if args.quick else ''}`), in one process: "
        f"**{cal['seconds']:.1f} s** wall, {cal['cpu']:.1f} s CPU (median of {len(cal['runs'])}; "
        f"{cal['keys']} keys fitted; target: under {bench_calibrate.TARGET_SECONDS:.0f} s on one core)."
    )
    say()

    # 9. The optimiser.
    trials, opt_reps = (8, 20) if args.quick else (200, 200)
    opt = bench_optimize.measure(trials=trials, replications=opt_reps, budget=1_500_000, workers=2)
    summary = opt["summary"]
    say("## 9. The optimiser")
    say()
    say(
        f"`python run.py optimize scenarios/baseline.yaml --levers all --budget 1500000 --trials {trials} "
        f"-r {opt_reps} --workers 2` (`benchmarks/bench_optimize.py`, a fresh process): "
        f"**{opt['seconds']:.1f} s** wall, the search {summary['settings']['seconds']:.1f} s of it "
        f"(target: under {bench_optimize.TARGET_SECONDS / 60:.0f} minutes at 200 trials x 200 replications)."
    )
    win = summary["winner"]
    if win is None:
        say(f"No winner: {summary['message']}")
    else:
        d, cur = win["differences"]["contribution_total"], summary["currency"]
        say(
            f"Best program: {win['candidate']}; contribution over the horizon {money(d['mean'], cur)} against the "
            f"scenario's own program (90% interval {money(d['low'], cur)} to {money(d['high'], cur)}, "
            f"{summary['reevaluation']['replications']} fresh replications), program cost "
            f"{money(win['program_cost_mean'], cur)} for a budget of {summary['budget']['text']}."
        )
    say()

    # 10. The dashboard.
    try:
        dash = bench_dashboard.timings(repeats=repeats, replications=100)
    except FileNotFoundError as exc:
        say("## 10. The dashboard")
        say()
        say(f"Not measured: {exc}.")
    else:
        first, update = (", ".join(f"{r[name]:.2f}" for r in dash["runs"]) for name in bench_dashboard.TARGETS)
        say("## 10. The dashboard")
        say()
        say(
            f"`python run.py dashboard` in headless Chromium, baseline at 100 replications, {len(dash['runs'])} "
            f"fresh start(s) (`benchmarks/bench_dashboard.py`): first answer **{dash['first_answer_seconds']:.2f} s** "
            f"({first}; target: within 5 s), a slider change to the updated answer "
            f"**{dash['slider_update_seconds']:.2f} s** ({update}; target: within 3 s)."
        )
    say()

    # 11. Reliability checks.
    points, chunks = (400, 40) if args.quick else (10_000, 400)
    checks = bench_checks.measure(points=points, chunks=chunks)
    say("## 11. What the reliability checks cost")
    say()
    say("| check | size | seconds | per item |")
    say("|---|---:|---:|---:|")
    for levers, seconds, n in checks["designs"]:
        what = "validating every point of a grid design" + (" (3 levers)" if levers else " (baseline)")
        say(f"| {what} | {n:,} points | {seconds:.2f} | {1e3 * seconds / n:.2f} ms |")
    o = checks["open"]
    say(
        f"| `open_sweep` proving every chunk (sha256, point, replications) | {o['chunks']:,} chunks | "
        f"{o['proven']:.2f} (plain read {o['plain']:.2f}) | {1e3 * (o['proven'] - o['plain']) / o['chunks']:.2f} ms |"
    )
    say()
    # 12. What the decision-grade mechanics cost.
    runs = bench_tiers.measure(replications=200 if args.quick else 1000, repeats=repeats + 2)
    fastest = {name: min(times) for name, times in runs.items()}
    say("## 12. What ramp-up, size elasticity and tiers cost")
    say()
    say(
        f"`benchmarks/bench_tiers.py`: `simulate` of {200 if args.quick else 1000:,} replications on the compiled "
        f"engine, one thread, the three scenarios in alternating rounds (fastest CPU time of {repeats + 2}): "
        f"MODEL.md's model (the baseline without ramp-up and size elasticity) {fastest['model']:.2f} s; the "
        f"baseline (ramp-up over 12 months, size elasticity 0.5) {fastest['baseline']:.2f} s "
        f"(**{fastest['baseline'] / fastest['model'] - 1:+.0%}**); with `tiered_program.yaml`'s three tiers "
        f"as well {fastest['tiered']:.2f} s (**{fastest['tiered'] / fastest['model'] - 1:+.0%}**; target: at most "
        "+15%)."
    )
    say()
    print(f"({time.perf_counter() - started[0]:.0f} s in all)", file=sys.stderr)
    if not args.quick:
        RESULTS.write_text("\n".join(lines) + "\n")
        print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
