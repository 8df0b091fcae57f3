"""The estimators: each estimates exactly one parameter of the model (MODEL.md).

Monthly probabilities are estimated on the model's discrete months: a
partner-month at risk is one trial, and with several moves out of a state
(competing risks) the model's ``p_k`` enter through hazards ``h_k = -ln(1 -
p_k)``: the state is left with probability ``1 - exp(-sum h)`` and move ``k``
is taken with share ``h_k / sum h``. The maximum-likelihood estimates use
every partner-month at risk inside the revenue history (right-censored at the
as-of month; a partner onboarded before the history starts enters the risk
set only when the history does: left truncation). Intervals are 95%: Jeffreys
beta intervals for single-risk probabilities, profile likelihood for the
activation window, observed information on the log-hazard scale for
competing risks, and the normal-theory intervals of the lognormal for revenue
and growth. Fewer than 20 events mark a fit as thin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ..lifecycle.states import State
from .history import FAR, NO_MONTH, History, transitions

THIN_EVENTS = 20
MIN_SCORED = 5  # recruited partners with a fit score needed to undo recruitment's selection
Z95 = float(stats.norm.ppf(0.975))


@dataclass
class Fit:
    """One fitted scenario key: value, 95% interval, what it rests on and its sampling distribution."""

    key: str
    value: float
    low: float
    high: float
    estimator: str
    partners: int
    events: int
    exposure: float | None = None  # partner-months at risk (probabilities)
    distribution: dict[str, list[float]] | None = None  # for the scenario's uncertainty section
    decimals: int = 4
    subjects: str = "partners"

    @property
    def thin(self) -> bool:
        return self.events < THIN_EVENTS

    def comment(self) -> str:
        """The scenario file's comment for this key."""
        basis = f"{self.partners:,} {self.subjects}, {self.events:,} events"
        if self.exposure is not None:
            basis += f" in {self.exposure:,.0f} {self.subjects[:-1]}-months"
        thin = f"; THIN DATA: fewer than {THIN_EVENTS} events, the interval is wide" if self.thin else ""
        return f"fitted: {self.estimator}; {basis}; 95% interval {_num(self.low)} to {_num(self.high)}{thin}"


def _num(x: float) -> str:
    if not np.isfinite(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.4g}" if abs(x) < 1e5 else f"{x:,.0f}"


def _binomial_ll(events: np.ndarray, trials: np.ndarray) -> float:
    events, trials = np.asarray(events, float), np.asarray(trials, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(trials > 0, events / trials, 0.0)
        ll = np.where(events > 0, events * np.log(p), 0.0) + np.where(
            trials > events, (trials - events) * np.log1p(-p), 0.0
        )
    return float(ll.sum())


def _bounded(events: float, trials: float) -> float:
    """events / trials, kept half an event below 1 so that its hazard stays finite."""
    return float(min(events, trials - 0.5) / trials)


def jeffreys(events: int, trials: float) -> tuple[float, float, list[float]]:
    """95% Jeffreys interval of a binomial probability and its beta ``[a, b]``."""
    a, b = events + 0.5, max(trials - events, 0.0) + 0.5
    return float(stats.beta.ppf(0.025, a, b)), float(stats.beta.ppf(0.975, a, b)), [round(a, 4), round(b, 4)]


def probability_fit(
    key: str, events: int, trials: float, partners: int, estimator: str, value: float | None = None
) -> Fit:
    """A monthly probability from events over partner-months at risk (Jeffreys interval)."""
    low, high, ab = jeffreys(events, trials)
    p = events / trials if value is None else value
    return Fit(key, float(p), low, high, estimator, partners, int(events), float(trials), {"beta": ab})


def beta_from_moments(mean: float, sd: float, events: int, trials: float) -> list[float]:
    """Beta ``[a, b]`` with the given mean and sd (a Jeffreys beta when there is nothing to match)."""
    if not (0 < mean < 1) or not np.isfinite(sd) or sd <= 0 or sd**2 >= mean * (1 - mean):
        return jeffreys(events, trials)[2]
    k = mean * (1 - mean) / sd**2 - 1
    return [round(mean * k, 4), round((1 - mean) * k, 4)]


# -- activation -----------------------------------------------------------------------------


@dataclass
class ActivationData:
    """Time from onboarding to first deal, in months, left-truncated at the history start."""

    duration: np.ndarray  # months at risk until the first deal or censoring
    entry: np.ndarray  # months at risk already spent when the history starts
    event: np.ndarray  # bool: a first deal
    segment: np.ndarray
    left: np.ndarray  # bool: offboarded before a first deal (censored)

    def at_risk(self, segments: int) -> tuple[np.ndarray, np.ndarray]:
        """``(G, D + 1)`` partners at risk and first deals in their ``d``-th month since onboarding."""
        D = int(self.duration.max(initial=1))
        diff = np.zeros((segments, D + 2))
        np.add.at(diff, (self.segment, self.entry + 1), 1)
        np.add.at(diff, (self.segment, self.duration + 1), -1)
        at_risk = np.cumsum(diff, axis=1)[:, : D + 1]
        deals = np.zeros((segments, D + 1))
        np.add.at(deals, (self.segment[self.event], self.duration[self.event]), 1)
        return at_risk, deals


def activation_data(h: History) -> ActivationData:
    last = h.months - 1
    dealt = h.first_deal != NO_MONTH
    left = (h.offboarded != FAR) & (~dealt | (h.first_deal >= h.offboarded))
    event = dealt & ~left
    end = np.where(event, h.first_deal, np.where(left, h.offboarded, last))
    duration = np.maximum(end - h.onboarded, np.where(event, 1, 0))
    entry = np.maximum(0, -1 - h.onboarded)
    use = duration > entry
    return ActivationData(
        duration=duration[use].astype(np.int64),
        entry=entry[use].astype(np.int64),
        event=event[use],
        segment=h.segment[use],
        left=left[use],
    )


@dataclass
class ActivationFit:
    fits: list[Fit]
    window: int
    segment_probability: dict[str, float]
    late_probability: float
    profile: pd.DataFrame  # window -> log-likelihood
    comparison: dict[str, Any]
    data: ActivationData


def fit_activation(h: History, reference_multiplier: dict[str, float], max_window: int = 36) -> ActivationFit | None:
    """First-deal probability per segment within the window, the window itself (profile likelihood),
    and the multipliers relative to a reference segment."""
    data = activation_data(h)
    G = len(h.segments)
    if data.event.sum() == 0:
        return None
    at_risk, deals = data.at_risk(G)
    D = at_risk.shape[1] - 1
    windows = np.arange(1, max(2, min(max_window, D) + 1))
    ll = []
    for W in windows:
        early_n, early_e = at_risk[:, 1 : W + 1].sum(1), deals[:, 1 : W + 1].sum(1)
        late_n, late_e = at_risk[:, W + 1 :].sum(), deals[:, W + 1 :].sum()
        ll.append(_binomial_ll(early_e, early_n) + _binomial_ll([late_e], [late_n]))
    ll = np.array(ll)
    best = int(windows[int(np.argmax(ll))])
    inside = windows[2 * (ll.max() - ll) <= stats.chi2.ppf(0.95, 1)]
    W = best
    early_n, early_e = at_risk[:, 1 : W + 1].sum(1), deals[:, 1 : W + 1].sum(1)
    late_n, late_e = at_risk[:, W + 1 :].sum(), deals[:, W + 1 :].sum()
    partners_by_seg = np.bincount(data.segment[data.entry < W], minlength=G)
    partners_by_seg = np.where(early_e > 0, partners_by_seg, 0)

    fits: list[Fit] = []
    # The reference segment: the one with most partners signed (not most first deals: choosing by outcome
    # would bias the other multipliers); its multiplier is kept from the base.
    ref = int(np.argmax(partners_by_seg))
    ref_name = h.segments[ref]
    ref_mult = float(reference_multiplier.get(ref_name, 1.0)) or 1.0
    p_ref = _bounded(early_e[ref], early_n[ref])
    h_a = -np.log1p(-p_ref) / ref_mult
    p_a = float(-np.expm1(-h_a))
    low, high, _ = jeffreys(int(early_e[ref]), early_n[ref])
    to_a = lambda p: float(-np.expm1(np.log1p(-p) / ref_mult))  # noqa: E731 - hazard of the reference / its multiplier
    a_mean = p_a
    a_sd = (to_a(high) - to_a(low)) / (2 * Z95)
    fits.append(
        Fit(
            "activation.monthly_probability",
            p_a,
            to_a(low),
            to_a(high),
            f"first deals / partner-months signed within the window, segment {ref_name} "
            f"(reference, multiplier {ref_mult:g}); left-truncated at the history start",
            int(partners_by_seg[ref]),
            int(early_e[ref]),
            float(early_n[ref]),
            {"beta": beta_from_moments(a_mean, a_sd, int(early_e[ref]), early_n[ref])},
        )
    )
    fits.append(
        Fit(
            "activation.window_months",
            float(W),
            float(inside.min()),
            float(inside.max()),
            "profile likelihood over the window (constant first-deal hazard within it, another after it)",
            len(data.duration),
            int(data.event.sum()),
            decimals=0,
        )
    )
    seg_p = {}
    h_ref = -np.log1p(-p_ref)
    se_ref = np.sqrt(1 / max(early_e[ref], 0.5) - 1 / early_n[ref]) if early_n[ref] > 0 else np.inf
    for g, name in enumerate(h.segments):
        if early_n[g] == 0:
            continue
        p_g = _bounded(early_e[g], early_n[g])
        seg_p[name] = float(early_e[g] / early_n[g])
        if g == ref:
            continue
        h_g = -np.log1p(-p_g)
        mult = ref_mult * h_g / h_ref
        se = np.sqrt(1 / max(early_e[g], 0.5) - 1 / early_n[g] + se_ref**2)
        low_m, high_m = mult * np.exp(-Z95 * se), mult * np.exp(Z95 * se)
        fits.append(
            Fit(
                f"market.segments.{name}.activation_multiplier",
                float(mult),
                float(low_m),
                float(high_m),
                f"first-deal hazard of {name} over that of {ref_name} within the window (delta method)",
                int(partners_by_seg[g]),
                int(early_e[g]),
                float(early_n[g]),
                {"lognormal": [round(float(np.log(mult)), 6), round(float(se), 6)]} if mult > 0 else None,
            )
        )
    return ActivationFit(
        fits=fits,
        window=W,
        segment_probability=seg_p,
        late_probability=float(late_e / late_n) if late_n else 0.0,
        profile=pd.DataFrame({"window_months": windows, "log_likelihood": ll}),
        comparison=compare_activation_models(data, W, G),
        data=data,
    )


#: Bands of months since onboarding for the free piecewise-constant first-deal hazard.
FREE_BANDS = (1, 2, 3, 4, 6, 9, 12, 18, 24)


def compare_activation_models(data: ActivationData, window: int, segments: int) -> dict[str, Any]:
    """AIC of the model's shape (a constant first-deal hazard per segment within a window, another after
    it) against a free piecewise-constant hazard (one per band of months since onboarding, per segment).

    Both are fitted by maximum likelihood on the same partner-months at risk (closed form: events over
    partner-months in each piece), so their AICs compare directly.
    """
    at_risk, deals = data.at_risk(segments)
    D = at_risk.shape[1] - 1
    if data.event.sum() < 5 or D < 2:
        return {"verdict": "too few first deals to compare hazard shapes", "models": []}
    windowed = _binomial_ll(deals[:, 1 : window + 1].sum(1), at_risk[:, 1 : window + 1].sum(1))
    windowed += _binomial_ll([deals[:, window + 1 :].sum()], [at_risk[:, window + 1 :].sum()])
    k_windowed = segments + 2  # segment hazards, the late hazard and the window itself
    edges = [b for b in FREE_BANDS if b < D] + [D]
    free, lo = 0.0, 1
    for hi in edges:
        free += _binomial_ll(deals[:, lo : hi + 1].sum(1), at_risk[:, lo : hi + 1].sum(1))
        lo = hi + 1
    k_free = segments * len(edges)
    models = [
        {
            "model": f"constant hazard per segment with a {window}-month window",
            "aic": 2 * k_windowed - 2 * windowed,
            "parameters": k_windowed,
        },
        {
            "model": "piecewise-constant hazard per segment, breaks at " + ", ".join(map(str, edges[:-1])),
            "aic": 2 * k_free - 2 * free,
            "parameters": k_free,
        },
    ]
    gap = models[1]["aic"] - models[0]["aic"]
    lr = 2 * (free - windowed)
    p = float(stats.chi2.sf(lr, max(k_free - k_windowed, 1))) if lr > 0 else 1.0
    if abs(gap) < 2:
        verdict = (
            f"the data cannot tell a constant hazard with a {window}-month window from a freer shape "
            f"(AIC within {abs(gap):.1f}): the model's shape is kept"
        )
    elif gap >= 0:
        verdict = f"the data support the model's constant hazard with a {window}-month window (AIC lower by {gap:.1f})"
    else:
        verdict = (
            f"the data favour a hazard that changes within the window (AIC lower by {-gap:.1f}; likelihood-ratio "
            f"p = {p:.3g}): the model's constant hazard is an approximation here"
        )
    return {"verdict": verdict, "models": models, "window_supported": gap > -2, "lr_p": p}


# -- engagement and collaboration: competing risks --------------------------------------------

#: Hazard parameters of the engagement fit, and the (start state -> end states) moves that carry them.
ENGAGEMENT_KEYS = (
    "churn.dormancy_probability",
    "churn.exit_probability",
    "collaboration.adoption_probability",
    "collaboration.lapse_probability",
    "churn.reactivation_probability",
    "churn.dormant_exit_probability",
)
_MOVES = {
    State.ACTIVE: ((State.DORMANT, 0), (State.CHURNED, 1), (State.COLLABORATING, 2)),
    State.COLLABORATING: ((State.DORMANT, 0), (State.CHURNED, 1), (State.ACTIVE, 3)),
    State.DORMANT: ((State.ACTIVE, 4), (State.COLLABORATING, 4), (State.CHURNED, 5)),
}


@dataclass
class EngagementFit:
    fits: list[Fit]
    hazards: dict[str, float]
    cells: pd.DataFrame
    signed_exits: int
    dormancy_correction: float
    spells: pd.DataFrame = field(default_factory=pd.DataFrame)  # earning spells for the Aalen-Johansen curve


def _hessian(f: Any, x: np.ndarray, step: float = 1e-4) -> np.ndarray:
    n = x.size
    H = np.zeros((n, n))
    for i in range(n):
        for j in range(i, n):
            e_i, e_j = np.eye(n)[i] * step, np.eye(n)[j] * step
            H[i, j] = H[j, i] = (f(x + e_i + e_j) - f(x + e_i - e_j) - f(x - e_i + e_j) + f(x - e_i - e_j)) / (
                4 * step * step
            )
    return H


def fit_engagement(h: History, window: int, peer_effect: float) -> EngagementFit:
    """Dormancy, exit, adoption, lapse, reactivation and dormant exit as competing risks.

    Each (month, start state) is a cell: ``n`` partner-months at risk and the
    moves out of it. Adoption's hazard is scaled, as in the model, by ``1 +
    peer_effect * s`` with ``s`` the share of earning partners collaborating
    at the start of the month. With ``dormant_after = k > 1`` the first
    ``k - 1`` months of a dormant spell are not at risk of reactivation (a
    quicker return reads as lumpy revenue), and the dormancy rate is divided
    by the chance that a spell lasts that long.
    """
    M = h.model_states(window)
    k = h.dormant_after
    spell_month = h.spell_month()
    keep = ~((M == State.DORMANT) & (spell_month >= 0) & (spell_month <= k - 2))
    tr = transitions(M, keep)
    signed_exits = int(tr.loc[(tr.start == State.SIGNED) & (tr.end == State.CHURNED), "n"].sum())
    earning = np.isin(M, [State.ACTIVE, State.COLLABORATING])
    collab_share = np.divide(
        (M == State.COLLABORATING).sum(0), earning.sum(0), out=np.zeros(h.months), where=earning.sum(0) > 0
    )
    rows = []
    for start, moves in _MOVES.items():
        sub = tr[tr.start == start]
        for month, g in sub.groupby("month"):
            n = float(g["n"].sum())
            events = np.zeros(len(ENGAGEMENT_KEYS))
            mult = np.zeros(len(ENGAGEMENT_KEYS))
            for end, param in moves:
                if not h.has_collaboration and param in (2, 3):
                    continue
                events[param] += g.loc[g.end == end, "n"].sum()
                mult[param] = 1.0 + (peer_effect * collab_share[month - 1] if param == 2 else 0.0)
            rows.append((start, month, n, events, mult))
    used = np.zeros(len(ENGAGEMENT_KEYS), bool)
    for *_, mu in rows:
        used |= mu > 0
    n_c = np.array([r[2] for r in rows]) if rows else np.zeros(0)
    D = np.array([r[3] for r in rows]) if rows else np.zeros((0, len(ENGAGEMENT_KEYS)))
    Mu = np.array([r[4] for r in rows]) if rows else np.zeros((0, len(ENGAGEMENT_KEYS)))
    events_total = D.sum(0)
    exposure = (Mu > 0).astype(float).T @ n_c
    free = used & (events_total > 0)
    idx = np.flatnonzero(free)

    def negll(theta: np.ndarray) -> float:
        hz = np.zeros(len(ENGAGEMENT_KEYS))
        hz[idx] = np.exp(theta)
        rate = Mu * hz[None, :]
        H = rate.sum(1)
        with np.errstate(divide="ignore", invalid="ignore"):
            leave = np.log(-np.expm1(-H)) - np.log(H)
            ll = np.where(D > 0, D * (np.log(np.where(rate > 0, rate, 1.0)) + leave[:, None]), 0.0).sum()
        ll += ((n_c - D.sum(1)) * -H).sum()
        return -float(ll)

    hazards = np.zeros(len(ENGAGEMENT_KEYS))
    se = np.full(len(ENGAGEMENT_KEYS), np.inf)
    if idx.size:
        x0 = np.log(np.maximum(events_total[idx], 0.5) / np.maximum(exposure[idx], 1.0))
        res = optimize.minimize(negll, x0, method="L-BFGS-B")
        hazards[idx] = np.exp(res.x)
        try:
            cov = np.linalg.inv(_hessian(negll, res.x))
            se[idx] = np.sqrt(np.clip(np.diag(cov), 0, None))
        except np.linalg.LinAlgError:
            pass
    correction = 1.0
    if k > 1:
        hr, hx = hazards[4], hazards[5]
        total = hr + hx
        correction = 1.0 - (hr / total) * -np.expm1(-total * (k - 1)) if total > 0 else 1.0
        hazards[0] /= correction
    partners = int((earning | (M == State.DORMANT)).any(axis=1).sum())
    fits = []
    for i, key in enumerate(ENGAGEMENT_KEYS):
        if not used[i] or exposure[i] == 0:
            continue
        d = int(events_total[i])
        what = {
            0: "earning partner-months ending in a dormant spell",
            1: "earning partner-months ending in an exit",
            2: f"active partner-months ending in collaboration (hazard over 1 + {peer_effect:g} x collaborating share)",
            3: "collaborating partner-months lapsing to active",
            4: "dormant partner-months ending in revenue again",
            5: "dormant partner-months ending in an exit",
        }[i]
        est = f"competing-risk MLE: {what}"
        if i == 0 and k > 1:
            est += f" (divided by {correction:.3f}, the share of spells lasting {k} months)"
        if d == 0:
            fits.append(probability_fit(key, 0, exposure[i], partners, est + "; no events seen", value=0.0))
            continue
        p = float(-np.expm1(-hazards[i]))
        lo = float(-np.expm1(-hazards[i] * np.exp(-Z95 * se[i])))
        hi = float(-np.expm1(-hazards[i] * np.exp(Z95 * se[i])))
        sd_p = hazards[i] * np.exp(-hazards[i]) * se[i]
        fits.append(
            Fit(
                key,
                p,
                lo,
                hi,
                est,
                partners,
                d,
                float(exposure[i]),
                {"beta": beta_from_moments(p, sd_p, d, exposure[i])},
            )
        )
    cells = pd.DataFrame(
        {"state": [State(r[0]).label for r in rows], "month": [r[1] for r in rows], "partner_months": n_c}
    )
    for i, key in enumerate(ENGAGEMENT_KEYS):
        cells[key] = D[:, i] if len(rows) else []
    return EngagementFit(
        fits=fits,
        hazards=dict(zip(ENGAGEMENT_KEYS, hazards.tolist(), strict=True)),
        cells=cells,
        signed_exits=signed_exits,
        dormancy_correction=float(correction),
        spells=earning_spells(M),
    )


def earning_spells(M: np.ndarray) -> pd.DataFrame:
    """First earning spell begun inside the history, per partner: months earning until it ends in
    dormancy (outcome 1) or an exit (2), or is censored at the as-of month (0)."""
    earning = np.isin(M, [State.ACTIVE, State.COLLABORATING])
    P, T = M.shape
    start = earning.argmax(1)
    begun = earning.any(1) & (start > 0)
    after = (np.arange(T)[None, :] > start[:, None]) & ~earning
    ended = after.any(1)
    end = np.where(ended, after.argmax(1), T - 1)
    outcome = np.where(ended, np.where(M[np.arange(P), end] == State.CHURNED, 2, 1), 0)
    duration = end - start
    keep = begun & (duration > 0)
    return pd.DataFrame({"duration": duration[keep], "outcome": outcome[keep]})


# -- growth and revenue ------------------------------------------------------------------------


@dataclass
class GrowthFit:
    fits: list[Fit]
    log_changes: dict[str, np.ndarray]
    monthly_sd: float


def fit_growth(h: History, M: np.ndarray) -> GrowthFit | None:
    """Annual growth by state and volatility from month-to-month log changes of earning run-rates.

    The model's monthly factor is ``exp(drift + sd Z)`` with ``drift = ln(1 + g) / 12 - sd^2 / 2`` and
    ``sd = volatility / sqrt(12)``, by the state at the start of the month; the MLE of drift and sd
    are the mean and pooled standard deviation of the log changes.
    """
    rev = h.revenue
    both = (rev[:, 1:] > 0) & (rev[:, :-1] > 0)
    start = M[:, :-1]
    changes = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        log_change = np.log(rev[:, 1:] / rev[:, :-1])
    for state in (State.ACTIVE, State.COLLABORATING):
        changes[state.label] = log_change[both & (start == state)]
    n = {k: v.size for k, v in changes.items()}
    if n["active"] < 3:
        return None
    used = [k for k in changes if n[k] >= 2]
    resid = np.concatenate([changes[k] - changes[k].mean() for k in used])
    dof = max(resid.size - len(used), 1)
    sd = float(np.sqrt((resid**2).sum() / dof))
    fits = []
    partners = {k: int(((both & (start == State.from_label(k))).any(1)).sum()) for k in changes}
    for label in used:
        x = changes[label]
        drift = float(x.mean())
        se = sd / np.sqrt(x.size)
        g = lambda d: float(np.expm1(12 * (d + sd**2 / 2)))  # noqa: E731
        value = g(drift)
        fits.append(
            Fit(
                f"growth.{label}",
                value,
                g(drift - Z95 * se),
                g(drift + Z95 * se),
                f"mean monthly log change of {label} run-rates, exp(12 (mean + sd^2 / 2)) - 1",
                partners[label],
                int(x.size),
                distribution={"normal": [round(value, 6), round(float(12 * (1 + value) * se), 6)]},
            )
        )
    vol = sd * np.sqrt(12)
    lo = np.sqrt(dof / stats.chi2.ppf(0.975, dof)) * vol
    hi = np.sqrt(dof / stats.chi2.ppf(0.025, dof)) * vol
    fits.append(
        Fit(
            "growth.volatility",
            float(vol),
            float(lo),
            float(hi),
            "pooled sd of monthly log changes of earning run-rates, times sqrt(12)",
            int(sum(partners[k] for k in used)),
            int(resid.size),
            distribution={"normal": [round(float(vol), 6), round(float(vol / np.sqrt(2 * dof)), 6)]},
        )
    )
    return GrowthFit(fits, changes, sd)


@dataclass
class RevenueFit:
    fits: list[Fit]
    samples: dict[str, np.ndarray]  # first-deal revenue per segment (what the fits rest on)
    channel: dict[str, tuple[float, float]]  # today's run-rates: lognormal median and sigma per segment
    corrected: dict[str, bool]  # segment -> corrected for recruitment's selection by fit score


def run_rates(h: History) -> np.ndarray:
    """Each partner's run-rate at the as-of month: its last month with revenue (NaN for none, or gone)."""
    earning = h.revenue > 0
    last = h.months - 1 - np.argmax(earning[:, ::-1], axis=1)
    rate = h.revenue[np.arange(len(last)), last]
    gone = h.offboarded <= h.months - 1
    return np.where(earning.any(1) & ~gone, rate, np.nan)


def _lognormal(x: np.ndarray) -> tuple[float, float]:
    return float(x.mean()), float(x.std(ddof=1)) if x.size > 1 else 0.0


def fit_revenue(h: History, prospects: pd.DataFrame | None = None, min_partners: int = 3) -> RevenueFit:
    """Each segment's lognormal potential from revenue in partners' first-deal months (the model starts
    a run-rate at its potential at the first deal).

    Recruitment picks prospects by fit score, and the score is correlated with potential, so
    recruited partners are better than their segment. When the prospects table scores the market
    (fit scores of prospects never signed too) and links signed prospects to partners, the
    selection is undone: log revenue is regressed on the fit score among recruited partners
    (selection on the score leaves that regression unbiased) and averaged over the scores of the
    whole scored list: ``mu = a + b mean(f)``, ``sigma^2 = s_res^2 + b^2 var(f)``.
    """
    P = len(h.partner_id)
    f = h.first_deal
    inside = (f >= 0) & (f != NO_MONTH) & (f < h.months)
    first_rev = np.zeros(P)
    first_rev[inside] = h.revenue[np.flatnonzero(inside), f[inside]]
    ok = inside & (first_rev > 0)
    score = np.full(P, np.nan)
    population: dict[str, np.ndarray] = {}
    if prospects is not None and prospects["fit_score"].notna().any():
        linked = prospects[prospects["partner_id"] != ""].drop_duplicates("partner_id")
        idx = pd.Index(h.partner_id).get_indexer(linked["partner_id"])
        score[idx[idx >= 0]] = linked["fit_score"].to_numpy(float)[idx >= 0]
        scored = prospects[prospects["fit_score"].notna()]
        population = {str(g): v.to_numpy(float) for g, v in scored.groupby("segment")["fit_score"]}
    rate = run_rates(h)
    fits, samples, channel, corrected = [], {}, {}, {}
    for g, name in enumerate(h.segments):
        r = rate[(h.segment == g) & np.isfinite(rate)]
        if r.size >= 2:
            mu_c, s_c = _lognormal(np.log(r))
            channel[name] = (float(np.exp(mu_c)), s_c)
        mask = ok & (h.segment == g)
        x = np.log(first_rev[mask])
        samples[name] = np.exp(x)
        n = x.size
        if n < min_partners:
            continue
        mu, sd = _lognormal(x)
        se_mu = sd / np.sqrt(n)
        how = "exp(mean log revenue) in the first-deal month (lognormal MLE)"
        sf = score[mask]
        pop = population.get(name, np.empty(0))
        has = np.isfinite(sf)
        corrected[name] = False
        if has.sum() >= MIN_SCORED and pop.size >= 3 * has.sum():
            b, a = np.polyfit(sf[has], x[has], 1)
            resid = x[has] - (a + b * sf[has])
            s_res2 = float(resid @ resid / max(has.sum() - 2, 1))
            mu = float(a + b * pop.mean())
            sd = float(np.sqrt(s_res2 + b**2 * pop.var()))
            # The regression's prediction at the market's mean score: its error grows with the distance
            # between the recruits' scores and the market's.
            f_link = sf[has]
            sxx = float(((f_link - f_link.mean()) ** 2).sum())
            se_mu = float(np.sqrt(s_res2 * (1 / has.sum() + (pop.mean() - f_link.mean()) ** 2 / sxx)))
            corrected[name] = True
            how = (
                f"first-deal revenue regressed on fit score ({int(has.sum())} recruited partners), averaged over "
                f"the {pop.size:,} scored prospects: undoes recruitment's selection by fit score"
            )
        se = se_mu
        fits.append(
            Fit(
                f"market.segments.{name}.revenue_median",
                float(np.exp(mu)),
                float(np.exp(mu - Z95 * se)),
                float(np.exp(mu + Z95 * se)),
                how,
                n,
                n,
                distribution={"lognormal": [round(mu, 6), round(float(se), 6)]},
                decimals=0,
            )
        )
        dof = n - 1
        fits.append(
            Fit(
                f"market.segments.{name}.revenue_sigma",
                sd,
                float(sd * np.sqrt(dof / stats.chi2.ppf(0.975, dof))),
                float(sd * np.sqrt(dof / stats.chi2.ppf(0.025, dof))),
                "sd of log revenue in the first-deal month"
                + (" (selection undone as for the median)" if corrected[name] else ""),
                n,
                n,
                distribution={"normal": [round(sd, 6), round(float(sd / np.sqrt(2 * dof)), 6)]},
            )
        )
    return RevenueFit(fits, samples, channel, corrected)


# -- recruitment ---------------------------------------------------------------------------------


@dataclass
class RecruitmentFit:
    fits: list[Fit]
    nurture_per_month: float
    segment_shares: dict[str, float]
    signing_probability: float


def fit_recruitment(
    prospects: pd.DataFrame, as_of: pd.Period, signings_per_year: float, cooloff_months: int
) -> RecruitmentFit | None:
    """Win share from the nurtured prospects' monthly signing probability ``1 - exp(-v w / 12)``,
    the nurture period from the lost prospects' time in nurturing, and the funnel's segment mix.

    A CRM keeps a prospect's latest nurture episode: one given up and nurtured again after its
    cool-off is overwritten, which would hide lost episodes. So win share uses only the episodes
    begun in the last ``nurture_months + cooloff_months`` months, which nothing can have overwritten.
    """
    shares = prospects["segment"].value_counts(normalize=True).sort_index()
    nurtured = prospects[prospects["nurture_start"].notna() & prospects["usable"]]
    out_shares = {str(k): float(v) for k, v in shares.items()}
    if nurtured.empty or signings_per_year <= 0:
        return RecruitmentFit([], 0.0, out_shares, float("nan"))
    start_all = np.array([m.ordinal for m in nurtured["nurture_start"].dt.to_period("M")])
    lost_all = nurtured["outcome"].eq("lost") & nurtured["outcome_date"].notna()
    lost_months = (
        np.array([m.ordinal for m in nurtured.loc[lost_all, "outcome_date"].dt.to_period("M")])
        - start_all[lost_all.to_numpy()]
    )
    nurture_months = int(np.median(lost_months)) if lost_months.size else 6
    recent_start = start_all >= as_of.ordinal - (nurture_months + cooloff_months)
    per_month_starts = start_all
    nurtured = nurtured[recent_start]
    start = start_all[recent_start]
    end_known = nurtured["outcome_date"].notna() & nurtured["outcome"].isin(["signed", "lost"])
    end = np.where(
        end_known,
        [m.ordinal if not pd.isna(m) else 0 for m in nurtured["outcome_date"].dt.to_period("M")],
        as_of.ordinal,
    )
    signed = (nurtured["outcome"] == "signed").to_numpy()
    months = np.maximum(end - start, np.where(signed, 1, 0))
    trials = float(months.sum())
    events = int(signed.sum())
    fits: list[Fit] = []
    if trials > 0:
        low, high, _ = jeffreys(events, trials)
        q = _bounded(events, trials)
        to_w = lambda p: float(min(1.0, -12 * np.log1p(-p) / signings_per_year))  # noqa: E731
        w = to_w(q)
        sd_w = (to_w(high) - to_w(low)) / (2 * Z95)
        fits.append(
            Fit(
                "recruitment.win_share",
                w,
                to_w(low),
                to_w(high),
                f"signings / prospect-months nurtured (episodes begun in the last {nurture_months + cooloff_months} "
                f"months), w = -12 ln(1 - p) / {signings_per_year:g} signings a year",
                len(nurtured),
                events,
                trials,
                {"beta": beta_from_moments(w, sd_w, events, trials)},
                subjects="prospects",
            )
        )
    lost = lost_months
    if lost.size:
        values, counts = np.unique(lost[lost >= 1], return_counts=True)
        if values.size:
            mode = int(values[np.argmax(counts)])
            fits.append(
                Fit(
                    "recruitment.nurture_months",
                    float(mode),
                    float(np.quantile(lost, 0.025)),
                    float(np.quantile(lost, 0.975)),
                    "most common time in nurturing of the prospects given up (range: their 2.5-97.5% quantiles)",
                    int(lost.size),
                    int(lost.size),
                    decimals=0,
                    subjects="prospects",
                )
            )
    recent = per_month_starts > as_of.ordinal - 12
    span = min(12, int(as_of.ordinal - per_month_starts.min() + 1))
    per_month = float(recent.sum() / span) if span > 0 else 0.0
    return RecruitmentFit(fits, per_month, out_shares, events / trials if trials else float("nan"))
