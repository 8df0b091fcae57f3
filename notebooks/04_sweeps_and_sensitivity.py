# %% [markdown]
# # 04 · Sweeps and sensitivity: which assumptions matter?
#
# **The question.** Our plan rests on assumptions we are unsure of (how many partners we win, how fast
# they activate, how many leave) and on decisions we control (how hard we recruit). Where in that space is
# the plan met, and which assumptions move year-3 revenue the most?
#
# A **sweep** runs many scenario variants (points), each with many replications; **sensitivity analysis**
# (Sobol or Morris, via SALib) ranks the inputs by how much they move a figure. Small designs here keep
# the notebook fast; the command line (`python run.py sweep` / `sensitivity`) runs large ones on all
# cores or a Dask cluster.

# %%
# %matplotlib inline
import sys
from pathlib import Path

import pandas as pd

# The repository root holds scenarios/ (the notebooks run from notebooks/).
ROOT = next(p for p in (Path.cwd(), *Path.cwd().parents) if (p / "scenarios" / "baseline.yaml").is_file())
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # this checkout's simulator, whether installed or not

import simulator as sim

SCENARIOS = ROOT / "scenarios"
BASELINE = SCENARIOS / "baseline.yaml"
# Money and counts with thousands separators, everything else to three significant digits.
pd.options.display.float_format = lambda x: f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"

# %%
import tempfile

from matplotlib.figure import Figure

work = tempfile.TemporaryDirectory(prefix="channel-sweeps-")  # sweep results go here, not into the repo
WORK = Path(work.name)

# %% [markdown]
# ## 1. A grid sweep: recruitment effort x activation window
#
# A grid runs every combination of the listed values: 4 recruitment efforts x 3 activation windows = 12
# points, 100 replications each. Replication `r` of every point uses the same random numbers (**common
# random numbers**), so differences between points come from the scenarios, not from the draws. The
# result is a tidy table, one row per point and replication; each finished chunk is also written as
# Parquet under `out` (a sweep can be resumed). `workers=1` runs the points in the notebook's process,
# the fastest choice for sweeps this small.

# %%
grid = sim.sweep(
    BASELINE,
    grid={"recruitment.nurture_per_month": [8, 12, 18, 24], "activation.window_months": [3, 6, 9]},
    replications=100,
    seed=1,
    out=WORK / "grid",
    workers=1,
    progress=False,
)
print(f"{len(grid):,} rows: {grid['point'].nunique()} points x {grid['replication'].nunique()} replications")
grid[
    [
        "point",
        "replication",
        "recruitment.nurture_per_month",
        "activation.window_months",
        "revenue_last_12m",
        "signings",
        "activations",
        "plan_met",
    ]
].head()

# %% [markdown]
# `summarize_sweep` condenses the table per point: the mean and P10/P50/P90 of revenue, contribution and
# cost in year 3, and P(plan met) with its **Wilson 95% interval** (`p_plan_met_low` to
# `p_plan_met_high`). With 100 replications a probability near 0.8 is known to about +-0.08: enough to
# see the shape, not to pick a value to the unit (that is what `size_recruitment` is for, notebook 03).

# %%
points = sim.summarize_sweep(grid)
points[
    [
        "recruitment.nurture_per_month",
        "activation.window_months",
        "revenue_last_12m_p10",
        "revenue_last_12m_p50",
        "contribution_last_12m_mean",
        "p_plan_met",
        "p_plan_met_low",
        "p_plan_met_high",
    ]
]

# %%
confidence = sim.load_scenario(BASELINE).plan.confidence
fig = Figure(figsize=(8, 4), layout="constrained")
ax = fig.add_subplot()
for window, rows in points.groupby("activation.window_months"):
    x = rows["recruitment.nurture_per_month"]
    err = [rows["p_plan_met"] - rows["p_plan_met_low"], rows["p_plan_met_high"] - rows["p_plan_met"]]
    ax.errorbar(x, rows["p_plan_met"], yerr=err, marker="o", capsize=3, label=f"{window}-month window")
ax.axhline(confidence, color="tab:red", ls="--", lw=1, label=f"required confidence ({confidence:.0%})")
ax.set(
    xlabel="prospects nurtured a month",
    ylabel="P(plan met)",
    ylim=(0, 1.02),
    title="P(plan met) with 95% Wilson intervals, 100 replications a point",
)
ax.grid(alpha=0.3)
ax.legend(loc="lower right")
fig

# %% [markdown]
# More recruitment and a longer activation window both raise P(plan met); a longer window shifts the
# whole curve, so fewer prospects need nurturing for the same confidence.
#
# ## 2. A Latin hypercube sweep over uncertain assumptions
#
# Ranges instead of lists: a Latin hypercube spreads `points` samples evenly over the ranges (each
# range is cut into `points` slices and each slice is sampled once). Here our win share of the prospects'
# vendor signings and the monthly first-deal probability of new partners, two assumptions we cannot pin
# down. A `SweepDesign` is the sweep as data; its points can be inspected before anything runs.

# %%
design = sim.SweepDesign.latin_hypercube(
    BASELINE,
    {"recruitment.win_share": (0.1, 0.4), "activation.monthly_probability": (0.05, 0.2)},
    points=24,
    replications=40,
    seed=1,
)
design.points.head()

# %%
lhs = sim.summarize_sweep(sim.sweep(design, out=WORK / "lhs", workers=1, progress=False))

fig = Figure(figsize=(7, 4.5), layout="constrained")
ax = fig.add_subplot()
dots = ax.scatter(
    lhs["recruitment.win_share"],
    lhs["activation.monthly_probability"],
    c=lhs["p_plan_met"],
    cmap="RdYlGn",
    vmin=0,
    vmax=1,
    s=90,
    edgecolor="black",
    lw=0.5,
)
fig.colorbar(dots, ax=ax, label="P(plan met)")
ax.plot([0.25], [0.11], "k*", ms=14, label="baseline assumptions")
ax.set(
    xlabel="win share of the prospects' vendor signings",
    ylabel="monthly first-deal probability",
    title="P(plan met) over the uncertain assumptions (40 replications a point)",
)
ax.legend(loc="upper right")
fig

# %% [markdown]
# P(plan met) rises towards the right and the top: winning a larger share of the prospects' signings
# matters most, and faster activation partly makes up for a lower win share. Where both fall below our
# assumptions (lower left), most futures miss the plan.
#
# ## 3. Sensitivity: which assumption moves year-3 revenue most?
#
# The **Morris** method (elementary effects) moves one input at a time along random trajectories through
# the ranges and records how much year-3 revenue changes: `mu_star` is the mean absolute effect of
# sweeping an input across its range (its importance), `sigma` the spread of those effects (high when the
# input interacts with others or acts non-linearly). Each point averages 20 replications on common random
# numbers. Morris is cheap (8 trajectories of 5 points here): a good first screen.

# %%
ranges = {
    "recruitment.nurture_per_month": (6, 24),
    "recruitment.win_share": (0.15, 0.35),
    "activation.monthly_probability": (0.07, 0.15),
    "churn.exit_probability": (0.004, 0.012),
}
morris = sim.sensitivity(
    BASELINE,
    ranges,
    kpi="revenue_last_12m",
    method="morris",
    samples=8,
    replications=20,
    seed=1,
    workers=1,
    out=WORK / "morris",
    progress=False,
)
morris.table.sort_values("mu_star", ascending=False)

# %%
morris.plot()

# %% [markdown]
# **Sobol** indices go further: they split the variance of the figure between the inputs (`S1`, the share
# an input explains on its own; `ST`, its share including interactions). They need many more runs,
# N x (inputs + 2) points with N = 256 or more for stable indices, so run them from the command line:
# `python run.py sensitivity scenarios/baseline.yaml --range recruitment.win_share=0.15:0.35 ...
# --method sobol --samples 256`. The result has the same `table` and `plot()`.

# %%
work.cleanup()  # remove the sweep folders

# %% [markdown]
# ## Takeaway
#
# * The grid shows the trade-off between decisions: recruiting harder and activating better substitute
#   for each other in meeting the plan.
# * The Latin hypercube shows how much the plan rests on what we do not know: if win share and
#   activation speed both fall short of our assumptions, so does the plan.
# * Morris ranks the inputs: within these ranges, recruitment effort and win share move year-3 revenue
#   most and churn least. Win share is an assumption, not a decision: check it first against CRM data.
# * Small designs are fine to explore in a notebook; for numbers to act on, run larger ones with
#   `python run.py sweep` / `sensitivity` (all cores, resumable, or a Dask cluster).
