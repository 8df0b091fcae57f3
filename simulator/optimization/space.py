"""The decision space of a program optimisation, as data.

For each chosen lever: on or off, an intensity in a range (default 0 to 2)
and, optionally, the month it starts; optionally the prospects nurtured a
month. The search base is the scenario with every chosen lever in its
program (catalogue levers added at intensity 0, which is no effect and no
cost), so a candidate is a sweep point: dotted-key overrides of
``program.levers[i].intensity`` (0 when the lever is off),
``program.levers[i].months[0]`` (its start) and
``recruitment.nurture_per_month``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import ChannelError, did_you_mean, one_of
from ..scenario import Lever, Scenario, lever_catalogue, load_scenario

DEFAULT_RANGE = (0.0, 2.0)
NURTURE_KEY = "recruitment.nurture_per_month"
MAX_INTENSITY = 100.0  # the schema's bound on a lever's intensity


@dataclass(frozen=True)
class LeverChoice:
    """One lever the search may switch on, scale and (optionally) start later."""

    name: str
    index: int  # position in the search base's program.levers
    low: float = DEFAULT_RANGE[0]
    high: float = DEFAULT_RANGE[1]
    start: tuple[int, int] | None = None  # range of start months, when the start is a decision
    first: int = 1  # the months the lever runs when its start is not a decision
    last: int = 36
    own_intensity: float = 0.0  # in the scenario's own program (0: not in it)
    fixed_per_month: float = 0.0  # at intensity 1

    @property
    def intensity_key(self) -> str:
        return f"program.levers[{self.index}].intensity"

    @property
    def start_key(self) -> str:
        return f"program.levers[{self.index}].months[0]"

    @property
    def in_own_program(self) -> bool:
        return self.own_intensity > 0

    def cheapest_fixed_cost(self) -> float:
        """The fixed cost this lever runs up over the horizon when on, at the least it can be on: at
        intensity 1, or the range's low end when that is above 0, starting as late as allowed."""
        intensity = self.low if self.low > 0 else 1.0
        first = self.start[1] if self.start else self.first
        return intensity * self.fixed_per_month * max(self.last - first + 1, 0)


@dataclass(frozen=True)
class NurtureChoice:
    """``recruitment.nurture_per_month`` as a decision: a whole number in ``[low, high]``."""

    low: int
    high: int
    own: int


@dataclass(frozen=True)
class DecisionSpace:
    """The scenario, the search base and the decisions (see the module docstring)."""

    scenario: Scenario
    base: Scenario
    levers: tuple[LeverChoice, ...]
    nurture: NurtureChoice | None = None
    kept: tuple[str, ...] = field(default=())  # levers of the scenario that are not decisions

    @property
    def horizon(self) -> int:
        return self.scenario.horizon_months

    # -- optuna's view: named parameters and their distributions -----------------------

    def distributions(self) -> dict[str, Any]:
        """Parameter name -> optuna distribution, in a fixed order."""
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

        out: dict[str, Any] = {}
        for lever in self.levers:
            out[f"{lever.name}:on"] = CategoricalDistribution((False, True))
            out[f"{lever.name}:intensity"] = FloatDistribution(lever.low, lever.high)
            if lever.start:
                out[f"{lever.name}:start"] = IntDistribution(*lever.start)
        if self.nurture:
            out["nurture_per_month"] = IntDistribution(self.nurture.low, self.nurture.high)
        return out

    def suggest(self, trial: Any) -> dict[str, Any]:
        """Ask an optuna trial for one candidate's parameters (the same space every time)."""
        out: dict[str, Any] = {}
        for lever in self.levers:
            out[f"{lever.name}:on"] = trial.suggest_categorical(f"{lever.name}:on", (False, True))
            out[f"{lever.name}:intensity"] = trial.suggest_float(f"{lever.name}:intensity", lever.low, lever.high)
            if lever.start:
                out[f"{lever.name}:start"] = trial.suggest_int(f"{lever.name}:start", *lever.start)
        if self.nurture:
            out["nurture_per_month"] = trial.suggest_int("nurture_per_month", self.nurture.low, self.nurture.high)
        return out

    def point(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """A candidate's parameters as sweep-point overrides of the search base."""
        out: dict[str, Any] = {}
        for lever in self.levers:
            on = bool(params[f"{lever.name}:on"])
            # Rounded to 4 decimals: the winner's scenario file then runs exactly what was evaluated.
            out[lever.intensity_key] = round(float(params[f"{lever.name}:intensity"]), 4) if on else 0.0
            if lever.start:
                out[lever.start_key] = int(params[f"{lever.name}:start"])
        if self.nurture:
            out[NURTURE_KEY] = int(params["nurture_per_month"])
        return out

    def own_point(self) -> dict[str, Any]:
        """The scenario's own program as a point (the reference every candidate is compared with)."""
        out: dict[str, Any] = {}
        for lever in self.levers:
            out[lever.intensity_key] = float(lever.own_intensity)
            if lever.start:
                out[lever.start_key] = int(lever.first)
        if self.nurture:
            out[NURTURE_KEY] = int(self.nurture.own)
        return out

    def own_params(self) -> dict[str, Any] | None:
        """The scenario's own program as parameters, or None when it lies outside the space."""
        params: dict[str, Any] = {}
        for lever in self.levers:
            on = lever.in_own_program
            if on and not lever.low <= lever.own_intensity <= lever.high:
                return None
            params[f"{lever.name}:on"] = on
            params[f"{lever.name}:intensity"] = lever.own_intensity if on else lever.low
            if lever.start:
                if not lever.start[0] <= lever.first <= lever.start[1]:
                    return None
                params[f"{lever.name}:start"] = lever.first
        if self.nurture:
            if not self.nurture.low <= self.nurture.own <= self.nurture.high:
                return None
            params["nurture_per_month"] = self.nurture.own
        return params

    def off_params(self) -> dict[str, Any]:
        """Every decision lever off (today's nurturing, within its range)."""
        params: dict[str, Any] = {}
        for lever in self.levers:
            params[f"{lever.name}:on"] = False
            params[f"{lever.name}:intensity"] = lever.low
            if lever.start:
                params[f"{lever.name}:start"] = lever.start[0]
        if self.nurture:
            params["nurture_per_month"] = min(max(self.nurture.own, self.nurture.low), self.nurture.high)
        return params

    def describe(self, point: Mapping[str, Any]) -> str:
        """A candidate in words: ``partner_portal x1.25 from month 7; nurture 20/month``."""
        parts = []
        for lever in self.levers:
            k = float(point[lever.intensity_key])
            if k <= 0:
                continue
            text = f"{lever.name} x{k:.2f}"
            first = int(point[lever.start_key]) if lever.start else lever.first
            if first > 1:
                text += f" from month {first}"
            parts.append(text)
        if self.nurture:
            parts.append(f"nurture {int(point[NURTURE_KEY])}/month")
        return "; ".join(parts) or "no lever on"

    def scenario_of(self, point: Mapping[str, Any]) -> Scenario:
        """The full scenario of a candidate."""
        from ..sweeps.design import point_scenario

        return point_scenario(self.base, point)

    def without(self, names: Sequence[str]) -> DecisionSpace:
        """The space without some levers (screened out): they stay as the scenario has them."""
        drop = set(names)
        kept = tuple(lv for lv in self.levers if lv.name not in drop)
        return DecisionSpace(self.scenario, self.base, kept, self.nurture, (*self.kept, *sorted(drop)))

    def definition(self) -> dict[str, Any]:
        """Everything that defines the space (compared on --resume)."""
        return {
            "base": self.base.fingerprint(),
            "levers": [
                {"name": lv.name, "index": lv.index, "low": lv.low, "high": lv.high, "start": lv.start}
                for lv in self.levers
            ],
            "nurture": [self.nurture.low, self.nurture.high] if self.nurture else None,
        }


def parse_lever_spec(items: Sequence[str] | str) -> dict[str, tuple[float, float] | None]:
    """``"all"`` or ``["partner_portal", "events=0.5:1.5"]`` (or one comma-separated string) -> name -> range."""
    if isinstance(items, str):
        items = [x for x in items.split(",")]
    out: dict[str, tuple[float, float] | None] = {}
    for item in items:
        name, sep, raw = str(item).strip().partition("=")
        name = name.strip()
        if not name:
            continue
        if not sep:
            out[name] = None
            continue
        low, colon, high = raw.partition(":")
        try:
            if not colon:
                raise ValueError
            out[name] = (float(low), float(high))
        except ValueError:
            raise ChannelError(f"--levers {item!r}: expected name or name=low:high, e.g. partner_portal=0:2") from None
    return out


def build_space(
    scenario: Scenario | Any,
    levers: str | Sequence[str] | Mapping[str, tuple[float, float] | None],
    *,
    start_months: bool | tuple[int, int] = False,
    nurture: tuple[int, int] | None = None,
) -> DecisionSpace:
    """The decision space for ``levers`` (``"all"``, names, or name -> (low, high) intensity range).

    Every check is made here, before anything runs: unknown lever, empty list,
    a range with low > high or outside [0, 100], a bad start or nurture range.
    ``start_months=True`` makes each lever's start month a decision (from
    month 1 to the horizon; or give the range).
    """
    scn = load_scenario(scenario)
    catalogue = lever_catalogue()
    own = {lv.name: i for i, lv in enumerate(scn.program.levers)}
    known = {**dict.fromkeys(catalogue), **dict.fromkeys(own)}
    if isinstance(levers, str) and levers.strip() == "all":
        spec: dict[str, tuple[float, float] | None] = dict.fromkeys(known)
    elif isinstance(levers, Mapping):
        spec = {str(k): (None if v is None else (float(v[0]), float(v[1]))) for k, v in levers.items()}
    else:
        spec = parse_lever_spec(levers)
        if "all" in spec:
            spec = {**dict.fromkeys(known), **{k: v for k, v in spec.items() if k != "all"}}
    if not spec:
        raise ChannelError("--levers: the list is empty; name levers (e.g. partner_portal,events) or give all")
    for name in spec:
        if name not in known:
            raise ChannelError(
                f"--levers {name!r}: unknown lever{did_you_mean(name, known)}; "
                f"the catalogue and the scenario have: {one_of(known)}"
            )
    horizon = scn.horizon_months
    start_range: tuple[int, int] | None = None
    if start_months:
        start_range = (1, horizon) if start_months is True else (int(start_months[0]), int(start_months[1]))
        if not 1 <= start_range[0] <= start_range[1] <= horizon:
            raise ChannelError(
                f"--start-months {start_range[0]}:{start_range[1]}: must satisfy 1 <= low <= high <= {horizon}"
            )
    program = [lv.model_dump(mode="json") for lv in scn.program.levers]
    choices = []
    for name, rng in spec.items():
        low, high = rng if rng is not None else DEFAULT_RANGE
        if not (0.0 <= low <= high <= MAX_INTENSITY):
            raise ChannelError(
                f"--levers {name}={low:g}:{high:g}: the intensity range must have 0 <= low <= high <= {MAX_INTENSITY:g}"
            )
        if name in own:
            index = own[name]
            lever = scn.program.levers[index]
            first, last = lever.month_range(horizon)
            own_intensity = float(lever.intensity)
        else:
            index = len(program)
            program.append({"use": name, "intensity": 0.0})
            first, last, own_intensity = 1, horizon, 0.0
            lever = Lever.model_validate({"use": name})
        if start_range:
            program[index]["months"] = [first, last]
            if last < start_range[1]:
                raise ChannelError(
                    f"--start-months: lever {name} runs until month {last}, "
                    f"so it cannot start at month {start_range[1]}"
                )
        for rate, x in lever.effects.items():
            if high * x < -1:
                raise ChannelError(
                    f"--levers {name}={low:g}:{high:g}: intensity {high:g} times effect {x:g} on {rate} would scale "
                    f"the rate below zero; the range must end at or below {1 / -x:g}"
                )
        choices.append(
            LeverChoice(
                name=name,
                index=index,
                low=float(low),
                high=float(high),
                start=start_range,
                first=int(first),
                last=int(last),
                own_intensity=own_intensity,
                fixed_per_month=float(lever.cost.fixed_per_month),
            )
        )
    nurture_choice = None
    if nurture is not None:
        lo, hi = int(nurture[0]), int(nurture[1])
        if not 0 <= lo <= hi:
            raise ChannelError(f"--nurture {lo}:{hi}: the range must have 0 <= low <= high")
        nurture_choice = NurtureChoice(lo, hi, scn.recruitment.nurture_per_month)
    base = load_scenario(scn, program__levers=program)
    kept = tuple(lv.name for lv in scn.program.levers if lv.name not in spec)
    return DecisionSpace(scn, base, tuple(choices), nurture_choice, kept)


def kept_fixed_cost(space: DecisionSpace) -> float:
    """Fixed cost over the horizon of the scenario's levers that are not decisions (every candidate pays it)."""
    total = 0.0
    for lever in space.scenario.program.levers:
        if lever.name in {c.name for c in space.levers}:
            continue
        first, last = lever.month_range(space.horizon)
        total += lever.intensity * lever.cost.fixed_per_month * max(min(last, space.horizon) - max(first, 1) + 1, 0)
    return total
