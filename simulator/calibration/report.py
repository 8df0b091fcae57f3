"""The calibration report: one self-contained HTML page showing the data against each fit.

Same style and safety as the scenario report (:mod:`simulator.reports.html`):
Jinja2 autoescaping of every value taken from the export, a
Content-Security-Policy that forbids scripts, and charts embedded as PNG.
Curves are lifelines' Kaplan-Meier and Aalen-Johansen estimates against the
fitted model's curves; revenue and growth are histograms against the fitted
normal densities of their logs.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import jinja2
import numpy as np
from matplotlib.figure import Figure
from scipy import stats

from ..formatting import money
from ..reports.charts import PALETTE, _plain
from ..reports.html import _png
from .fits import THIN_EVENTS, _num

if TYPE_CHECKING:
    from .calibrate import CalibrationResult


def _figure(width: float = 8.0, height: float = 4.2) -> tuple[Figure, Any]:
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


def activation_chart(result: CalibrationResult) -> Figure:
    """Share of partners still without a first deal, by months since onboarding: Kaplan-Meier per segment
    (left-truncated) against the fitted model (constant hazard within the window, another after)."""
    from lifelines import KaplanMeierFitter

    act = result.activation
    fig, ax = _figure()
    data = act.data
    D = int(data.duration.max())
    for g, name in enumerate(result.history.segments):
        mask = data.segment == g
        if mask.sum() < 2 or name not in act.segment_probability:
            continue
        colour = PALETTE[g % len(PALETTE)]
        km = KaplanMeierFitter().fit(data.duration[mask], data.event[mask], entry=data.entry[mask])
        sf = km.survival_function_
        ax.step(sf.index, sf.iloc[:, 0], where="post", color=colour, lw=1.8, label=f"{_plain(name)}: Kaplan-Meier")
        d = np.arange(0, D + 1)
        p, late = act.segment_probability[name], act.late_probability
        W = act.window
        model = np.where(d <= W, (1 - p) ** d, (1 - p) ** W * (1 - late) ** np.maximum(d - W, 0))
        ax.plot(d, model, color=colour, lw=1.2, ls="--", label=f"{_plain(name)}: fitted model")
    ax.axvline(act.window, color="#7f8c8d", lw=1, ls=":")
    ax.text(act.window + 0.2, 0.95, f"window {act.window} months", fontsize=8, color="#5d6d7e", va="top")
    ax.set_xlabel("months since onboarding")
    ax.set_ylabel("share without a first deal")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8, ncol=2)
    ax.set_title("Time to first deal: data against the fit")
    return fig


def spells_chart(result: CalibrationResult) -> Figure:
    """Cumulative incidence of dormancy and exit over an earning spell: Aalen-Johansen against the fitted
    competing-risk model ``h_k / (h_d + h_e) * (1 - exp(-(h_d + h_e) t))``."""
    from lifelines import AalenJohansenFitter

    spells = result.engagement.spells
    hz = result.engagement.hazards
    h_d, h_e = hz["churn.dormancy_probability"], hz["churn.exit_probability"]
    fig, ax = _figure()
    t = np.arange(0, int(spells["duration"].max()) if len(spells) else 1 + 1)
    total = h_d + h_e
    for code, label, h, colour in ((1, "dormant", h_d, PALETTE[1]), (2, "exit", h_e, PALETTE[4])):
        if (spells["outcome"] == code).sum() >= 2:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # ties are jittered, as lifelines warns
                aj = AalenJohansenFitter(calculate_variance=False, seed=0).fit(
                    spells["duration"], spells["outcome"], event_of_interest=code
                )
            cif = aj.cumulative_density_
            ax.step(cif.index, cif.iloc[:, 0], where="post", color=colour, lw=1.8, label=f"{label}: Aalen-Johansen")
        if total > 0:
            ax.plot(t, h / total * -np.expm1(-total * t), color=colour, ls="--", lw=1.2, label=f"{label}: fitted model")
    ax.set_xlabel("months since the spell of revenue began")
    ax.set_ylabel("cumulative incidence")
    ax.legend(fontsize=8)
    ax.set_title("Earning spells ending in dormancy or exit")
    return fig


def revenue_chart(result: CalibrationResult) -> Figure:
    """Log run-rates per segment against the fitted lognormal (a normal density on the log scale)."""
    fits = result.fitted
    names = [n for n in result.history.segments if f"market.segments.{n}.revenue_median" in fits]
    fig = Figure(figsize=(8.0, 2.6 * max(1, len(names))), layout="constrained")
    for i, name in enumerate(names):
        ax = fig.add_subplot(len(names), 1, i + 1)
        x = np.log10(result.revenue.samples[name])
        ax.hist(x, bins=min(30, max(5, x.size // 4)), density=True, color=PALETTE[1], alpha=0.45, label="partners")
        mu = np.log(fits[f"market.segments.{name}.revenue_median"].value)
        s = fits[f"market.segments.{name}.revenue_sigma"].value
        grid = np.linspace(x.min() - 0.5, x.max() + 0.5, 200)
        # density of log10(x) when ln(x) ~ N(mu, s): ln(10) * phi((ln(10) * g - mu) / s) / s
        ax.plot(
            grid,
            np.log(10) * stats.norm.pdf(np.log(10) * grid, mu, s),
            color=PALETTE[0],
            lw=1.8,
            label="fitted lognormal",
        )
        ax.set_title(
            f"{_plain(name)}: monthly run-rate (log10 {_plain(result.base.currency)}), {x.size} partners", fontsize=10
        )
        ax.legend(fontsize=8)
    return fig


def growth_chart(result: CalibrationResult) -> Figure:
    """Monthly log changes of earning run-rates by state against the fitted normal."""
    g = result.growth
    fig, ax = _figure()
    sd = g.monthly_sd
    fitted = result.fitted
    for i, (label, x) in enumerate(g.log_changes.items()):
        if x.size < 2 or f"growth.{label}" not in fitted:
            continue
        colour = PALETTE[i + 1]
        lo, hi = np.quantile(x, [0.005, 0.995])
        ax.hist(
            np.clip(x, lo, hi), bins=60, density=True, alpha=0.35, color=colour, label=f"{label}: {x.size:,} months"
        )
        drift = np.log1p(fitted[f"growth.{label}"].value) / 12 - sd**2 / 2
        grid = np.linspace(lo, hi, 200)
        ax.plot(grid, stats.norm.pdf(grid, drift, sd), color=colour, lw=1.8, label=f"{label}: fitted")
    ax.set_xlabel("log change of the run-rate over one month")
    ax.set_ylabel("density")
    ax.legend(fontsize=8)
    ax.set_title("Growth by state: data against the fit")
    return fig


def window_chart(result: CalibrationResult) -> Figure:
    prof = result.activation.profile
    fig, ax = _figure(8.0, 3.2)
    ax.plot(prof["window_months"], prof["log_likelihood"], marker="o", color=PALETTE[0])
    ax.axvline(result.activation.window, color=PALETTE[4], ls=":")
    ax.set_xlabel("activation window (months)")
    ax.set_ylabel("profile log-likelihood")
    ax.set_title("Which activation window the data support")
    return fig


def calibration_report(result: CalibrationResult) -> str:
    """The report's HTML text."""
    fits = result.fits
    charts = []
    if result.activation is not None:
        charts.append(
            _png(
                activation_chart(result),
                "Share of partners without a first deal by months since onboarding: Kaplan-Meier (solid, "
                "left-truncated at the history start) against the fitted model (dashed).",
                "Time to first deal",
            )
        )
        charts.append(
            _png(window_chart(result), "Profile log-likelihood of the activation window.", "Activation window")
        )
    if len(result.engagement.spells):
        charts.append(
            _png(
                spells_chart(result),
                "Cumulative incidence of dormancy and exit over spells of revenue begun inside the history: "
                "Aalen-Johansen (solid) against the fitted competing risks (dashed).",
                "Dormancy and exit",
            )
        )
    if any(f.key.endswith("revenue_median") for f in fits):
        charts.append(
            _png(
                revenue_chart(result), "Partners' run-rates at the as-of month against the fitted lognormal.", "Revenue"
            )
        )
    if result.growth is not None:
        charts.append(
            _png(growth_chart(result), "Month-to-month log changes of run-rates by state, against the fit.", "Growth")
        )
    h = result.history
    notes = result.notes()
    fitted_keys = {f.key for f in fits}
    not_fitted = [{"key": k, "why": v} for k, v in notes.items() if k not in fitted_keys and v.startswith("not fitted")]
    counts = result.partner_list["state"].value_counts()
    k = result.dormant_after
    dormancy_note = (
        "With this setting every month without revenue is dormancy, which is the model's own reading."
        if k == 1
        else f"For the fits, a dormant spell starts at its first month without revenue (the model's dormant partners "
        f"earn nothing); gaps shorter than {k} months are read as lumpy revenue, and the dormancy rate is divided by "
        f"the share of spells lasting {k} months ({result.engagement.dormancy_correction:.3f})."
    )
    context = {
        "title": result.export.source.name,
        "source": str(result.export.source),
        "first_month": str(h.first_month),
        "as_of": str(result.as_of),
        "months": h.months,
        "partners": f"{len(h.partner_id):,}",
        "dormant_after": k,
        "dormancy_note": dormancy_note,
        "thin_events": THIN_EVENTS,
        "warnings": result.warnings,
        "fitted": [
            {
                "key": f.key,
                "value": _num(f.value),
                "interval": f"{_num(f.low)} to {_num(f.high)}",
                "partners": f"{f.partners:,}",
                "events": f"{f.events:,}",
                "thin": f.thin,
                "estimator": f.estimator,
            }
            for f in fits
        ],
        "activation_verdict": result.activation.comparison["verdict"] if result.activation else "no first deals to fit",
        "activation_models": [
            {"model": m["model"], "parameters": m["parameters"], "aic": f"{m['aic']:,.1f}"}
            for m in (result.activation.comparison.get("models", []) if result.activation else [])
        ],
        "not_fitted": not_fitted,
        "charts": charts,
        "set_aside": [
            {
                "table": a.table,
                "count": f"{a.count:,}",
                "reason": a.reason,
                "examples": "; ".join(f"row {r}: {v}" for r, v in zip(a.rows[:5], a.values[:5], strict=True))
                + (f"; and {a.count - 5:,} more" if a.count > 5 else ""),
            }
            for a in result.set_aside
        ],
        "set_aside_total": f"{sum(a.count for a in result.set_aside):,}",
        "unknown": [(t, ", ".join(c)) for t, c in result.export.unknown_columns.items()],
        "channel": [
            {"state": s, "count": int(counts.get(s, 0))} for s in ("signed", "active", "collaborating", "dormant")
        ],
        "channel_t12m": money(float(result.partner_list["revenue_t12m"].sum()), result.base.currency),
    }
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("simulator.reports", "templates"),
        autoescape=True,  # every value from the export is escaped
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template("calibration.html.j2").render(**context)
