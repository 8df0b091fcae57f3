"""The scenario: every key of MODEL.md, its default and its allowed values.

A scenario is a frozen, validated pydantic model. Its sections mirror the
scenario file (``market``, ``channel``, ``recruitment``, ...). Mappings inside
it are read-only; change a scenario with :meth:`Scenario.override`, which
returns a new, re-validated scenario.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    model_validator,
)

from ..errors import ScenarioError, did_you_mean, one_of
from ..lifecycle.rates import RATE_KEYS, RATES, Phase
from ..lifecycle.states import IN_CHANNEL, STATE_LABELS, State
from .keys import key_parts
from .uncertainty import key_bounds, make_distribution


class FrozenDict(dict):
    """A dict that refuses changes (scenarios are immutable) and pickles."""

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("scenarios are immutable; use scenario.override(section__key=value)")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]
    __ior__ = _refuse  # type: ignore[assignment]

    def __reduce__(self):  # noqa: ANN204 - pickle protocol
        return (FrozenDict, (dict(self),))

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items(), key=lambda kv: kv[0])))

    def __deepcopy__(self, memo: dict) -> FrozenDict:
        return FrozenDict({k: copy.deepcopy(v, memo) for k, v in self.items()})


def _freeze(value: Mapping) -> FrozenDict:
    return FrozenDict(value)


def _as_tuple(value: Any) -> Any:
    # YAML gives lists; the frozen scenario keeps tuples.
    return tuple(value) if isinstance(value, list) else value


Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
# Money keys are bounded so that every sum the engine makes (companies x months x levers x intensity)
# stays far inside float64: a cost of 1e9 a partner-month over 5 million companies and 600 months is 3e18.
Cost = Annotated[float, Field(ge=0.0, le=1e9)]
FixedCost = Annotated[float, Field(ge=0.0, le=1e12)]
Count = Annotated[int, Field(ge=0)]
Months = Annotated[int, Field(ge=1, le=600)]
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
#: Names the output tables use for themselves (scorecard totals): no segment may take them.
RESERVED_NAMES = ("all", "total", "none")


class Section(BaseModel):
    """Base of every scenario section: strict types, no unknown keys, frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False, validate_default=True)


class Segment(Section):
    """A segment of the market (for example resellers, MSPs, integrators)."""

    share: Probability = Field(1.0, description="share of the prospects (and by default of the channel)")
    revenue_median: Annotated[float, Field(gt=0.0, le=1e8)] = Field(
        5000.0, description="median monthly revenue potential of a partner"
    )
    revenue_sigma: Annotated[float, Field(ge=0.0, le=4.0)] = Field(
        1.7, description="lognormal sigma of the potential (1.7 gives an 80/20 channel)"
    )
    activation_multiplier: Annotated[float, Field(ge=0.0, le=100.0)] = Field(
        1.0, description="scales the first-deal hazard of this segment"
    )


def _default_segments() -> FrozenDict:
    return FrozenDict({"partner": Segment()})


MAX_SEGMENTS = 127  # segment indices are int8 in the engine


class ProspectList(Section):
    """The vendor's own scored prospect list (``market.prospect_list``): a file path, a table or columns."""

    prospect_id: tuple[str, ...]
    segment: tuple[str, ...]
    fit_score: tuple[Annotated[float, Field(allow_inf_nan=False)], ...]
    file: str = ""

    @model_validator(mode="before")
    @classmethod
    def _read(cls, data: Any) -> Any:
        from .partner_list import prospect_columns, read_prospect_list

        return _listed(data, read_prospect_list, prospect_columns)

    @model_validator(mode="after")
    def _same_length(self) -> ProspectList:
        n = len(self.prospect_id)
        if len(self.segment) != n or len(self.fit_score) != n:
            raise ScenarioError("prospect_id, segment and fit_score must have one value per prospect", "prospect_list")
        if len(set(self.prospect_id)) != n:
            raise ScenarioError("prospect_id values must be unique", "prospect_list.prospect_id")
        return self

    def __len__(self) -> int:
        return len(self.prospect_id)


class Market(Section):
    """The addressable market: companies matching the ideal partner profile."""

    prospects: Annotated[int, Field(ge=0, le=5_000_000)] = 2000
    vendor_signings_per_year: Annotated[float, Field(ge=0.0, le=120.0)] = 2.5
    segments: Annotated[dict[str, Segment], AfterValidator(_freeze)] = Field(default_factory=_default_segments)
    prospect_list: ProspectList | None = None

    @model_validator(mode="before")
    @classmethod
    def _prospects_from_the_list(cls, data: Any) -> Any:
        # With a prospect list, the market is the list: its length replaces market.prospects.
        if isinstance(data, dict) and data.get("prospect_list") is not None:
            listed = ProspectList.model_validate(data["prospect_list"])
            data = {**data, "prospect_list": listed, "prospects": len(listed)}
        return data

    @model_validator(mode="after")
    def _check_segments(self) -> Market:
        if not self.segments:
            raise ScenarioError("at least one segment is needed", "segments")
        if len(self.segments) > MAX_SEGMENTS:  # the engine keeps segment indices in int8
            raise ScenarioError(f"{len(self.segments):,} segments; at most {MAX_SEGMENTS} are allowed", "segments")
        for name in self.segments:
            if not NAME.match(name):
                raise ScenarioError(
                    f"segment name {name!r} must be lower case letters, digits and _",
                    "segments",
                )
            if name in STATE_LABELS or name in RESERVED_NAMES:
                raise ScenarioError(
                    f"segment name {name!r} is reserved (a lifecycle state, or a name the outputs use for "
                    f"totals: {one_of(RESERVED_NAMES)}); choose another name",
                    "segments",
                )
            if "__" in name:
                raise ScenarioError(
                    f"segment name {name!r} contains '__', which keyword overrides use to separate keys; "
                    "use single underscores",
                    "segments",
                )
        _check_shares({k: s.share for k, s in self.segments.items()}, "segments")
        return self


def _check_shares(shares: Mapping[str, float], key: str) -> None:
    total = sum(shares.values())
    if abs(total - 1.0) > 1e-6:
        parts = " + ".join(f"{k} {v:g}" for k, v in shares.items())
        raise ScenarioError(f"segment shares sum to {total:g} ({parts}); they must sum to 1", key)


def _listed(data: Any, read: Any, columns: Any) -> Any:
    """A list given as a file path (read and checked), a table (checked) or columns, as columns of tuples."""
    if isinstance(data, str | Path):
        data = {**read(data), "file": str(data)}
    elif hasattr(data, "columns") and hasattr(data, "to_dict"):  # a pandas DataFrame
        data = columns(data)
    if isinstance(data, Mapping):
        data = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return data


ListState = Literal["signed", "active", "collaborating", "dormant"]
Amount = Annotated[float, Field(ge=0.0, le=1e12)]


class PartnerList(Section):
    """Today's partners one by one, from the vendor's partner list (see :mod:`.partner_list`).

    Given as a file path (CSV, Parquet or Excel; relative paths are relative to the scenario file), a
    table, or these columns; kept as columns of plain values, so the scenario carries its partners.
    """

    partner_id: tuple[str, ...]
    segment: tuple[str, ...]
    state: tuple[ListState, ...]
    run_rate: tuple[Amount, ...]
    months_since_signing: tuple[Annotated[int, Field(ge=0, le=600)] | None, ...] | None = None
    revenue_t12m: tuple[Amount | None, ...] | None = None
    tier: tuple[str | None, ...] | None = None
    file: str = ""

    @model_validator(mode="before")
    @classmethod
    def _read(cls, data: Any) -> Any:
        from .partner_list import partner_columns, read_partner_list

        return _listed(data, read_partner_list, partner_columns)

    @model_validator(mode="after")
    def _same_length(self) -> PartnerList:
        n = len(self.partner_id)
        if n == 0:
            raise ScenarioError("the partner list has no partners", "partner_list")
        for name in ("segment", "state", "run_rate", "months_since_signing", "revenue_t12m", "tier"):
            column = getattr(self, name)
            if column is not None and len(column) != n:
                raise ScenarioError(f"column {name} has {len(column)} values for {n} partners", "partner_list")
        if len(set(self.partner_id)) != n:
            raise ScenarioError("partner_id values must be unique", "partner_list.partner_id")
        return self

    def __len__(self) -> int:
        return len(self.partner_id)

    def count(self, state: State) -> int:
        return sum(1 for s in self.state if s == state.label)


class Channel(Section):
    """Today's partners: counts by lifecycle state, or the vendor's own partner list."""

    signed: Annotated[int, Field(ge=0, le=5_000_000)] = 0
    active: Annotated[int, Field(ge=0, le=5_000_000)] = 0
    collaborating: Annotated[int, Field(ge=0, le=5_000_000)] = 0
    dormant: Annotated[int, Field(ge=0, le=5_000_000)] = 0
    segment_shares: Annotated[dict[str, Probability], AfterValidator(_freeze)] | None = None
    partner_list: PartnerList | None = None

    @model_validator(mode="after")
    def _counts_or_list(self) -> Channel:
        if self.partner_list is not None:
            counted = [s for s in ("signed", "active", "collaborating", "dormant") if getattr(self, s)]
            if counted:
                raise ScenarioError(
                    f"give today's partners either as counts (channel.{counted[0]} = {getattr(self, counted[0])}) "
                    "or as a partner list, not both",
                    "partner_list",
                )
            if self.segment_shares is not None:
                raise ScenarioError(
                    "segment_shares split counts over segments; a partner list gives each partner's segment",
                    "segment_shares",
                )
        return self

    @property
    def partners(self) -> int:
        """Number of today's partners."""
        if self.partner_list is not None:
            return len(self.partner_list)
        return self.signed + self.active + self.collaborating + self.dormant

    def count(self, state: State) -> int:
        """Today's partners in ``state``."""
        if self.partner_list is not None:
            return self.partner_list.count(state)
        return int(getattr(self, state.label))


class Recruitment(Section):
    """Phase 2: nurturing prospects from the top of the fit-score ranking."""

    nurture_per_month: Annotated[int, Field(ge=0, le=1_000_000)] = 20
    win_share: Probability = 0.3
    nurture_months: Annotated[int, Field(ge=1, le=600)] = 6
    cooloff_months: Annotated[int, Field(ge=0, le=600)] = 12
    scoring_accuracy: Probability = 0.6
    # Who is hard to win: a prospect's win-share hazard is scaled by (potential / segment median) ** -e.
    # 0 is MODEL.md's model (size does not matter).
    size_elasticity: Annotated[float, Field(ge=0.0, le=2.0)] = 0.0


class Activation(Section):
    """Phase 3: the first deal, within the activation window."""

    monthly_probability: Probability = 0.11
    window_months: Months = 6
    # Ramp-up after the first deal: a recruit earns ramp_start of its potential at its first deal, rising in
    # a straight line to all of it after ramp_months (on top of growth). ramp_months 0: no ramp (MODEL.md).
    ramp_start: Annotated[float, Field(gt=0.0, le=1.0)] = 0.25
    ramp_months: Annotated[int, Field(ge=0, le=600)] = 0


class Churn(Section):
    """Phase 4: attrition and reactivation."""

    dormancy_probability: Probability = 0.012
    exit_probability: Probability = 0.008
    reactivation_probability: Probability = 0.04
    dormant_exit_probability: Probability = 0.04


class Collaboration(Section):
    """Phase 5: adoption of collaboration, with the peer effect, and lapses."""

    adoption_probability: Probability = 0.02
    peer_effect: Annotated[float, Field(ge=0.0, le=100.0)] = 1.0
    lapse_probability: Probability = 0.02


class Growth(Section):
    """Annual growth of partner run-rates, with mean-one lognormal noise."""

    # Bounded so run-rates stay finite in float32 over the longest horizon.
    active: Annotated[float, Field(gt=-1.0, le=1.0)] = 0.11
    collaborating: Annotated[float, Field(gt=-1.0, le=1.0)] = 0.19
    volatility: Annotated[float, Field(ge=0.0, le=2.0)] = 0.2


class Economics(Section):
    """Margin on partner revenue and the cost of recruiting."""

    gross_margin: Probability = 0.6
    nurture_cost_per_month: Cost = 200.0
    onboarding_cost: Cost = 5000.0
    discount_rate: Annotated[float, Field(ge=0.0, le=1.0)] = 0.10  # annual, for the NPV of a program change


Target = Annotated[float, Field(gt=0.0, le=1e15)]


class Plan(Section):
    """The sales plan: revenue wanted in the last 12 months of the horizon, or one target per plan year."""

    revenue_target: Target | None = None
    revenue_targets: Annotated[tuple[Target, ...], BeforeValidator(_as_tuple)] | None = None
    confidence: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.9

    @model_validator(mode="before")
    @classmethod
    def _last_year_is_the_target(cls, data: Any) -> Any:
        # With a target per year, revenue_target is the last year's (given or not, it must agree).
        if isinstance(data, dict) and isinstance(data.get("revenue_targets"), list | tuple) and data["revenue_targets"]:
            last = data["revenue_targets"][-1]
            given = data.get("revenue_target")
            if given is None:
                data = {**data, "revenue_target": last}
            elif isinstance(given, int | float) and isinstance(last, int | float) and given != last:
                from ..formatting import money

                raise ScenarioError(
                    f"is {money(given)}, but with a target per year (plan.revenue_targets) it must be the last "
                    f"year's, {money(last)}; leave revenue_target out",
                    "revenue_target",
                )
        return data

    @property
    def years(self) -> int:
        """Plan years with their own target (0 without yearly targets)."""
        return len(self.revenue_targets or ())


class LeverCost(Section):
    """What a lever costs while it runs."""

    per_partner_month: Cost = 0.0
    fixed_per_month: FixedCost = 0.0
    per_signing: Cost = 0.0
    revenue_share: Probability = 0.0


@cache
def lever_catalogue() -> dict[str, dict[str, Any]]:
    """The lever catalogue shipped with the engine (name -> lever definition)."""
    from .yaml_io import parse_yaml

    text = resources.files("simulator.lifecycle").joinpath("catalogue.yaml").read_text("utf-8")
    return parse_yaml(text, "lever catalogue")


def _default_phase(effects: Mapping[str, float]) -> str:
    for key in effects:
        if key in RATES:
            return RATES[key].phase
    return "optimization"


#: Effects of a lever or a tier: rate key -> relative change x (the rate is scaled by 1 + x).
Effects = Annotated[dict[str, Annotated[float, Field(ge=-1.0, le=100.0)]], AfterValidator(_freeze)]


def check_effect_keys(effects: Mapping[str, float], field: str = "effects") -> None:
    """Every effect names a rate a lever can scale (one check for levers and tiers)."""
    for key in effects:
        if key not in RATES:
            raise ScenarioError(
                f"{key!r} is not a rate a lever can scale{did_you_mean(key, RATE_KEYS)}; allowed: {one_of(RATE_KEYS)}",
                field,
            )


class Lever(Section):
    """A program lever: which companies it targets, what it changes, what it costs."""

    use: str | None = None
    name: str
    phase: Phase = "optimization"
    applies_to: Annotated[tuple[str, ...], BeforeValidator(_as_tuple)] = ()
    segments: Annotated[tuple[str, ...], BeforeValidator(_as_tuple)] | None = None
    effects: Effects = Field(default_factory=FrozenDict)
    cost: LeverCost = LeverCost()
    months: (
        Annotated[
            tuple[Annotated[int, Field(ge=0, le=601)], Annotated[int, Field(ge=0, le=600)]],
            BeforeValidator(_as_tuple),
        ]
        | None
    ) = None
    intensity: Annotated[float, Field(ge=0.0, le=100.0)] = 1.0
    note: str = ""

    @model_validator(mode="before")
    @classmethod
    def _from_catalogue(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if "use" in data and data["use"] is not None:
            use = data["use"]
            catalogue = lever_catalogue()
            if not isinstance(use, str) or use not in catalogue:
                raise ScenarioError(
                    f"unknown lever {use!r}{did_you_mean(str(use), catalogue)}; the catalogue has: {one_of(catalogue)}",
                    "use",
                )
            merged: dict[str, Any] = copy.deepcopy(catalogue[use])
            for key, value in data.items():
                if key in ("effects", "cost") and isinstance(value, dict):
                    merged[key] = {**merged.get(key, {}), **value}
                else:
                    merged[key] = value
            merged.setdefault("name", use)
            data = merged
        if "name" not in data:
            raise ScenarioError("a lever needs `use: <catalogue lever>` or a `name`", "name")
        if "phase" not in data and isinstance(data.get("effects"), dict):
            data["phase"] = _default_phase(data["effects"])
        return data

    @model_validator(mode="after")
    def _check_effects(self) -> Lever:
        if not NAME.match(self.name) or "__" in self.name:
            raise ScenarioError(
                f"lever name {self.name!r} must be lower case letters, digits and single underscores", "name"
            )
        check_effect_keys(self.effects)
        return self

    def states(self) -> tuple[State, ...]:
        """Targeted states: those named in ``applies_to``, else those its effects act on."""
        named = [State.from_label(x) for x in self.applies_to if x in STATE_LABELS]
        if named:
            return tuple(dict.fromkeys(named))
        acted = [s for key in self.effects for s in RATES[key].states]
        return tuple(dict.fromkeys(acted))

    def targeted_segments(self, segment_names: tuple[str, ...]) -> tuple[str, ...]:
        """Targeted segments: ``segments`` plus any segment named in ``applies_to``; else all."""
        named = [x for x in self.applies_to if x in segment_names]
        named += list(self.segments or ())
        return tuple(dict.fromkeys(named)) if named else segment_names

    def month_range(self, horizon: int) -> tuple[int, int]:
        """First and last month (inclusive) the lever runs; empty when last < first."""
        return self.months if self.months is not None else (1, horizon)


class TierCost(Section):
    """What a tier costs: a rebate on its partners' revenue and market development funds (MDF)."""

    revenue_share: Probability = 0.0  # of the revenue the tier's partners earn in the month
    per_partner_month: Cost = 0.0  # per in-channel partner of the tier at the end of the month


#: Partner tiers of one program, at most (tier indices are int8 in the engine; reports stay readable).
MAX_TIERS = 10
#: Tier thresholds are trailing-12-month revenue in the scenario's currency, at most this.
MAX_TIER_THRESHOLD = 1e15
#: States a tier's effects may act on: the partners' own (tiers hold in-channel partners only).
_TIER_STATES = frozenset(IN_CHANNEL)


class Tier(Section):
    """A partner tier (certification level): who qualifies, what it changes, what it costs."""

    name: str
    threshold: Annotated[float, Field(ge=0.0, le=MAX_TIER_THRESHOLD)] = 0.0
    effects: Effects = Field(default_factory=FrozenDict)
    cost: TierCost = TierCost()
    note: str = ""

    @model_validator(mode="after")
    def _check(self) -> Tier:
        if not NAME.match(self.name) or "__" in self.name:
            raise ScenarioError(
                f"tier name {self.name!r} must be lower case letters, digits and single underscores, "
                "starting with a letter",
                "name",
            )
        if self.name in RESERVED_NAMES:
            raise ScenarioError(
                f"tier name {self.name!r} is reserved (a name the outputs use for totals: {one_of(RESERVED_NAMES)}); "
                "choose another name",
                "name",
            )
        check_effect_keys(self.effects)
        for key in self.effects:
            if not set(RATES[key].states) & _TIER_STATES:
                raise ScenarioError(
                    f"{key!r} acts on {', '.join(s.label for s in RATES[key].states)} companies, which hold no "
                    f"tier; a tier may scale rates of in-channel partners: "
                    f"{one_of(k for k in RATE_KEYS if set(RATES[k].states) & _TIER_STATES)}",
                    "effects",
                )
        return self


class Program(Section):
    """The partner program: a list of levers, and optionally partner tiers reviewed every ``review_months``."""

    levers: Annotated[tuple[Lever, ...], BeforeValidator(_as_tuple)] = ()
    tiers: Annotated[tuple[Tier, ...], BeforeValidator(_as_tuple)] = ()
    review_months: Annotated[int, Field(ge=1, le=120)] = 12

    @model_validator(mode="after")
    def _check_tiers(self) -> Program:
        tiers = self.tiers
        if len(tiers) > MAX_TIERS:
            raise ScenarioError(f"{len(tiers)} tiers; at most {MAX_TIERS} are allowed", "tiers")
        seen: set[str] = set()
        for i, tier in enumerate(tiers):
            if tier.name in seen:
                raise ScenarioError(
                    f"tier name {tier.name!r} is used twice; give each tier its own name", f"tiers[{i}].name"
                )
            seen.add(tier.name)
            if i == 0 and tier.threshold != 0:
                raise ScenarioError(
                    f"is {tier.threshold:g}; the first (lowest) tier holds every partner that qualifies for no other, "
                    "so its threshold must be 0",
                    "tiers[0].threshold",
                )
            if i > 0 and not tier.threshold > tiers[i - 1].threshold:
                raise ScenarioError(
                    f"is {tier.threshold:g}; tiers are listed lowest first, so it must be above {tiers[i - 1].name}'s "
                    f"({tiers[i - 1].threshold:g})",
                    f"tiers[{i}].threshold",
                )
        return self

    @property
    def tier_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tiers)


Distribution = make_distribution(Section)


class Scenario(Section):
    """A validated, immutable scenario (see MODEL.md for the meaning of every key)."""

    name: str = "scenario"
    description: str = ""
    currency: str = "USD"
    horizon_months: Months = 36
    market: Market = Market()
    channel: Channel = Channel()
    recruitment: Recruitment = Recruitment()
    activation: Activation = Activation()
    churn: Churn = Churn()
    collaboration: Collaboration = Collaboration()
    growth: Growth = Growth()
    economics: Economics = Economics()
    plan: Plan = Plan()
    program: Program = Program()
    uncertainty: Annotated[dict[str, Distribution], AfterValidator(_freeze)] = Field(default_factory=FrozenDict)

    _notes: FrozenDict = PrivateAttr(default_factory=FrozenDict)
    _sources: FrozenDict = PrivateAttr(default_factory=FrozenDict)

    @model_validator(mode="after")
    def _check_cross_keys(self) -> Scenario:
        segments = tuple(self.market.segments)
        shares = self.channel.segment_shares
        if shares is not None:
            for key in shares:
                if key not in segments:
                    raise ScenarioError(
                        f"unknown segment {key!r}{did_you_mean(key, segments)}; "
                        f"market.segments has: {one_of(segments)}",
                        "channel.segment_shares",
                    )
            _check_shares(shares, "channel.segment_shares")
        prospects = self.market.prospect_list
        if prospects is not None:
            for i, seg in enumerate(prospects.segment):
                if seg not in segments:
                    raise ScenarioError(
                        f"row {i + 2} ({prospects.prospect_id[i]}): unknown segment {seg!r}"
                        f"{did_you_mean(seg, segments)}; market.segments has: {one_of(segments)}",
                        "market.prospect_list",
                    )
        listed = self.channel.partner_list
        if listed is not None:
            for i, seg in enumerate(listed.segment):
                if seg not in segments:
                    raise ScenarioError(
                        f"row {i + 2} ({listed.partner_id[i]}): unknown segment {seg!r}{did_you_mean(seg, segments)};"
                        f" market.segments has: {one_of(segments)}",
                        "channel.partner_list",
                    )
            window = self.activation.window_months
            for i, (state, months) in enumerate(zip(listed.state, listed.months_since_signing or (), strict=False)):
                if state == "signed" and months is not None and months >= window:
                    raise ScenarioError(
                        f"row {i + 2} ({listed.partner_id[i]}): a signed partner {months} months into a "
                        f"{window}-month activation window has no chance left; months_since_signing must be "
                        f"below activation.window_months (or list it as dormant)",
                        "channel.partner_list",
                    )
        targets = self.plan.revenue_targets
        if targets is not None:
            H = self.horizon_months
            if not targets or H % 12 or len(targets) != H // 12:
                raise ScenarioError(
                    f"{len(targets)} yearly target(s) for a {H}-month horizon; give one per plan year "
                    f"({H // 12 if H % 12 == 0 else 'a horizon in whole years'})",
                    "plan.revenue_targets",
                )
        for key, dist in self.uncertainty.items():
            low, high = key_bounds(key, segments)
            if dist.mass(low, high) <= 1e-12:
                raise ScenarioError(
                    f"{dist.kind} {list(dist.parameters)} puts no probability within the key's range "
                    f"[{low:g}, {high:g}]",
                    f"uncertainty.{key}",
                )
        if self.companies > 5_000_000:
            raise ScenarioError(
                f"{self.companies:,} companies (prospects plus today's partners); the engine accepts at most 5,000,000",
                "market.prospects",
            )
        seen: set[str] = set()
        for i, lever in enumerate(self.program.levers):
            _check_lever(lever, f"program.levers[{i}]", segments, self.horizon_months)
            if lever.name in seen:
                raise ScenarioError(
                    f"lever name {lever.name!r} is used twice; give each lever its own name",
                    f"program.levers[{i}].name",
                )
            seen.add(lever.name)
        _check_program_size(len(self.program.levers), len(segments), self.horizon_months)
        if self.program.levers or self.program.tiers:
            from ..lifecycle.program import check_levers

            check_levers(self)  # refuses stacked effects the engine cannot represent
        return self

    # -- convenience -------------------------------------------------------

    @property
    def companies(self) -> int:
        """Companies in the population: prospects plus today's partners."""
        return self.market.prospects + self.channel.partners

    @property
    def segment_names(self) -> tuple[str, ...]:
        return tuple(self.market.segments)

    @property
    def notes(self) -> Mapping[str, str]:
        """Source notes read from the scenario file's comments (dotted key -> note)."""
        return self._notes

    @property
    def sources(self) -> Mapping[str, Any]:
        """Where each value came from: dotted key -> :class:`~simulator.scenario.sources.Source` (file and
        line, base file, override or calibrated); :func:`~simulator.scenario.sources.source_of` looks a
        key up, defaults included."""
        return self._sources

    def __iter__(self):  # noqa: ANN204
        # A scenario is one value, not a collection of fields: this keeps
        # mesa.batch_run(parameters={"scenario": scenario}) from iterating it.
        raise TypeError("a Scenario is a single value; put scenarios to compare in a list")

    def get(self, key: str) -> Any:
        """Value at a dotted key, e.g. ``scenario.get("activation.window_months")``."""
        value: Any = self.to_dict()
        if key.startswith("uncertainty."):  # the section's own keys are dotted: match them whole
            rest = key[len("uncertainty.") :]
            for name, spec in value["uncertainty"].items():
                if rest == name:
                    return spec
                if rest.startswith(f"{name}.") and rest[len(name) + 1 :] in spec:
                    return spec[rest[len(name) + 1 :]]
        for part in key_parts(key):
            try:
                value = value[int(part)] if isinstance(value, list) else value[part]
            except (KeyError, IndexError, ValueError, TypeError):
                raise ScenarioError(f"no such key in the scenario{did_you_mean(key, flat_keys(self))}", key) from None
        return value

    def override(self, **overrides: Any) -> Scenario:
        """A new scenario with ``section__key=value`` overrides applied and re-validated."""
        from .loading import load_scenario

        return load_scenario(self, **overrides)

    def without_uncertainty(self) -> Scenario:
        """The same scenario with its ``uncertainty:`` section removed (the future's noise alone)."""
        return self.override(uncertainty={}) if self.uncertainty else self

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-safe data; :func:`load_scenario` reads it back unchanged."""
        return self.model_dump(mode="json")

    def to_yaml(self) -> str:
        from .yaml_io import dump_yaml

        return dump_yaml(self.to_dict())

    def fingerprint(self) -> str:
        """A short hash of every value (not the notes): equal scenarios, equal fingerprints."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _check_program_size(n_levers: int, n_segments: int, horizon: int) -> None:
    """Refuse, before allocating, lever tables (levers x segments x months) that would not fit in memory."""
    from ..lifecycle.program import MAX_PROGRAM_BYTES, program_table_bytes

    need = program_table_bytes(n_levers, n_segments, horizon)
    if need > MAX_PROGRAM_BYTES:
        raise ScenarioError(
            f"{n_levers:,} levers x {n_segments} segments x {horizon + 1} months need {need / 2**30:.1f} GiB of "
            f"lever tables; the engine allows {MAX_PROGRAM_BYTES >> 20} MiB (fewer levers, segments or months)",
            "program.levers",
        )


def _check_lever(lever: Lever, key: str, segments: tuple[str, ...], horizon: int) -> None:
    for item in lever.applies_to:
        if item not in STATE_LABELS and item not in segments:
            raise ScenarioError(
                f"{item!r} is neither a state nor a segment"
                f"{did_you_mean(item, (*STATE_LABELS, *segments))}; "
                f"states: {one_of(STATE_LABELS)}; segments: {one_of(segments)}",
                f"{key}.applies_to",
            )
    for item in lever.segments or ():
        if item not in segments:
            raise ScenarioError(
                f"unknown segment {item!r}{did_you_mean(item, segments)}; market.segments has: {one_of(segments)}",
                f"{key}.segments",
            )
    states = lever.states()
    if not states:
        raise ScenarioError(
            "the lever targets no state: list states in applies_to or give it effects",
            f"{key}.applies_to",
        )
    for rate, x in lever.effects.items():
        if lever.intensity * x < -1:
            raise ScenarioError(
                f"intensity {lever.intensity:g} times effect {x:g} on {rate} is {lever.intensity * x:g}: "
                f"a rate cannot be scaled below zero, so intensity must be <= {1 / -x:g} for this lever",
                f"{key}.intensity",
            )
        acts_on = RATES[rate].states
        if not set(acts_on) & set(states):
            raise ScenarioError(
                f"effect {rate!r} acts on {', '.join(s.label for s in acts_on)} companies, "
                f"but the lever targets only {', '.join(s.label for s in states)}",
                f"{key}.effects",
            )
    if lever.months is not None:
        first, last = lever.months
        if not 1 <= first <= horizon + 1 or not first - 1 <= last <= horizon:
            raise ScenarioError(
                f"months [{first}, {last}] are outside the horizon: allowed 1 <= first <= "
                f"last <= {horizon} (or last = first - 1 for a lever that never runs)",
                f"{key}.months",
            )


def flat_keys(scenario: Scenario) -> list[str]:
    """Every dotted key of a scenario (leaves only), in file order."""
    out: list[str] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict) and value:
            for k, v in value.items():
                walk(v, f"{path}.{k}" if path else k)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for i, v in enumerate(value):
                walk(v, f"{path}[{i}]")  # the dotted spelling of scenario.keys
        else:
            out.append(path)

    walk(scenario.to_dict(), "")
    return out
