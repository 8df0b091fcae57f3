# %% [markdown]
# # 03 · Sizing: how many partners must we recruit?
#
# **The question.** The year-3 plan must be met with 90% confidence. What can today's channel deliver on
# its own, how large is the gap, and how many prospects must we put into nurturing each month (and so how
# many partners will we sign, at what cost) to close it?
#
# Two planning answers of the public API do the work: `sim.capacity` (today's channel with recruitment
# switched off) and `sim.size_recruitment` (the smallest recruitment effort meeting the plan).

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
from simulator.reports import charts

SCENARIOS = ROOT / "scenarios"
BASELINE = SCENARIOS / "baseline.yaml"
# Money and counts with thousands separators, everything else to three significant digits.
pd.options.display.float_format = lambda x: f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"

# %% [markdown]
# ## 1. Capacity: today's channel alone
#
# `capacity` runs the scenario with no recruitment at all (`recruitment.nurture_per_month = 0`) and reports
# trailing-12-month revenue today and at the horizon, the annual growth today's partners deliver, P(plan
# met) without recruiting, and the gap to the plan. The headline gap is taken **at the plan's
# confidence**: the target minus the P10 revenue (at 90% confidence), which is what recruitment must add
# for the plan to be met in 9 futures out of 10.

# %%
cap = sim.capacity(BASELINE, replications=200, seed=1, name="Baseline without recruitment")
cap.summary()

# %%
print(
    f"Today's partners earn {cap.per_replication['revenue_t12m_today'].median() / 1e6:.1f}m a year "
    f"(median); without recruitment that changes by {cap.growth_rate:+.1%} a year, to "
    f"{cap.per_replication['revenue_last_12m'].median() / 1e6:.1f}m in year 3."
)
print(
    f"P(plan met) without recruiting: {cap.p_plan_met:.0%}. Gap at {cap.confidence:.0%} confidence: "
    f"{cap.gap_at_confidence / 1e6:.1f}m."
)

# %% [markdown]
# Growth of the best partners roughly offsets the partners going dormant or leaving: without new partners
# the channel stands still, far below the plan.

# %%
charts.revenue_fan(cap.result)

# %% [markdown]
# ## 2. Sizing recruitment
#
# `size_recruitment` finds the smallest `recruitment.nurture_per_month` for which P(year-3 revenue >=
# target) >= 90%:
#
# * every value tried runs the **same replications and seed** (common random numbers), so today's
#   partners draw the same numbers in every run and the values differ by what recruitment adds;
# * the search starts at the scenario's value, steps up by doubling, then bisects on whole numbers;
# * each P(plan met) is an estimate from a finite number of futures, so it comes with a **Wilson 95%
#   interval**: the range of true probabilities compatible with what was observed (with 200 futures and P
#   near 0.9, about +-0.04). Use 400 or more replications (the default) before committing a budget.
#
# `workers=1` runs everything in the notebook's own process: for 200 replications, starting worker
# processes costs more than it saves. By default sizing uses all cores, which pays off from about 400
# replications; the number of workers never changes a number.

# %%
size = sim.size_recruitment(BASELINE, replications=200, seed=1, workers=1)
size.curve[
    [
        "value",
        "p_plan_met",
        "p_low",
        "p_high",
        "meets",
        "revenue_p10",
        "revenue_p50",
        "signings_per_year",
        "recruitment_cost_per_year",
    ]
]

# %% [markdown]
# Each row is a value tried (prospects nurtured a month), in increasing order: P(plan met) with its
# Wilson interval (`p_low` to `p_high`), whether it meets 90%, P10 and median year-3 revenue, partners
# signed a year and the recruitment cost (nurturing plus onboarding) a year. The answer, as a consultant
# would say it:

# %%
print(size.message)
for note in size.notes:
    print("Note:", note)

# %% [markdown]
# The note says that P(plan met) is not strictly increasing in the values tried: with 200 futures, one
# more prospect a month changes P by less than its noise. The answer stays well defined because every
# value is checked on the same draws. The chart shows the search: P(plan met) for each value tried, with
# its Wilson interval, against the required confidence.

# %%
charts.sizing_chart(size)

# %%
implied = pd.Series(size.implied)
implied[
    [
        "signings_per_year",
        "first_deals_per_year",
        "nurtured_per_year",
        "recruitment_cost_per_year",
        "recruitment_cost_total",
        "revenue_p10",
        "recruited_revenue_mean",
        "channel_revenue_mean",
    ]
]

# %% [markdown]
# At the answer, recruited partners bring in more than today's channel does in year 3: the plan depends
# on recruitment, and on recruited partners landing their first deal.
#
# ## 3. Other decisions: activate instead of recruiting more?
#
# `decision=` sizes another key. Could we meet the plan with today's recruitment by getting new partners
# to their first deal sooner? First, a longer activation window (whole numbers are searched exactly; when
# even the largest sensible value misses, the result says what limits it):

# %%
window = sim.size_recruitment(BASELINE, decision="activation.window_months", replications=200, seed=1, workers=1)
print(window.message)
window.curve[["value", "p_plan_met", "p_low", "p_high", "revenue_p10"]]

# %% [markdown]
# No: even a window as long as the horizon falls short of 90%. Second, a faster first deal: how high must
# the monthly first-deal probability of new partners be (0.11 today)? That is the target any activation
# program (onboarding, training, presales support) would have to reach. Continuous keys are bisected to a
# tolerance.

# %%
faster = sim.size_recruitment(BASELINE, decision="activation.monthly_probability", replications=200, seed=1, workers=1)
print(faster.message)
charts.sizing_chart(faster)

# %% [markdown]
# The curve climbs, then flattens right at the required confidence: once new partners activate quickly,
# the futures that still miss the plan miss it for other reasons (too few partners signed, large partners
# lost), and faster activation cannot help them. The answer sits on that plateau, where the Wilson
# intervals of neighbouring values overlap, so it is fragile: it may move a lot with more replications.
# Activation alone takes the plan to the edge of 90%, not safely beyond it; recruitment does (section 2).
# A specific lever's intensity can be sized the same way, with `decision="lever:presales_support"`.
#
# ## Takeaway
#
# * Without recruitment, today's channel stands still and misses the plan in most futures: the gap at
#   90% confidence is more than half the target.
# * Recruitment closes it. `size.message` turns the answer into the consultant's sentence: prospects to
#   nurture a month, partners signed a year (and how many of them will have a first deal), and the
#   recruitment budget.
# * Activation improvements help a lot (notebook 02) but level off around 90%: a robust plan needs more
#   partners signed as well. Before committing a budget, size with 400 or more replications
#   (`python run.py size scenarios/baseline.yaml`, all cores) and compare the candidate programs with
#   `sim.compare` (notebook 02).
