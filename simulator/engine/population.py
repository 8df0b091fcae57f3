"""The population of one block of replications, as a structure of arrays.

Every array is shaped (replications, companies). Columns ``0:P`` hold today's
partners (by state, then segment); columns ``P:N`` hold the prospects sorted by
observed fit score, best first, so "highest fit score first" is "lowest
column first" and everything the vendor ever nurtures sits in a leading block
of columns. Static attributes (segment, potential, fit score, company id)
cover all ``N`` companies; the changing state covers the first ``W``
columns only, the most the horizon's recruitment can ever reach. Prospects
beyond ``W`` are never nurtured and never change.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from ..lifecycle import recruitment
from ..lifecycle.revenue import mixture_moments
from ..lifecycle.states import CHANNEL_STATES, EARNING, State
from ..scenario.schema import Scenario
from .parameters import ReplicationParameters
from .streams import Purpose, ReplicationStreams

NEVER = np.int16(np.iinfo(np.int16).min)  # month sentinel: not signed / no first deal (months may be < 0)
NO_DEADLINE = np.int16(np.iinfo(np.int16).max)


def largest_remainder(total: int, shares: Sequence[float]) -> np.ndarray:
    """Split ``total`` into integer counts proportional to ``shares`` (Hamilton's method)."""
    shares = np.asarray(shares, dtype=np.float64)
    exact = total * shares / shares.sum() if shares.sum() > 0 else np.zeros_like(shares)
    counts = np.floor(exact).astype(np.int64)
    short = total - counts.sum()
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[:short]] += 1
    return counts


@dataclass
class Layout:
    """Column layout shared by every replication of a scenario."""

    partners: int  # P: today's partners in columns 0:P
    companies: int  # N
    width: int  # W: columns whose state can change within the horizon
    channel_state: np.ndarray  # (P,) initial state of today's partners
    channel_segment: np.ndarray  # (P,)
    prospect_segment: np.ndarray  # (N-P,) segment of prospects in generation order

    @classmethod
    def of(cls, scenario: Scenario) -> Layout:
        shares = [s.share for s in scenario.market.segments.values()]
        ch = scenario.channel
        states, segs = [], []
        if ch.partner_list is not None:  # the vendor's own partners, in the list's order
            index = {name: g for g, name in enumerate(scenario.segment_names)}
            states = [int(State.from_label(s)) for s in ch.partner_list.state]
            segs = [index[g] for g in ch.partner_list.segment]
        else:
            ch_shares = (
                [ch.segment_shares.get(name, 0.0) for name in scenario.segment_names]
                if ch.segment_shares is not None
                else shares
            )
            for state in CHANNEL_STATES:
                for g, count in enumerate(largest_remainder(ch.count(state), ch_shares)):
                    states += [int(state)] * int(count)
                    segs += [g] * int(count)
        if scenario.market.prospect_list is not None:  # the vendor's own prospects, in the list's order
            index = {name: g for g, name in enumerate(scenario.segment_names)}
            prospect_segment = np.array([index[g] for g in scenario.market.prospect_list.segment], dtype=np.int8)
        else:
            per_seg = largest_remainder(scenario.market.prospects, shares)
            prospect_segment = np.repeat(np.arange(len(shares), dtype=np.int8), per_seg)
        partners = len(states)
        companies = partners + scenario.market.prospects
        reach = scenario.recruitment.nurture_per_month * scenario.horizon_months
        return cls(
            partners=partners,
            companies=companies,
            width=int(min(companies, partners + reach)),
            channel_state=np.array(states, dtype=np.int8),
            channel_segment=np.array(segs, dtype=np.int8),
            prospect_segment=prospect_segment,
        )

    def frontier(self, nurture_per_month: int, months: int) -> int:
        """Columns any company nurtured in the first ``months`` months can occupy."""
        return int(min(self.width, self.partners + nurture_per_month * max(months, 0)))


@dataclass
class Population:
    """Static attributes and changing state of a block of replications."""

    layout: Layout
    segment: np.ndarray  # int8 (R, N)
    potential: np.ndarray  # float64 (R, N): true monthly revenue potential
    fit_score: np.ndarray  # float64 (R, N): observed score (NaN for today's partners)
    company: np.ndarray  # int32 (R, N): stable company id (generation order)
    state: np.ndarray  # int8 (R, W)
    entered: np.ndarray  # int16 (R, W): month the current state was entered
    deadline: np.ndarray  # int16 (R, W): month a nurture period / activation window runs out
    eligible_from: np.ndarray  # int16 (R, W): first month a prospect may be nurtured
    run_rate: np.ndarray  # float64 (R, W): monthly revenue run-rate
    signed_month: np.ndarray  # int16 (R, W)
    first_deal: np.ndarray  # int16 (R, W)
    collaborating_months: np.ndarray  # int16 (R, W): completed stints only
    tier: np.ndarray  # int8 (R, W): partner tier index (0 = lowest; 0 for companies outside the channel)


def history_per_month(scenario: Scenario) -> np.ndarray:
    """Monthly revenue of each listed partner over the 12 months before month 0, ``(P,)`` float64.

    The list's ``revenue_t12m`` spread evenly over the 12 months (so month 0's trailing-12-month revenue
    is the list's total), or, where it is not given, the partner's run-rate if it earns today.
    """
    listed = scenario.channel.partner_list
    earning = np.isin(np.array(listed.state), [s.label for s in EARNING])
    monthly = np.where(earning, np.asarray(listed.run_rate, dtype=np.float64), 0.0)
    if listed.revenue_t12m is not None:
        given = np.array([np.nan if v is None else v for v in listed.revenue_t12m], dtype=np.float64)
        monthly = np.where(np.isnan(given), monthly, given / 12.0)
    return monthly


def fit_order(fit: np.ndarray, reachable: int) -> np.ndarray:
    """Column order of the prospects: the ``reachable`` best-scored first, best first (ties in list order).

    Only the prospects recruitment can reach within the horizon need ranking;
    the rest keep their list order (they never move).
    """
    n = fit.shape[1]
    reachable = min(max(reachable, 0), n)
    ranked = np.argsort(-fit, axis=1, kind="stable")
    return np.concatenate([ranked[:, :reachable], np.sort(ranked[:, reachable:], axis=1)], axis=1)


def _draw_market(
    lay: Layout,
    streams: ReplicationStreams,
    reps: int,
    mu: np.ndarray,
    median: np.ndarray,
    sigma: np.ndarray,
    mean: np.ndarray,
    sd: np.ndarray,
    accuracy: float | np.ndarray,
    listed: object,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Segments, potentials, fit scores and company ids ``(R, N)``, prospects in fit order (numpy)."""
    P, N = lay.partners, lay.companies
    z_channel = streams.normal(np.empty((reps, P)), 0, Purpose.CHANNEL_POTENTIAL)
    # A potential is the segment's median times exp(its log deviation): exactly the median when sigma is 0.
    dev_channel = sigma[:, lay.channel_segment] * z_channel
    z_prospect = streams.normal(np.empty((reps, N - P)), 0, Purpose.PROSPECT_POTENTIAL)
    noise = streams.normal(np.empty((reps, N - P)), 0, Purpose.FIT_NOISE)
    pseg = lay.prospect_segment
    if listed is None:
        dev_prospect = sigma[:, pseg] * z_prospect
        fit = recruitment.fit_scores(mu[:, pseg] + dev_prospect, mean[:, None], sd[:, None], accuracy, noise)
    else:
        # The vendor's scores are known; each prospect's potential is drawn given its score.
        fit = np.broadcast_to(np.asarray(listed.fit_score, dtype=np.float64), (reps, N - P))
        dev_prospect = recruitment.deviation_given_score(fit, sigma[:, pseg], accuracy, z_prospect)
    order = fit_order(fit, lay.width - P)
    segment = np.empty((reps, N), np.int8)
    segment[:, :P] = lay.channel_segment
    segment[:, P:] = pseg[order]
    potential = np.empty((reps, N), np.float64)
    potential[:, :P] = median[:, lay.channel_segment] * np.exp(dev_channel)
    potential[:, P:] = np.take_along_axis(median[:, pseg] * np.exp(dev_prospect), order, axis=1)
    fit_score = np.full((reps, N), np.nan, np.float64)
    fit_score[:, P:] = np.take_along_axis(fit, order, axis=1)
    company = np.empty((reps, N), np.int32)
    company[:, :P] = np.arange(P)
    company[:, P:] = P + order
    return segment, potential, fit_score, company


def _draw_market_compiled(
    lay: Layout,
    streams: ReplicationStreams,
    reps: int,
    mu: np.ndarray,
    median: np.ndarray,
    sigma: np.ndarray,
    mean: np.ndarray,
    sd: np.ndarray,
    accuracy: float | np.ndarray,
    listed: object,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_draw_market` by the compiled kernel (through the memo while :func:`reusing_markets`)."""
    from .compiled import cut_to_reach, draw_market

    N, G = lay.companies, mu.shape[1]
    per_rep = lambda x, shape: np.array(np.broadcast_to(np.asarray(x, np.float64), shape))  # noqa: E731 - writable
    if listed is None:
        listed_std = np.empty((0, 2))
    else:  # column 0: the score; column 1: the score standardised over the list (potential_given_score's f_std)
        f = np.asarray(listed.fit_score, dtype=np.float64)
        spread = f.std()
        listed_std = np.stack([f, (f - f.mean()) / spread if spread > 0 else np.zeros_like(f)], axis=1)
    inputs = [
        per_rep(mu, (reps, G)),
        per_rep(median, (reps, G)),
        per_rep(sigma, (reps, G)),
        per_rep(np.reshape(mean, -1), (reps,)),
        per_rep(np.reshape(sd, -1), (reps,)),
        per_rep(np.reshape(accuracy, -1), (reps,)),
    ]
    reach = lay.width - lay.partners

    def draw(rows: np.ndarray, ranked: int) -> tuple[np.ndarray, ...]:
        out = (
            np.empty((rows.size, N), np.int8),
            np.empty((rows.size, N), np.float64),
            np.empty((rows.size, N), np.float64),
            np.empty((rows.size, N), np.int32),
        )
        draw_market(
            streams.keys[rows],
            lay.channel_segment,
            lay.prospect_segment,
            *(x[rows] for x in inputs),
            listed_std,
            ranked,
            *out,
        )
        return out

    if not _MEMO.active:
        return draw(np.arange(reps), reach)
    market = _MEMO.recall(lay, listed_std, streams.keys, inputs, lambda rows: draw(rows, N - lay.partners))
    cut_to_reach(lay.partners, reach, *market)
    return market


class MarketMemo:
    """Markets drawn in this process, kept per replication while a planning search reuses them.

    A replication's market (potentials, fit scores and fit-score order) is a pure function of its key,
    its parameter values and the market's layout. How far the horizon's recruitment reaches only decides
    how many prospects are ranked, so the memo keeps each market with every prospect ranked and cuts it
    to each block's reach (:func:`simulator.engine.compiled.cut_to_reach`): the same numbers as a fresh
    draw. A search that runs the same replications for many values of a decision draws each market once.
    Bounded: one market layout at a time, in rows of four arrays of at most ``max_bytes``, the least
    recently used replaced first.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.active = 0  # nesting depth of reusing_markets()
        self.hits = self.misses = 0
        self._lock = threading.RLock()  # two searches on threads of one process (a notebook, the dashboard)
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self._layout = b""
            self._slot: OrderedDict[bytes, int] = OrderedDict()  # replication's signature -> its row, oldest first
            self._rows: tuple[np.ndarray, ...] = ()

    def recall(
        self,
        lay: Layout,
        listed_std: np.ndarray,
        keys: np.ndarray,
        inputs: list[np.ndarray],
        draw: Callable[[np.ndarray], tuple[np.ndarray, ...]],
    ) -> tuple[np.ndarray, ...]:
        """The block's markets, every prospect ranked: kept rows, and ``draw(rows)`` for the others."""
        with self._lock:
            parts = [lay.channel_segment, lay.prospect_segment, listed_std]
            layout = hashlib.blake2b(repr([(p.dtype.str, p.shape) for p in parts]).encode()).digest()
            for p in parts:
                layout = hashlib.blake2b(layout + np.ascontiguousarray(p).tobytes()).digest()
            N = lay.companies
            capacity = self.max_bytes // (N * (1 + 8 + 8 + 4))
            if layout != self._layout:  # another market: what is kept cannot serve it
                self.clear()
                self._layout = layout
            names = [row.tobytes() for row in np.column_stack([keys.view(np.float64), *inputs])]
            if len(names) > capacity:  # more than the memo holds: drawn afresh
                self.misses += len(names)
                return draw(np.arange(len(names)))
            slots = np.array([self._slot.get(name, -1) for name in names], np.int64)
            for name, slot in zip(names, slots, strict=True):
                if slot >= 0:
                    self._slot.move_to_end(name)  # kept rows of this block are the last to be replaced
            missing = np.flatnonzero(slots < 0)
            self.hits += len(names) - missing.size
            self.misses += missing.size
            if missing.size:
                drawn = draw(missing)
                if not self._rows:
                    self._rows = tuple(np.empty((capacity, N), a.dtype) for a in drawn)
                for i in missing:
                    if len(self._slot) < capacity:
                        slot = len(self._slot)
                    else:  # full: the least recently used row
                        _, slot = self._slot.popitem(last=False)
                    self._slot[names[i]] = slot
                    slots[i] = slot
                for kept, new in zip(self._rows, drawn, strict=True):
                    kept[slots[missing]] = new
            return tuple(kept[slots] for kept in self._rows)


#: The process's memo of markets (256 MB: about 5,800 replications of a 2,200-company market).
_MEMO = MarketMemo(256 << 20)


def forget_markets() -> None:
    """Free the markets this process keeps (see :func:`reusing_markets`)."""
    _MEMO.clear()


@contextmanager
def reusing_markets() -> Iterator[MarketMemo]:
    """Within the block, the compiled kernel draws each replication's market once per process and reuses it.

    For planning searches, which run the same replications of one scenario for many values of a decision;
    the numbers are those of a fresh draw. The memo outlives the block (a pool's worker keeps its markets
    from one task to the next, up to its bound); :func:`forget_markets` frees it.
    """
    _MEMO.active += 1
    try:
        yield _MEMO
    finally:
        _MEMO.active -= 1


def build_population(
    scenario: Scenario,
    streams: ReplicationStreams,
    reps: int,
    params: ReplicationParameters | None = None,
    compiled: bool = False,
) -> Population:
    """Draw potentials and fit scores and lay out today's channel and the market (``compiled``: the market's
    draws and fit-score order by the compiled kernel, the same numbers)."""
    lay = Layout.of(scenario)
    P, W = lay.partners, lay.width
    params = params if params is not None else ReplicationParameters(scenario, {}, reps)
    # (1, G), or (R, G) when a segment's potential is uncertain
    median = np.atleast_2d(params.segment("revenue_median"))
    mu = np.log(median)
    sigma = np.atleast_2d(params.segment("revenue_sigma"))

    mean, sd = mixture_moments(params.segment("share"), mu, sigma)
    accuracy = params.value("recruitment.scoring_accuracy")
    listed = scenario.market.prospect_list
    draw = _draw_market_compiled if compiled else _draw_market  # the same numbers either way
    segment, potential, fit_score, company = draw(lay, streams, reps, mu, median, sigma, mean, sd, accuracy, listed)

    state = np.full((reps, W), State.PROSPECT, np.int8)
    state[:, :P] = lay.channel_state
    has_deal = np.isin(lay.channel_state, [State.ACTIVE, State.COLLABORATING, State.DORMANT])
    signed_now = lay.channel_state == State.SIGNED
    window = scenario.activation.window_months
    used = np.zeros(P, np.int16)  # months of the activation window already used
    listed = scenario.channel.partner_list
    if listed is not None:
        # Each listed partner keeps its run-rate; its potential is that run-rate (drawn only for partners
        # with none yet: signed ones, and dormant ones listed at 0, whose return is then their first deal).
        observed = np.asarray(listed.run_rate, dtype=np.float64)
        has_deal &= observed > 0
        potential[:, :P] = np.where(has_deal, observed, potential[:, :P])
        if listed.months_since_signing is not None:
            used = np.array([m or 0 for m in listed.months_since_signing], np.int16) * signed_now
    run_rate = np.zeros((reps, W), np.float64)
    run_rate[:, :P] = np.where(has_deal, potential[:, :P], 0.0)
    deadline = np.full((reps, W), NO_DEADLINE, np.int16)
    # Today's signed partners have the rest of their activation window (all of it without a partner list).
    deadline[:, :P][:, signed_now] = window - used[signed_now]
    signed_month = np.full((reps, W), NEVER, np.int16)
    signed_month[:, :P][:, signed_now] = -used[signed_now]
    first_deal = np.full((reps, W), NEVER, np.int16)
    first_deal[:, :P][:, has_deal] = 0
    return Population(
        layout=lay,
        segment=segment,
        potential=potential,
        fit_score=fit_score,
        company=company,
        state=state,
        entered=np.zeros((reps, W), np.int16),
        deadline=deadline,
        eligible_from=np.ones((reps, W), np.int16),
        run_rate=run_rate,
        signed_month=signed_month,
        first_deal=first_deal,
        collaborating_months=np.zeros((reps, W), np.int16),
        tier=np.zeros((reps, W), np.int8),  # today's partners are tiered by the kernel, from month 0's revenue
    )
