"""Backtest: calibrate on the export as it stood ``holdout`` months ago, simulate those months, and
compare with what happened.

The comparison is month by month for revenue, revenue-earning partners,
partners by state and first deals: the share of months whose actual value
fell inside the simulated P10-P90 band (and P25-P75), and the mean absolute
percentage error of the simulated median. A calibrated model should put
about 80% of actual months inside its P10-P90 band.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..engine.results import SimulationResult, simulate
from ..errors import ChannelError
from ..lifecycle.states import State
from ..reports.charts import PALETTE, money_axis
from ..reports.html import _png
from ..scenario import Scenario, load_scenario
from ..scenario.loading import ScenarioLike
from .calibrate import CalibrationResult, calibrate, exact_shares
from .export import Export, read_export
from .history import build_history
from .scenario_writer import engine_reads

#: What is compared: metric -> (label, column of the simulated monthly table).
METRICS: dict[str, tuple[str, tuple[str, ...]]] = {
    "revenue": ("Monthly revenue", ("revenue",)),
    "earning_partners": ("Revenue-earning partners", ("active", "collaborating")),
    "signed": ("Signed partners (no deal yet)", ("signed",)),
    "active": ("Active partners", ("active",)),
    "collaborating": ("Collaborating partners", ("collaborating",)),
    "dormant": ("Dormant partners", ("dormant",)),
    "first_deals": ("First deals", ("activations",)),
}
MIN_HISTORY = 6  # months of revenue history needed before the cut


@dataclass
class BacktestResult:
    """Actual against simulated, month by month, and how often the bands held the actual value."""

    calibration: CalibrationResult
    simulation: SimulationResult
    table: pd.DataFrame  # metric, month, calendar, actual, p10, p25, p50, p75, p90
    coverage: pd.DataFrame  # per metric: months, in_p10_p90, in_p25_p75, mape
    cut: pd.Period
    as_of: pd.Period

    @property
    def p10_p90(self) -> float:
        """Share of all compared months inside the P10-P90 band."""
        return float(self.table["in_p10_p90"].mean())

    @property
    def p25_p75(self) -> float:
        return float(self.table["in_p25_p75"].mean())

    def chart(self) -> Figure:
        return backtest_chart(self)

    def html(self) -> str:
        return backtest_page(self)

    def write(self, folder: str | Path) -> list[Path]:
        """``backtest.html``, ``backtest.png`` and ``backtest.csv`` in ``folder``."""
        from ..reports.tables import write_csv
        from ..sweeps.storage import atomic_write_bytes

        folder = Path(folder)
        if folder.exists() and not folder.is_dir():
            raise ChannelError(f"--out {folder}: exists and is not a folder")
        page = self.html()
        buffer = io.BytesIO()
        self.chart().savefig(buffer, format="png", dpi=110)
        folder.mkdir(parents=True, exist_ok=True)
        paths = [folder / "backtest.html", folder / "backtest.png", folder / "backtest.csv"]
        atomic_write_bytes(paths[0], page.encode())
        atomic_write_bytes(paths[1], buffer.getvalue())
        write_csv(self.table, paths[2])
        return paths


def starting_scenario(calibration: CalibrationResult, holdout: int) -> Scenario:
    """The channel as it stood at the cut, as the engine can start from it.

    Today's engine starts from counts per state and the segment mix, each
    partner's run-rate drawn from its segment's lognormal, the same one
    recruits draw their potential from. Today's partners have grown since
    they were recruited, so each segment is split in two (see
    :func:`_split_today`): today's partners draw from the lognormal of
    today's run-rates, recruits from the fitted potentials. Once the
    engine starts from a partner list (``channel.partner_list``) this is the
    one place to switch, and the simulation then starts from each partner's
    own state and run-rate. Recruitment runs as the prospects table shows,
    or is off when there is none.
    """
    data = calibration.scenario_dict(with_partner_list=False, with_uncertainty=False)
    if not engine_reads()[0]:
        _split_today(data, calibration)
    data["horizon_months"] = int(holdout)
    data["plan"] = {"revenue_target": None}
    if calibration.recruitment is None or not calibration.recruitment.fits:
        data["recruitment"]["nurture_per_month"] = 0
    if engine_reads()[0]:  # the engine starts from the partner list (the table itself): each partner as it stood
        data["channel"] = {"partner_list": calibration.partner_list}
    return load_scenario(data)


TODAY = "_today"  # suffix of the segments that hold today's partners in a start from counts


def _split_today(data: dict, calibration: CalibrationResult) -> None:
    """Give today's partners segments of their own (no prospects) whose lognormal is that of today's
    run-rates; the market's segments keep the fitted potentials for recruits."""
    market = data["market"]["segments"]
    shares = data["channel"].get("segment_shares") or {}
    today_shares = {}
    for name, (median, sigma) in calibration.revenue.channel.items():
        if name not in market:
            continue
        market[name + TODAY] = {**market[name], "share": 0.0, "revenue_median": round(median, 2)}
        market[name + TODAY]["revenue_sigma"] = min(round(sigma, 6), 4.0)
        today_shares[name + TODAY] = shares.get(name, 0.0)
    # Segments of today's partners without run-rates keep their own name.
    for name, share in shares.items():
        if name + TODAY not in today_shares:
            today_shares[name] = share
    data["channel"]["segment_shares"] = exact_shares(today_shares) if today_shares else None


def actual_months(export: Export, calibration: CalibrationResult, as_of: pd.Period) -> pd.DataFrame:
    """What happened each month after the cut: the full history rebuilt with the calibration's window."""
    aside: list = []
    h = build_history(export, as_of, calibration.dormant_after, aside)
    window = calibration.activation.window if calibration.activation else calibration.base.activation.window_months
    M = h.model_states(window)
    months = pd.period_range(h.first_month, periods=h.months, freq="M")
    first_deals = np.bincount(h.first_deal[(h.first_deal >= 0) & (h.first_deal < h.months)], minlength=h.months)
    frame = pd.DataFrame(
        {
            "calendar": months,
            "revenue": h.revenue.sum(0),
            "earning_partners": np.isin(M, [State.ACTIVE, State.COLLABORATING]).sum(0),
            "signed": (M == State.SIGNED).sum(0),
            "active": (M == State.ACTIVE).sum(0),
            "collaborating": (M == State.COLLABORATING).sum(0),
            "dormant": (M == State.DORMANT).sum(0),
            "first_deals": first_deals,
        }
    )
    return frame[frame["calendar"] > calibration.as_of].reset_index(drop=True)


def backtest(
    export: str | Path | Export,
    holdout: int = 12,
    as_of: str | pd.Timestamp | None = None,
    dormant_after: int = 3,
    base: ScenarioLike | None = None,
    replications: int = 200,
    seed: int = 0,
) -> BacktestResult:
    """Calibrate on the export cut ``holdout`` months before ``as_of`` and score the simulated months."""
    data = export if isinstance(export, Export) else read_export(export)
    if isinstance(holdout, bool) or not isinstance(holdout, int | np.integer) or holdout < 1:
        raise ChannelError(f"holdout = {holdout!r}: must be a whole number of months >= 1")
    end = data.last_month if as_of is None else pd.Timestamp(as_of).to_period("M")
    if end > data.last_month:
        raise ChannelError(f"as_of = {as_of}: is after the revenue history ends ({data.last_month})")
    cut = end - int(holdout)
    if cut < data.first_month + (MIN_HISTORY - 1):
        have = (end - data.first_month).n + 1
        raise ChannelError(
            f"holdout = {holdout}: leaves {have - holdout} months of revenue history before the cut; "
            f"at least {MIN_HISTORY} are needed (the history has {have} months)"
        )
    trimmed = data.cut(end.to_timestamp(how="end")) if end != data.last_month else data
    calibration = calibrate(trimmed, as_of=cut.to_timestamp(how="end"), dormant_after=dormant_after, base=base)
    scenario = starting_scenario(calibration, holdout)
    result = simulate(scenario, replications=replications, seed=seed, partners=False, concentration=False)
    actual = actual_months(trimmed, calibration, end)
    rows = []
    monthly = result.monthly[result.monthly["month"] >= 1]
    for metric, (_label, columns) in METRICS.items():
        values = monthly[list(columns)].sum(axis=1).groupby(monthly["month"])
        bands = pd.DataFrame({f"p{q}": values.quantile(q / 100) for q in (10, 25, 50, 75, 90)})
        for m in range(1, int(holdout) + 1):
            b = bands.loc[m]
            a = float(actual.loc[m - 1, metric])
            rows.append(
                {
                    "metric": metric,
                    "month": m,
                    "calendar": str(actual.loc[m - 1, "calendar"]),
                    "actual": a,
                    **{k: float(v) for k, v in b.items()},
                    "in_p10_p90": bool(b["p10"] <= a <= b["p90"]),
                    "in_p25_p75": bool(b["p25"] <= a <= b["p75"]),
                }
            )
    table = pd.DataFrame(rows)
    ape = (table["p50"] - table["actual"]).abs() / table["actual"].where(table["actual"] > 0)
    coverage = (
        table.assign(ape=ape)
        .groupby("metric", sort=False)
        .agg(
            months=("month", "size"),
            in_p10_p90=("in_p10_p90", "mean"),
            in_p25_p75=("in_p25_p75", "mean"),
            mape=("ape", "mean"),
        )
    )
    return BacktestResult(calibration, result, table, coverage, cut, end)


def backtest_chart(bt: BacktestResult) -> Figure:
    """Actual against the simulated fan, one panel per metric."""
    shown = ["revenue", "earning_partners", "dormant", "first_deals"]
    fig = Figure(figsize=(10.0, 7.0), layout="constrained")
    currency = bt.calibration.base.currency
    for i, metric in enumerate(shown):
        ax = fig.add_subplot(2, 2, i + 1)
        t = bt.table[bt.table["metric"] == metric]
        x = t["month"].to_numpy()
        ax.fill_between(x, t["p10"], t["p90"], color=PALETTE[1], alpha=0.18, lw=0, label="P10-P90")
        ax.fill_between(x, t["p25"], t["p75"], color=PALETTE[1], alpha=0.35, lw=0, label="P25-P75")
        ax.plot(x, t["p50"], color=PALETTE[0], lw=1.8, label="median")
        ax.plot(x, t["actual"], color=PALETTE[4], marker="o", ms=3.5, lw=1.2, label="actual")
        cov = bt.coverage.loc[metric]
        ax.set_title(f"{METRICS[metric][0]}: {cov.in_p10_p90:.0%} of months in P10-P90", fontsize=10)
        ax.set_xlabel(f"months after {bt.cut}")
        if metric == "revenue":
            money_axis(ax.yaxis, currency)
        if i == 0:
            ax.legend(fontsize=8)
    return fig


def backtest_page(bt: BacktestResult) -> str:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("simulator.reports", "templates"),
        autoescape=True,  # the export's names are escaped
        undefined=jinja2.StrictUndefined,
    )
    pct = lambda x: "-" if not np.isfinite(x) else f"{100 * x:.0f}%"  # noqa: E731
    context: dict[str, Any] = {
        "name": bt.calibration.export.source.name,
        "cut": str(bt.cut),
        "as_of": str(bt.as_of),
        "holdout": int(bt.table["month"].max()),
        "replications": len(bt.simulation.replications),
        "start": "the counts per state and the segment mix at the cut, run-rates drawn from the fitted lognormals",
        "p10_p90": pct(bt.p10_p90),
        "p25_p75": pct(bt.p25_p75),
        "rows": [
            {
                "label": METRICS[m][0],
                "months": int(r.months),
                "p10_p90": pct(r.in_p10_p90),
                "p25_p75": pct(r.in_p25_p75),
                "mape": pct(r.mape),
            }
            for m, r in bt.coverage.iterrows()
        ],
        "chart": _png(bt.chart(), "Actual values (red) against the simulated median, P25-P75 and P10-P90.", "Backtest"),
    }
    return env.get_template("backtest.html.j2").render(**context)
