"""The model's vocabulary, as data: lifecycle states and moves, the rates levers scale, and every figure
the engine reports.

Everything else derives from here: the kernel's column tuples and integer columns, the horizon figures
(``kpis``) and how each one reduces from the monthly table, which figures ``compare`` calls better when
higher, which rates sizing may search, the growth rates and their states, labels and number formats in
the CLI and the report, chart colours. Adding a figure is one :class:`Figure` entry here plus the code
that computes it (for a monthly figure, the kernel line that records it; a horizon figure that reduces a
monthly column needs no code at all). Adding a rate is one :class:`Rate` entry plus the phase function
that applies it. :func:`extended` adds entries for the duration of a ``with`` block (tests, plug-ins).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from enum import IntEnum
from typing import Literal, get_args

import numpy as np

# -- states and moves ---------------------------------------------------------------------------------


class State(IntEnum):
    """Where a company stands with the vendor (stored as int8 in the kernel)."""

    PROSPECT = 0  # matches the ideal partner profile, not (or no longer) nurtured
    NURTURING = 1  # in the vendor's recruitment programme
    SIGNED = 2  # signed, onboarding, no deal yet
    ACTIVE = 3  # has closed deals, earns revenue
    COLLABORATING = 4  # active and engaged in the collaboration programme
    DORMANT = 5  # still a partner, earns nothing
    CHURNED = 6  # left the channel (absorbing)

    @property
    def label(self) -> str:
        """Lower-case name used in scenario files and output columns."""
        return self.name.lower()

    def __str__(self) -> str:
        return self.label

    @classmethod
    def from_label(cls, label: str) -> State:
        """The state named ``label`` (``"active"`` -> ``State.ACTIVE``)."""
        return cls[label.upper()]


STATES: tuple[State, ...] = tuple(State)
STATE_LABELS: tuple[str, ...] = tuple(s.label for s in State)
N_STATES = len(STATES)

#: States whose partners earn revenue at the end of a month.
EARNING = (State.ACTIVE, State.COLLABORATING)
#: States of companies that are partners of the vendor today.
IN_CHANNEL = (State.SIGNED, State.ACTIVE, State.COLLABORATING, State.DORMANT)
#: States a scenario may list under ``channel`` (today's partners).
CHANNEL_STATES = IN_CHANNEL
#: Masks over state codes: ``EARNS[state]`` and ``IS_IN_CHANNEL[state]``.
EARNS = np.isin(np.arange(N_STATES), EARNING)
IS_IN_CHANNEL = np.isin(np.arange(N_STATES), IN_CHANNEL)

MAX_MOVES = 3  # no state has more than three random moves
#: Random moves per state, in the order their hazards are stacked.
MOVES: dict[State, tuple[State, ...]] = {
    State.NURTURING: (State.SIGNED,),
    State.SIGNED: (State.ACTIVE,),
    State.ACTIVE: (State.DORMANT, State.CHURNED, State.COLLABORATING),
    State.COLLABORATING: (State.DORMANT, State.CHURNED, State.ACTIVE),
    State.DORMANT: (State.ACTIVE, State.CHURNED),
}
#: Where a company goes when its time in a state runs out without a random move:
#: the nurture period ends (back to prospect) or the activation window closes.
DEADLINE_MOVES: dict[State, State] = {
    State.NURTURING: State.PROSPECT,
    State.SIGNED: State.DORMANT,
}


def signed_or_earning(state: np.ndarray, trailing_revenue: np.ndarray) -> np.ndarray:
    """Who counts among "all signed partners" for concentration: in the channel, or still earning
    (a partner that left this year keeps its trailing revenue). The one definition of the rule."""
    return IS_IN_CHANNEL[state] | (trailing_revenue > 0)


def state_codes(states: object) -> np.ndarray:
    """State codes of a column of state labels (a partners table's ``state``), as int8."""
    import pandas as pd

    labels = pd.Categorical(pd.Series(states).astype(str), categories=list(STATE_LABELS))
    if (labels.codes < 0).any():
        raise ValueError("unknown state label")
    return labels.codes.astype(np.int8)


# -- rates --------------------------------------------------------------------------------------------

#: Phases of the methodology, in order (a lever names the one it belongs to).
Phase = Literal[
    "research",
    "recruitment",
    "activation",
    "engagement",
    "collaboration",
    "measurement",
    "optimization",
]
PHASES: tuple[str, ...] = get_args(Phase)


@dataclass(frozen=True)
class Rate:
    """A rate a program lever may scale by ``1 + x``.

    ``states`` are the states whose companies it acts on; ``probability`` rates are scaled through their
    hazard (``p -> 1 - (1 - p) ** (1 + x)``), the others directly; ``direction`` is +1 when more of it
    raises revenue, -1 when it lowers it (what sizing needs to know).
    """

    key: str
    states: tuple[State, ...]
    phase: str
    probability: bool
    direction: int

    @property
    def is_growth(self) -> bool:
        """An annual growth rate of run-rates (capped so float32 run-rates stay finite)."""
        return self.key.startswith("growth.")


_RATES = (
    Rate("recruitment.win_share", (State.NURTURING,), "recruitment", True, +1),
    Rate("activation.monthly_probability", (State.SIGNED,), "activation", True, +1),
    Rate("churn.dormancy_probability", (State.ACTIVE, State.COLLABORATING), "engagement", True, -1),
    Rate("churn.exit_probability", (State.ACTIVE, State.COLLABORATING), "engagement", True, -1),
    Rate("churn.reactivation_probability", (State.DORMANT,), "engagement", True, +1),
    Rate("churn.dormant_exit_probability", (State.DORMANT,), "engagement", True, -1),
    Rate("collaboration.adoption_probability", (State.ACTIVE,), "collaboration", True, +1),
    Rate("collaboration.lapse_probability", (State.COLLABORATING,), "collaboration", True, -1),
    Rate("growth.active", (State.ACTIVE,), "engagement", False, +1),
    Rate("growth.collaborating", (State.COLLABORATING,), "collaboration", False, +1),
    Rate("revenue.uplift", (State.ACTIVE, State.COLLABORATING), "engagement", False, +1),
)
RATES: dict[str, Rate] = {r.key: r for r in _RATES}
RATE_KEYS: tuple[str, ...] = tuple(RATES)
RATE_INDEX: dict[str, int] = {k: i for i, k in enumerate(RATE_KEYS)}
#: Growth rates and the state each one applies to: ``(key, state)``.
GROWTH_RATES: tuple[tuple[str, State], ...] = tuple((r.key, r.states[0]) for r in _RATES if r.is_growth)


# -- figures ------------------------------------------------------------------------------------------

#: What a figure measures; it decides how the figure is written (see :mod:`simulator.formatting`).
Kind = Literal["count", "flow", "money", "share", "index", "probability"]
KINDS: tuple[str, ...] = get_args(Kind)
#: How a horizon figure reduces a monthly column: its value at the horizon, its sum over months
#: 1..horizon, or its sum over the last 12 months (the plan's window).
Reduce = Literal["last", "sum", "last12"]
Table = Literal["monthly", "kpis"]


@dataclass(frozen=True)
class Figure:
    """One output figure: a column of the ``monthly`` or ``kpis`` table.

    ``kind`` says what it measures (and so how it is written); ``integer`` columns are int64, the rest
    float64; ``better`` is +1 when higher is better, -1 when lower is better, 0 when neither. A monthly
    ``flow`` lists the moves it counts in ``moves`` (or is recorded by the kernel itself). A horizon
    figure (``table="kpis"``) reduces the monthly column ``source`` by ``reduce``, or is computed by
    ``compute(columns)`` from the monthly arrays ``columns[name]`` shaped (replications, months).
    ``summary`` figures appear in summary tables (CLI and report).
    """

    name: str
    kind: Kind
    label: str
    table: Table = "monthly"
    better: int = 0
    integer: bool = False
    moves: tuple[tuple[State, State], ...] = ()
    source: str | None = None
    reduce: Reduce | None = None
    compute: Callable[[Mapping[str, np.ndarray]], np.ndarray] | None = None
    summary: bool = False
    colour: str | None = None

    @property
    def is_money(self) -> bool:
        return self.kind == "money"


_S = State
_STATE_FIGURES = (
    Figure("prospect", "count", "Prospects", integer=True),
    Figure("nurturing", "count", "Prospects in nurturing", integer=True, colour="#d6eaf8"),
    Figure("signed", "count", "Signed partners (no deal yet)", integer=True, colour="#f5b041", summary=True),
    Figure("active", "count", "Active partners", better=+1, integer=True, colour="#2e86c1", summary=True),
    Figure("collaborating", "count", "Collaborating partners", better=+1, integer=True, colour="#1f4e79", summary=True),
    Figure("dormant", "count", "Dormant partners", better=-1, integer=True, colour="#aab7b8", summary=True),
    Figure("churned", "count", "Partners that left", better=-1, integer=True, colour="#e74c3c", summary=True),
)
_FLOW_FIGURES = (
    Figure("nurtured", "flow", "Prospects nurtured", integer=True, moves=((_S.PROSPECT, _S.NURTURING),), summary=True),
    Figure("signings", "flow", "Signings", better=+1, integer=True, moves=((_S.NURTURING, _S.SIGNED),), summary=True),
    Figure("activations", "flow", "Activations (first deals)", better=+1, integer=True, summary=True),
    Figure(
        "to_dormant",
        "flow",
        "Partners going dormant",
        integer=True,
        moves=((_S.SIGNED, _S.DORMANT), (_S.ACTIVE, _S.DORMANT), (_S.COLLABORATING, _S.DORMANT)),
    ),
    Figure("reactivations", "flow", "Reactivations", integer=True),
    Figure(
        "exits",
        "flow",
        "Partners leaving",
        integer=True,
        moves=((_S.ACTIVE, _S.CHURNED), (_S.COLLABORATING, _S.CHURNED), (_S.DORMANT, _S.CHURNED)),
    ),
    Figure("adoptions", "flow", "Adoptions of collaboration", integer=True, moves=((_S.ACTIVE, _S.COLLABORATING),)),
    Figure("lapses", "flow", "Lapses from collaboration", integer=True, moves=((_S.COLLABORATING, _S.ACTIVE),)),
    Figure("nurture_expiries", "flow", "Nurture periods ended", integer=True, moves=((_S.NURTURING, _S.PROSPECT),)),
    Figure("window_expiries", "flow", "Activation windows closed", integer=True, moves=((_S.SIGNED, _S.DORMANT),)),
    # Partner tiers: moves between tiers at a review month (recorded by the kernel; 0 without tiers).
    Figure("promotions", "flow", "Tier promotions", better=+1, integer=True),
    Figure("demotions", "flow", "Tier demotions", better=-1, integer=True),
)
_MONEY_FIGURES = (
    Figure("revenue", "money", "Revenue", better=+1),
    Figure("revenue_t12m", "money", "Revenue, trailing 12 months", better=+1),
    Figure("margin", "money", "Margin", better=+1),
    Figure("cost", "money", "Cost", better=-1),
    Figure("cost_nurture", "money", "Cost of nurturing", better=-1),
    Figure("cost_onboarding", "money", "Cost of onboarding", better=-1),
    Figure("cost_program", "money", "Cost of program levers", better=-1),
    Figure("cost_tiers", "money", "Cost of partner tiers (rebates and MDF)", better=-1),
    Figure("contribution", "money", "Contribution", better=+1),
)
_PARTNER_COUNT_FIGURES = (
    Figure("earning_partners", "count", "Revenue-earning partners", better=+1, integer=True, summary=True),
    Figure("signed_partners", "count", "Signed partners (all)", integer=True),
)
_CONCENTRATION_FIGURES = (
    Figure("top20_share", "share", "Top-20% share (earning)", better=-1, summary=True),
    Figure("gini", "index", "Gini (earning)", better=-1, summary=True),
    Figure("hhi", "index", "HHI (earning)", better=-1),
    Figure("top20_share_all", "share", "Top-20% share (all signed)", better=-1, summary=True),
    Figure("gini_all", "index", "Gini (all signed)", better=-1, summary=True),
)
_MONTHLY = (*_STATE_FIGURES, *_FLOW_FIGURES, *_MONEY_FIGURES, *_PARTNER_COUNT_FIGURES, *_CONCENTRATION_FIGURES)


def _horizon(f: Figure, reduce: Reduce, name: str | None = None, label: str | None = None, **kw: object) -> Figure:
    """The horizon figure that reduces monthly figure ``f``."""
    return Figure(
        name or f.name,
        f.kind if f.kind != "flow" else "count",
        label or f.label,
        table="kpis",
        better=f.better,
        integer=f.integer,
        source=f.name,
        reduce=reduce,
        **{"summary": f.summary, "colour": f.colour, **kw},  # type: ignore[arg-type]
    )


_M = {f.name: f for f in _MONTHLY}
_KPIS = (
    _horizon(_M["revenue_t12m"], "last", "revenue_last_12m", "Revenue, last 12 months", summary=True),
    _horizon(_M["cost"], "last12", "cost_last_12m", "Cost, last 12 months", summary=True),
    _horizon(_M["contribution"], "last12", "contribution_last_12m", "Contribution, last 12 months", summary=True),
    _horizon(_M["revenue"], "sum", "revenue_total", "Revenue, whole horizon"),
    _horizon(_M["cost"], "sum", "cost_total", "Cost, whole horizon"),
    _horizon(_M["contribution"], "sum", "contribution_total", "Contribution, whole horizon"),
    Figure("plan_met", "probability", "P(plan met)", table="kpis", better=+1, summary=True),
    *(_horizon(f, "last") for f in _STATE_FIGURES),
    *(_horizon(_M[n], "sum", label=f"{_M[n].label} over the horizon") for n in ("nurtured", "signings", "activations")),
    *(_horizon(f, "last") for f in (*_PARTNER_COUNT_FIGURES, *_CONCENTRATION_FIGURES)),
)


_YEARLY = re.compile(r"^(revenue|plan_met)_year_(\d+)$")


class Vocabulary:
    """The registry: figures by name and table, in their order. One instance, :data:`VOCABULARY`."""

    def __init__(self, figures: tuple[Figure, ...]) -> None:
        self._figures: dict[tuple[str, str], Figure] = {}
        for f in figures:
            self.add(f)

    def add(self, figure: Figure) -> None:
        key = (figure.table, figure.name)
        if key in self._figures:
            raise ValueError(f"figure {figure.name!r} is already in the {figure.table} table")
        needs_source = figure.table == "kpis" and figure.name != "plan_met" and figure.compute is None
        if needs_source and (figure.source is None or figure.reduce is None):
            raise ValueError(f"horizon figure {figure.name!r} needs a source and a reduction, or compute")
        self._figures[key] = figure

    def remove(self, figure: Figure) -> None:
        del self._figures[(figure.table, figure.name)]

    def figures(self, table: Table) -> tuple[Figure, ...]:
        return tuple(f for (t, _), f in self._figures.items() if t == table)

    def names(self, table: Table) -> tuple[str, ...]:
        return tuple(f.name for f in self.figures(table))

    def get(self, name: str, table: Table | None = None) -> Figure | None:
        """The figure called ``name`` (horizon figures first unless ``table`` is given); None if unknown.

        ``p_plan_met`` (the share of replications meeting the plan) is ``plan_met``'s summary name; the
        yearly plan figures ``revenue_year_<y>`` and ``plan_met_year_<y>`` are revenue and plan figures of
        plan year ``y``.
        """
        name = name[2:] if name.startswith("p_plan_met") else name
        yearly = _YEARLY.match(name)
        if yearly:
            base = self._figures.get(("kpis", "plan_met" if yearly.group(1) == "plan_met" else "revenue_last_12m"))
            if base is None:
                return None
            return replace(base, name=name, label=f"{base.label.split(',')[0]}, year {yearly.group(2)}", summary=False)
        for t in (table,) if table else ("kpis", "monthly"):
            f = self._figures.get((t, name))
            if f is not None:
                return f
        return None


VOCABULARY = Vocabulary((*_MONTHLY, *_KPIS))


@contextmanager
def extended(*figures: Figure) -> Iterator[None]:
    """Add figures to the vocabulary inside a ``with`` block (tests and extensions)."""
    added = []
    try:
        for f in figures:
            VOCABULARY.add(f)
            added.append(f)
        yield
    finally:
        for f in added:
            VOCABULARY.remove(f)


def monthly_columns() -> tuple[str, ...]:
    """Every column of the monthly table after ``replication`` and ``month``."""
    return VOCABULARY.names("monthly")


def integer_columns() -> frozenset[str]:
    """Columns stored as int64 (the rest are float64)."""
    return frozenset(f.name for t in ("monthly", "kpis") for f in VOCABULARY.figures(t) if f.integer)  # type: ignore[arg-type]


def kpi_columns() -> tuple[str, ...]:
    """Horizon figures of the ``kpis`` table (``plan_met`` is added when the scenario has a plan)."""
    return tuple(n for n in VOCABULARY.names("kpis") if n != "plan_met")


def monthly_names(kind: Kind) -> tuple[str, ...]:
    """Monthly columns of one kind (``"flow"``, ``"money"``, ...)."""
    return tuple(f.name for f in VOCABULARY.figures("monthly") if f.kind == kind)


def better(name: str) -> int:
    """+1 when more of the figure is better, -1 when less is, 0 when neither (unknown figures: 0)."""
    f = VOCABULARY.get(name)
    return f.better if f is not None else 0


def label(name: str) -> str:
    """The figure's label in words (unknown names: the name with spaces)."""
    f = VOCABULARY.get(name)
    return f.label if f is not None else name.replace("_", " ").capitalize()


def kind(name: str) -> str | None:
    """The figure's kind, or None for a name the vocabulary does not know."""
    f = VOCABULARY.get(name)
    return f.kind if f is not None else None


# Fixed groups the kernel records together (derived once; extensions add horizon figures, not these).
STATE_COLUMNS = STATE_LABELS
FLOW_COLUMNS: tuple[str, ...] = tuple(f.name for f in _FLOW_FIGURES)
FLOW_MOVES: dict[str, tuple[tuple[State, State], ...]] = {f.name: f.moves for f in _FLOW_FIGURES if f.moves}
MONEY_COLUMNS: tuple[str, ...] = tuple(f.name for f in _MONEY_FIGURES)
PARTNER_COUNT_COLUMNS: tuple[str, ...] = tuple(f.name for f in _PARTNER_COUNT_FIGURES)
CONCENTRATION_COLUMNS: tuple[str, ...] = tuple(f.name for f in _CONCENTRATION_FIGURES)
STATE_COLOURS: dict[str, str] = {f.name: f.colour for f in _STATE_FIGURES if f.colour}
