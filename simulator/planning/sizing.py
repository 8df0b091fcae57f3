"""Sizing: the smallest recruitment effort that meets the plan with the stated confidence.

Question 2 of MODEL.md. For a decision key (by default
``recruitment.nurture_per_month``) the search finds the smallest value for
which P(revenue of the last 12 months >= target) >= confidence:

* every value is run on the same replications and seed, so the values are
  compared on common random numbers (company ``j`` always takes draw ``j``,
  so today's partners follow the same path in every run unless the peer
  effect ties them to the recruits);
* the search brackets from the scenario's current value (doubling the step
  up, or down while the plan is still met), then bisects (on integers for
  integer keys, to a tolerance for continuous ones);
* the answer is checked on those draws before it is reported: P >= confidence
  at the answer and P < confidence one step below it;
* for whole-number keys, replications are then added near the boundary
  (doubling, on the same streams) until the answer is one value or the budget
  is spent; a value whose 95% interval lies wholly on one side of the
  confidence is settled on the replications it has, so added replications go
  only to the values the answer still depends on;
* when even the upper limit of the key (for recruitment: nurturing the whole
  market from month 1) does not meet the plan, the result says so, with the
  best probability reached and what limits it.

Only the numbers the answer needs are kept from each run (no tables are
built), and replication blocks run on all cores: replication ``r`` gives
the same numbers in any block and on any worker, so the answer does not
depend on the number of workers.
"""

from __future__ import annotations

import itertools
import math
import time
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..engine.population import NEVER, forget_markets, reusing_markets
from ..engine.results import run_blocks
from ..errors import ChannelError
from ..formatting import decision_value, key_words, money, quantity, share, value_text
from ..lifecycle.states import EARNING
from ..progress import current as current_progress
from ..progress import phase
from ..scenario.loading import ScenarioLike, load_scenario
from ..scenario.schema import Scenario
from ..stats import band_row, wilson_interval
from ..sweeps.execution import execute
from ..sweeps.executors import Workers
from ..validation import CONFIDENCE, FLAG, REPLICATIONS, SEED, WORKERS, Real, Whole, validate_arguments
from .common import PlanGoal, as_scenario, check_confidence, plan_goal
from .decisions import NURTURE, Decision, resolve

#: Replications per value tried: P(plan met) to about +-0.03 at 0.9 (Wilson, 95%), and
#: ``python run.py size scenarios/baseline.yaml`` well within 20 s on two cores.
DEFAULT_REPLICATIONS = 400
#: Sizing adds replications near the boundary, doubling, up to this many, to pin the answer to one value.
DEFAULT_MAX_REPLICATIONS = 4000
#: Lever intensities the catalogue's assumed effects were sourced for; beyond it an answer extrapolates.
SOURCED_INTENSITY = 2.0
#: At most this many values are tried (a bracket of 2^20 and a bisection fit easily).
MAX_EVALUATIONS = 64

_FIELDS = (
    "revenue",
    "channel_revenue",
    "recruited_revenue",
    "nurtured",
    "signings",
    "first_deals",
    "earning_recruited",
    "cost_nurture",
    "cost_onboarding",
    "cost_program",
    "market_potential",
    "earning_potential",
    "revenue_by_year",
)


# -- one value, one block of replications ---------------------------------------------


def run_value(scenario: Scenario, seed: int, reps: np.ndarray) -> dict[str, np.ndarray]:
    """The per-replication numbers sizing needs from one scenario (no tables built).

    ``revenue`` is the revenue of the last 12 months; ``channel_revenue`` and
    ``recruited_revenue`` split it between today's partners and recruited
    ones; flows and recruitment costs are totals over months 1..horizon;
    ``first_deals`` counts recruited partners with a first deal by the
    horizon; ``market_potential`` is 12 months of every prospect's potential
    and ``earning_potential`` 12 months of the potential of the recruited
    partners earning at the horizon; ``revenue_by_year`` (replications x plan
    years) the revenue of each whole plan year (the trailing 12 months at 12 y).
    """
    parts: dict[str, list[np.ndarray]] = {k: [] for k in _FIELDS}
    with reusing_markets():  # a search runs these replications again for other values: draw each market once
        for kernel in run_blocks(scenario, seed, reps, concentration=False):
            rec, pop = kernel.record, kernel.pop
            P = kernel.layout.partners
            t12 = kernel.trailing_revenue()
            revenue = rec["revenue_t12m"][:, -1]
            recruited = t12[:, P:].sum(axis=1)
            parts["revenue"].append(revenue)
            parts["recruited_revenue"].append(recruited)
            parts["channel_revenue"].append(revenue - recruited)
            for name in ("nurtured", "signings", "cost_nurture", "cost_onboarding", "cost_program"):
                parts[name].append(rec[name][:, 1:].sum(axis=1))
            parts["first_deals"].append((pop.first_deal[:, P:] != NEVER).sum(axis=1))
            earning = np.isin(pop.state[:, P:], EARNING)
            parts["earning_recruited"].append(earning.sum(axis=1))
            width = earning.shape[1]
            potential = pop.potential[:, P : P + width].astype(np.float64)
            parts["earning_potential"].append(12.0 * (potential * earning).sum(axis=1))
            parts["market_potential"].append(12.0 * pop.potential[:, P:].sum(axis=1, dtype=np.float64))
            years = scenario.horizon_months // 12
            parts["revenue_by_year"].append(rec["revenue_t12m"][:, 12 : 12 * years + 1 : 12])
    return {k: np.concatenate(v) for k, v in parts.items()}


@dataclass
class Evaluation:
    """The runs of one value of the decision: per-replication arrays, and P(plan met)."""

    value: float
    step: int  # order in which it was tried (1 = first)
    data: dict[str, np.ndarray]
    target: float
    goal: PlanGoal | None = None  # yearly targets; None: revenue of the last 12 months >= target

    @property
    def met(self) -> np.ndarray:
        if self.goal is not None:
            return self.goal.met(self.data["revenue_by_year"])
        return self.data["revenue"] >= self.target

    @property
    def probability(self) -> float:
        return float(self.met.mean())

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(int(self.met.sum()), self.met.size)

    def mean(self, name: str) -> float:
        return float(self.data[name].mean())

    @property
    def replications(self) -> int:
        return int(self.data["revenue"].size)


def _run_value_task(task: tuple[dict, int, np.ndarray]) -> dict[str, np.ndarray]:
    """One chunk of replications of one value, as a worker runs it (the scenario travels as plain data)."""
    scenario, seed, reps = task
    return run_value(load_scenario(scenario), seed, reps)


class _Evaluator:
    """Runs values of the decision on fixed replications, caching each value.

    The replications are split into one chunk per worker, run on the project's one executor path
    (:func:`simulator.sweeps.execution.execute`: local processes or Dask, retried if a worker dies),
    and put back together in replication order, so the numbers do not depend on the executor.
    """

    def __init__(
        self, scenario: Scenario, decision: Decision, seed: int, reps: np.ndarray, target: float, workers: Workers
    ) -> None:
        self.scenario, self.decision, self.seed, self.target = scenario, decision, seed, target
        self.goal: PlanGoal | None = None
        self.workers = workers
        self.reps = np.asarray(reps, dtype=np.int64)
        self.first = self.reps.size  # replications of the first run: the smallest a value is tried on
        self.cache: dict[float, Evaluation] = {}

    def _run(self, value: float, reps: np.ndarray) -> dict[str, np.ndarray]:
        scn = self.decision.apply(self.scenario, value).to_dict()
        n_chunks = max(1, min(self.workers.parallelism, reps.size // 16))  # tiny runs are not worth a process
        chunks = [c for c in np.array_split(reps, n_chunks) if c.size]
        parts: list[dict[str, np.ndarray]] = [{} for _ in chunks]
        execute(
            _run_value_task,
            [(scn, self.seed, c) for c in chunks],
            self.workers,
            parts.__setitem__,
            describe=lambda i: f"{self.decision.key} = {value:g}, replications {chunks[i][0]}-{chunks[i][-1]}",
            runs=lambda i: chunks[i].size,
        )
        return {k: np.concatenate([p[k] for p in parts]) for k in _FIELDS}

    def __call__(self, value: float, replications: int | None = None) -> Evaluation:
        """``value`` on the first ``replications`` of the replications in use (default: all of them)."""
        value = self.decision.clip(value)
        n = self.reps.size if replications is None else min(replications, self.reps.size)
        if value not in self.cache or self.cache[value].replications < n:
            if value in self.cache:  # tried on fewer replications: run only the new ones, on the same streams
                old = self.cache[value]
                new = self._run(value, self.reps[old.replications : n])
                old.data = {k: np.concatenate([old.data[k], new[k]]) for k in _FIELDS}
                return old
            if len(self.cache) >= MAX_EVALUATIONS:
                raise ChannelError(f"sizing tried {MAX_EVALUATIONS} values without settling; raise the tolerance")
            data = self._run(value, self.reps[:n])
            self.cache[value] = Evaluation(value, len(self.cache) + 1, data, self.target, self.goal)
            current_progress().say(f"{len(self.cache)} values tried")
        return self.cache[value]

    def add_replications(self, count: int) -> None:
        """Run ``count`` more replications from now on (the next indices after the ones used)."""
        start = int(self.reps.max()) + 1
        self.reps = np.concatenate([self.reps, np.arange(start, start + count, dtype=np.int64)])


# -- the result -----------------------------------------------------------------------


@dataclass
class SizingResult:
    """What :func:`size_recruitment` returns.

    ``value`` is the answer: the smallest value of ``decision`` for which
    P(plan met) >= ``confidence`` (None when ``reachable`` is False);
    ``probability`` and ``interval`` (Wilson 95%) are P(plan met) there;
    ``value_below`` / ``probability_below`` are one step below it, on the
    same draws; ``verified`` says both held when checked. ``curve`` has one
    row per value tried. ``implied`` holds the means at the answer (or at the
    best value when unreachable): signings, first deals and prospects
    nurtured per year, and recruitment cost (nurturing plus onboarding) per
    year and over the horizon. ``limit`` says what stops an unreachable plan.
    """

    scenario: Scenario
    decision: str
    label: str
    integer: bool
    target: float
    confidence: float
    replications: int
    seed: int
    reachable: bool
    value: float | None
    probability: float | None
    interval: tuple[float, float] | None
    value_below: float | None
    probability_below: float | None
    verified: bool
    best_value: float
    best_probability: float
    limit: str | None
    curve: pd.DataFrame
    implied: dict[str, float]
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    value_range: tuple[float, float] | None = None
    pinned: bool = False

    @property
    def answer(self) -> float | None:
        """Deprecated: use ``value`` (removed in the next release)."""
        _deprecated("answer", "value")
        return self.value

    @property
    def nurture_per_month(self) -> int | None:
        """Deprecated: use ``value`` (with ``decision == "recruitment.nurture_per_month"``)."""
        _deprecated("nurture_per_month", "value")
        return None if self.decision != NURTURE or self.value is None else int(self.value)

    @property
    def p_plan_met(self) -> float | None:
        """Deprecated: use ``probability`` (P(plan met) at the answer)."""
        _deprecated("p_plan_met", "probability")
        return self.probability

    @property
    def message(self) -> str:
        """The answer in one paragraph, as a consultant would say it."""
        cur = self.scenario.currency
        H = self.scenario.horizon_months
        imp = self.implied
        if not self.reachable:
            return (
                f"The plan is not reachable: the best value tried, {self._with(self.best_value)}, meets it in "
                f"{share(self.best_probability)} of futures (it asks for {share(self.confidence, 0)}); "
                f"limit: {self.limit}."
            )
        lo, hi = self.interval or (math.nan, math.nan)
        below = (
            f", against {share(self.probability_below)} at {_show(self.value_below, self.integer, self.decision)}"
            if self.value_below is not None
            else f" ({_show(self.value, self.integer, self.decision)} is the lowest value allowed)"
        )
        text = (
            f"{self._with(self.value).capitalize()}, the plan is met in {share(self.probability)} of futures "
            f"(95% interval {share(lo)}-{share(hi)}){below}, on the same {self.replications:,} replications."
        )
        if self.decision == NURTURE and self.value == 0:
            return text + " Today's channel meets the plan without recruiting."
        if self.decision != NURTURE:
            return text + (
                f" At this value the program levers cost {money(imp['program_cost_per_year'])} {cur} a year and"
                f" recruitment {money(imp['recruitment_cost_per_year'])} {cur} a year"
                f" ({money(imp['program_cost_total'] + imp['recruitment_cost_total'])} {cur} over {H} months)."
            )
        # The outcomes first, as a client would plan them; the input that produces them last.
        return (
            f"Sign about {quantity(round(imp['signings_per_year']))} partners a year, of whom about"
            f" {quantity(round(imp['first_deals_per_year']))} close a first deal within the horizon; recruited"
            f" partners then add {money(imp['recruited_revenue_mean'])} {cur} to revenue of the last 12 months,"
            f" for a recruitment cost of {money(imp['recruitment_cost_per_year'])} {cur} a year"
            f" ({money(imp['recruitment_cost_total'])} {cur} over {H} months). That means nurturing"
            f" {_show(self.value, self.integer, self.decision)} prospects a month; the plan is then met in"
            f" {share(self.probability)} of futures (95% interval {share(lo)}-{share(hi)}){below}, on the same"
            f" {self.replications:,} replications."
        )

    def _with(self, value: float | None) -> str:
        """``with 22 prospects nurtured a month`` / ``with the activation window at 9``."""
        shown = _show(value, self.integer, self.decision)
        if self.decision == NURTURE:
            return f"with {shown} prospects nurtured a month"
        return f"with {_the(key_words(self.decision))} at {shown}"

    def summary(self) -> pd.DataFrame:
        """The answer and what it implies, as ``figure -> value``."""
        rows: dict[str, float | str | bool | None] = {
            "decision": self.decision,
            "target": self.target,
            "confidence": self.confidence,
            "reachable": self.reachable,
            "value": self.value,
            "p_plan_met": self.probability,
            "p_low": self.interval[0] if self.interval else None,
            "p_high": self.interval[1] if self.interval else None,
            "value_below": self.value_below,
            "p_plan_met_below": self.probability_below,
            "verified": self.verified,
            "best_value": self.best_value,
            "best_p_plan_met": self.best_probability,
            **self.implied,
        }
        table = pd.DataFrame({"value": pd.Series(rows, dtype=object)})
        table.index.name = "figure"
        return table


def _deprecated(old: str, new: str) -> None:
    warnings.warn(f"SizingResult.{old} is deprecated; use SizingResult.{new}", DeprecationWarning, stacklevel=3)


def _the(words: str) -> str:
    return words if words.startswith("the ") else f"the {words}"


def _show(value: float | None, integer: bool, key: str = "") -> str:
    return decision_value(key, value, integer)


# -- the search -----------------------------------------------------------------------


@validate_arguments(
    replications=REPLICATIONS,
    seed=SEED,
    workers=WORKERS,
    confidence=CONFIDENCE,
    tolerance=Real(0.0, low_open=True, optional=True),
    uncertainty=FLAG,
    max_replications=Whole(1, 1_000_000, optional=True),
    year=Whole(1, 50, optional=True),
)
def size_recruitment(
    scenario: ScenarioLike,
    target: float | None = None,
    confidence: float | None = None,
    *,
    decision: str | None = None,
    replications: int | Iterable[int] = DEFAULT_REPLICATIONS,
    seed: int = 0,
    workers: int | None = None,
    dask: str | None = None,
    tolerance: float | None = None,
    uncertainty: bool = True,
    max_replications: int | None = None,
    year: int | None = None,
    **overrides: object,
) -> SizingResult:
    """The smallest ``recruitment.nurture_per_month`` that meets the plan with ``confidence``.

    P(plan met) is the share of replications whose revenue in the last 12
    months reaches ``target`` (default ``plan.revenue_target``); the answer is
    the smallest value with P >= ``confidence`` (default ``plan.confidence``).
    ``decision`` sizes another key instead: an integer key such as
    ``activation.window_months``, a continuous one such as
    ``activation.monthly_probability`` (bisected to ``tolerance``), or a
    lever's intensity (``lever:<name>`` or ``program.levers[i].intensity``).
    Every value runs the same ``replications`` from ``seed``; ``workers``
    local processes (default: all cores) or a Dask cluster (``dask="local"`` or a
    scheduler address) share them without changing any number. The answer
    knows its precision: ``value_range`` holds the values whose P(plan met)
    cannot be told apart from the confidence (95% Wilson intervals), and for
    whole-number decisions replications are added near the boundary (doubling,
    on the same streams) until the answer is one value (``pinned``) or
    ``max_replications`` are used (default: 4,000, or ``replications`` when
    they are more; a value below ``replications`` is refused, since the search
    only ever adds replications).
    Raises :class:`ChannelError` for a missing or bad target, a confidence
    outside (0, 1), a key that cannot be sized or ``max_replications`` below
    ``replications``.
    """
    started = time.perf_counter()
    scn = as_scenario(scenario, overrides, uncertainty)
    goal, yearly = plan_goal(scn, target, year)
    conf = check_confidence(confidence, scn)
    dec = resolve(scn, decision)
    if tolerance is not None:
        if dec.integer:
            raise ChannelError(f"tolerance = {tolerance!r}: {dec.key} is a whole number, searched exactly")
        dec = Decision(dec.key, dec.label, dec.integer, dec.low, dec.high, dec.current, float(tolerance))
    reps = replications
    if max_replications is not None and max_replications < reps.size:
        raise ChannelError(
            f"max_replications = {max_replications:,}: must be at least replications ({reps.size:,}), the "
            "replications every value starts with (the search only adds to them)"
        )
    budget = max(DEFAULT_MAX_REPLICATIONS, reps.size) if max_replications is None else int(max_replications)
    # No more processes than chunks of replications (a small run is not worth a pool).
    # How many values the search tries is found as it goes: the progress line counts runs, without a total.
    with Workers(workers, dask, tasks=max(1, reps.size // 16)) as pool, phase("size", total=None):
        try:
            evaluate = _Evaluator(scn, dec, seed, reps, goal, pool)
            evaluate.goal = yearly
            found = _bracket_and_bisect(evaluate, dec, conf)
            if found is not None and dec.integer and found > dec.low:
                evaluate(found - 1)  # one step below, for the check (the bisection has normally tried it)
            found = _pin(evaluate, dec, conf, found, budget)
        finally:
            forget_markets()  # the markets this process kept for the search (a pool's workers end with it)
    result = _result(scn, dec, goal, conf, evaluate.reps.size, seed, evaluate.cache, found, started)
    if found is not None:
        low, high = _answer_range(evaluate.cache, dec, conf, found)
        result.value_range = (_as_number(low, dec.integer), _as_number(high, dec.integer))
        result.pinned = result.value_range[0] == result.value_range[1]
        result.notes.insert(0, _precision_note(result, reps.size, budget))
    if yearly is not None:
        result.notes.insert(0, f"the plan is met in a replication when {yearly.describe()}")
    if dec.key.endswith(".intensity") and result.value is not None and result.value > SOURCED_INTENSITY:
        result.notes.insert(
            0,
            f"an extrapolation: intensity {result.value:.2f} is beyond the range the catalogue's effects were "
            f"sourced for (0 to {SOURCED_INTENSITY:g}); treat the answer as a direction, not a number",
        )
    return result


def _answer_range(cache: dict[float, Evaluation], d: Decision, conf: float, found: float) -> tuple[float, float]:
    """The values the answer could be: from the lowest tried value whose P(plan met) cannot be told apart
    from the confidence (its 95% Wilson interval reaches it) up to the first one that surely meets it."""
    tried = sorted(cache)
    low = found
    for v in reversed([v for v in tried if v < found]):
        if cache[v].interval[1] < conf:
            break
        low = v
    above = [v for v in tried if v >= found and cache[v].interval[0] >= conf]
    high = above[0] if above else max(tried)
    return float(low), float(high)


def _pin(evaluate: _Evaluator, d: Decision, conf: float, found: float | None, budget: int) -> float | None:
    """Add replications near the boundary (doubling, on the same streams) until the answer is one value
    or the replication budget is spent; return the answer on the replications used.

    A value whose 95% interval already lies wholly below (or above) the confidence is settled on the
    replications it has: each round bisects between the highest value that surely misses and the lowest
    that surely meets, running only the values it probes, and the answer and one step below it, on the
    longer run (from the second added round on, the last answer and its step below are probed first).
    The range's lower end is then settled by bisection: it has run on all the replications, and the value
    below it surely misses.
    """
    if found is None or not d.integer:
        return found
    while evaluate.reps.size < budget:
        low, high = _answer_range(evaluate.cache, d, conf, found)
        if low == high:
            break
        evaluate.add_replications(min(evaluate.reps.size, budget - evaluate.reps.size))
        settled = _settle(evaluate, d, conf, found)
        if settled is None:  # nothing meets any more within the limit: keep the answer of the shorter run
            return found
        found = settled
    if evaluate.reps.size > min(ev.replications for ev in evaluate.cache.values()):
        _fill_lower_end(evaluate, d, conf, found)
    return found


def _settle(evaluate: _Evaluator, d: Decision, conf: float, found: float) -> float | None:
    """The smallest value meeting ``conf`` on the current replications, bracketed by settled values."""
    cache = evaluate.cache
    good = min((v for v, ev in cache.items() if v >= found and ev.interval[0] >= conf), default=None)
    if good is None:  # nothing surely meets yet: step up from the answer on the longer run
        stepped = _step_up(evaluate, d, conf, found, d.low - 1.0)
        if stepped is None:
            return None
        good = stepped[1]
    sure_misses = [v for v, ev in cache.items() if v < good and ev.interval[1] < conf]
    bad = max(sure_misses) if sure_misses else d.low - 1.0
    # From the second added round on, the answer moves little as replications double: the bisection probes
    # the last answer and its step below first (where it would probe the bracket's middle), which under the
    # monotone P it assumes gives the same answer. The first added round bisects the whole bracket, so the
    # values above the answer that settle the range have run on twice the replications.
    first_probes = [found, found - 1.0] if evaluate.reps.size > 2 * evaluate.first else []
    while True:
        while good - bad > 1:
            while first_probes and not bad < first_probes[0] < good:
                first_probes.pop(0)
            mid = first_probes.pop(0) if first_probes else math.floor((bad + good) / 2)
            if _meets(evaluate(mid), conf):
                good = float(mid)
            else:
                bad = float(mid)
        if _meets(evaluate(good), conf):  # a settled upper end, now on every replication
            break
        stepped = _step_up(evaluate, d, conf, good, bad)  # it falls short on the longer run: step out, bisect again
        if stepped is None:
            return None
        bad, good = stepped
    if good > d.low:
        evaluate(good - 1.0)
    return good


def _step_up(evaluate: _Evaluator, d: Decision, conf: float, value: float, bad: float) -> tuple[float, float] | None:
    """From ``value`` up, doubling the step, to the first value that meets ``conf`` on the current replications:
    ``(the last one that fell short, or bad if none did, that value)``; None when even the limit falls short."""
    step = 1.0
    while not _meets(evaluate(value), conf):
        if value >= d.high:
            return None
        bad, value, step = value, d.clip(value + step), step * 2
    return bad, value


def _fill_lower_end(evaluate: _Evaluator, d: Decision, conf: float, found: float) -> None:
    """Settle the range's lower end: bisect between the highest value known to miss surely and the answer.

    A probe either surely misses, on as few replications as tell it (doubling up to all of them), or cannot
    be told apart from the confidence on all of them; so the range's end runs on every replication and the
    value below it surely misses. The search's cap on values tried ends the walk early (the range then
    reads the values tried).
    """
    cache = evaluate.cache
    miss = max((v for v, ev in cache.items() if v < found and ev.interval[1] < conf), default=d.low - 1.0)
    reach = found  # the lowest value known not to miss surely on every replication
    while reach - miss > 1 and len(cache) < MAX_EVALUATIONS:
        mid = float(math.floor((miss + reach) / 2))
        n = cache[mid].replications if mid in cache else evaluate.first
        while evaluate(mid, n).interval[1] >= conf and n < evaluate.reps.size:
            n *= 2
        if cache[mid].interval[1] < conf:
            miss = mid
        else:
            reach = mid


def _precision_note(result: SizingResult, first: int, budget: int) -> str:
    low, high = (_show(v, result.integer) for v in result.value_range)
    if result.pinned:
        return (
            f"the answer is pinned: on {result.replications:,} replications P(plan met) is surely above "
            f"{result.confidence:.0%} at {low} and surely below it one step down (95% intervals)"
        )
    more = (
        f"replications were added near the boundary up to the budget of {budget:,}"
        if result.replications > first
        else f"on {result.replications:,} replications"
    )
    return (
        f"the answer lies between {low} and {high}: {more}, P(plan met) at these values "
        f"cannot be told apart from {result.confidence:.0%} (95% intervals); raise --max-replications to narrow it"
    )


def _meets(ev: Evaluation, confidence: float) -> bool:
    return ev.probability >= confidence


def _bracket_and_bisect(evaluate: _Evaluator, d: Decision, conf: float) -> float | None:
    """The smallest value meeting ``conf`` (None when even the upper limit does not)."""
    unit = 1.0 if d.integer else d.tolerance
    start = d.clip(d.current)
    if start <= d.low:  # nothing to double from: start one unit (or a hundredth of the range) up
        start = d.clip(d.low + (1.0 if d.integer else max(d.tolerance, (d.high - d.low) / 100)))
    if _meets(evaluate(start), conf):
        # Met already: step down (halving towards the lower limit) until it is not.
        good, step = start, max((start - d.low) / 2, unit)
        while True:
            x = d.clip(good - step)
            if x >= good:
                return good
            if not _meets(evaluate(x), conf):
                bad = x
                break
            good, step = x, step * 2
            if good <= d.low:
                return good
    else:
        bad, step = start, max(start - d.low, unit)
        failures = 1
        while True:
            if bad >= d.high:
                return None
            if failures == 3 and not _meets(evaluate(d.high), conf):
                return None  # a plan out of reach is settled at the upper limit, not by doubling up to it
            x = d.clip(bad + step)
            if _meets(evaluate(x), conf):
                good = x
                break
            bad, step, failures = x, step * 2, failures + 1
    # Bisect: `bad` fails, `good` meets.
    while good - bad > (1.0 if d.integer else d.tolerance):
        mid = d.clip(math.floor((bad + good) / 2) if d.integer else (bad + good) / 2)
        if mid <= bad or mid >= good:
            break
        if _meets(evaluate(mid), conf):
            good = mid
        else:
            bad = mid
    return good


def _result(
    scn: Scenario,
    d: Decision,
    target: float,
    conf: float,
    n_reps: int,
    seed: int,
    cache: dict[float, Evaluation],
    found: float | None,
    started: float,
) -> SizingResult:
    evals = sorted(cache.values(), key=lambda e: e.value)
    curve = _curve(evals, conf, scn.horizon_months)
    # The best value: highest P(plan met); among equals, highest mean revenue (the closest to the plan).
    best = max(evals, key=lambda e: (e.probability, e.mean("revenue")))
    notes: list[str] = []
    value_below = probability_below = probability = None
    interval = None
    verified = False
    limit = None
    if found is not None:
        at = cache[found]
        # The check, on the same draws: P >= confidence at the answer, P < confidence one step below.
        if d.integer:
            step_below = cache.get(found - 1.0)
        else:  # the failing end of the last bisection bracket, within the tolerance
            below = [e for e in evals if e.value < found]
            step_below = below[-1] if below else None
        probability, interval = at.probability, at.interval
        if step_below is not None:
            value_below, probability_below = step_below.value, step_below.probability
        one_step = 1.0 if d.integer else d.tolerance
        verified = (
            probability >= conf
            and (step_below is None or probability_below < conf)
            and (step_below is None or found - step_below.value <= one_step + 1e-12)
            and (step_below is not None or found <= d.low)
        )
        if not verified:
            notes.append("the check at the answer and one step below it did not hold; treat the answer as approximate")
        implied = _implied(at, scn)
    else:
        limit = _limit(scn, d, cache, best, target, conf)
        implied = _implied(best, scn)
    notes += _monotonicity_notes(evals, n_reps, d, found)
    if found is not None and d.key == NURTURE and found > 0:
        at = cache[found]
        wanted = found * scn.horizon_months
        if at.mean("nurtured") < 0.95 * wanted:
            notes.append(
                f"the market runs short of prospects at this pace: {quantity(at.mean('nurtured'))} prospects entered "
                f"nurturing over the horizon, not {quantity(wanted)} ({scn.market.prospects:,} prospects in the "
                f"market, cool-off {scn.recruitment.cooloff_months} months)"
            )
    return SizingResult(
        scenario=scn,
        decision=d.key,
        label=d.label,
        integer=d.integer,
        target=target,
        confidence=conf,
        replications=n_reps,
        seed=seed,
        reachable=found is not None,
        value=_as_number(found, d.integer),
        probability=probability,
        interval=interval,
        value_below=_as_number(value_below, d.integer),
        probability_below=probability_below,
        verified=verified,
        best_value=_as_number(best.value, d.integer),
        best_probability=best.probability,
        limit=limit,
        curve=curve,
        implied=implied,
        notes=notes,
        seconds=time.perf_counter() - started,
    )


def _as_number(value: float | None, integer: bool) -> float | None:
    if value is None:
        return None
    return int(value) if integer else float(value)


def _curve(evals: list[Evaluation], conf: float, horizon: int) -> pd.DataFrame:
    years = horizon / 12.0
    rows = []
    for e in evals:
        lo, hi = e.interval
        rows.append(
            {
                "value": e.value,
                "step": e.step,
                "replications": e.replications,
                "p_plan_met": e.probability,
                "p_low": lo,
                "p_high": hi,
                "meets": e.probability >= conf,
                **_revenue_band(e),
                "signings_per_year": e.mean("signings") / years,
                "recruitment_cost_per_year": (e.mean("cost_nurture") + e.mean("cost_onboarding")) / years,
            }
        )
    return pd.DataFrame(rows)


def _revenue_band(e: Evaluation) -> dict[str, float]:
    """``revenue_mean``, ``revenue_p10`` ... of the revenue of the last 12 months."""
    return {f"revenue_{k}": v for k, v in band_row(e.data["revenue"]).items()}


def _implied(e: Evaluation, scn: Scenario) -> dict[str, float]:
    years = scn.horizon_months / 12.0
    cost = e.mean("cost_nurture") + e.mean("cost_onboarding")
    return {
        "signings_per_year": e.mean("signings") / years,
        "first_deals_per_year": e.mean("first_deals") / years,
        "nurtured_per_year": e.mean("nurtured") / years,
        "signings_total": e.mean("signings"),
        "first_deals_total": e.mean("first_deals"),
        "recruitment_cost_per_year": cost / years,
        "recruitment_cost_total": cost,
        "program_cost_per_year": e.mean("cost_program") / years,
        "program_cost_total": e.mean("cost_program"),
        "nurture_cost_total": e.mean("cost_nurture"),
        "onboarding_cost_total": e.mean("cost_onboarding"),
        **_revenue_band(e),
        "recruited_revenue_mean": e.mean("recruited_revenue"),
        "channel_revenue_mean": e.mean("channel_revenue"),
    }


def _monotonicity_notes(evals: list[Evaluation], n_reps: int, d: Decision, found: float | None) -> list[str]:
    """Say so when P(plan met) falls somewhere as the value rises (noise, or no monotone effect),
    and when it barely moves across the values tried although it crosses the confidence (a plateau:
    which value crosses first is then decided by noise)."""
    notes = []
    low, high = evals[0], evals[-1]
    if found is not None and found > low.value:
        half_width = max((e.interval[1] - e.interval[0]) / 2 for e in evals)
        if high.probability - low.probability < half_width:
            notes.append(
                f"P(plan met) barely changes across the values tried ({share(low.probability)} at "
                f"{_show(low.value, d.integer, d.key)}, {share(high.probability)} at "
                f"{_show(high.value, d.integer, d.key)}): "
                f"the answer is within the noise of {n_reps} replications; run more replications before relying on it"
            )
    drops = [(a, b) for a, b in itertools.pairwise(evals) if b.probability < a.probability]
    if not drops:
        return notes
    a, b = max(drops, key=lambda ab: ab[0].probability - ab[1].probability)
    text = (
        f"P(plan met) is not increasing on every value tried (P = {share(a.probability)} at "
        f"{_show(a.value, d.integer, d.key)} but {share(b.probability)} at {_show(b.value, d.integer, d.key)}, "
        f"on {n_reps} replications)"
    )
    if found is not None:
        text += "; every value tried above the answer meets the confidence and every one below it does not"
    return [*notes, text]


def _limit(
    scn: Scenario, d: Decision, cache: dict[float, Evaluation], best: Evaluation, target: float, conf: float
) -> str:
    """What keeps the plan out of reach, in words with the numbers behind it."""
    top = cache[max(cache)]
    low_q = float(np.quantile(top.data["revenue"], 1.0 - conf))
    reach = (
        f"P{round(100 * (1 - conf))} revenue of the last 12 months is {money(low_q)} against the target "
        f"{money(target)} {scn.currency}"
    )
    if d.key != NURTURE:
        why = {
            "activation.window_months": "a window longer than the horizon changes nothing",
            "recruitment.nurture_months": "a nurture period longer than the horizon changes nothing",
        }.get(d.key, "the largest value allowed")
        return (
            f"{_the(key_words(d.key))} at its upper limit {_show(d.high, d.integer, d.key)} ({why}) gives "
            f"P = {share(top.probability)}; {reach}"
        )
    N, H = scn.market.prospects, scn.horizon_months
    channel, recruited = top.mean("channel_revenue"), top.mean("recruited_revenue")
    ceiling = top.mean("market_potential")
    if channel + ceiling < target:
        return (
            f"the market: even if all {N:,} prospects earned their full potential for the whole last 12 months, "
            f"revenue would be about {money(channel + ceiling)} (today's channel {money(channel)} plus "
            f"{money(ceiling)} from the prospects), below the target {money(target)} {scn.currency}"
        )
    signed = top.mean("signings") / N
    earning = top.mean("earning_recruited") / max(top.mean("signings"), 1e-12)
    rec = scn.recruitment
    if signed < 0.5:
        return (
            f"prospects run out: nurturing all {N:,} prospects from month 1, only {signed:.0%} of them sign within "
            f"the {H}-month horizon (win share {share(rec.win_share)}, "
            f"{value_text(scn.market.vendor_signings_per_year)} vendor "
            f"signings a year, {rec.nurture_months}-month nurture period, {rec.cooloff_months}-month cool-off); "
            f"recruited partners add {money(recruited)} to today's channel's {money(channel)}; {reach}"
        )
    act = scn.activation
    if earning < 0.5:
        return (
            f"activation: {signed:.0%} of the {N:,} prospects sign, but only {earning:.0%} of them are earning at "
            f"month {H} (first deals at {share(act.monthly_probability)} a month within a {act.window_months}-month "
            f"window, then dormancy and exits); recruited partners add {money(recruited)} to today's channel's "
            f"{money(channel)}; {reach}"
        )
    full = top.mean("earning_potential")
    return (
        f"the horizon: {signed:.0%} of the {N:,} prospects sign and {earning:.0%} of them are earning at month {H}, "
        f"but signing and the first deal take time, so in the last 12 months they earn {money(recruited)}, "
        f"{recruited / full:.0%} of a full year at their potential ({money(full)}); today's channel adds "
        f"{money(channel)}; {reach}"
    )
