"""Closed forms of the model, kept beside it so anyone can check the simulation against theory.

As Mesa's mmc_queue example keeps its Erlang-C formula next to the queue it
simulates, this module holds what the model's expectations are when a closed
form exists, and :func:`theory_check` prints "simulated vs closed form" for a
scenario of your own:

* the lifecycle as a Markov chain (recruitment off, no peer effect, no
  levers): :func:`lifecycle_matrix`, :func:`expected_state_counts` and
  :func:`state_count_variance` (companies per state, month by month),
  :func:`expected_revenue`, :func:`expected_trailing_revenue` and
  :func:`trailing_revenue_variance` (revenue, with growth by state);
* the lognormal revenue distribution: :func:`lognormal_mean`,
  :func:`lognormal_lorenz`, :func:`lognormal_top_share`, :func:`lognormal_gini`,
  and the same for a mixture of segments (:func:`lognormal_mixture_lorenz`,
  :func:`lognormal_mixture_top_share`, :func:`lognormal_mixture_gini`);
* recruitment: :func:`monthly_signing_probability`,
  :func:`signing_probability_within`, :func:`expected_signings` and
  :func:`signings_variance`.

The tests check the engine against these functions, and these functions
against hand-computed values; none of them runs the engine (only
:func:`theory_check` does, to compare).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .errors import ScenarioError
from .lifecycle.hazards import hazard
from .lifecycle.states import N_STATES, State

if TYPE_CHECKING:
    import pandas as pd

    from .scenario.loading import ScenarioLike
    from .scenario.schema import Scenario

# -- the lifecycle as a Markov chain ------------------------------------------------


def _phi(x: np.ndarray | float) -> np.ndarray:
    """Standard normal CDF (erfc keeps the far tails accurate)."""
    return 0.5 * np.vectorize(math.erfc)(-np.asarray(x, dtype=np.float64) / math.sqrt(2.0))


def _competing(probabilities: Sequence[float]) -> tuple[float, list[float]]:
    """Probability of leaving a state and of taking each move, for competing monthly probabilities.

    Each probability is a hazard ``h = -ln(1 - p)``: the company leaves with
    ``1 - exp(-sum h)`` and takes move ``k`` with share ``h_k / sum h``; moves
    with ``p = 1`` are certain and share the month equally.
    """
    h = [float(hazard(p)) for p in probabilities]
    certain = [math.isinf(x) for x in h]
    if any(certain):
        return 1.0, [c / sum(certain) for c in certain]
    total = sum(h)
    if total == 0:
        return 0.0, [0.0] * len(h)
    leave = -math.expm1(-total)
    return leave, [leave * x / total for x in h]


def lifecycle_matrix(scenario: Scenario, activation_multiplier: float = 1.0) -> np.ndarray:
    """Monthly transition matrix of one company of the channel, with recruitment off and no peer effect.

    The chain's states are ``signed_0 .. signed_{w-1}`` (signed, with ``k``
    months of the ``w``-month activation window used), ``active``,
    ``collaborating``, ``dormant`` and ``churned``, in that order: a square
    matrix of side ``w + 4`` whose rows sum to one. A signed company closes
    its first deal with its segment's probability ``1 - (1 - p)^multiplier``;
    one still without a deal after its ``w``-th chance goes dormant. Every
    other state is memoryless, with its moves as competing risks.
    """
    w = scenario.activation.window_months
    A, C, D, X = w, w + 1, w + 2, w + 3
    T = np.zeros((w + 4, w + 4))
    h_deal = float(hazard(scenario.activation.monthly_probability))
    # A multiplier of 0 switches the move off, even at p = 1 (as the engine's levers do).
    p_deal = 0.0 if activation_multiplier == 0 else -math.expm1(-h_deal * activation_multiplier)
    for k in range(w):
        T[k, A] = p_deal
        T[k, k + 1 if k < w - 1 else D] = 1 - p_deal
    ch, co = scenario.churn, scenario.collaboration
    leave, (to_d, to_x, to_c) = _competing([ch.dormancy_probability, ch.exit_probability, co.adoption_probability])
    T[A, [D, X, C]] = to_d, to_x, to_c
    T[A, A] = 1 - leave
    leave, (to_d, to_x, to_a) = _competing([ch.dormancy_probability, ch.exit_probability, co.lapse_probability])
    T[C, [D, X, A]] = to_d, to_x, to_a
    T[C, C] = 1 - leave
    leave, (to_a, to_x) = _competing([ch.reactivation_probability, ch.dormant_exit_probability])
    T[D, [A, X]] = to_a, to_x
    T[D, D] = 1 - leave
    T[X, X] = 1.0
    return T


def _require_chain(scenario: Scenario, what: str) -> None:
    """The chain holds only when nothing couples the companies or changes the rates over time."""
    problems = []
    if scenario.recruitment.nurture_per_month != 0:
        problems.append(f"recruitment.nurture_per_month = {scenario.recruitment.nurture_per_month} (must be 0)")
    if scenario.collaboration.peer_effect != 0:
        problems.append(f"collaboration.peer_effect = {scenario.collaboration.peer_effect} (must be 0)")
    if scenario.program.levers:
        problems.append(f"program.levers has {len(scenario.program.levers)} (must be empty)")
    if what == "revenue" and scenario.activation.ramp_months > 0:  # first deals ramp up: not the chain's revenue
        problems.append(f"activation.ramp_months = {scenario.activation.ramp_months} (must be 0)")
    acting = [t.name for t in scenario.program.tiers if t.effects]
    if acting:  # a tier's rates depend on each partner's revenue: no longer one chain for all
        problems.append(f"program.tiers {', '.join(acting)} have effects (tiers must have none)")
    if problems:
        raise ScenarioError(
            f"the closed form of {what} needs recruitment off, no peer effect, no levers and no ramp-up: "
            + "; ".join(problems)
        )


def _partner_starts(scenario: Scenario) -> list[tuple[int, np.ndarray, int, tuple[float, float]]]:
    """Today's partners as (how many, the chain's matrix, the chain state they start in, potential moments).

    One entry per segment and starting state; the potential moments are the
    mean and mean square of the segment's lognormal potential.
    """
    from .engine.population import Layout  # the engine's split of today's partners over segments

    lay = Layout.of(scenario)
    w = scenario.activation.window_months
    index = {State.SIGNED: 0, State.ACTIVE: w, State.COLLABORATING: w + 1, State.DORMANT: w + 2}
    starts = []
    for g, seg in enumerate(scenario.market.segments.values()):
        T = lifecycle_matrix(scenario, seg.activation_multiplier)
        moments = (
            lognormal_mean(seg.revenue_median, seg.revenue_sigma),
            seg.revenue_median**2 * math.exp(2 * seg.revenue_sigma**2),
        )
        for state, k in index.items():
            n = int(np.sum((lay.channel_segment == g) & (lay.channel_state == state)))
            if n:
                starts.append((n, T, k, moments))
    return starts


def _occupancy(T: np.ndarray, start: int, months: int) -> np.ndarray:
    """Probability of each chain state month by month, ``(months + 1, side)``, from state ``start``."""
    v = np.zeros(T.shape[0])
    v[start] = 1.0
    out = np.empty((months + 1, v.size))
    for m in range(months + 1):
        out[m] = v
        v = v @ T
    return out


def _by_state(p: np.ndarray, w: int) -> np.ndarray:
    """Chain-state probabilities ``(months, w + 4)`` summed into the model's states ``(months, 7)``."""
    out = np.zeros((p.shape[0], N_STATES))
    out[:, State.SIGNED] = p[:, :w].sum(axis=1)
    for state, k in ((State.ACTIVE, w), (State.COLLABORATING, w + 1), (State.DORMANT, w + 2), (State.CHURNED, w + 3)):
        out[:, state] = p[:, k]
    return out


def expected_state_counts(scenario: Scenario) -> np.ndarray:
    """Expected companies in each state, month by month: ``(horizon_months + 1, 7)``, columns in ``State`` order.

    Today's partners follow :func:`lifecycle_matrix` independently of each
    other (that needs recruitment off, no peer effect and no levers, or a
    :class:`~simulator.errors.ScenarioError` says which is not); prospects
    stay prospects.
    """
    _require_chain(scenario, "the state counts")
    w, H = scenario.activation.window_months, scenario.horizon_months
    out = np.zeros((H + 1, N_STATES))
    out[:, State.PROSPECT] = scenario.market.prospects
    for n, T, start, _ in _partner_starts(scenario):
        out += n * _by_state(_occupancy(T, start, H), w)
    return out


def state_count_variance(scenario: Scenario) -> np.ndarray:
    """Variance of the companies in each state, month by month: ``(horizon_months + 1, 7)``.

    Partners move independently of each other, so a state's count is a sum of
    independent indicators: its variance is the sum of ``P (1 - P)``.
    """
    _require_chain(scenario, "the state counts")
    w, H = scenario.activation.window_months, scenario.horizon_months
    out = np.zeros((H + 1, N_STATES))
    for n, T, start, _ in _partner_starts(scenario):
        p = _by_state(_occupancy(T, start, H), w)
        out += n * p * (1 - p)
    return out


def _growth_factors(scenario: Scenario, power: int) -> np.ndarray:
    """``E[factor^power]`` of a month's run-rate growth, per chain state (1 where nothing grows).

    The factor is ``exp(drift + sd Z)`` with ``drift = ln(1 + g) / 12 - sd^2 / 2``
    and ``sd = volatility / sqrt(12)``, so ``E[factor] = (1 + g)^(1/12)`` and
    ``E[factor^2] = (1 + g)^(2/12) exp(sd^2)``.
    """
    w = scenario.activation.window_months
    sd2 = scenario.growth.volatility**2 / 12
    out = np.ones(w + 4)
    for k, g in ((w, scenario.growth.active), (w + 1, scenario.growth.collaborating)):
        out[k] = (1 + g) ** (power / 12) * (math.exp(sd2) if power == 2 else 1.0)
    return out


def _run_rate_moments(
    scenario: Scenario, T: np.ndarray, start: int, moments: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per month and chain state, ``E[run-rate; state]`` and ``E[run-rate^2; state]`` of one partner.

    A partner starts at its potential; one without a deal yet starts there at
    its first deal, so it carries its potential until then. Growth by the
    state at the start of the month and the month's move are independent of
    the run-rate, so the moments propagate like the occupancy.
    """
    H = scenario.horizon_months
    first, second = np.zeros((H + 1, T.shape[0])), np.zeros((H + 1, T.shape[0]))
    g1, g2 = _growth_factors(scenario, 1), _growth_factors(scenario, 2)
    a, b = np.zeros(T.shape[0]), np.zeros(T.shape[0])
    a[start], b[start] = moments
    for m in range(H + 1):
        first[m], second[m] = a, b
        a, b = (a * g1) @ T, (b * g2) @ T
    return first, second, g1


def _earning(scenario: Scenario) -> np.ndarray:
    w = scenario.activation.window_months
    mask = np.zeros(w + 4)
    mask[[w, w + 1]] = 1.0
    return mask


def expected_revenue(scenario: Scenario) -> np.ndarray:
    """Expected partner revenue of each month, ``(horizon_months + 1,)``, under the same conditions as the chain.

    Follows the expected run-rate on each state of the chain: every partner
    starts at its potential (a partner without a deal yet starts there at
    its first deal), grows by ``(1 + growth)^(1/12)`` a month in expectation
    while active or collaborating at the start of the month, keeps its
    run-rate while dormant, and earns while active or collaborating at the
    end of the month.
    """
    _require_chain(scenario, "revenue")
    earning = _earning(scenario)
    out = np.zeros(scenario.horizon_months + 1)
    for n, T, start, moments in _partner_starts(scenario):
        out += n * (_run_rate_moments(scenario, T, start, moments)[0] @ earning)
    return out


def _trailing_weights(month: int) -> np.ndarray:
    """How often each month 0..``month`` counts in the trailing 12 months (month 0 also for the year before)."""
    c = np.zeros(month + 1)
    c[max(0, month - 11) :] = 1.0
    c[0] += max(0, 11 - month)
    return c


def expected_trailing_revenue(scenario: Scenario) -> np.ndarray:
    """Expected trailing-12-month revenue of each month, ``(horizon_months + 1,)``.

    Sums :func:`expected_revenue` over the month and the 11 before it; months
    before month 0 count at month 0's revenue (today's partners are assumed
    to have earned their run-rate for the past year).
    """
    monthly = expected_revenue(scenario)
    return np.array([_trailing_weights(m) @ monthly[: m + 1] for m in range(monthly.size)])


def trailing_revenue_variance(scenario: Scenario) -> np.ndarray:
    """Variance of the trailing-12-month revenue of each month, ``(horizon_months + 1,)``.

    Partners are independent, so the variance is the sum of each partner's:
    ``Var(sum_k c_k R_k) = sum_kl c_k c_l Cov(R_k, R_l)`` over the months of
    the window, with ``E[R_k R_l] = E[R_k^2; earning at k]`` carried forward
    ``l - k`` months by the expected growth and the chain.
    """
    _require_chain(scenario, "revenue")
    H = scenario.horizon_months
    earning = _earning(scenario)
    out = np.zeros(H + 1)
    for n, T, start, moments in _partner_starts(scenario):
        first, second, g1 = _run_rate_moments(scenario, T, start, moments)
        mean = first @ earning
        # cross[k, d] = E[R_k R_{k+d}] for d = 0..11
        cross = np.zeros((H + 1, 12))
        for k in range(H + 1):
            u = second[k] * earning
            for d in range(12):
                cross[k, d] = u @ earning
                u = (u * g1) @ T
        for m in range(H + 1):
            c = _trailing_weights(m)
            window = np.flatnonzero(c)
            var = 0.0
            for k in window:
                for j in window:
                    lo, hi = min(k, j), max(k, j)
                    var += c[k] * c[j] * (cross[lo, hi - lo] - mean[k] * mean[j])
            out[m] += n * var
    return out


# -- lognormal revenue: Lorenz curve, top share, Gini ---------------------------------


def lognormal_mean(median: float, sigma: float) -> float:
    """Mean of a lognormal with the given median and log-sd: ``median * exp(sigma^2 / 2)``."""
    return float(median * math.exp(sigma**2 / 2))


def lognormal_lorenz(p: float | np.ndarray, sigma: float) -> np.ndarray:
    """Lorenz curve of a lognormal population: ``L(p) = Phi(Phi^-1(p) - sigma)``.

    The share of revenue earned by the poorest ``p`` of the partners.
    """
    from scipy import stats

    p = np.asarray(p, dtype=np.float64)
    return stats.norm.cdf(stats.norm.ppf(p) - sigma)


def lognormal_top_share(sigma: float, q: float = 0.2) -> float:
    """Share of revenue earned by the top ``q`` of a lognormal population: ``Phi(sigma + Phi^-1(q))``.

    With ``sigma = 1.7`` the top 20% earn 80%, Pareto's rule.
    """
    from scipy import stats

    return float(stats.norm.cdf(sigma + stats.norm.ppf(q)))


def lognormal_gini(sigma: float) -> float:
    """Gini coefficient of a lognormal population: ``2 Phi(sigma / sqrt 2) - 1``."""
    return float(2 * _phi(sigma / math.sqrt(2)) - 1)


def _mixture(
    weights: Sequence[float], medians: Sequence[float], sigmas: Sequence[float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    w = np.asarray(weights, dtype=np.float64)
    mu = np.log(np.asarray(medians, dtype=np.float64))
    s = np.asarray(sigmas, dtype=np.float64)
    if not (w.shape == mu.shape == s.shape) or w.ndim != 1 or w.size == 0:
        raise ValueError("weights, medians and sigmas must be equally long, non-empty sequences")
    if (w < 0).any() or w.sum() <= 0 or not np.isfinite(mu).all() or (s < 0).any():
        raise ValueError("weights must be >= 0 with a positive sum, medians > 0 and sigmas >= 0")
    return w / w.sum(), mu, s


def _below(log_t: float, mu: np.ndarray, s: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Per component, ``P(ln X + shift <= log_t)`` for ``ln X ~ N(mu, s)`` (a step where ``s = 0``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(s > 0, (log_t - mu - shift) / np.where(s > 0, s, 1.0), np.inf)
    return np.where(s > 0, _phi(z), (mu + shift <= log_t).astype(float))


def lognormal_mixture_lorenz(
    p: float | np.ndarray, weights: Sequence[float], medians: Sequence[float], sigmas: Sequence[float]
) -> np.ndarray:
    """Lorenz curve of a mixture of lognormal segments (``weights`` are the segments' shares of the partners).

    ``L(p) = E[X; X <= t] / E[X]`` at the ``p``-quantile ``t``, where
    ``E[X_g; X_g <= t] = E[X_g] Phi((ln t - mu_g - sigma_g^2) / sigma_g)``;
    the quantile is found by bisection, and a segment with ``sigma = 0`` (all
    partners alike) is split at the quantile as the sample Lorenz curve does.
    """
    w, mu, s = _mixture(weights, medians, sigmas)
    means = np.exp(mu + s**2 / 2)
    total = float(w @ means)
    out = []
    for level in np.atleast_1d(np.asarray(p, dtype=np.float64)):
        if not 0 <= level <= 1:
            raise ValueError(f"p = {level}: must be in [0, 1]")
        if level in (0.0, 1.0):
            out.append(level)
            continue
        lo, hi = float((mu - 12 * s).min()) - 1, float((mu + 12 * s).max()) + 1
        for _ in range(200):  # the smallest log t with P(X <= t) >= level, to float precision
            mid = (lo + hi) / 2
            lo, hi = (lo, mid) if w @ _below(mid, mu, s, 0.0) >= level else (mid, hi)
        below = float(w @ _below(lo, mu, s, 0.0))  # strictly below the quantile (atoms excluded)
        mass = float(w @ (means * _below(lo, mu, s, s**2)))
        out.append((mass + math.exp(hi) * (level - below)) / total)
    result = np.clip(np.array(out), 0.0, 1.0)
    return result if np.ndim(p) else result[0]


def lognormal_mixture_top_share(
    weights: Sequence[float], medians: Sequence[float], sigmas: Sequence[float], q: float = 0.2
) -> float:
    """Share of revenue earned by the top ``q`` of a mixture of lognormal segments: ``1 - L(1 - q)``."""
    if not 0 < q <= 1:
        raise ValueError(f"q = {q}: must be in (0, 1]")
    return float(1 - lognormal_mixture_lorenz(1 - q, weights, medians, sigmas))


def lognormal_mixture_gini(weights: Sequence[float], medians: Sequence[float], sigmas: Sequence[float]) -> float:
    """Gini coefficient of a mixture of lognormal segments: ``E|X - Y| / (2 E[X])``.

    For independent lognormals ``E[(X - Y)^+] = E[X] Phi(d) - E[Y] Phi(d - s)``
    with ``s^2 = sigma_X^2 + sigma_Y^2`` and ``d = (ln(E[X] / E[Y]) + s^2 / 2) / s``
    (Margrabe's exchange option), so the Gini is exact, segment pair by pair.
    """
    w, mu, s = _mixture(weights, medians, sigmas)
    means = np.exp(mu + s**2 / 2)
    spread = 0.0
    for g in range(w.size):
        for h in range(w.size):
            sd = math.hypot(s[g], s[h])
            if sd == 0:
                excess = max(means[g] - means[h], 0.0)
            else:
                d = (math.log(means[g] / means[h]) + sd**2 / 2) / sd
                excess = means[g] * float(_phi(d)) - means[h] * float(_phi(d - sd))
            spread += w[g] * w[h] * 2 * excess  # E|X - Y| = E(X - Y)^+ + E(Y - X)^+, summed over both orders
    return float(spread / (2 * float(w @ means)))


# -- recruitment ----------------------------------------------------------------------


def monthly_signing_probability(scenario: Scenario) -> float:
    """A nurturing prospect's monthly probability of signing with us, without levers.

    It signs ``market.vendor_signings_per_year`` new vendors a year and each
    signing is ours with probability ``recruitment.win_share``:
    ``1 - exp(-signings_per_year * win_share / 12)`` (with ``recruitment.size_elasticity`` 0: a prospect's
    size then does not matter).
    """
    r = scenario.recruitment
    return float(-math.expm1(-scenario.market.vendor_signings_per_year * r.win_share / 12.0))


def signing_probability_within(p: float, months: int) -> float:
    """Probability that a prospect with monthly signing probability ``p`` signs within ``months`` chances."""
    return float(-math.expm1(months * math.log1p(-p))) if p < 1 else float(months > 0)


def expected_signings(scenario: Scenario) -> np.ndarray:
    """Expected signings of each month, ``(horizon_months + 1,)``, without levers.

    ``recruitment.nurture_per_month`` prospects enter nurturing every month
    from month 1; each gets ``recruitment.nurture_months`` monthly chances,
    from the month after, to sign with :func:`monthly_signing_probability`.
    Exact while the market never runs out of prospects to nurture, which
    ``market.prospects >= nurture_per_month * horizon_months`` guarantees
    (otherwise a :class:`~simulator.errors.ScenarioError` says so).
    """
    n, H = scenario.recruitment.nurture_per_month, scenario.horizon_months
    if scenario.market.prospects < n * H:
        raise ScenarioError(
            f"the closed form of signings needs market.prospects >= nurture_per_month x horizon_months "
            f"= {n * H:,}; got {scenario.market.prospects:,}"
        )
    if any("recruitment.win_share" in lever.effects for lever in scenario.program.levers):
        raise ScenarioError("the closed form of signings knows no levers on recruitment.win_share")
    p, K = monthly_signing_probability(scenario), scenario.recruitment.nurture_months
    # A cohort nurtured in month c signs in month c + j (j = 1..K) with p (1 - p)^(j - 1).
    first_signing = p * (1 - p) ** np.arange(K)
    out = np.zeros(H + 1)
    for cohort in range(1, H + 1):
        months = np.arange(cohort + 1, min(cohort + K, H) + 1)
        out[months] += n * first_signing[: months.size]
    return out


def signings_variance(scenario: Scenario) -> float:
    """Variance of the signings of months 1..horizon, under the conditions of :func:`expected_signings`.

    Every nurture period is an independent trial (the same monthly
    probability, its own draws), so the total is a sum of independent
    indicators: ``sum q (1 - q)`` over the periods, with ``q`` the chance of
    signing within the months the period has before the horizon.
    """
    expected_signings(scenario)  # the same conditions, checked once
    n, H, K = scenario.recruitment.nurture_per_month, scenario.horizon_months, scenario.recruitment.nurture_months
    p = monthly_signing_probability(scenario)
    q = np.array([signing_probability_within(p, min(K, H - cohort)) for cohort in range(1, H + 1)])
    return float(n * np.sum(q * (1 - q)))


# -- simulated vs closed form --------------------------------------------------------

#: Companies and replications of the concentration check: the closed form is the population's,
#: and the top share of a channel of a few hundred partners falls short of it by about two points.
CONCENTRATION_PARTNERS = 50_000
CONCENTRATION_REPLICATIONS = 20


def _row(
    figure: str,
    kind: str,
    values: np.ndarray,
    closed_form: float,
    conditions: str,
    variance: float | None = None,
) -> dict[str, object]:
    """One row of the check: the simulated mean, its standard error and the difference in standard errors.

    With ``variance`` (the closed form's variance of one replication) the
    standard error is the theory's, which heavy lognormal tails cannot make
    look smaller than it is; otherwise it is estimated from the replications.
    """
    values = np.asarray(values, dtype=np.float64)
    mean = float(values.mean())
    if variance is not None:
        se, source = math.sqrt(max(variance, 0.0) / values.size), "closed form"
    else:
        se, source = (float(values.std(ddof=1) / math.sqrt(values.size)) if values.size > 1 else 0.0), "replications"
    diff = mean - closed_form
    if se > 0:
        z = diff / se
    else:  # the figure cannot vary: the simulation must give the closed form (to float32 precision)
        z = 0.0 if abs(diff) <= 1e-4 * max(1.0, abs(closed_form)) else math.copysign(math.inf, diff)
    return {
        "figure": figure,
        "kind": kind,
        "simulated": mean,
        "closed_form": float(closed_form),
        "difference": diff,
        "std_error": se,
        "std_error_from": source,
        "z": z,
        "conditions": conditions,
    }


def theory_check(scenario: ScenarioLike, replications: int = 400, seed: int = 0) -> pd.DataFrame:
    """Simulated figures of ``scenario`` against their closed forms: one row per figure.

    Columns: ``figure``, ``kind`` (count, money, share, probability),
    ``simulated`` (the mean over replications), ``closed_form``,
    ``difference``, ``std_error`` (of the simulated mean: the closed form's
    own where the theory gives the variance too, else estimated from the
    replications, as ``std_error_from`` says), ``z`` (the difference in
    standard errors: within about +-3 when the engine agrees with theory)
    and ``conditions`` (what was switched off for the closed form to hold).
    Three runs, each on ``replications`` replications from ``seed`` unless
    said otherwise:

    * the lifecycle: partners by state at the horizon and revenue today and
      in the last 12 months, with recruitment, the peer effect and the levers
      off (:func:`expected_state_counts`, :func:`expected_trailing_revenue`);
    * recruitment (when the scenario recruits): a nurturing prospect's
      monthly signing probability and the horizon's signings, with the
      levers off (:func:`monthly_signing_probability`,
      :func:`expected_signings`; the signings row needs prospects enough
      never to run out);
    * concentration: the top-20% share and Gini of today's revenue among
      :data:`CONCENTRATION_PARTNERS` active partners in the scenario's segment
      mix, over :data:`CONCENTRATION_REPLICATIONS` replications (the closed
      forms are the population's).
    """
    import pandas as pd

    from .engine.population import Layout
    from .engine.results import check_seed, replication_indices, simulate
    from .scenario import Scenario, load_scenario

    scn = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    reps = replication_indices(replications)
    seed = check_seed(seed)
    if reps.size < 2:
        raise ScenarioError(f"replications = {replications!r}: a standard error needs at least 2")
    H = scn.horizon_months
    rows: list[dict[str, object]] = []

    off = "no recruitment, peer effect, levers, ramp-up"  # (and no tiers)
    chain = scn.override(
        recruitment__nurture_per_month=0,
        collaboration__peer_effect=0.0,
        program__levers=[],
        program__tiers=[],
        activation__ramp_months=0,  # today's signed partners would ramp after their first deal
    )
    monthly = simulate(chain, reps, seed, partners=False).monthly
    counts, count_var = expected_state_counts(chain), state_count_variance(chain)
    at_horizon = monthly[monthly["month"] == H]
    for state in (State.SIGNED, State.ACTIVE, State.COLLABORATING, State.DORMANT, State.CHURNED):
        label = f"{state.label} partners, month {H}"
        rows.append(_row(label, "count", at_horizon[state.label], counts[H, state], off, count_var[H, state]))
    trailing, trailing_var = expected_trailing_revenue(chain), trailing_revenue_variance(chain)
    today = monthly[monthly["month"] == 0]["revenue_t12m"]
    rows.append(_row("revenue, last 12 months, month 0", "money", today, trailing[0], off, trailing_var[0]))
    rows.append(
        _row(
            f"revenue, last 12 months, month {H}",
            "money",
            at_horizon["revenue_t12m"],
            trailing[H],
            off,
            trailing_var[H],
        )
    )

    npm = scn.recruitment.nurture_per_month
    if npm > 0 and H >= 2:
        recruiting = scn.override(program__levers=[], recruitment__size_elasticity=0.0)
        m = simulate(recruiting, reps, seed, partners=False).monthly.sort_values(["replication", "month"])
        exposed = m.groupby("replication")["nurturing"].shift(1)  # nurturing at the start of the month
        per_rep = m.assign(exposed=exposed).groupby("replication")[["signings", "exposed"]].sum()
        rows.append(
            _row(
                "P(a nurturing prospect signs) a month",
                "probability",
                per_rep["signings"] / per_rep["exposed"],
                monthly_signing_probability(recruiting),
                "no levers, no size elasticity",
            )
        )
        if scn.market.prospects >= npm * H:
            rows.append(
                _row(
                    f"signings, months 1-{H}",
                    "count",
                    per_rep["signings"],
                    expected_signings(recruiting).sum(),
                    "no levers, no size elasticity",
                    signings_variance(recruiting),
                )
            )

    big = scn.override(
        horizon_months=1,
        market__prospects=0,
        recruitment__nurture_per_month=0,
        channel__signed=0,
        channel__active=CONCENTRATION_PARTNERS,
        channel__collaborating=0,
        channel__dormant=0,
        program__levers=[],
    )
    month0 = simulate(big, CONCENTRATION_REPLICATIONS, seed, partners=False).monthly
    month0 = month0[month0["month"] == 0]
    segments = list(big.market.segments.values())
    weights = np.bincount(Layout.of(big).channel_segment, minlength=len(segments))
    mix = (weights, [s.revenue_median for s in segments], [s.revenue_sigma for s in segments])
    where = f"{CONCENTRATION_PARTNERS:,} active partners, month 0"
    rows.append(
        _row("top-20% share of revenue", "share", month0["top20_share"], lognormal_mixture_top_share(*mix), where)
    )
    rows.append(_row("Gini of revenue", "share", month0["gini"], lognormal_mixture_gini(*mix), where))

    table = pd.DataFrame(rows)
    table.attrs.update(replications=int(reps.size), seed=seed, scenario=scn.name)
    return table
