"""Write the example notebooks from the cells below, execute them and store their outputs.

    python notebooks/build.py               # write and execute every notebook (about a minute)
    python notebooks/build.py 02 03         # only the notebooks whose file name contains 02 or 03
    python notebooks/build.py --no-execute  # write the cells only (no outputs)

The cells of each notebook live in this file, so a change is a reviewable diff
of Python strings; the committed ``.ipynb`` files are this script's output,
executed with nbclient from ``notebooks/`` (the working directory the tests
use too) on a kernel running this Python interpreter.
``tests/test_notebooks.py`` executes them again and checks they still match.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nbformat
from nbformat import v4

HERE = Path(__file__).resolve().parent
KERNEL = "python3"
CELL_TIMEOUT = 300  # seconds per cell


def md(text: str) -> nbformat.NotebookNode:
    return v4.new_markdown_cell(textwrap.dedent(text).strip())


def code(text: str) -> nbformat.NotebookNode:
    return v4.new_code_cell(textwrap.dedent(text).strip())


# The first code cell of every notebook: find the repository, import the public API.
SETUP = code(
    """
    %matplotlib inline
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
    """
)

# -- 01 quickstart ---------------------------------------------------------------------

QUICKSTART = [
    md(
        """
        # 01 · Quickstart: what will today's channel deliver?

        **The question.** With today's partners and today's recruitment effort, what revenue does the channel
        bring in by year 3, how sure can we be of it, and how is that revenue spread across partners?

        We run the bundled baseline scenario (a mid-size technology vendor selling through resellers, managed
        service providers and system integrators), read its summary, follow the partners through their lifecycle
        month by month, look at the revenue fan, the partner scorecard and revenue concentration, and finally
        open the same run as a Mesa agent-based model.

        Only the public Python API is used (`import simulator as sim`; see the README). The model itself is
        specified in `docs/MODEL.md`. The whole notebook runs in a few seconds.
        """
    ),
    SETUP,
    md(
        """
        ## 1. The scenario

        A scenario is a YAML file holding every assumption: the market (prospects matching the ideal partner
        profile, split into segments), today's channel (partners in each lifecycle state), recruitment,
        activation, churn, collaboration, growth, economics and the sales plan. `load_scenario` validates it (a
        wrong key or value is refused, naming it) and returns an immutable `Scenario`.
        """
    ),
    code(
        """
        scenario = sim.load_scenario(BASELINE)
        ch, plan = scenario.channel, scenario.plan
        print(scenario.name, "-", scenario.description)
        print(f"Horizon: {scenario.horizon_months} months.")
        print(f"Today's channel: {ch.signed} signed, {ch.active} active, {ch.collaborating} collaborating, "
              f"{ch.dormant} dormant partners; {scenario.market.prospects:,} prospects in the market.")
        print(f"Recruitment: {scenario.recruitment.nurture_per_month} prospects a month enter nurturing.")
        print(f"Plan: {plan.revenue_target:,.0f} {scenario.currency} in the last 12 months, "
              f"with {plan.confidence:.0%} confidence.")
        """
    ),
    md(
        """
        ## 2. Simulate

        Every company of the market moves month by month through the partner lifecycle: prospect, nurturing,
        signed, active (a first deal), collaborating, dormant, churned. Which prospects sign, when a new partner
        lands its first deal and how fast partners grow are uncertain, so the simulation runs many
        **replications**: equally likely futures drawn from the same assumptions. 200 are plenty for a first
        look; use 500 to 1,000 before taking a decision. The **seed** makes the run reproducible: replication
        `r` of seed `s` always gives the same numbers.
        """
    ),
    code(
        """
        result = sim.simulate(scenario, replications=200, seed=1)
        print(f"{len(result.replications)} replications x {scenario.horizon_months + 1} months: "
              f"{len(result.monthly):,} monthly rows and {len(result.partners):,} partner rows.")
        """
    ),
    md(
        """
        ## 3. The summary table

        `result.summary()` condenses the horizon figures over the replications: the **mean**, and the
        **P10 / P50 / P90** percentiles. P50 is the median future; P10 a pessimistic one (only 10% of the
        futures are worse) and P90 an optimistic one (only 10% are better).

        `revenue_last_12m` is the revenue of the last 12 months of the horizon (year 3), the figure the plan is
        set on; `contribution_last_12m` is the gross margin on it minus the program's costs. Partner counts
        (`active`, `dormant`, ...) are at month 36; `signings` and `activations` (first deals) are totals over
        the horizon. `top20_share` is the share of revenue earned by the top 20% of earning partners (section
        6). `p_plan_met` is the share of replications reaching the plan target.
        """
    ),
    code(
        """
        summary = result.summary()
        summary.loc[["revenue_last_12m", "cost_last_12m", "contribution_last_12m", "active", "collaborating",
                     "dormant", "churned", "signings", "activations", "earning_partners", "top20_share",
                     "p_plan_met"]]
        """
    ),
    code(
        """
        rev, p_met = summary.loc["revenue_last_12m"], summary.loc["p_plan_met", "mean"]
        print(f"Year-3 revenue: median {rev.p50 / 1e6:.1f}m, P10 {rev.p10 / 1e6:.1f}m, "
              f"P90 {rev.p90 / 1e6:.1f}m {scenario.currency}.")
        print(f"The plan ({plan.revenue_target / 1e6:.0f}m) is met in {p_met:.0%} of the futures; "
              f"the required confidence is {plan.confidence:.0%}.")
        """
    ),
    md(
        """
        The median future clears the plan, but the pessimistic P10 falls short: the plan is **not** met with the
        required 90% confidence. Notebook 03 sizes the recruitment effort that closes the gap.

        ## 4. Partners by state, month by month

        `result.monthly` has one row per replication and month (month 0 is today): the companies in each state
        at the end of the month, the month's flows (prospects put into nurturing, signings, first deals,
        exits, ...), revenue, costs and concentration. The first months of replication 0:
        """
    ),
    code(
        """
        result.replication(0).loc[:5, ["month", "nurturing", "signed", "active", "collaborating", "dormant",
                                       "churned", "signings", "activations", "revenue"]]
        """
    ),
    md(
        """
        The chart averages the states over the replications. Newly signed partners either land a first deal
        within the activation window (they become active) or go dormant; active partners may start
        collaborating (portal, communities, joint plans), which lifts their growth; dormant partners come back
        or leave (churned, counted cumulatively).
        """
    ),
    code("charts.partners_by_state(result)"),
    md(
        """
        ## 5. The revenue fan

        Trailing-12-month revenue, month by month: the line is the median, the dark band holds the middle half
        of the futures (P25 to P75) and the light band 80% of them (P10 to P90). The dashed line is the plan
        target: when the lower edge of the light band is below it at month 36, the plan is not met with 90%
        confidence.
        """
    ),
    code("charts.revenue_fan(result)"),
    md(
        """
        ## 6. Partners: scorecard and concentration

        `result.partners` has one row per replication and company ever signed, at the horizon: segment, cohort
        (`current` for today's partners, `recruited` for those signed during the plan), state, months to the
        first deal, run-rate, trailing-12-month revenue and its growth. The five largest partners of
        replication 0:
        """
    ),
    code(
        """
        one = result.partners[result.partners["replication"] == 0]
        one.nlargest(5, "revenue_t12m")[["company", "segment", "cohort", "state", "run_rate", "revenue_t12m",
                                         "growth_12m"]]
        """
    ),
    md(
        """
        The **scorecard** ranks each replication's earning partners by revenue into the top 20%, the next 30%
        and the bottom 50% (plus those without revenue), per segment, and averages over the replications:
        partners per tier, activation rate and months to the first deal of partners signed during the plan,
        growth, revenue per partner and `revenue_share`, the tier's share of channel revenue.
        """
    ),
    code(
        """
        from simulator.planning import scorecard

        card = scorecard(result)
        table = card.table.set_index(["segment", "tier"])
        table.loc["all"]  # the whole channel, by revenue tier
        """
    ),
    code('table.xs("all", level="tier")  # each segment, all tiers'),
    md(
        """
        **Concentration.** The *top-20% share* is the share of revenue earned by the 20% of earning partners
        with the most revenue: 0.2 would mean revenue is spread evenly, the Pareto rule of thumb says 0.8.
        The *Gini* coefficient runs from 0 (every partner earns the same) to 1 (one partner earns everything);
        *effective partners* (1 / HHI) is the number of equal-sized partners that would be as concentrated.
        Per replication, at month 36:
        """
    ),
    code(
        """
        conc = card.concentration[["earning_partners", "top_share", "gini", "effective_partners",
                                   "share_earning_nothing"]]
        conc.quantile([0.1, 0.5, 0.9]).rename(index=lambda q: f"P{q * 100:.0f}")
        """
    ),
    md(
        """
        The Lorenz curve shows the same thing: partners sorted from the smallest to the largest along the
        horizontal axis, their cumulative share of revenue on the vertical one. The further the curve sags
        below the diagonal, the more revenue depends on a few partners. "All signed" includes the partners
        earning nothing.
        """
    ),
    code("charts.lorenz_chart(result)"),
    md(
        """
        The recruitment funnel over the three years: prospects nurtured, signed, with a first deal, and
        collaborating, per replication, with the conversion of each step.
        """
    ),
    code("charts.recruitment_funnel(result)"),
    md(
        """
        ## 7. The same run as a Mesa model

        `sim.ChannelModel` is a `mesa.Model` with one `Partner` agent per company and a `DataCollector` whose
        columns are those of `result.monthly`. It runs replication 0 of the same seed, so its collected data
        equal `result.replication(0)` exactly. Use it for agent-level questions, with `mesa.batch_run`, or in a
        Mesa visualisation; use `simulate` for many replications (it runs them all at once).
        """
    ),
    code(
        """
        model = sim.ChannelModel(scenario=scenario, seed=1)
        model.run_model()
        collected = model.datacollector.get_model_vars_dataframe()
        same = collected.equals(result.replication(0).drop(columns=["replication", "month"]))
        print(f"{len(model.agents):,} agents, {len(collected)} months collected (0 to {model.month}); "
              f"identical to replication 0 of simulate(): {same}")
        """
    ),
    code(
        """
        states = ["prospect", "nurturing", "signed", "active", "collaborating", "dormant", "churned"]
        agents = pd.DataFrame(
            {"company": a.company, "segment": a.segment, "state": a.state.label, "revenue_t12m": a.revenue_t12m}
            for a in model.agents
        )
        pd.crosstab(agents["state"], agents["segment"], margins=True, margins_name="total").reindex(
            [*states, "total"]
        )
        """
    ),
    md(
        """
        ## Takeaway

        * Today's program (about 200 partners, 12 prospects nurtured a month) is more likely than not to reach
          the year-3 plan, but not with the 90% confidence the plan asks for: the pessimistic futures fall
          short.
        * Revenue is concentrated: the top 20% of earning partners bring in most of it, and the integrators'
          top tier alone a large share. Losing a few top partners matters more than losing many small ones.
        * Every figure comes with its spread (P10 / P50 / P90), because the channel's future is uncertain.
          Notebook 02 compares program changes on the same draws, 03 sizes recruitment, 04 explores which
          assumptions matter most.
        """
    ),
]

# -- 02 what-if ------------------------------------------------------------------------

WHAT_IF = [
    md(
        """
        # 02 · What-if: does an activation-first program pay off?

        **The question.** If we get newly signed partners to their first deal faster (an onboarding guide,
        training and presales support on their first opportunities), how much revenue does that add by year 3,
        what does it cost, and does it make the plan safer? And what if we simply gave new partners more time
        to land their first deal?

        `sim.compare` answers such questions by running two scenarios, A (today's program) and B (the change),
        on the same random draws and reporting their paired differences.
        """
    ),
    SETUP,
    md(
        """
        ## 1. Two scenarios, the same futures

        `scenarios/activation_first.yaml` extends the baseline and adds three activation levers from the lever
        catalogue. `compare` runs A and B on the same replications and seed: replication `r` of A and of B share
        every random number (the same prospects sign, the same partners grow fast or slowly). Within a
        replication, B - A is then the effect of the change and not luck: a **paired comparison** on
        **common random numbers**.
        """
    ),
    code(
        """
        cmp = sim.compare(BASELINE, SCENARIOS / "activation_first.yaml", replications=200, seed=1)
        print(f"A: {cmp.a.scenario.name}; B: {cmp.b.scenario.name}; {len(cmp.paired)} paired replications.")
        """
    ),
    md(
        """
        ## 2. What changed

        Every key that differs, and the levers matched by name (added, removed or changed field by field), so
        the comparison documents itself:
        """
    ),
    code(
        """
        with pd.option_context("display.max_colwidth", 200):
            display(cmp.changes)
        """
    ),
    md(
        """
        ## 3. The differences at month 36

        One row per horizon figure: the means of A and B, the mean paired difference `mean_diff` (B - A), the
        90% interval of the paired differences (`p05` to `p95`: in 90% of the futures the difference lies
        there), and `p_b_better` / `p_b_worse`, the share of futures in which B is strictly better or worse.
        *Better* means higher for revenue, contribution and active partners, lower for cost, dormant partners
        and concentration (column `better`). For `plan_met` the means are P(plan met) under A and B.
        """
    ),
    code(
        """
        figures = ["revenue_last_12m", "cost_last_12m", "contribution_last_12m", "plan_met", "activations",
                   "active", "dormant", "earning_partners", "top20_share"]
        cmp.differences.loc[figures]
        """
    ),
    code(
        """
        def headline(c):
            d = c.differences
            rev, cost, con = (d.loc[f] for f in ("revenue_last_12m", "cost_last_12m", "contribution_last_12m"))
            print(f"Year-3 revenue {rev.mean_diff / 1e6:+.1f}m on average (90% of the futures between "
                  f"{rev.p05 / 1e6:+.1f}m and {rev.p95 / 1e6:+.1f}m), higher in {rev.p_b_better:.0%} of them.")
            extra = f"{cost.mean_diff / 1e3:+,.0f}k" if abs(cost.mean_diff) >= 500 else "unchanged"
            print(f"Year-3 cost {extra}; contribution (margin minus cost) {con.mean_diff / 1e6:+.1f}m, "
                  f"better in {con.p_b_better:.0%} of the futures.")
            print(f"P(plan met): {d.loc['plan_met', 'mean_a']:.0%} -> {d.loc['plan_met', 'mean_b']:.0%}.")


        headline(cmp)
        """
    ),
    md(
        """
        **Why pairing matters.** Year-3 revenue varies a lot from one future to another, mostly because of a
        few large partners. Compared on independent draws, the program's effect would drown in that noise; on
        the same draws, the luck both scenarios share cancels out:
        """
    ),
    code(
        """
        def spread(x):
            return (x.quantile(0.9) - x.quantile(0.1)) / 1e6


        print(f"Year-3 revenue under A, P10 to P90:        {spread(cmp.a.kpis['revenue_last_12m']):5.1f}m wide")
        print(f"Paired difference B - A, P10 to P90:      {spread(cmp.paired['revenue_last_12m']):5.1f}m wide")
        """
    ),
    md(
        """
        The chart: for each figure, the mean difference (dot) and the 90% interval of the paired differences
        (bar, green when B is better on average), money on the left and partners on the right, with
        P(B better) beside each figure.
        """
    ),
    code("charts.compare_chart(cmp)"),
    md(
        """
        ## 4. When does the difference build up?

        `cmp.trajectory` holds the paired differences month by month. Trailing-12-month revenue, drawn with
        matplotlib's object-oriented API:
        """
    ),
    code(
        """
        from matplotlib.figure import Figure

        t = cmp.trajectory[cmp.trajectory["figure"] == "revenue_t12m"]
        fig = Figure(figsize=(8, 3.5), layout="constrained")
        ax = fig.add_subplot()
        ax.fill_between(t["month"], t["p05"] / 1e6, t["p95"] / 1e6, alpha=0.25, lw=0,
                        label="90% of the paired differences")
        ax.plot(t["month"], t["mean_diff"] / 1e6, lw=2, label="mean difference")
        ax.axhline(0, color="grey", lw=1)
        ax.set(xlabel="month", ylabel="B - A (USD m)", xlim=(0, t["month"].max()),
               title="Activation first minus baseline: trailing-12-month revenue")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left")
        fig
        """
    ),
    md(
        """
        The effect starts small and builds up: the levers act on partners signed but without a first deal
        (today's 20 and every new one) and, through training, on active partners' growth; each month's extra
        first deals keep earning, so the gain accumulates over the horizon.

        ## 5. A quick what-if without a file

        With a single scenario, `compare` builds B from A with `section__key=value` overrides. What if new
        partners simply had 9 months instead of 6 to land a first deal before they go dormant?
        """
    ),
    code(
        """
        window = sim.compare(BASELINE, replications=200, seed=1, activation__window_months=9)
        display(window.changes)
        headline(window)
        """
    ),
    code('window.differences.loc[["revenue_last_12m", "activations", "dormant", "plan_met"]]'),
    md(
        """
        A longer window costs nothing in this model and helps, but less than the activation program: it only
        catches partners that would have activated in months 7 to 9 at the same slow pace.

        ## 6. The what-if library at a glance

        Each scenario file in `scenarios/` is one what-if, extending the baseline. Compared with it on the same
        200 futures (mean paired differences in year 3, and P(plan met) under the what-if):
        """
    ),
    code(
        """
        rows = {}
        for path in sorted(SCENARIOS.glob("*.yaml")):
            if path == BASELINE:
                continue
            d = sim.compare(BASELINE, path, replications=200, seed=1).differences
            rows[path.stem] = {
                "revenue_last_12m": d.loc["revenue_last_12m", "mean_diff"],
                "cost_last_12m": d.loc["cost_last_12m", "mean_diff"],
                "contribution_last_12m": d.loc["contribution_last_12m", "mean_diff"],
                "p_contribution_better": d.loc["contribution_last_12m", "p_b_better"],
                "p_plan_met": d.loc["plan_met", "mean_b"],
            }
        pd.DataFrame.from_dict(rows, orient="index").sort_values("contribution_last_12m", ascending=False)
        """
    ),
    md(
        """
        ## Takeaway

        * The activation-first program adds revenue in almost every future and pays for its cost several times
          over in year-3 contribution; it also raises P(plan met) markedly, though 200 replications leave
          P(plan met) uncertain by a few points either way.
        * Giving partners a longer activation window helps too, for free, but less.
        * Always compare on the same draws (`sim.compare`, or `python run.py compare A.yaml B.yaml`): the
          paired difference is far narrower than the spread of either scenario, so small but real effects
          become visible.
        """
    ),
]

# -- 03 sizing -------------------------------------------------------------------------

SIZING = [
    md(
        """
        # 03 · Sizing: how many partners must we recruit?

        **The question.** The year-3 plan must be met with 90% confidence. What can today's channel deliver on
        its own, how large is the gap, and how many prospects must we put into nurturing each month (and so how
        many partners will we sign, at what cost) to close it?

        Two planning answers of the public API do the work: `sim.capacity` (today's channel with recruitment
        switched off) and `sim.size_recruitment` (the smallest recruitment effort meeting the plan).
        """
    ),
    SETUP,
    md(
        """
        ## 1. Capacity: today's channel alone

        `capacity` runs the scenario with no recruitment at all (`recruitment.nurture_per_month = 0`) and reports
        trailing-12-month revenue today and at the horizon, the annual growth today's partners deliver, P(plan
        met) without recruiting, and the gap to the plan. The headline gap is taken **at the plan's
        confidence**: the target minus the P10 revenue (at 90% confidence), which is what recruitment must add
        for the plan to be met in 9 futures out of 10.
        """
    ),
    code(
        """
        cap = sim.capacity(BASELINE, replications=200, seed=1, name="Baseline without recruitment")
        cap.summary()
        """
    ),
    code(
        """
        print(f"Today's partners earn {cap.per_replication['revenue_t12m_today'].median() / 1e6:.1f}m a year "
              f"(median); without recruitment that changes by {cap.growth_rate:+.1%} a year, to "
              f"{cap.per_replication['revenue_last_12m'].median() / 1e6:.1f}m in year 3.")
        print(f"P(plan met) without recruiting: {cap.p_plan_met:.0%}. Gap at {cap.confidence:.0%} confidence: "
              f"{cap.gap_at_confidence / 1e6:.1f}m.")
        """
    ),
    md(
        """
        Growth of the best partners roughly offsets the partners going dormant or leaving: without new partners
        the channel stands still, far below the plan.
        """
    ),
    code("charts.revenue_fan(cap.result)"),
    md(
        """
        ## 2. Sizing recruitment

        `size_recruitment` finds the smallest `recruitment.nurture_per_month` for which P(year-3 revenue >=
        target) >= 90%:

        * every value tried runs the **same replications and seed** (common random numbers), so today's
          partners draw the same numbers in every run and the values differ by what recruitment adds;
        * the search starts at the scenario's value, steps up by doubling, then bisects on whole numbers;
        * each P(plan met) is an estimate from a finite number of futures, so it comes with a **Wilson 95%
          interval**: the range of true probabilities compatible with what was observed (with 200 futures and P
          near 0.9, about +-0.04). Use 400 or more replications (the default) before committing a budget.

        `workers=1` runs everything in the notebook's own process: for 200 replications, starting worker
        processes costs more than it saves. By default sizing uses all cores, which pays off from about 400
        replications; the number of workers never changes a number.
        """
    ),
    code(
        """
        size = sim.size_recruitment(BASELINE, replications=200, seed=1, workers=1)
        size.curve[["value", "p_plan_met", "p_low", "p_high", "meets", "revenue_p10", "revenue_p50",
                    "signings_per_year", "recruitment_cost_per_year"]]
        """
    ),
    md(
        """
        Each row is a value tried (prospects nurtured a month), in increasing order: P(plan met) with its
        Wilson interval (`p_low` to `p_high`), whether it meets 90%, P10 and median year-3 revenue, partners
        signed a year and the recruitment cost (nurturing plus onboarding) a year. The answer, as a consultant
        would say it:
        """
    ),
    code(
        """
        print(size.message)
        for note in size.notes:
            print("Note:", note)
        """
    ),
    md(
        """
        The note says that P(plan met) is not strictly increasing in the values tried: with 200 futures, one
        more prospect a month changes P by less than its noise. The answer stays well defined because every
        value is checked on the same draws. The chart shows the search: P(plan met) for each value tried, with
        its Wilson interval, against the required confidence.
        """
    ),
    code("charts.sizing_chart(size)"),
    code(
        """
        implied = pd.Series(size.implied)
        implied[["signings_per_year", "first_deals_per_year", "nurtured_per_year", "recruitment_cost_per_year",
                 "recruitment_cost_total", "revenue_p10", "recruited_revenue_mean", "channel_revenue_mean"]]
        """
    ),
    md(
        """
        At the answer, recruited partners bring in more than today's channel does in year 3: the plan depends
        on recruitment, and on recruited partners landing their first deal.

        ## 3. Other decisions: activate instead of recruiting more?

        `decision=` sizes another key. Could we meet the plan with today's recruitment by getting new partners
        to their first deal sooner? First, a longer activation window (whole numbers are searched exactly; when
        even the largest sensible value misses, the result says what limits it):
        """
    ),
    code(
        """
        window = sim.size_recruitment(BASELINE, decision="activation.window_months", replications=200, seed=1,
                                      workers=1)
        print(window.message)
        window.curve[["value", "p_plan_met", "p_low", "p_high", "revenue_p10"]]
        """
    ),
    md(
        """
        No: even a window as long as the horizon falls short of 90%. Second, a faster first deal: how high must
        the monthly first-deal probability of new partners be (0.11 today)? That is the target any activation
        program (onboarding, training, presales support) would have to reach. Continuous keys are bisected to a
        tolerance.
        """
    ),
    code(
        """
        faster = sim.size_recruitment(BASELINE, decision="activation.monthly_probability", replications=200,
                                      seed=1, workers=1)
        print(faster.message)
        charts.sizing_chart(faster)
        """
    ),
    md(
        """
        The curve climbs, then flattens right at the required confidence: once new partners activate quickly,
        the futures that still miss the plan miss it for other reasons (too few partners signed, large partners
        lost), and faster activation cannot help them. The answer sits on that plateau, where the Wilson
        intervals of neighbouring values overlap, so it is fragile: it may move a lot with more replications.
        Activation alone takes the plan to the edge of 90%, not safely beyond it; recruitment does (section 2).
        A specific lever's intensity can be sized the same way, with `decision="lever:presales_support"`.

        ## Takeaway

        * Without recruitment, today's channel stands still and misses the plan in most futures: the gap at
          90% confidence is more than half the target.
        * Recruitment closes it. `size.message` turns the answer into the consultant's sentence: prospects to
          nurture a month, partners signed a year (and how many of them will have a first deal), and the
          recruitment budget.
        * Activation improvements help a lot (notebook 02) but level off around 90%: a robust plan needs more
          partners signed as well. Before committing a budget, size with 400 or more replications
          (`python run.py size scenarios/baseline.yaml`, all cores) and compare the candidate programs with
          `sim.compare` (notebook 02).
        """
    ),
]

# -- 04 sweeps and sensitivity ---------------------------------------------------------

SWEEPS = [
    md(
        """
        # 04 · Sweeps and sensitivity: which assumptions matter?

        **The question.** Our plan rests on assumptions we are unsure of (how many partners we win, how fast
        they activate, how many leave) and on decisions we control (how hard we recruit). Where in that space is
        the plan met, and which assumptions move year-3 revenue the most?

        A **sweep** runs many scenario variants (points), each with many replications; **sensitivity analysis**
        (Sobol or Morris, via SALib) ranks the inputs by how much they move a figure. Small designs here keep
        the notebook fast; the command line (`python run.py sweep` / `sensitivity`) runs large ones on all
        cores or a Dask cluster.
        """
    ),
    SETUP,
    code(
        """
        import tempfile

        from matplotlib.figure import Figure

        work = tempfile.TemporaryDirectory(prefix="channel-sweeps-")  # sweep results go here, not into the repo
        WORK = Path(work.name)
        """
    ),
    md(
        """
        ## 1. A grid sweep: recruitment effort x activation window

        A grid runs every combination of the listed values: 4 recruitment efforts x 3 activation windows = 12
        points, 100 replications each. Replication `r` of every point uses the same random numbers (**common
        random numbers**), so differences between points come from the scenarios, not from the draws. The
        result is a tidy table, one row per point and replication; each finished chunk is also written as
        Parquet under `out` (a sweep can be resumed). `workers=1` runs the points in the notebook's process,
        the fastest choice for sweeps this small.
        """
    ),
    code(
        """
        grid = sim.sweep(
            BASELINE,
            grid={"recruitment.nurture_per_month": [8, 12, 18, 24], "activation.window_months": [3, 6, 9]},
            replications=100, seed=1, out=WORK / "grid", workers=1, progress=False,
        )
        print(f"{len(grid):,} rows: {grid['point'].nunique()} points x {grid['replication'].nunique()} replications")
        grid[["point", "replication", "recruitment.nurture_per_month", "activation.window_months",
              "revenue_last_12m", "signings", "activations", "plan_met"]].head()
        """
    ),
    md(
        """
        `summarize_sweep` condenses the table per point: the mean and P10/P50/P90 of revenue, contribution and
        cost in year 3, and P(plan met) with its **Wilson 95% interval** (`p_plan_met_low` to
        `p_plan_met_high`). With 100 replications a probability near 0.8 is known to about +-0.08: enough to
        see the shape, not to pick a value to the unit (that is what `size_recruitment` is for, notebook 03).
        """
    ),
    code(
        """
        points = sim.summarize_sweep(grid)
        points[["recruitment.nurture_per_month", "activation.window_months", "revenue_last_12m_p10",
                "revenue_last_12m_p50", "contribution_last_12m_mean", "p_plan_met", "p_plan_met_low",
                "p_plan_met_high"]]
        """
    ),
    code(
        """
        confidence = sim.load_scenario(BASELINE).plan.confidence
        fig = Figure(figsize=(8, 4), layout="constrained")
        ax = fig.add_subplot()
        for window, rows in points.groupby("activation.window_months"):
            x = rows["recruitment.nurture_per_month"]
            err = [rows["p_plan_met"] - rows["p_plan_met_low"], rows["p_plan_met_high"] - rows["p_plan_met"]]
            ax.errorbar(x, rows["p_plan_met"], yerr=err, marker="o", capsize=3, label=f"{window}-month window")
        ax.axhline(confidence, color="tab:red", ls="--", lw=1, label=f"required confidence ({confidence:.0%})")
        ax.set(xlabel="prospects nurtured a month", ylabel="P(plan met)", ylim=(0, 1.02),
               title="P(plan met) with 95% Wilson intervals, 100 replications a point")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right")
        fig
        """
    ),
    md(
        """
        More recruitment and a longer activation window both raise P(plan met); a longer window shifts the
        whole curve, so fewer prospects need nurturing for the same confidence.

        ## 2. A Latin hypercube sweep over uncertain assumptions

        Ranges instead of lists: a Latin hypercube spreads `points` samples evenly over the ranges (each
        range is cut into `points` slices and each slice is sampled once). Here our win share of the prospects'
        vendor signings and the monthly first-deal probability of new partners, two assumptions we cannot pin
        down. A `SweepDesign` is the sweep as data; its points can be inspected before anything runs.
        """
    ),
    code(
        """
        design = sim.SweepDesign.latin_hypercube(
            BASELINE,
            {"recruitment.win_share": (0.1, 0.4), "activation.monthly_probability": (0.05, 0.2)},
            points=24, replications=40, seed=1,
        )
        design.points.head()
        """
    ),
    code(
        """
        lhs = sim.summarize_sweep(sim.sweep(design, out=WORK / "lhs", workers=1, progress=False))

        fig = Figure(figsize=(7, 4.5), layout="constrained")
        ax = fig.add_subplot()
        dots = ax.scatter(lhs["recruitment.win_share"], lhs["activation.monthly_probability"], c=lhs["p_plan_met"],
                          cmap="RdYlGn", vmin=0, vmax=1, s=90, edgecolor="black", lw=0.5)
        fig.colorbar(dots, ax=ax, label="P(plan met)")
        ax.plot([0.25], [0.11], "k*", ms=14, label="baseline assumptions")
        ax.set(xlabel="win share of the prospects' vendor signings", ylabel="monthly first-deal probability",
               title="P(plan met) over the uncertain assumptions (40 replications a point)")
        ax.legend(loc="upper right")
        fig
        """
    ),
    md(
        """
        P(plan met) rises towards the right and the top: winning a larger share of the prospects' signings
        matters most, and faster activation partly makes up for a lower win share. Where both fall below our
        assumptions (lower left), most futures miss the plan.

        ## 3. Sensitivity: which assumption moves year-3 revenue most?

        The **Morris** method (elementary effects) moves one input at a time along random trajectories through
        the ranges and records how much year-3 revenue changes: `mu_star` is the mean absolute effect of
        sweeping an input across its range (its importance), `sigma` the spread of those effects (high when the
        input interacts with others or acts non-linearly). Each point averages 20 replications on common random
        numbers. Morris is cheap (8 trajectories of 5 points here): a good first screen.
        """
    ),
    code(
        """
        ranges = {
            "recruitment.nurture_per_month": (6, 24),
            "recruitment.win_share": (0.15, 0.35),
            "activation.monthly_probability": (0.07, 0.15),
            "churn.exit_probability": (0.004, 0.012),
        }
        morris = sim.sensitivity(BASELINE, ranges, kpi="revenue_last_12m", method="morris", samples=8,
                                 replications=20, seed=1, workers=1, out=WORK / "morris", progress=False)
        morris.table.sort_values("mu_star", ascending=False)
        """
    ),
    code("morris.plot()"),
    md(
        """
        **Sobol** indices go further: they split the variance of the figure between the inputs (`S1`, the share
        an input explains on its own; `ST`, its share including interactions). They need many more runs,
        N x (inputs + 2) points with N = 256 or more for stable indices, so run them from the command line:
        `python run.py sensitivity scenarios/baseline.yaml --range recruitment.win_share=0.15:0.35 ...
        --method sobol --samples 256`. The result has the same `table` and `plot()`.
        """
    ),
    code("work.cleanup()  # remove the sweep folders"),
    md(
        """
        ## Takeaway

        * The grid shows the trade-off between decisions: recruiting harder and activating better substitute
          for each other in meeting the plan.
        * The Latin hypercube shows how much the plan rests on what we do not know: if win share and
          activation speed both fall short of our assumptions, so does the plan.
        * Morris ranks the inputs: within these ranges, recruitment effort and win share move year-3 revenue
          most and churn least. Win share is an assumption, not a decision: check it first against CRM data.
        * Small designs are fine to explore in a notebook; for numbers to act on, run larger ones with
          `python run.py sweep` / `sensitivity` (all cores, resumable, or a Dask cluster).
        """
    ),
]

NOTEBOOKS: dict[str, list[nbformat.NotebookNode]] = {
    "01_quickstart.ipynb": QUICKSTART,
    "02_what_if.ipynb": WHAT_IF,
    "03_sizing.ipynb": SIZING,
    "04_sweeps_and_sensitivity.ipynb": SWEEPS,
}


def notebook(name: str) -> nbformat.NotebookNode:
    """The notebook ``name`` as written by this script (cells only, no outputs)."""
    cells = [nbformat.from_dict(c) for c in NOTEBOOKS[name]]  # fresh copies: SETUP is shared
    nb = v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:02d}"  # stable ids: rebuilding gives no spurious diff
    return nb


@contextmanager
def kernel_manager() -> Iterator[object]:
    """A kernel manager whose ``python3`` kernel runs this interpreter (``sys.executable``).

    The kernel spec is written to a temporary folder and used alone, so a
    ``python3`` kernel installed elsewhere (another Python, another virtual
    environment) is never picked up and nothing needs installing.
    """
    from ipykernel.kernelspec import write_kernel_spec
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    with tempfile.TemporaryDirectory(prefix="notebook-kernels-") as folder:
        write_kernel_spec(str(Path(folder) / KERNEL))
        specs = KernelSpecManager(kernel_dirs=[folder], ensure_native_kernel=False)
        yield KernelManager(kernel_name=KERNEL, kernel_spec_manager=specs)


def execute(nb: nbformat.NotebookNode, timeout: int = CELL_TIMEOUT, timing: bool = False) -> float:
    """Execute ``nb`` in place from ``notebooks/`` (raises on the first failing cell); return the seconds taken.

    ``timing=True`` records each cell's start and end in its metadata (left out of the committed notebooks).
    """
    from nbclient import NotebookClient

    started = time.perf_counter()
    with kernel_manager() as km:
        client = NotebookClient(
            nb,
            km=km,
            timeout=timeout,
            kernel_name=KERNEL,
            resources={"metadata": {"path": str(HERE)}},
            record_timing=timing,
        )
        try:
            client.execute()
        finally:
            if km.has_kernel:  # a kernel manager passed in is not shut down by nbclient
                km.shutdown_kernel(now=True)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write (and execute) the example notebooks.")
    parser.add_argument("only", nargs="*", help="build only notebooks whose file name contains one of these")
    parser.add_argument("--no-execute", action="store_true", help="write the cells without running them")
    args = parser.parse_args(argv)
    names = [n for n in NOTEBOOKS if not args.only or any(s in n for s in args.only)]
    if not names:
        parser.error(f"no notebook matches {' '.join(args.only)}")
    for name in names:
        nb = notebook(name)
        seconds = 0.0 if args.no_execute else execute(nb)
        nbformat.validate(nb)
        nbformat.write(nb, HERE / name)
        size = (HERE / name).stat().st_size
        print(f"{name}: {'written' if args.no_execute else f'executed in {seconds:.1f} s'}, {size / 1024:.0f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
