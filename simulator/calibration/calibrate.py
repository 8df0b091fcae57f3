"""``calibrate``: a scenario fitted to a vendor's partner export.

The export is read and checked (:mod:`.export`), each partner's monthly
history rebuilt (:mod:`.history`), every rate the data can speak to fitted
(:mod:`.fits`), and the result is a :class:`CalibrationResult` from which the
scenario file (with its partner list and ``uncertainty:`` section), the
partner list and the calibration report are written. Keys the data cannot
speak to are taken from the base scenario (``--base``) or the defaults, and
the scenario file says so next to each of them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ChannelError
from ..lifecycle.states import State
from ..scenario import Scenario, load_scenario
from ..scenario.loading import ScenarioLike
from ..scenario.schema import Segment
from . import fits as est
from .export import Export, SetAside, read_export
from .history import History, build_history

#: Keys no export speaks to, and why (the scenario file repeats the reason).
NOT_IN_EXPORT = {
    "market.prospects": "the size of the addressable market is not in a PRM export",
    "market.vendor_signings_per_year": "how often prospects sign vendors is market research, not PRM data",
    "recruitment.cooloff_months": "not recorded in the export",
    "recruitment.scoring_accuracy": "needs the potential of prospects never signed",
    "collaboration.peer_effect": "kept as given: the export's collaborating share barely varies",
    "economics": "costs and margin are not in the export",
    "plan": "the plan is the vendor's, not the data's",
}


@dataclass
class CalibrationResult:
    """Everything a calibration found: fits, what was set aside, and the channel at the as-of date."""

    export: Export
    history: History
    as_of: pd.Period
    dormant_after: int
    base: Scenario
    base_source: str | None
    fits: list[est.Fit]
    activation: est.ActivationFit | None
    engagement: est.EngagementFit
    growth: est.GrowthFit | None
    revenue: est.RevenueFit
    recruitment: est.RecruitmentFit | None
    partner_list: pd.DataFrame
    set_aside: list[SetAside]
    defaults: dict[str, str] = field(default_factory=dict)  # key -> why it was not fitted
    warnings: list[str] = field(default_factory=list)

    # -- the scenario ---------------------------------------------------------------------

    @property
    def fitted(self) -> dict[str, est.Fit]:
        return {f.key: f for f in self.fits}

    def scenario_dict(
        self,
        with_partner_list: bool = True,
        with_uncertainty: bool = True,
        partner_list_path: str = "partners.csv",
    ) -> dict[str, Any]:
        """The calibrated scenario as plain data.

        With ``with_partner_list`` the channel is ``channel.partner_list:
        <partner_list_path>``; without, it is counts per state and the
        segment mix of the partner list. With ``with_uncertainty`` the
        ``uncertainty:`` section carries the fits' sampling distributions.
        """
        data = copy.deepcopy(self.base.to_dict())
        data["name"] = f"{self.export.source.stem} calibrated at {self.as_of}"
        data["description"] = (
            f"Fitted to the partner export {self.export.source.name} up to {self.as_of} "
            f"(dormant after {self.dormant_after} months without revenue)."
        )
        fitted = self.fitted
        segments = self._segment_names()
        shares = self._market_shares(segments)
        base_segments = data["market"]["segments"]
        out_segments = {}
        for name in segments:
            seg = dict(base_segments.get(name) or Segment().model_dump(mode="json"))
            seg["share"] = shares[name]
            for attr in ("revenue_median", "revenue_sigma", "activation_multiplier"):
                fit = fitted.get(f"market.segments.{name}.{attr}")
                if fit is not None:
                    seg[attr] = _rounded(fit)
            out_segments[name] = seg
        data["market"]["segments"] = out_segments
        for fit in self.fits:
            if not fit.key.startswith("market.segments."):
                section, key = fit.key.split(".", 1)
                data[section][key] = _rounded(fit)
        if self.recruitment is not None and self.recruitment.fits:
            data["recruitment"]["nurture_per_month"] = round(self.recruitment.nurture_per_month)
        data["program"] = {"levers": []}
        if with_partner_list:
            data["channel"] = {"partner_list": partner_list_path}
        else:
            data["channel"] = channel_counts(self.partner_list, segments)
        _clip_to_schema(data, self.warnings)
        data.pop("uncertainty", None)  # the base's ranges say nothing about this vendor: only the fits' do
        if with_uncertainty:
            data["uncertainty"] = self.uncertainty()
        return data

    def scenario(self) -> Scenario:
        """The calibrated scenario as today's engine loads it (counts per state, no uncertainty)."""
        return load_scenario(self.scenario_dict(with_partner_list=False, with_uncertainty=False))

    def uncertainty(self) -> dict[str, dict[str, list[float]]]:
        """The ``uncertainty:`` section: each fitted key's sampling distribution."""
        return {f.key: f.distribution for f in self.fits if f.distribution is not None}

    def notes(self) -> dict[str, str]:
        """The scenario file's comment per dotted key."""
        notes = {f.key: f.comment() for f in self.fits}
        origin = f"--base {self.base_source}" if self.base_source else "the MODEL.md defaults"
        for key, why in self.defaults.items():
            notes.setdefault(key, f"not fitted ({why}): taken from {origin}")
        for key, why in NOT_IN_EXPORT.items():
            notes.setdefault(key, f"not fitted ({why}): taken from {origin}")
        if self.recruitment is not None and self.recruitment.fits:
            notes["recruitment.nurture_per_month"] = (
                f"fitted: nurture starts a month in the prospects table over the last 12 months "
                f"({self.recruitment.nurture_per_month:.1f}); a decision: change it to plan"
            )
        notes["program.levers"] = "the export already reflects today's program: no extra levers"
        return notes

    def _segment_names(self) -> list[str]:
        names = set(self.history.segments)
        if self.export.prospects is not None:
            names |= set(self.export.prospects["segment"])
        return sorted(names)

    def _market_shares(self, segments: list[str]) -> dict[str, float]:
        if self.recruitment is not None and self.recruitment.segment_shares:
            raw = {s: self.recruitment.segment_shares.get(s, 0.0) for s in segments}
        else:
            counts = pd.Series(self.history.segments)[self.history.segment].value_counts()
            raw = {s: float(counts.get(s, 0)) for s in segments}
        return exact_shares(raw)

    # -- files ----------------------------------------------------------------------------------

    def to_yaml(self, partner_list_path: str = "partners.csv") -> str:
        """The scenario file: every fitted value with its comment; the partner list and ``uncertainty:``
        live when the engine reads them, else counts and the section commented out."""
        from .scenario_writer import scenario_yaml

        return scenario_yaml(self, partner_list_path)

    def write(self, out: str | Path, report: str | Path | None = None) -> list[Path]:
        """Write the scenario file, its partner list beside it (``<stem>-partners.csv``) and, if asked,
        the calibration report. Everything is built and checked before the first file is written."""
        from ..reports.tables import write_csv
        from ..sweeps.storage import atomic_write_bytes

        out = Path(out)
        if out.suffix.lower() not in (".yaml", ".yml"):
            raise ChannelError(f"--out {out}: a scenario file ends in .yaml")
        if out.exists() and out.is_dir():
            raise ChannelError(f"--out {out}: is a folder; give the scenario file's name")
        list_path = out.with_name(f"{out.stem}-partners.csv")
        text = self.to_yaml(list_path.name)
        html = None
        if report is not None:
            from .report import calibration_report

            html = calibration_report(self)
        out.parent.mkdir(parents=True, exist_ok=True)
        written = []
        write_csv(self.partner_list, list_path)
        written.append(list_path)
        atomic_write_bytes(out, text.encode())
        written.append(out)
        if html is not None:
            report = Path(report)
            report.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(report, html.encode())
            written.append(report)
        return written


def exact_shares(raw: dict[str, float]) -> dict[str, float]:
    """Shares rounded to 6 decimals that sum to exactly 1 (the largest takes the rounding)."""
    total = sum(raw.values())
    if total <= 0:
        return {k: round(1 / len(raw), 6) for k in raw}
    shares = {k: round(v / total, 6) for k, v in raw.items()}
    top = max(shares, key=shares.get)
    shares[top] = round(1.0 - sum(v for k, v in shares.items() if k != top), 6)
    return shares


def channel_counts(partner_list: pd.DataFrame, segments: list[str]) -> dict[str, Any]:
    """Counts per state and the segment mix of a partner list (how the engine starts without the list)."""
    counts = partner_list["state"].value_counts()
    channel: dict[str, Any] = {s.label: int(counts.get(s.label, 0)) for s in (State.SIGNED, State.ACTIVE)}
    channel.update({s.label: int(counts.get(s.label, 0)) for s in (State.COLLABORATING, State.DORMANT)})
    if len(partner_list):
        mix = partner_list["segment"].value_counts()
        channel["segment_shares"] = exact_shares({s: float(mix.get(s, 0)) for s in segments})
    return channel


def _rounded(fit: est.Fit) -> float | int:
    if fit.decimals == 0 and fit.key.endswith(("window_months", "nurture_months")):
        return round(fit.value)
    if fit.key.endswith("revenue_median"):
        return round(fit.value, 2)
    return float(f"{fit.value:.6g}")


def _clip_to_schema(data: dict[str, Any], warnings: list[str]) -> None:
    """Keep fitted values inside what a scenario allows (noisy data can push growth past them)."""
    bounds = {
        ("growth", "active"): (-0.99, 1.0),
        ("growth", "collaborating"): (-0.99, 1.0),
        ("growth", "volatility"): (0.0, 2.0),
    }
    for (section, key), (low, high) in bounds.items():
        value = data[section][key]
        if not low <= value <= high:
            data[section][key] = float(np.clip(value, low, high))
            warnings.append(
                f"{section}.{key} = {value:.4g} is outside what a scenario allows; clipped to {data[section][key]:g}"
            )


def partner_list(h: History, window: int, revenue: est.RevenueFit) -> pd.DataFrame:
    """The channel at the as-of month, one row per partner still in (the model's state; signed partners
    past their activation window are dormant, as in the model)."""
    last = h.months - 1
    M = h.model_states(window)[:, last]
    keep = np.isin(M, [State.SIGNED, State.ACTIVE, State.COLLABORATING, State.DORMANT])
    rate = est.run_rates(h)
    medians = {name: median for name, (median, _sigma) in revenue.channel.items()}
    seg_names = np.array(h.segments)[h.segment]
    no_rate = keep & np.isin(M, [State.ACTIVE, State.COLLABORATING, State.DORMANT]) & ~np.isfinite(rate)
    fill = np.array([medians.get(s, np.nan) for s in seg_names])
    rate = np.where(no_rate, fill, rate)
    rate = np.where(M == State.SIGNED, 0.0, np.nan_to_num(rate, nan=0.0))
    t12 = h.revenue[:, max(0, last - 11) :].sum(1)
    frame = pd.DataFrame(
        {
            "partner_id": h.partner_id,
            "segment": seg_names,
            "state": [State(s).label if s >= 0 else "" for s in M],
            "run_rate": np.round(rate, 2),
            "months_since_signing": (last - h.onboarded).astype(np.int64),
            "revenue_t12m": np.round(t12, 2),
            "tier": h.tier,
            "run_rate_filled": no_rate,
        }
    )
    return frame[keep].reset_index(drop=True)


def calibrate(
    export: str | Path | Export,
    as_of: str | pd.Timestamp | None = None,
    dormant_after: int = 3,
    base: ScenarioLike | None = None,
) -> CalibrationResult:
    """Fit a scenario to a partner export (a folder of CSV/Parquet tables or an .xlsx workbook).

    ``as_of`` (default: the last month of the revenue history) is the date the
    channel is read at; events after it are unknown. ``dormant_after`` is the
    number of months without revenue after which a partner counts as dormant.
    ``base`` (a scenario) gives every key the export cannot speak to.
    """
    data = export if isinstance(export, Export) else read_export(export)
    base_source = str(base) if isinstance(base, str | Path) else (base.name if isinstance(base, Scenario) else None)
    base_scn = load_scenario(base) if base is not None else Scenario()
    month = _as_of(as_of, data)
    if month != data.last_month:
        data = data.cut(month.to_timestamp(how="end"))
    aside = list(data.set_aside)
    h = build_history(data, month, dormant_after, aside)
    aside = [a for a in aside if a.count]
    defaults: dict[str, str] = {}
    warnings: list[str] = []
    fits: list[est.Fit] = []
    base_mult = {k: s.activation_multiplier for k, s in base_scn.market.segments.items()}
    activation = est.fit_activation(h, base_mult)
    if activation is None:
        window = base_scn.activation.window_months
        defaults["activation"] = "no first deal inside the revenue history"
    else:
        fits += activation.fits
        window = activation.window
        d = activation.data
        early = int((d.left & (d.duration <= window)).sum())
        if early:
            warnings.append(
                f"{early} partners left within their activation window without a first deal; the model has no "
                "such move, so their time signed is read as censored"
            )
    engagement = est.fit_engagement(h, window, base_scn.collaboration.peer_effect)
    fits += engagement.fits
    if not h.has_collaboration:
        defaults["collaboration.adoption_probability"] = "no collaboration table"
        defaults["collaboration.lapse_probability"] = "no collaboration table"
        defaults["growth.collaborating"] = "no collaboration table"
    growth = est.fit_growth(h, h.model_states(window))
    if growth is None:
        defaults["growth"] = "too few consecutive months with revenue"
    else:
        fits += growth.fits
    revenue = est.fit_revenue(h, data.prospects)
    fits += revenue.fits
    for name, done in revenue.corrected.items():
        if not done and data.prospects is not None and data.prospects["fit_score"].notna().any():
            warnings.append(
                f"market.segments.{name}.revenue_median: fewer than {est.MIN_SCORED} recruited partners with a fit "
                "score, so recruitment's selection by fit score is not undone; it may be too high"
            )
    recruitment = None
    if data.prospects is not None:
        recruitment = est.fit_recruitment(
            data.prospects, month, base_scn.market.vendor_signings_per_year, base_scn.recruitment.cooloff_months
        )
        fits += recruitment.fits
        if not recruitment.fits:
            defaults["recruitment"] = "no nurtured prospects in the prospects table"
    else:
        defaults["recruitment"] = "no prospects table"
    listing = partner_list(h, window, revenue)
    filled = int(listing["run_rate_filled"].sum())
    if filled:
        warnings.append(
            f"{filled} partners with a deal have no revenue in the history; their run_rate in the partner list "
            "is their segment's median"
        )
    listing = listing.drop(columns="run_rate_filled")
    for fit in fits:
        if fit.thin:
            warnings.append(
                f"{fit.key}: only {fit.events} events; "
                f"its interval ({est._num(fit.low)} to {est._num(fit.high)}) is wide"
            )
    return CalibrationResult(
        export=data,
        history=h,
        as_of=month,
        dormant_after=int(dormant_after),
        base=base_scn,
        base_source=base_source,
        fits=fits,
        activation=activation,
        engagement=engagement,
        growth=growth,
        revenue=revenue,
        recruitment=recruitment,
        partner_list=listing,
        set_aside=aside,
        defaults=defaults,
        warnings=warnings,
    )


def _as_of(as_of: str | pd.Timestamp | None, data: Export) -> pd.Period:
    if as_of is None:
        return data.last_month
    try:
        month = pd.Timestamp(as_of).to_period("M")
    except (ValueError, TypeError):
        raise ChannelError(f"as_of = {as_of!r}: is not a date (YYYY-MM-DD)") from None
    if month < data.first_month:
        raise ChannelError(f"as_of = {as_of}: is before the revenue history starts ({data.first_month})")
    if month > data.last_month:
        raise ChannelError(f"as_of = {as_of}: is after the revenue history ends ({data.last_month})")
    return month
