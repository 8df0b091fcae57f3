"""What-if: two scenarios on the same random draws (question 4 of MODEL.md).

Both scenarios run the same replications from the same seed, so replication
``r`` of A and of B share every random number (common random numbers) and
their difference is a paired difference: what the change does, with the
noise of the draws taken out. For each horizon figure the result gives the
mean of B - A, the 90% interval of the paired differences (their 5th and
95th percentiles) and P(B better than A), the share of replications where B
is strictly better. "Better" is higher for revenue, contribution, partners
earning or engaged, signings and activations; lower for costs, dormant and
churned partners and concentration (top-20% share, Gini, HHI); figures that
are neither (prospects, nurturing, signed, nurtured) have no P(better).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..engine.results import SimulationResult, simulate
from ..progress import phase
from ..scenario.loading import ScenarioLike
from ..scenario.schema import Scenario, flat_keys
from ..validation import FLAG, REPLICATIONS, SEED, validate_arguments
from ..vocabulary import VOCABULARY, better
from .common import as_scenario

TRAJECTORY_FIGURES = ("revenue", "revenue_t12m", "cost", "contribution")
_COSMETIC = ("name", "description")  # keys that change no number


@dataclass
class CompareResult:
    """What :func:`compare` returns.

    ``a`` and ``b`` are the two :class:`SimulationResult` (same seed and
    replications). ``paired`` has, per replication, B - A of every figure.
    ``differences`` (one row per figure): ``mean_a``, ``mean_b``,
    ``mean_diff``, ``p05``/``p95`` (the 90% interval of the paired
    differences), ``p_b_better``, ``p_b_worse`` and ``better`` (the direction
    that counts as better). ``trajectory``: per month, the same for monthly
    revenue, trailing-12-month revenue, cost and contribution. ``changes``:
    the keys and levers that differ (``kind``, ``key``, ``a``, ``b``).
    """

    a: SimulationResult
    b: SimulationResult
    paired: pd.DataFrame
    differences: pd.DataFrame
    trajectory: pd.DataFrame
    changes: pd.DataFrame
    returns_per_replication: pd.DataFrame | None = None

    @property
    def returns(self) -> pd.DataFrame:
        """What the change returns, B against A over the horizon, one row per figure.

        ``incremental_contribution`` and ``incremental_cost``: sums of the paired monthly differences.
        ``roi``: incremental contribution / incremental cost (the mean is the ratio of the means, the
        interval that of the replications where the change costs more). ``npv``: the monthly
        contribution differences discounted at ``economics.discount_rate`` a year (B's rate).
        ``payback_month``: the first month from which the cumulative paired contribution difference stays
        positive (:func:`payback_months`);
        replications that never pay back within the horizon count as beyond it, and ``p_paid_back``
        says how many do. Columns: ``mean``, ``p05``/``p95`` (the 90% paired interval) and
        ``p10``/``p50``/``p90``.
        """
        per = self.returns_per_replication
        rows = {}
        for name in ("incremental_contribution", "incremental_cost", "roi", "npv", "payback_month"):
            x = per[name].to_numpy(np.float64)
            finite = x[np.isfinite(x)]
            row = {"mean": float(finite.mean()) if finite.size else np.nan}
            if name == "roi":  # the programme's ROI: total incremental contribution over total incremental cost
                spent = float(per["incremental_cost"].mean())
                row["mean"] = float(per["incremental_contribution"].mean()) / spent if spent > 0 else np.nan
            for label, q in (("p05", 0.05), ("p10", 0.1), ("p50", 0.5), ("p90", 0.9), ("p95", 0.95)):
                if name == "payback_month":  # never paid back is beyond the horizon (inf), not missing
                    row[label] = float(np.quantile(np.where(np.isnan(x), np.inf, x), q, method="inverted_cdf"))
                else:
                    row[label] = float(np.quantile(finite, q)) if finite.size else np.nan
            rows[name] = row
        table = pd.DataFrame.from_dict(rows, orient="index")
        table["p_paid_back"] = np.nan
        table.loc["payback_month", "p_paid_back"] = float(np.isfinite(per["payback_month"]).mean())
        table.index.name = "figure"
        return table

    def summary(self) -> pd.DataFrame:
        """The per-figure differences table."""
        return self.differences

    @property
    def identical(self) -> bool:
        """True when nothing that changes a number differs between A and B."""
        return self.changes.empty


@validate_arguments(replications=REPLICATIONS, seed=SEED, partners=FLAG, uncertainty=FLAG)
def compare(
    a: ScenarioLike,
    b: ScenarioLike | None = None,
    replications: int | Iterable[int] = 200,
    seed: int = 0,
    *,
    partners: bool = False,
    uncertainty: bool = True,
    **overrides: object,
) -> CompareResult:
    """Run A and B on the same random draws and report their paired differences.

    ``a`` and ``b`` are Scenarios, YAML paths or dicts; ``section__key``
    overrides change B (when ``b`` is None, B is A with the overrides, so
    ``compare(a)`` compares A with itself and every difference is exactly 0).
    ``partners=True`` keeps each run's partner scorecard.
    """
    scn_a = as_scenario(a, uncertainty=uncertainty)
    scn_b = as_scenario(scn_a if b is None else b, overrides, uncertainty)
    with phase("compare A and B", total=2 * len(replications)):
        res_a = simulate(scn_a, replications=replications, seed=seed, partners=partners)
        res_b = simulate(scn_b, replications=replications, seed=seed, partners=partners)
    ka, kb = res_a.kpis.set_index("replication"), res_b.kpis.set_index("replication")
    figures = [f for f in ka.columns if f in kb.columns and VOCABULARY.get(f, "kpis") is not None]
    va = ka[figures].astype(np.float64)
    vb = kb[figures].astype(np.float64)
    diff = vb - va
    rows = {}
    for f in figures:
        rows[f] = {
            "mean_a": va[f].mean(),
            "mean_b": vb[f].mean(),
            **paired_statistics(diff[f].to_numpy(), better(f)),
            # The paired difference of a yes/no figure is -1, 0 or 1: its percentiles say nothing.
            **({"p05": np.nan, "p95": np.nan} if f == "plan_met" else {}),
            "better": {1: "higher", -1: "lower", 0: ""}[better(f)],
        }
    differences = pd.DataFrame.from_dict(rows, orient="index")
    differences.index.name = "figure"
    return CompareResult(
        a=res_a,
        b=res_b,
        paired=diff.reset_index(),
        differences=differences,
        trajectory=_trajectory(res_a, res_b),
        changes=what_changed(scn_a, scn_b),
        returns_per_replication=paired_returns(res_a, res_b),
    )


def payback_months(cumulative: np.ndarray) -> np.ndarray:
    """Payback month of each row of cumulative paired contribution differences (months 1..H as columns):
    the first month from which the cumulative difference is positive to the horizon, NaN if it never is."""
    c = np.asarray(cumulative, dtype=np.float64)
    if c.shape[1] == 0:
        return np.full(c.shape[0], np.nan)
    not_positive = c <= 0
    # the last month at or below zero; the month after it starts the payback
    last_bad = np.where(not_positive.any(axis=1), c.shape[1] - 1 - np.argmax(not_positive[:, ::-1], axis=1), -1)
    return np.where(c[:, -1] > 0, last_bad + 2.0, np.nan)


def paired_returns(res_a: SimulationResult, res_b: SimulationResult) -> pd.DataFrame:
    """Per replication, what B returns against A over the months both horizons share (see ``returns``)."""
    months = min(res_a.scenario.horizon_months, res_b.scenario.horizon_months) + 1
    R = res_a.replications.size

    def monthly(res: SimulationResult, figure: str) -> np.ndarray:
        return res.monthly[figure].to_numpy(np.float64).reshape(R, -1)[:, 1:months]

    contribution = monthly(res_b, "contribution") - monthly(res_a, "contribution")
    cost = monthly(res_b, "cost") - monthly(res_a, "cost")
    inc_contribution, inc_cost = contribution.sum(axis=1), cost.sum(axis=1)
    rate = res_b.scenario.economics.discount_rate
    discount = (1.0 + rate) ** (-np.arange(1, months) / 12.0)
    payback = payback_months(np.cumsum(contribution, axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        roi = np.where(inc_cost > 0, inc_contribution / inc_cost, np.nan)
    return pd.DataFrame(
        {
            "replication": res_a.replications,
            "incremental_contribution": inc_contribution,
            "incremental_cost": inc_cost,
            "roi": roi,
            "npv": contribution @ discount,
            "payback_month": payback,
        }
    )


def paired_statistics(diff: np.ndarray, direction: int) -> dict[str, float]:
    """Mean, 5th and 95th percentile of paired differences B - A, and P(B better / worse).

    Replications where the figure is undefined (NaN) are left out; ties count
    as neither better nor worse.
    """
    d = np.asarray(diff, dtype=np.float64)
    d = d[~np.isnan(d)]
    if d.size == 0:
        return dict.fromkeys(("mean_diff", "p05", "p95", "p_b_better", "p_b_worse"), np.nan)
    better = float((direction * d > 0).mean()) if direction else np.nan
    worse = float((direction * d < 0).mean()) if direction else np.nan
    return {
        "mean_diff": float(d.mean()),
        "p05": float(np.quantile(d, 0.05)),
        "p95": float(np.quantile(d, 0.95)),
        "p_b_better": better,
        "p_b_worse": worse,
    }


def _trajectory(res_a: SimulationResult, res_b: SimulationResult) -> pd.DataFrame:
    """Monthly paired differences over the months both horizons share."""
    months = min(res_a.scenario.horizon_months, res_b.scenario.horizon_months) + 1
    R = res_a.replications.size
    rows = []
    for figure in TRAJECTORY_FIGURES:
        xa = res_a.monthly[figure].to_numpy(np.float64).reshape(R, -1)[:, :months]
        xb = res_b.monthly[figure].to_numpy(np.float64).reshape(R, -1)[:, :months]
        d = xb - xa
        rows.append(
            pd.DataFrame(
                {
                    "month": np.arange(months),
                    "figure": figure,
                    "mean_a": xa.mean(axis=0),
                    "mean_b": xb.mean(axis=0),
                    "mean_diff": d.mean(axis=0),
                    "p05": np.quantile(d, 0.05, axis=0),
                    "p95": np.quantile(d, 0.95, axis=0),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


# -- what changed -----------------------------------------------------------------


_MISSING = "(not set)"


def what_changed(a: Scenario, b: Scenario) -> pd.DataFrame:
    """The keys, levers and partner tiers that differ between two scenarios.

    Columns ``kind`` (``key``, ``lever added``, ``lever removed``, ``lever
    changed``, ``tier added``, ``tier removed``, ``tier changed``), ``key`` (a
    dotted key, ``lever:<name>.<field>`` or ``tier:<name>.<field>``), ``a`` and
    ``b`` (the values; ``(not set)`` where a key exists in one only). Levers
    and tiers are matched by name, so reordering levers is not a change (the
    order of tiers is their thresholds'); ``name`` and ``description`` are left
    out (they change no number).
    """
    rows: list[dict[str, Any]] = []
    keys_a, keys_b = flat_keys(a), flat_keys(b)
    seen_b = set(keys_b)
    union = keys_a + [k for k in keys_b if k not in set(keys_a)]
    for key in union:
        if key in _COSMETIC or key.startswith(("program.levers", "program.tiers")):
            continue
        va = a.get(key) if key in set(keys_a) else _MISSING
        vb = b.get(key) if key in seen_b else _MISSING
        if va != vb:
            rows.append({"kind": "key", "key": key, "a": va, "b": vb})
    rows += _named_changes("lever", a.program.levers, b.program.levers, _describe)
    rows += _named_changes("tier", a.program.tiers, b.program.tiers, describe_tier)
    return pd.DataFrame(rows, columns=["kind", "key", "a", "b"])


def _named_changes(
    noun: str, items_a: Iterable[Any], items_b: Iterable[Any], describe: Callable[[dict[str, Any]], str]
) -> list[dict[str, Any]]:
    """Levers or partner tiers added, removed or changed (field by field, ``note`` left out), matched by name."""
    rows: list[dict[str, Any]] = []
    by_name_a = {item.name: item.model_dump(mode="json") for item in items_a}
    by_name_b = {item.name: item.model_dump(mode="json") for item in items_b}
    for name, item in by_name_b.items():
        if name not in by_name_a:
            rows.append({"kind": f"{noun} added", "key": f"{noun}:{name}", "a": _MISSING, "b": describe(item)})
    for name, item in by_name_a.items():
        if name not in by_name_b:
            rows.append({"kind": f"{noun} removed", "key": f"{noun}:{name}", "a": describe(item), "b": _MISSING})
            continue
        flat_a, flat_b = _flatten(item), _flatten(by_name_b[name])
        for field in list(flat_a) + [f for f in flat_b if f not in flat_a]:
            va, vb = flat_a.get(field, _MISSING), flat_b.get(field, _MISSING)
            if field != "note" and va != vb:
                rows.append({"kind": f"{noun} changed", "key": f"{noun}:{name}.{field}", "a": va, "b": vb})
    return rows


def describe_tier(tier: dict[str, Any]) -> str:
    """A partner tier in a few words: its threshold, effects and costs."""
    parts = [f"from {tier['threshold']:,.0f} of 12-month revenue"]
    effects = ", ".join(f"{k} {v:+g}" for k, v in (tier.get("effects") or {}).items())
    if effects:
        parts.append(effects)
    cost = tier.get("cost") or {}
    if cost.get("revenue_share"):
        parts.append(f"rebate {cost['revenue_share']:.1%}")
    if cost.get("per_partner_month"):
        parts.append(f"MDF {cost['per_partner_month']:,g} a partner-month")
    return "; ".join(parts)


def _flatten(value: Any, path: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{path}.{k}" if path else k))
        return out
    return {path: value}


def _describe(lever: dict[str, Any]) -> str:
    """A lever in a few words: its catalogue entry, intensity, months and effects."""
    parts = [f"use {lever['use']}"] if lever.get("use") else []
    if lever.get("intensity", 1.0) != 1.0:
        parts.append(f"intensity {lever['intensity']:g}")
    if lever.get("months") is not None:
        parts.append(f"months {lever['months'][0]}-{lever['months'][1]}")
    effects = ", ".join(f"{k} {v:+g}" for k, v in (lever.get("effects") or {}).items())
    if effects:
        parts.append(effects)
    return "; ".join(parts) if parts else "no effects"
