"""The reference model: a plain per-agent Mesa statement of the core lifecycle of docs/MODEL.md.

Written the way a Mesa user would write it, for reading and as a speed
baseline: one :class:`~benchmarks.reference.agents.Partner` agent per
company, a ``step`` per agent, a :class:`mesa.DataCollector`. It shares
nothing with the vectorized engine but the scenario loader, and draws its
own random numbers, so it agrees with the engine in distribution, not draw
for draw (``tests/test_reference_equivalence.py`` checks that).

A month (``ReferenceModel.step``), every decision taken from the state at
the start of the month, so each company makes at most one move:

1. the month's rates are set: the peer effect reads the share of
   revenue-earning partners that collaborate;
2. the vendor picks this month's prospects from its scored list;
3. every company steps (signing, first deal, attrition, reactivation,
   collaboration, growth), reading only its own start-of-month state;
4. the picked prospects start nurturing (their first chance to sign is next month);
5. revenue is the run-rate of the companies active or collaborating at the month's end.

Not covered: program levers (refused), economics (margin, costs) and
concentration measures.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

import mesa
import numpy as np
import pandas as pd

from simulator.engine.kernel import FLOW_COLUMNS
from simulator.scenario.loading import ScenarioLike, load_scenario
from simulator.scenario.schema import Scenario

from .agents import (
    ACTIVE,
    CHURNED,
    COLLABORATING,
    DORMANT,
    EARNING,
    PROSPECT,
    SIGNED,
    STATES,
    Band,
    Partner,
)

FLOWS = FLOW_COLUMNS  # the month's flows, named as in the engine's monthly table
#: Columns the DataCollector records, named like the engine's monthly table.
COLUMNS = (*STATES, *FLOWS, "revenue", "revenue_t12m")


def hazard(p: float) -> float:
    """Monthly hazard ``-ln(1 - p)`` of a monthly probability (infinite for ``p = 1``)."""
    return math.inf if p >= 1.0 else -math.log1p(-p)


def competing_risks(moves: Sequence[tuple[float, str, tuple[str, ...]]]) -> list[Band]:
    """Cumulative probability bands of competing moves given as (hazard, destination, flows).

    The company leaves its state with probability ``1 - exp(-sum h)`` and takes
    move ``k`` with share ``h_k / sum h``; a certain move (infinite hazard)
    shares the month equally with any other certain move.
    """
    hazards = [h for h, _, _ in moves]
    if math.inf in hazards:
        leave, shares = 1.0, [float(h == math.inf) / hazards.count(math.inf) for h in hazards]
    else:
        total = sum(hazards)
        leave = -math.expm1(-total)
        shares = [h / total if total > 0 else 0.0 for h in hazards]
    bands, cumulative = [], 0.0
    for share, (_, destination, flows) in zip(shares, moves, strict=True):
        cumulative += leave * share
        bands.append((cumulative, destination, flows))
    return bands


def largest_remainder(total: int, shares: Sequence[float]) -> list[int]:
    """Split ``total`` into whole counts proportional to ``shares`` (ties go to the first share)."""
    weight = sum(shares)
    exact = [total * s / weight if weight > 0 else 0.0 for s in shares]
    counts = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(shares)), key=lambda i: -(exact[i] - counts[i]))  # stable: ties keep order
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


class ReferenceModel(mesa.Model):
    """One replication of a scenario's core lifecycle, one agent per company.

    Args:
        scenario: a Scenario, a YAML path or a dict. Program levers are not supported.
        seed: seeds ``model.rng`` (population draws) and ``model.random`` (monthly draws).
        **overrides: ``section__key=value`` scenario overrides.
    """

    def __init__(self, scenario: ScenarioLike | None = None, seed: int | None = None, **overrides: Any) -> None:
        super().__init__(rng=seed)
        scn = load_scenario(scenario if scenario is not None else Scenario(), **overrides)
        if scn.program.levers:
            raise ValueError("the reference model covers the core lifecycle only: program levers are not supported")
        self.spec = scn  # not "scenario": Mesa >= 3.5 reserves that name for its own experiment object
        self.horizon = scn.horizon_months
        self.month = 0

        # Rates that do not change over the run.
        r, c = scn.recruitment, scn.churn
        self.p_signing = -math.expm1(-scn.market.vendor_signings_per_year * r.win_share / 12.0)
        p = scn.activation.monthly_probability
        # A segment's multiplier scales the first-deal hazard: 1 - (1 - p)^multiplier.
        self.p_first_deal = {
            name: 1.0 - (1.0 - p) ** s.activation_multiplier for name, s in scn.market.segments.items()
        }
        self.monthly_growth = {
            ACTIVE: (1.0 + scn.growth.active) ** (1 / 12),
            COLLABORATING: (1.0 + scn.growth.collaborating) ** (1 / 12),
        }
        self.monthly_volatility = scn.growth.volatility / math.sqrt(12.0)
        self._h_dormancy = hazard(c.dormancy_probability)
        self._h_exit = hazard(c.exit_probability)
        self._h_adoption = hazard(scn.collaboration.adoption_probability)
        self._h_lapse = hazard(scn.collaboration.lapse_probability)
        self._dormant_moves = competing_risks(
            [
                (hazard(c.reactivation_probability), ACTIVE, ("reactivations",)),
                (hazard(c.dormant_exit_probability), CHURNED, ("exits",)),
            ]
        )

        self.counts = dict.fromkeys(STATES, 0)
        self.flows = dict.fromkeys(FLOWS, 0)
        self.moves: dict[str, list[Band]] = {}
        self._populate()
        # The vendor's scored list, best first (fit scores never change).
        self.scored_prospects = sorted(
            (a for a in self.agents if a.state == PROSPECT), key=lambda a: a.fit_score, reverse=True
        )

        # Today's earning partners are assumed to have earned their run-rate for the past 12 months.
        self.revenue = self.earned_revenue()
        self.last_12_months = deque([self.revenue] * 12, maxlen=12)
        self.datacollector = mesa.DataCollector(model_reporters=self._reporters())
        self.running = self.month < self.horizon
        self.datacollector.collect(self)

    # -- population ----------------------------------------------------------

    def _populate(self) -> None:
        """Today's partners (counts per state split over segments) and the market's prospects."""
        scn = self.spec
        segments = scn.market.segments
        names = list(segments)
        shares = [s.share for s in segments.values()]
        ch = scn.channel
        channel_shares = [ch.segment_shares.get(n, 0.0) for n in names] if ch.segment_shares is not None else shares
        for state in (SIGNED, ACTIVE, COLLABORATING, DORMANT):
            for name, n in zip(names, largest_remainder(getattr(ch, state), channel_shares), strict=True):
                for _ in range(n):
                    Partner(self, name, self._draw_potential(name), state)
                    self.counts[state] += 1

        # The fit score correlates with log potential at scoring_accuracy: log potential is
        # standardised over the market's segment mixture, then mixed with independent noise.
        mu = {n: math.log(s.revenue_median) for n, s in segments.items()}
        mean = sum(s.share * mu[n] for n, s in segments.items())
        sd = math.sqrt(sum(s.share * (s.revenue_sigma**2 + (mu[n] - mean) ** 2) for n, s in segments.items()))
        a = scn.recruitment.scoring_accuracy
        for name, n in zip(names, largest_remainder(scn.market.prospects, shares), strict=True):
            for _ in range(n):
                potential = self._draw_potential(name)
                z = (math.log(potential) - mean) / sd if sd > 0 else 0.0
                fit = a * z + math.sqrt(max(0.0, 1.0 - a * a)) * self.rng.standard_normal()
                Partner(self, name, potential, PROSPECT, fit_score=fit)
                self.counts[PROSPECT] += 1

    def _draw_potential(self, segment: str) -> float:
        s = self.spec.market.segments[segment]
        return float(self.rng.lognormal(math.log(s.revenue_median), s.revenue_sigma))

    # -- the month -----------------------------------------------------------

    def step(self) -> None:
        """One month for every company, decided from the state at the start of the month."""
        if self.month >= self.horizon:
            self.running = False
            return
        self.month += 1
        self.flows = dict.fromkeys(FLOWS, 0)
        self.moves = self.month_moves()
        picked = self.recruit()
        self.agents.shuffle_do("step")
        for company in picked:
            company.start_nurturing()
        self.revenue = self.earned_revenue()
        self.last_12_months.append(self.revenue)
        self.datacollector.collect(self)
        self.running = self.month < self.horizon

    def month_moves(self) -> dict[str, list[Band]]:
        """Competing-risk bands of earning and dormant partners for this month.

        Adoption is scaled by the peer effect: 1 + peer_effect * the share of
        revenue-earning partners that collaborate at the start of the month.
        """
        earning = self.counts[ACTIVE] + self.counts[COLLABORATING]
        share = self.counts[COLLABORATING] / earning if earning else 0.0
        adoption = self._h_adoption * (1.0 + self.spec.collaboration.peer_effect * share)
        to_dormant = (self._h_dormancy, DORMANT, ("to_dormant",))
        exit_ = (self._h_exit, CHURNED, ("exits",))
        return {
            ACTIVE: competing_risks([to_dormant, exit_, (adoption, COLLABORATING, ("adoptions",))]),
            COLLABORATING: competing_risks([to_dormant, exit_, (self._h_lapse, ACTIVE, ("lapses",))]),
            DORMANT: self._dormant_moves,
        }

    def recruit(self) -> list[Partner]:
        """The vendor works down its scored list: the best prospects not in their cool-off."""
        wanted = self.spec.recruitment.nurture_per_month
        picked: list[Partner] = []
        for company in self.scored_prospects:
            if len(picked) >= wanted:
                break
            if company.state == PROSPECT and company.eligible_from <= self.month:
                picked.append(company)
        return picked

    def count_move(self, old: str, new: str, flows: Sequence[str]) -> None:
        """Book a company's move in the state counts and the month's flows."""
        self.counts[old] -= 1
        self.counts[new] += 1
        for flow in flows:
            self.flows[flow] += 1

    def earned_revenue(self) -> float:
        """Revenue of the month: run-rates of the companies active or collaborating now."""
        return sum(a.run_rate for a in self.agents if a.state in EARNING)

    # -- recording -----------------------------------------------------------

    def _reporters(self) -> dict[str, Any]:
        reporters: dict[str, Any] = {s: (lambda m, s=s: m.counts[s]) for s in STATES}
        reporters |= {f: (lambda m, f=f: m.flows[f]) for f in FLOWS}
        reporters["revenue"] = lambda m: m.revenue
        reporters["revenue_t12m"] = lambda m: sum(m.last_12_months)
        return reporters

    @property
    def monthly(self) -> pd.DataFrame:
        """Months 0..now, one row each, with a ``month`` column and the engine's column names."""
        frame = self.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        frame.insert(0, "month", np.arange(len(frame)))
        return frame


# -- running replications -------------------------------------------------------


def replication_seed(seed: int, replication: int) -> int:
    """Seed of one replication, independent of how many run beside it."""
    return int(np.random.SeedSequence([seed, replication]).generate_state(1, np.uint64)[0])


def simulate_reference(scenario: ScenarioLike, replications: int = 100, seed: int = 0) -> pd.DataFrame:
    """Run replications ``0..replications-1``; the monthly table with ``replication`` and ``month`` columns."""
    frames = []
    for r in range(replications):
        model = ReferenceModel(scenario, seed=replication_seed(seed, r))
        model.run_model()
        frame = model.monthly
        frame.insert(0, "replication", r)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def throughput(scenario: ScenarioLike, replications: int = 3, seed: int = 0) -> float:
    """Company-months per second of the reference model (building and running each replication)."""
    scn = load_scenario(scenario)
    start = time.perf_counter()
    for r in range(replications):
        ReferenceModel(scn, seed=replication_seed(seed, r)).run_model()
    seconds = time.perf_counter() - start
    return scn.companies * scn.horizon_months * replications / seconds
