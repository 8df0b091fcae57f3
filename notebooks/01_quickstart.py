# %% [markdown]
# # 01 · Quickstart: what will today's channel deliver?
#
# **The question.** With today's partners and today's recruitment effort, what revenue does the channel
# bring in by year 3, how sure can we be of it, and how is that revenue spread across partners?
#
# We run the bundled baseline scenario (a mid-size technology vendor selling through resellers, managed
# service providers and system integrators), read its summary, follow the partners through their lifecycle
# month by month, look at the revenue fan, the partner scorecard and revenue concentration, and finally
# open the same run as a Mesa agent-based model.
#
# Only the public Python API is used (`import simulator as sim`; see the README). The model itself is
# specified in `docs/MODEL.md`. The whole notebook runs in a few seconds.

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
# ## 1. The scenario
#
# A scenario is a YAML file holding every assumption: the market (prospects matching the ideal partner
# profile, split into segments), today's channel (partners in each lifecycle state), recruitment,
# activation, churn, collaboration, growth, economics and the sales plan. `load_scenario` validates it (a
# wrong key or value is refused, naming it) and returns an immutable `Scenario`.

# %%
scenario = sim.load_scenario(BASELINE)
ch, plan = scenario.channel, scenario.plan
print(scenario.name, "-", scenario.description)
print(f"Horizon: {scenario.horizon_months} months.")
print(
    f"Today's channel: {ch.signed} signed, {ch.active} active, {ch.collaborating} collaborating, "
    f"{ch.dormant} dormant partners; {scenario.market.prospects:,} prospects in the market."
)
print(f"Recruitment: {scenario.recruitment.nurture_per_month} prospects a month enter nurturing.")
print(
    f"Plan: {plan.revenue_target:,.0f} {scenario.currency} in the last 12 months, "
    f"with {plan.confidence:.0%} confidence."
)

# %% [markdown]
# ## 2. Simulate
#
# Every company of the market moves month by month through the partner lifecycle: prospect, nurturing,
# signed, active (a first deal), collaborating, dormant, churned. Which prospects sign, when a new partner
# lands its first deal and how fast partners grow are uncertain, so the simulation runs many
# **replications**: equally likely futures drawn from the same assumptions. 200 are plenty for a first
# look; use 500 to 1,000 before taking a decision. The **seed** makes the run reproducible: replication
# `r` of seed `s` always gives the same numbers.

# %%
result = sim.simulate(scenario, replications=200, seed=1)
print(
    f"{len(result.replications)} replications x {scenario.horizon_months + 1} months: "
    f"{len(result.monthly):,} monthly rows and {len(result.partners):,} partner rows."
)

# %% [markdown]
# ## 3. The summary table
#
# `result.summary()` condenses the horizon figures over the replications: the **mean**, and the
# **P10 / P50 / P90** percentiles. P50 is the median future; P10 a pessimistic one (only 10% of the
# futures are worse) and P90 an optimistic one (only 10% are better).
#
# `revenue_last_12m` is the revenue of the last 12 months of the horizon (year 3), the figure the plan is
# set on; `contribution_last_12m` is the gross margin on it minus the program's costs. Partner counts
# (`active`, `dormant`, ...) are at month 36; `signings` and `activations` (first deals) are totals over
# the horizon. `top20_share` is the share of revenue earned by the top 20% of earning partners (section
# 6). `p_plan_met` is the share of replications reaching the plan target.

# %%
summary = result.summary()
summary.loc[
    [
        "revenue_last_12m",
        "cost_last_12m",
        "contribution_last_12m",
        "active",
        "collaborating",
        "dormant",
        "churned",
        "signings",
        "activations",
        "earning_partners",
        "top20_share",
        "p_plan_met",
    ]
]

# %%
rev, p_met = summary.loc["revenue_last_12m"], summary.loc["p_plan_met", "mean"]
print(
    f"Year-3 revenue: median {rev.p50 / 1e6:.1f}m, P10 {rev.p10 / 1e6:.1f}m, "
    f"P90 {rev.p90 / 1e6:.1f}m {scenario.currency}."
)
print(
    f"The plan ({plan.revenue_target / 1e6:.0f}m) is met in {p_met:.0%} of the futures; "
    f"the required confidence is {plan.confidence:.0%}."
)

# %% [markdown]
# The median future clears the plan, but the pessimistic P10 falls short: the plan is **not** met with the
# required 90% confidence. Notebook 03 sizes the recruitment effort that closes the gap.
#
# ## 4. Partners by state, month by month
#
# `result.monthly` has one row per replication and month (month 0 is today): the companies in each state
# at the end of the month, the month's flows (prospects put into nurturing, signings, first deals,
# exits, ...), revenue, costs and concentration. The first months of replication 0:

# %%
result.replication(0).loc[
    :5,
    [
        "month",
        "nurturing",
        "signed",
        "active",
        "collaborating",
        "dormant",
        "churned",
        "signings",
        "activations",
        "revenue",
    ],
]

# %% [markdown]
# The chart averages the states over the replications. Newly signed partners either land a first deal
# within the activation window (they become active) or go dormant; active partners may start
# collaborating (portal, communities, joint plans), which lifts their growth; dormant partners come back
# or leave (churned, counted cumulatively).

# %%
charts.partners_by_state(result)

# %% [markdown]
# ## 5. The revenue fan
#
# Trailing-12-month revenue, month by month: the line is the median, the dark band holds the middle half
# of the futures (P25 to P75) and the light band 80% of them (P10 to P90). The dashed line is the plan
# target: when the lower edge of the light band is below it at month 36, the plan is not met with 90%
# confidence.

# %%
charts.revenue_fan(result)

# %% [markdown]
# ## 6. Partners: scorecard and concentration
#
# `result.partners` has one row per replication and company ever signed, at the horizon: segment, cohort
# (`current` for today's partners, `recruited` for those signed during the plan), state, months to the
# first deal, run-rate, trailing-12-month revenue and its growth. The five largest partners of
# replication 0:

# %%
one = result.partners[result.partners["replication"] == 0]
one.nlargest(5, "revenue_t12m")[["company", "segment", "cohort", "state", "run_rate", "revenue_t12m", "growth_12m"]]

# %% [markdown]
# The **scorecard** ranks each replication's earning partners by revenue into the top 20%, the next 30%
# and the bottom 50% (plus those without revenue), per segment, and averages over the replications:
# partners per tier, activation rate and months to the first deal of partners signed during the plan,
# growth, revenue per partner and `revenue_share`, the tier's share of channel revenue.

# %%
from simulator.planning import scorecard

card = scorecard(result)
table = card.table.set_index(["segment", "tier"])
table.loc["all"]  # the whole channel, by revenue tier

# %%
table.xs("all", level="tier")  # each segment, all tiers

# %% [markdown]
# **Concentration.** The *top-20% share* is the share of revenue earned by the 20% of earning partners
# with the most revenue: 0.2 would mean revenue is spread evenly, the Pareto rule of thumb says 0.8.
# The *Gini* coefficient runs from 0 (every partner earns the same) to 1 (one partner earns everything);
# *effective partners* (1 / HHI) is the number of equal-sized partners that would be as concentrated.
# Per replication, at month 36:

# %%
conc = card.concentration[["earning_partners", "top_share", "gini", "effective_partners", "share_earning_nothing"]]
conc.quantile([0.1, 0.5, 0.9]).rename(index=lambda q: f"P{q * 100:.0f}")

# %% [markdown]
# The Lorenz curve shows the same thing: partners sorted from the smallest to the largest along the
# horizontal axis, their cumulative share of revenue on the vertical one. The further the curve sags
# below the diagonal, the more revenue depends on a few partners. "All signed" includes the partners
# earning nothing.

# %%
charts.lorenz_chart(result)

# %% [markdown]
# The recruitment funnel over the three years: prospects nurtured, signed, with a first deal, and
# collaborating, per replication, with the conversion of each step.

# %%
charts.recruitment_funnel(result)

# %% [markdown]
# ## 7. The same run as a Mesa model
#
# `sim.ChannelModel` is a `mesa.Model` with one `Partner` agent per company and a `DataCollector` whose
# columns are those of `result.monthly`. It runs replication 0 of the same seed, so its collected data
# equal `result.replication(0)` exactly. Use it for agent-level questions, with `mesa.batch_run`, or in a
# Mesa visualisation; use `simulate` for many replications (it runs them all at once).

# %%
model = sim.ChannelModel(scenario=scenario, seed=1)
model.run_model()
collected = model.datacollector.get_model_vars_dataframe()
same = collected.equals(result.replication(0).drop(columns=["replication", "month"]))
print(
    f"{len(model.agents):,} agents, {len(collected)} months collected (0 to {model.month}); "
    f"identical to replication 0 of simulate(): {same}"
)

# %%
states = ["prospect", "nurturing", "signed", "active", "collaborating", "dormant", "churned"]
agents = pd.DataFrame(
    {"company": a.company, "segment": a.segment, "state": a.state.label, "revenue_t12m": a.revenue_t12m}
    for a in model.agents
)
pd.crosstab(agents["state"], agents["segment"], margins=True, margins_name="total").reindex([*states, "total"])

# %% [markdown]
# ## Takeaway
#
# * Today's program (about 200 partners, 12 prospects nurtured a month) is more likely than not to reach
#   the year-3 plan, but not with the 90% confidence the plan asks for: the pessimistic futures fall
#   short.
# * Revenue is concentrated: the top 20% of earning partners bring in most of it, and the integrators'
#   top tier alone a large share. Losing a few top partners matters more than losing many small ones.
# * Every figure comes with its spread (P10 / P50 / P90), because the channel's future is uncertain.
#   Notebook 02 compares program changes on the same draws, 03 sizes recruitment, 04 explores which
#   assumptions matter most.
