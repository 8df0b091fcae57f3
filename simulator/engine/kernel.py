"""The monthly kernel: one vectorized pass over a block of replications per month.

A month, in order (every decision uses the state at the start of the month,
so a company makes at most one move a month):

1. recruitment picks this month's prospects to nurture (phase 2);
2. move hazards become competing-risk thresholds (phases 2-5, with levers);
3. one uniform per company says whether it moves; only movers (a few percent)
   are resolved further, on compact index arrays;
4. run-rates grow by the start-of-month state (revenue);
5. moves are applied; first deals start run-rates at potential;
6. revenue is earned by the end-of-month state, costs are charged, and the
   month's counts, flows, economics and concentration are recorded;
7. at a review month, partners are re-tiered by trailing-12-month revenue
   (the new tier takes effect next month).

Every per-(replication, state, segment) table has a last axis for the partner
tier (length T, 1 without tiers): a company's code into any of them is
``rcode = row + (state * G + segment) * T + tier``.

Work is confined to the columns recruitment can have reached by the month
(``Layout.frontier``), which depends only on the scenario, so every row is
computed the same way whatever block it runs in.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cached_property

import numpy as np

from ..errors import ChannelError
from ..lifecycle import collaboration
from ..lifecycle.hazards import hazard
from ..lifecycle.measurement import concentration_rows
from ..lifecycle.moves import MAX_MOVES, destinations, month_hazards, tiered_month_hazards
from ..lifecycle.program import ProgramSchedule, compile_program
from ..lifecycle.recruitment import company_signing_probability, select_for_nurturing, size_factors
from ..lifecycle.revenue import growth_tables, ramp_factor, revenue_multipliers
from ..scenario.schema import Scenario
from ..vocabulary import (
    CONCENTRATION_COLUMNS,
    FLOW_COLUMNS,
    FLOW_MOVES,
    IS_IN_CHANNEL,
    MONEY_COLUMNS,
    N_STATES,
    PARTNER_COUNT_COLUMNS,
    RATE_INDEX,
    State,
    integer_columns,
    monthly_columns,
    signed_or_earning,
)
from .parameters import ReplicationParameters
from .population import NEVER, NO_DEADLINE, build_population, history_per_month
from .streams import ReplicationStreams
from .transitions import thresholds

S = N_STATES
_DEST = destinations()

#: Flow columns of the monthly table that count moves, with their (from, to) state pairs.
FLOWS = FLOW_MOVES
#: Every column of the monthly table after ``replication`` and ``month`` (the vocabulary's monthly figures).
MONTHLY_COLUMNS: tuple[str, ...] = monthly_columns()
INTEGER_COLUMNS = integer_columns()
_GUARDED = tuple(c for c in MONTHLY_COLUMNS if c not in CONCENTRATION_COLUMNS)


__all__ = [
    "CONCENTRATION_COLUMNS",
    "ENGINES",
    "FLOWS",
    "FLOW_COLUMNS",
    "INTEGER_COLUMNS",
    "MONEY_COLUMNS",
    "MONTHLY_COLUMNS",
    "PARTNER_COUNT_COLUMNS",
    "ChannelKernel",
    "resolve_engine",
]


#: The kernels: "compiled" (numba, the default) and "numpy" (the readable reference; same numbers).
ENGINES = ("compiled", "numpy")


def resolve_engine(engine: str | None = None) -> str:
    """The kernel to run: ``engine``, else ``CHANNEL_SIM_ENGINE`` from the environment, else "compiled"."""
    chosen = engine if engine is not None else os.environ.get("CHANNEL_SIM_ENGINE", "compiled")
    if chosen not in ENGINES:
        source = "engine" if engine is not None else "CHANNEL_SIM_ENGINE"
        raise ChannelError(f"{source} must be one of {', '.join(ENGINES)}; got {chosen!r}")
    return chosen


class ChannelKernel:
    """A block of replications of one scenario, advanced month by month.

    ``replications`` are the replication indices the block holds (each draws
    from its own stream). ``record[name]`` holds the monthly table as arrays
    ``(replications, months)``, filled as the kernel steps. With
    ``concentration=False`` the monthly concentration measures are skipped
    (NaN, and -1 earning partners): planning searches that only need revenue
    run faster. With partner tiers, ``tier_partners``, ``tier_promotions_in``,
    ``tier_demotions_in``, ``tier_rebate``, ``tier_mdf`` and ``tier_cost`` hold
    the per-tier figures ``(replications, months, tiers)``.
    """

    def __init__(
        self,
        scenario: Scenario,
        seed: int,
        replications: Sequence[int],
        schedule: ProgramSchedule | None = None,
        concentration: bool = True,
        engine: str | None = None,
    ) -> None:
        self.engine = resolve_engine(engine)
        if self.engine == "compiled":
            from . import compiled

            compiled.ensure_ready()
        self.scenario = scenario
        self.concentration = concentration
        self.seed = int(seed)
        self.replications = np.asarray(replications, dtype=np.int64)
        self.horizon = scenario.horizon_months
        self.schedule = schedule if schedule is not None else compile_program(scenario)
        self.streams = ReplicationStreams(self.seed, self.replications.tolist())
        R = self.R = len(self.replications)
        self.params = ReplicationParameters.draw(scenario, self.streams, R)
        self.pop = build_population(scenario, self.streams, R, self.params, compiled=self.engine == "compiled")
        lay = self.layout = self.pop.layout
        G = self.G = len(scenario.market.segments)
        sched = self.schedule
        T = self.T = sched.tiers  # the tier axis of every table (1 without tiers)
        W = lay.width
        self.month = 0

        # Per-month tables (small), built once.
        self._drift, self._sd = growth_tables(self.params, self.schedule)  # (1 or R, H+1, S, G, T)
        e = scenario.recruitment.size_elasticity
        self._size_factor = (
            size_factors(self.pop.potential[:, :W], self.pop.segment[:, :W], self.params.segment("revenue_median"), e)
            if e > 0
            else None
        )
        self._earn_mult = revenue_multipliers(self.schedule)
        self._row = (np.arange(R, dtype=np.int32) * (S * G * T))[:, None]
        # rcode = row offset + (state * G + segment) * T + tier: one gather reads any per-(r, s, g, t) table.
        self.rcode = self._code(self.pop.state, self.pop.segment[:, :W], self.pop.tier)
        self.counts = np.zeros((R, S, G), np.int64)
        np.add.at(self.counts, (slice(None), lay.channel_state, lay.channel_segment), 1)
        prospects_per_seg = np.bincount(lay.prospect_segment, minlength=G)
        self.counts[:, State.PROSPECT, :] += prospects_per_seg

        if self.engine == "numpy":  # buffers the numpy kernel reuses every month
            self._u = np.zeros((R, W), np.float64)
            self._z = np.zeros((R, W), np.float64)
        # Revenue of the last 12 months, in float64 so trailing figures add up to the cent.
        self._ring = np.zeros((12, R, W), np.float64)
        self._run_rate_year_ago: np.ndarray | None = None
        self.record: dict[str, np.ndarray] = {
            c: np.zeros((R, self.horizon + 1), np.int64 if c in INTEGER_COLUMNS else np.float64)
            for c in MONTHLY_COLUMNS
        }
        n_lev = len(self.schedule.lever_names)
        self.lever_cost = np.zeros((R, self.horizon + 1, n_lev))
        n_tiers = len(sched.tier_names)  # 0 without tiers: the per-tier figures are empty
        months = self.horizon + 1
        self.tier_partners = np.zeros((R, months, n_tiers), np.int64)
        self.tier_promotions_in = np.zeros((R, months, n_tiers), np.int64)
        self.tier_demotions_in = np.zeros((R, months, n_tiers), np.int64)
        self.tier_rebate = np.zeros((R, months, n_tiers))
        self.tier_mdf = np.zeros((R, months, n_tiers))
        self.tier_cost = np.zeros((R, months, n_tiers))
        self._tier_counts = np.zeros((R, T), np.int64)  # in-channel partners by the tier they hold now

        # Month 0: today's channel, assumed to have earned its run-rate for the past year.
        K = lay.partners
        rev0 = self.pop.run_rate[:, :K] * self._earn_mult[0].ravel()[self.rcode[:, :K] - self._row]
        self._ring[:, :, :K] = rev0
        if scenario.channel.partner_list is not None:
            self._ring[:, :, :K] = history_per_month(scenario)  # the partner list's own history
        if self.horizon <= 12:
            self._run_rate_year_ago = self.pop.run_rate.copy()
        t12 = self._ring[:, :, :K].sum(axis=0)
        if sched.has_tiers:  # today's partners take the tier their past year's revenue qualifies for
            self._retier(K, t12)
        if self.engine == "compiled":
            # the month a company last earned: its trailing revenue is summed only within 12 months of it
            self._last_earned = np.full((R, W), -(1 << 20), np.int32)
            self._last_earned[:, :K][self._ring[:, :, :K].any(axis=0)] = 0
            self._trailing = np.zeros((R, W))  # trailing-12-month revenue per company, kept as a running sum
            self._trailing[:, :K] = t12
            # members of the concentration measures by trailing revenue, largest first (kept from month to month)
            self._ranked = np.zeros((R, W), np.int64)
            self._n_ranked = np.zeros(R, np.int64)
            self._is_ranked = np.zeros((R, W), bool)
            if not sched.has_tiers:  # one tier: every in-channel partner
                self._tier_counts = self.counts[:, IS_IN_CHANNEL].sum(axis=(1, 2))[:, None].astype(np.int64)
        self._record(
            0,
            K,
            rev0,
            np.zeros((R, S, S), np.int64),
            np.zeros(R, np.int64),
            np.zeros(R, np.int64),
            np.zeros((R, G), np.int64),
            t12,
        )
        if sched.has_tiers:
            self.tier_partners[:, 0] = self._tier_counts

    # -- the month ---------------------------------------------------------

    @property
    def done(self) -> bool:
        return self.month >= self.horizon

    def run(self) -> ChannelKernel:
        """Step to the horizon."""
        if self.engine == "compiled":
            self._advance_compiled(self.horizon)
        while not self.done:
            self.step()
        return self

    def step(self) -> None:
        """Advance every replication of the block by one month."""
        if self.done:
            raise RuntimeError(f"the horizon ({self.horizon} months) is reached")
        m = self.month + 1
        if self.engine == "compiled":
            self._advance_compiled(m)
            return
        K = self.layout.frontier(self.scenario.recruitment.nurture_per_month, m - 1)  # all but untouched prospects
        # Hazards -> competing-risk thresholds, per replication, state and segment (the peer effect reads
        # the start-of-month counts).
        share = collaboration.collaborating_share(
            self.counts[:, State.ACTIVE].sum(1), self.counts[:, State.COLLABORATING].sum(1)
        )
        if self.schedule.has_tiers:
            cum = self._tiered_thresholds(m, share)  # (R, S, G, T, MAX_MOVES)
        else:
            cum = thresholds(month_hazards(self.params, self.schedule, m, share))[:, :, :, None]
        self._step_numpy(m, K, cum)

    def _step_numpy(self, m: int, K: int, cum: np.ndarray) -> None:
        """The month in vectorized numpy: the readable reference of the compiled kernel."""
        scn, pop, lay = self.scenario, self.pop, self.layout
        R = self.R
        npm = scn.recruitment.nurture_per_month
        state, rcode = pop.state, self.rcode[:, :K]

        # 1. Recruitment: the best-scored eligible prospects enter nurturing.
        sel_rows, sel_cols = select_for_nurturing(state, pop.eligible_from, m, lay.partners, lay.frontier(npm, m), npm)

        # 2. Competing-risk thresholds of each company's state, segment and tier.
        leave = np.ascontiguousarray(cum[..., -1]).ravel()

        # 3. Who moves: a random move, or a nurture period / activation window running out.
        u = self.streams.uniform(self._u[:, :K], m)
        threshold = leave.take(rcode)
        if self._size_factor is not None:  # who is hard to win: each nurtured prospect signs at its own rate
            nurtured = np.nonzero(state[:, :K] == State.NURTURING)
            threshold[nurtured] = company_signing_probability(
                self.params,
                self.schedule.multiplier[m],
                nurtured[0],
                pop.segment[nurtured],
                self._size_factor[nurtured],
            )
        moving = u < threshold
        moving |= pop.deadline[:, :K] == m
        rows, cols = np.nonzero(moving)

        # 4. Growth by start-of-month state (non-earning states have zero drift and noise).
        if K > 0:
            z = self.streams.normal(self._z[:, :K], m)
            drift = self._per_row(self._drift[:, m])
            sd = self._per_row(self._sd[:, m])
            factor = sd.take(rcode)
            factor *= z
            factor += drift.take(rcode)
            np.exp(factor, out=factor)
            pop.run_rate[:, :K] *= factor

        # 5. Apply the moves.
        old = state[rows, cols]
        seg = pop.segment[rows, cols]
        k = (u[rows, cols][:, None] >= cum[rows, old, seg, pop.tier[rows, cols]]).sum(axis=1)
        if self._size_factor is not None:  # nurtured: signing (move 0) below its own threshold, else its deadline
            nurt = old == State.NURTURING
            k[nurt] = np.where(u[rows[nurt], cols[nurt]] < threshold[rows[nurt], cols[nurt]], 0, MAX_MOVES)
        new = _DEST[old, k]
        rows = np.concatenate([rows, sel_rows])
        cols = np.concatenate([cols, sel_cols])
        old = np.concatenate([old, np.full(sel_rows.size, State.PROSPECT, np.int8)])
        new = np.concatenate([new, np.full(sel_rows.size, State.NURTURING, np.int8)])
        seg = np.concatenate([seg, pop.segment[sel_rows, sel_cols]])
        first_deals, signings_by_seg = self._apply(m, rows, cols, old, new, seg)

        transitions = np.bincount((rows * S + old) * S + new, minlength=R * S * S).reshape(R, S, S)
        activations = np.bincount(rows[first_deals], minlength=R)
        reactivations = transitions[:, State.DORMANT, State.ACTIVE] - np.bincount(
            rows[first_deals & (old == State.DORMANT)], minlength=R
        )

        # 6. Revenue by end-of-month state (earners were signed by the start: all within K).
        earn = np.tile(self._earn_mult[m].ravel(), R)
        rev = pop.run_rate[:, :K] * earn.take(rcode)
        act = scn.activation
        if act.ramp_months > 0:  # recruits (first deal within the horizon) ramp up; today's partners do not
            first_deal = pop.first_deal[:, :K]
            ramping = (first_deal >= 1) & (m - first_deal < act.ramp_months)
            if ramping.any():
                rev[ramping] *= ramp_factor(m - first_deal[ramping], act.ramp_start, act.ramp_months)
        if m == self.horizon - 12:
            self._run_rate_year_ago = pop.run_rate.copy()
        self._ring[m % 12, :, :K] = rev
        self.month = m
        t12 = self._ring[:, :, :K].sum(axis=0)
        self._record(m, K, rev, transitions, activations, reactivations, signings_by_seg, t12)

        # 7. Tier review at the end of the month: costs above were charged for the tier held during it.
        if self.schedule.is_review(m):
            moved_up, moved_down = self._retier(K, t12)
            self.record["promotions"][:, m] = moved_up.sum(axis=1)
            self.record["demotions"][:, m] = moved_down.sum(axis=1)
            self.tier_promotions_in[:, m] = moved_up
            self.tier_demotions_in[:, m] = moved_down
        if self.schedule.has_tiers:
            self.tier_partners[:, m] = self._tier_counts

    def _tiered_thresholds(self, m: int, share: np.ndarray) -> np.ndarray:
        """Competing-risk thresholds of every tier, ``(R, S, G, T, MAX_MOVES)``.

        Thresholds are computed row by row, so a block of rows that is the same in every replication
        (a state no replication-specific figure reaches: the peer effect reaches only active partners,
        drawn parameters all) or in every tier (a state no tier's effects reach) is computed once and
        broadcast: the same numbers as computing every row, for a fraction of the work.
        """
        h = tiered_month_hazards(self.params, self.schedule, m, share)
        cum = np.empty(h.shape)
        same_rows = (h == h[:1]).all(axis=(0, 2, 3, 4))  # (S,): alike in every replication
        same_tiers = np.ones(S, bool)
        same_tiers[self.schedule.tier_move_states] = False
        for rows_alike in (True, False):
            for tiers_alike in (True, False):
                states = (same_rows == rows_alike) & (same_tiers == tiers_alike)
                if states.any():
                    block = h[: 1 if rows_alike else None, states, :, : 1 if tiers_alike else None]
                    cum[:, states] = thresholds(block)
        return cum

    def _code(self, state: np.ndarray, segment: np.ndarray, tier: np.ndarray) -> np.ndarray:
        """``rcode`` of companies (first columns of each row): where their row of any per-(r, s, g, t) table is."""
        return self._row + (state.astype(np.int32) * self.G + segment) * self.T + tier

    def _retier(self, K: int, t12: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Tier every in-channel partner by its trailing-12-month revenue ``t12`` (R, K): the highest tier
        whose threshold it reaches. Returns moves into each tier, up and down, ``(R, T)`` each."""
        pop, T = self.pop, self.T
        in_channel = IS_IN_CHANNEL[pop.state[:, :K]]
        new = np.zeros(t12.shape, np.int8)
        for threshold in self.schedule.tier_thresholds[1:]:  # a few tiers: comparisons beat a search
            new += t12 >= threshold
        new *= in_channel  # companies outside the channel carry tier 0
        old = pop.tier[:, :K]
        row = np.arange(self.R)[:, None] * T + new
        up = np.bincount(row[new > old], minlength=self.R * T).reshape(self.R, T)
        down = np.bincount(row[new < old], minlength=self.R * T).reshape(self.R, T)
        pop.tier[:, :K] = new
        self.rcode[:, :K] = self._code(pop.state[:, :K], pop.segment[:, :K], new)
        counts = np.empty((self.R, T), np.int64)
        for t in range(1, T):
            counts[:, t] = (new == t).sum(axis=1)
        counts[:, 0] = in_channel.sum(axis=1) - counts[:, 1:].sum(axis=1)
        self._tier_counts = counts
        return up, down

    def _advance_compiled(self, last: int) -> None:
        """Months ``month + 1 .. last`` by the compiled kernel (:mod:`simulator.engine.compiled`): the same
        rules, company by company, each replication running its months in turn; then each month is booked."""
        from .compiled import run_months

        scn, pop, lay, R, G, sched = self.scenario, self.pop, self.layout, self.R, self.G, self.schedule
        npm, act = scn.recruitment.nurture_per_month, scn.activation
        first = self.month + 1
        while first <= last:
            end = min(last, first + self._months_per_run - 1)
            n = end - first + 1  # months in this call
            tables = self._compiled_tables(first, end)
            out = {
                "transitions": np.zeros((R, n, S, S), np.int64),
                "activations": np.zeros((R, n), np.int64),
                "reactivations": np.zeros((R, n), np.int64),
                "signings": np.zeros((R, n, G), np.int64),
                "revenue": np.zeros((R, n)),
                "revenue_t12m": np.zeros((R, n)),
                "revenue_by_state": np.zeros((R, n, S, G, self.T)),
                "counts": np.zeros((R, n, S, G), np.int64),
                "concentration": np.zeros((R, n, 7)),
                "tier_counts_charged": np.zeros((R, n, self.T), np.int64),
                "tier_counts": np.zeros((R, n, self.T), np.int64),
                "promotions_in": np.zeros((R, n, self.T), np.int64),
                "demotions_in": np.zeros((R, n, self.T), np.int64),
            }
            run_months(
                first, end, self.horizon - 12, lay.partners, lay.width, npm, scn.recruitment.nurture_months,
                act.window_months, scn.recruitment.cooloff_months, float(act.ramp_start), act.ramp_months,
                self.concentration, 0.2, self.streams.keys,
                tables["cum"], tables["active_hazard"], tables["adoption_hazard"], tables["adoption_multiplier"],
                tables["peer_effect"], tables["size_factor"], tables["win_share"], tables["signings_per_year"],
                tables["win_multiplier"], tables["drift"], tables["sd"], tables["earn"], _DEST,
                pop.state, pop.segment, pop.entered, pop.deadline, pop.eligible_from, pop.run_rate, pop.potential,
                pop.signed_month, pop.first_deal, pop.collaborating_months, self._last_earned, self._trailing,
                self._ranked, self._n_ranked, self._is_ranked, self.counts, self._ring, self._year_ago,
                pop.tier, self._tier_counts, sched.tier_thresholds, sched.review_months if sched.has_tiers else 0,
                out["transitions"], out["activations"], out["reactivations"], out["signings"], out["revenue"],
                out["revenue_t12m"], out["revenue_by_state"], out["counts"], out["concentration"],
                out["tier_counts_charged"], out["tier_counts"], out["promotions_in"], out["demotions_in"],
            )  # fmt: skip
            if first <= self.horizon - 12 <= end:
                self._run_rate_year_ago = self._year_ago
            for t, m in enumerate(range(first, end + 1)):
                self.month = m
                conc = out["concentration"][:, t]
                measured = None
                if self.concentration:
                    measured = {
                        "n": conc[:, 0].astype(np.int64),
                        "n_all": conc[:, 1].astype(np.int64),
                        "top_share": conc[:, 2],
                        "gini": conc[:, 3],
                        "hhi": conc[:, 4],
                        "top_share_all": conc[:, 5],
                        "gini_all": conc[:, 6],
                    }
                self._book(
                    m,
                    out["revenue"][:, t],
                    out["revenue_t12m"][:, t],
                    out["transitions"][:, t],
                    out["activations"][:, t],
                    out["reactivations"][:, t],
                    out["signings"][:, t],
                    out["revenue_by_state"][:, t],
                    measured,
                    out["counts"][:, t],
                    out["tier_counts_charged"][:, t],
                )
                if sched.has_tiers:
                    self.tier_partners[:, m] = out["tier_counts"][:, t]
                    if sched.is_review(m):
                        up, down = out["promotions_in"][:, t], out["demotions_in"][:, t]
                        self.record["promotions"][:, m] = up.sum(axis=1)
                        self.record["demotions"][:, m] = down.sum(axis=1)
                        self.tier_promotions_in[:, m] = up
                        self.tier_demotions_in[:, m] = down
            first = end + 1

    @cached_property
    def _months_per_run(self) -> int:
        """Months the compiled kernel runs in one call: its month tables and outputs stay within about 64 MB."""
        rows = self.R if self.params.uncertain else 1
        per_month = 8 * (rows * S * self.G * 2 * MAX_MOVES + self.R * (S * S + 2 * S * self.G + 12))
        return int(np.clip((64 << 20) // max(per_month, 1), 1, 36))

    @cached_property
    def _year_ago(self) -> np.ndarray:
        return np.zeros_like(self.pop.run_rate)

    def _compiled_tables(self, first: int, last: int) -> dict[str, np.ndarray]:
        """The compiled kernel's month tables for months ``first..last``, from the shared lifecycle code."""
        params, sched = self.params, self.schedule
        rows = self.R if params.uncertain else 1
        no_peers = np.zeros(rows)
        hazards_of = tiered_month_hazards if sched.has_tiers else month_hazards
        hazards = np.stack([hazards_of(params, sched, m, no_peers) for m in range(first, last + 1)])
        if not sched.has_tiers:
            hazards = hazards[..., None, :]  # one tier
        per_row = lambda key: np.array(  # noqa: E731 - a writable copy: numba types read-only arrays apart
            np.broadcast_to(np.asarray(key, np.float64).reshape(-1), (rows,))
        )
        months = slice(first, last + 1)
        adoption = RATE_INDEX["collaboration.adoption_probability"]
        elastic = self._size_factor is not None
        return {
            "cum": np.ascontiguousarray(thresholds(hazards)),
            "active_hazard": np.ascontiguousarray(hazards[:, :, State.ACTIVE]),
            "adoption_hazard": per_row(hazard(params.value("collaboration.adoption_probability"))),
            # levers' multiplier times the tier's factor, in the order the numpy hazards multiply them
            "adoption_multiplier": np.ascontiguousarray(
                sched.multiplier[months, adoption, State.ACTIVE][..., None]
                * sched.tier_factor[:, adoption, State.ACTIVE]
            ),
            "peer_effect": per_row(params.value("collaboration.peer_effect")),
            "size_factor": self._size_factor if elastic else np.empty((0, 0)),
            "win_share": params.vector("recruitment.win_share").copy() if elastic else np.empty(0),
            "signings_per_year": params.vector("market.vendor_signings_per_year").copy() if elastic else np.empty(0),
            "win_multiplier": np.ascontiguousarray(
                sched.multiplier[months, RATE_INDEX["recruitment.win_share"], State.NURTURING]
            ),
            "drift": np.ascontiguousarray(self._drift[:, months]),
            "sd": np.ascontiguousarray(self._sd[:, months]),
            "earn": np.ascontiguousarray(self._earn_mult[months]),
        }

    def _per_row(self, table: np.ndarray) -> np.ndarray:
        """A month's ``(1 or R, S, G, T)`` table, one ``S * G * T`` block per replication (gathered by rcode)."""
        return np.ascontiguousarray(np.broadcast_to(table, (self.R, *table.shape[1:])), dtype=np.float64).ravel()

    def _apply(
        self,
        m: int,
        rows: np.ndarray,
        cols: np.ndarray,
        old: np.ndarray,
        new: np.ndarray,
        seg: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Write the month's moves into the population; return first-deal mask and signings."""
        pop, G, scn = self.pop, self.G, self.scenario
        pop.state[rows, cols] = new
        if self.schedule.has_tiers:
            # Recruits enter the lowest tier; companies leaving the channel carry tier 0. Tiers change only there
            # and at reviews, so the partners of each tier change by the movers entering and leaving the channel.
            T = self.T
            tier = pop.tier[rows, cols]
            size = self.R * T
            self._tier_counts -= np.bincount((rows * T + tier)[IS_IN_CHANNEL[old]], minlength=size).reshape(self.R, T)
            tier = np.where(IS_IN_CHANNEL[new] & IS_IN_CHANNEL[old], tier, 0).astype(np.int8)
            pop.tier[rows, cols] = tier
            self._tier_counts += np.bincount((rows * T + tier)[IS_IN_CHANNEL[new]], minlength=size).reshape(self.R, T)
        # as _code computes it, for the movers only (without tiers: one tier, 0)
        self.rcode[rows, cols] = self._row[rows, 0] + (new.astype(np.int32) * G + seg) * self.T + pop.tier[rows, cols]
        # Completed collaboration stints: month-ends collaborating among months 1..m-1.
        left_collab = old == State.COLLABORATING
        if left_collab.any():
            r, c = rows[left_collab], cols[left_collab]
            pop.collaborating_months[r, c] += m - np.maximum(pop.entered[r, c], 1)
        pop.entered[rows, cols] = m
        deadline = np.full(rows.size, NO_DEADLINE, np.int16)
        deadline[new == State.NURTURING] = m + scn.recruitment.nurture_months
        deadline[new == State.SIGNED] = m + scn.activation.window_months
        pop.deadline[rows, cols] = deadline
        back = new == State.PROSPECT
        pop.eligible_from[rows[back], cols[back]] = m + scn.recruitment.cooloff_months + 1
        signed = new == State.SIGNED
        pop.signed_month[rows[signed], cols[signed]] = m
        first = (new == State.ACTIVE) & (pop.first_deal[rows, cols] == NEVER)
        r, c = rows[first], cols[first]
        pop.first_deal[r, c] = m
        pop.run_rate[r, c] = pop.potential[r, c]  # the first deal starts at potential

        flat_old = (rows * S + old) * G + seg
        flat_new = (rows * S + new) * G + seg
        size = self.R * S * G
        self.counts += (np.bincount(flat_new, minlength=size) - np.bincount(flat_old, minlength=size)).reshape(
            self.R, S, G
        )
        signings_by_seg = np.bincount(rows[signed] * G + seg[signed], minlength=self.R * G)
        return first, signings_by_seg.reshape(self.R, G)

    # -- recording ---------------------------------------------------------

    def _record(
        self,
        m: int,
        K: int,
        rev: np.ndarray,
        transitions: np.ndarray,
        activations: np.ndarray,
        reactivations: np.ndarray,
        signings_by_seg: np.ndarray,
        t12: np.ndarray,
    ) -> None:
        sched = self.schedule
        revenue = rev.sum(axis=1, dtype=np.float64)
        rev_sgt = None  # revenue by replication, state, segment and tier, when a revenue share needs it
        if m > 0 and (sched.has_tier_rebates or (sched.lever_names and sched.has_revenue_share)):
            rev_sgt = np.bincount(
                self.rcode[:, :K].ravel(), weights=rev.ravel(), minlength=self.R * S * self.G * self.T
            ).reshape(self.R, S, self.G, self.T)
        conc = concentration_rows(t12, self.signed_or_earning(t12)) if self.concentration else None
        self._book(
            m,
            revenue,
            t12.sum(axis=1, dtype=np.float64),
            transitions,
            activations,
            reactivations,
            signings_by_seg,
            rev_sgt,
            conc,
        )

    def _book(
        self,
        m: int,
        revenue: np.ndarray,
        revenue_t12m: np.ndarray,
        transitions: np.ndarray,
        activations: np.ndarray,
        reactivations: np.ndarray,
        signings_by_seg: np.ndarray,
        revenue_by_state: np.ndarray | None,
        conc: dict[str, np.ndarray] | None,
        counts: np.ndarray | None = None,
        tier_counts: np.ndarray | None = None,
    ) -> None:
        """Record month ``m``: counts, flows, revenue, every cost line and the concentration measures
        (None: not measured). ``revenue_by_state`` is ``(R, S, G, T)`` (None when no revenue share needs
        it); ``counts`` by state and segment and ``tier_counts`` (in-channel partners by the tier held
        during the month) are the month's end (default: now). Both kernels book their months here."""
        rec, sched = self.record, self.schedule
        counts = self.counts if counts is None else counts
        tier_counts = self._tier_counts if tier_counts is None else tier_counts
        by_state = counts.sum(axis=2)
        for s in State:
            rec[s.label][:, m] = by_state[:, s]
        for name, pairs in FLOWS.items():
            rec[name][:, m] = sum(transitions[:, a, b] for a, b in pairs)
        rec["activations"][:, m] = activations
        rec["reactivations"][:, m] = reactivations

        rec["revenue"][:, m] = revenue
        rec["revenue_t12m"][:, m] = revenue_t12m

        par = self.params
        signings = rec["signings"][:, m]
        nurture_cost = par.per_replication("economics.nurture_cost_per_month")
        cost_nurture = by_state[:, State.NURTURING] * nurture_cost if m else 0.0
        cost_onboarding = signings * par.per_replication("economics.onboarding_cost")
        if sched.lever_names and m > 0:
            lever = (
                sched.fixed_cost[:, m][None, :]
                + np.einsum("lsg,rsg->rl", sched.per_partner_cost[:, m], counts)
                + np.einsum("lg,rg->rl", sched.per_signing_cost[:, m], signings_by_seg)
            )
            if sched.has_revenue_share:
                lever += np.einsum("lsg,rsg->rl", sched.revenue_share[:, m], revenue_by_state.sum(axis=3))
            self.lever_cost[:, m] = lever
        cost_program = self.lever_cost[:, m].sum(axis=1)
        cost_tiers = 0.0
        if sched.has_tiers and m > 0:  # for the tier held during the month (a review moves partners after it)
            if sched.has_tier_rebates:  # the table starts at 0
                self.tier_rebate[:, m] = revenue_by_state.sum(axis=(1, 2)) * sched.tier_revenue_share
            self.tier_mdf[:, m] = tier_counts * sched.tier_per_partner
            self.tier_cost[:, m] = self.tier_rebate[:, m] + self.tier_mdf[:, m]
            cost_tiers = self.tier_cost[:, m].sum(axis=1)
        cost = cost_nurture + cost_onboarding + cost_program + cost_tiers
        margin = par.per_replication("economics.gross_margin") * revenue
        rec["margin"][:, m] = margin
        rec["cost_nurture"][:, m] = cost_nurture
        rec["cost_onboarding"][:, m] = cost_onboarding
        rec["cost_program"][:, m] = cost_program
        rec["cost_tiers"][:, m] = cost_tiers
        rec["cost"][:, m] = cost
        rec["contribution"][:, m] = margin - cost

        # Concentration of trailing-12-month revenue among earning / all signed partners.
        if conc is None:
            for col in PARTNER_COUNT_COLUMNS:
                rec[col][:, m] = -1
            for col in CONCENTRATION_COLUMNS:
                rec[col][:, m] = np.nan
            self._check_finite(m)
            return
        self._check_finite(m)
        rec["earning_partners"][:, m] = conc["n"]
        rec["signed_partners"][:, m] = conc["n_all"]
        rec["top20_share"][:, m] = conc["top_share"]
        rec["gini"][:, m] = conc["gini"]
        rec["hhi"][:, m] = conc["hhi"]
        rec["top20_share_all"][:, m] = conc["top_share_all"]
        rec["gini_all"][:, m] = conc["gini_all"]

    def _check_finite(self, m: int) -> None:
        """The one guard where results are made: every figure of the month is finite (concentration
        is NaN only when no partner earns). Scenario bounds make this hold; a breach is a bug."""
        for col in _GUARDED:
            values = self.record[col][:, m]
            if values.dtype.kind == "f" and not np.isfinite(values).all():
                raise FloatingPointError(f"the engine computed a non-finite {col} in month {m}")

    # -- views for results and the Mesa model ------------------------------

    def signed_or_earning(self, t12: np.ndarray) -> np.ndarray:
        """Who counts among "all signed partners" for concentration (``t12`` covers the first columns)."""
        return signed_or_earning(self.pop.state[:, : t12.shape[1]], t12)

    def monthly_revenue(self) -> np.ndarray:
        """Revenue each company earned in the current month, ``(R, W)`` (a view; do not write)."""
        return self._ring[self.month % 12]

    def trailing_revenue(self, column: int | None = None) -> np.ndarray:
        """Trailing-12-month revenue per company, ``(R, W)`` (or ``(R,)`` of one column)."""
        ring = self._ring if column is None else self._ring[:, :, column]
        return ring.sum(axis=0, dtype=np.float64)

    def collaborating_months(self) -> np.ndarray:
        """Month-ends spent collaborating so far (months 1..now), ``(R, W)``."""
        pop = self.pop
        now = pop.state == State.COLLABORATING
        ongoing = np.where(now, self.month - np.maximum(pop.entered, 1) + 1, 0)
        return pop.collaborating_months + ongoing.astype(np.int16)

    def growth_12m(self) -> np.ndarray:
        """Run-rate growth over the last 12 months (NaN without a run-rate a year ago)."""
        if self._run_rate_year_ago is None or self.horizon < 12:
            return np.full(self.pop.run_rate.shape, np.nan)
        before = self._run_rate_year_ago.astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(before > 0, self.pop.run_rate / before - 1.0, np.nan)
