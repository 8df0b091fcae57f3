"""Running replications and turning the kernel's arrays into tidy tables."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ChannelError
from ..lifecycle.program import compile_program
from ..progress import phase
from ..scenario.loading import ScenarioLike, load_scenario
from ..scenario.schema import Scenario
from ..stats import band_row
from ..validation import FLAG, REPLICATIONS, SEED, validate_arguments
from ..vocabulary import IS_IN_CHANNEL, STATE_LABELS, VOCABULARY, kpi_columns
from .kernel import INTEGER_COLUMNS, MONTHLY_COLUMNS, ChannelKernel, resolve_engine
from .population import NEVER

BLOCK_ELEMENTS = 1 << 18  # replications x columns per block: keeps the working set in cache
MEMORY_SHARE = 0.5  # of this machine's memory that the result tables of one simulate() may take
PARTNER_ROW_BYTES = 181  # 18 columns: nullable integers, categoricals and the partner_id strings (64 bytes)
LEVER_ROW_BYTES = 25  # replication, month, lever code, cost
TIER_ROW_BYTES = 65  # replication, month, tier code, partners, promotions_in, demotions_in, cost, rebate, mdf


def result_bytes(scenario: Scenario, n_replications: int, partners: bool = True) -> int:
    """What simulate()'s tables need at their peak (blocks, then their concatenation): an honest estimate.

    Monthly rows are replications x (horizon + 1); partner rows are replications x companies ever signed,
    estimated as today's partners plus the expected signings of nurtured prospects.
    """
    months = scenario.horizon_months + 1
    per_replication = months * (len(MONTHLY_COLUMNS) + 2) * 8
    per_replication += months * len(scenario.program.levers) * LEVER_ROW_BYTES
    per_replication += months * len(scenario.program.tiers) * TIER_ROW_BYTES
    if partners:
        recruited = scenario.recruitment.nurture_per_month * scenario.horizon_months * scenario.recruitment.win_share
        signed = scenario.channel.partners + min(scenario.market.prospects, int(np.ceil(recruited)))
        per_replication += signed * PARTNER_ROW_BYTES
    return 2 * n_replications * per_replication  # the block frames and their concatenation, side by side


def check_result_memory(scenario: Scenario, n_replications: int, partners: bool = True) -> None:
    """Refuse, before running, replications whose tables would not fit in this machine's memory."""
    import psutil

    budget = int(psutil.virtual_memory().total * MEMORY_SHARE)
    need = result_bytes(scenario, n_replications, partners)
    if need > budget:
        fits = max(budget // max(result_bytes(scenario, 1, partners), 1), 0)
        raise ChannelError(
            f"replications = {n_replications:,} of {scenario.companies:,} companies over {scenario.horizon_months} "
            f"months need about {need / 2**30:,.1f} GiB for the result tables; this machine allows "
            f"{budget / 2**30:,.1f} GiB: --replications {fits} fits"
            + ("" if not partners else " (or skip the partner scorecard: partners=False)")
        )


def replication_indices(replications: int | Iterable[int]) -> np.ndarray:
    """Replication indices from a count (``0..n-1``) or an explicit list of distinct indices."""
    return REPLICATIONS("replications", replications)


def check_seed(seed: int) -> int:
    """A seed: a whole number from 0 to 2**63 - 1."""
    return SEED("seed", seed)


#: The compiled kernel keeps each replication's state in cache itself: larger blocks spread the Python work
#: of a block (tables, booking) over more replications.
COMPILED_BLOCK_ELEMENTS = 1 << 20


def block_size(scenario: Scenario, engine: str | None = None) -> int:
    """Replications per kernel block for this scenario and engine."""
    from .population import Layout

    width = max(Layout.of(scenario).width, 1)
    elements = COMPILED_BLOCK_ELEMENTS if resolve_engine(engine) == "compiled" else BLOCK_ELEMENTS
    return int(np.clip(elements // width, 1, 1024))


def kernel_blocks(
    scenario: Scenario,
    seed: int,
    reps: np.ndarray,
    block: int | None = None,
    concentration: bool = True,
    engine: str | None = None,
) -> Iterable[ChannelKernel]:
    """The replications split into blocks, one kernel each at month 0 (the caller steps it)."""
    schedule = compile_program(scenario)
    block = block or block_size(scenario, engine)
    for start in range(0, reps.size, block):
        yield ChannelKernel(scenario, seed, reps[start : start + block], schedule, concentration, engine)


def run_blocks(
    scenario: Scenario,
    seed: int,
    reps: np.ndarray,
    block: int | None = None,
    concentration: bool = True,
    engine: str | None = None,
) -> Iterable[ChannelKernel]:
    """Run the replications block by block, yielding each finished kernel."""
    for kernel in kernel_blocks(scenario, seed, reps, block, concentration, engine):
        yield kernel.run()


@dataclass
class SimulationResult:
    """What :func:`simulate` returns: tidy tables and their summary.

    ``monthly``: one row per replication and month 0..horizon.
    ``partners``: the scorecard at the horizon, one row per replication and
    company that was ever signed (None when not kept).
    ``lever_costs``: cost of each program lever per replication and month.
    ``tiers``: partners, moves and cost of each partner tier per replication
    and month (see :func:`tier_frame`; no rows without tiers).
    """

    scenario: Scenario
    seed: int
    replications: np.ndarray
    monthly: pd.DataFrame
    partners: pd.DataFrame | None
    lever_costs: pd.DataFrame
    tiers: pd.DataFrame = field(default_factory=lambda: empty_tier_frame(()))
    _kpis: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def kpis(self) -> pd.DataFrame:
        """Horizon figures per replication (see :func:`horizon_kpis`)."""
        if self._kpis is None:
            self._kpis = horizon_kpis(self.monthly, self.scenario)
        return self._kpis

    def summary(self, figures: Iterable[str] | None = None) -> pd.DataFrame:
        """Mean and P10/P50/P90 across replications of the key horizon figures."""
        return summarize(self.kpis, figures)

    def replication(self, r: int) -> pd.DataFrame:
        """Monthly rows of one replication."""
        return self.monthly[self.monthly["replication"] == r].reset_index(drop=True)

    def to_parquet(self, folder: str | Path, csv: bool = False) -> list[Path]:
        """Write ``monthly``, ``partners``, ``lever_costs`` and ``tiers`` (Parquet, and CSV if asked)."""
        from ..sweeps.storage import atomic_write_bytes

        folder = Path(folder)
        written = []
        tables = {
            "monthly": self.monthly,
            "partners": self.partners,
            "lever_costs": self.lever_costs,
            "tiers": self.tiers,
        }
        for name, table in tables.items():
            if table is None:
                continue
            path = folder / f"{name}.parquet"
            buffer = io.BytesIO()
            table.to_parquet(buffer, index=False)
            try:  # a temporary file renamed into place: a full disk leaves no truncated table behind
                folder.mkdir(parents=True, exist_ok=True)
                atomic_write_bytes(path, buffer.getvalue())
            except OSError as exc:
                raise ChannelError(f"cannot write {path}: {exc.strerror or exc}") from None
            written.append(path)
            if csv:
                from ..reports.tables import write_csv  # formula-like text neutralised, written atomically

                write_csv(table, folder / f"{name}.csv")
                written.append(folder / f"{name}.csv")
        return written


@validate_arguments(replications=REPLICATIONS, seed=SEED, partners=FLAG, concentration=FLAG, uncertainty=FLAG)
def simulate(
    scenario: ScenarioLike,
    replications: int | Iterable[int] = 100,
    seed: int = 0,
    *,
    partners: bool = True,
    concentration: bool = True,
    uncertainty: bool = True,
    engine: str | None = None,
    **overrides: object,
) -> SimulationResult:
    """Simulate a scenario: ``replications`` Monte Carlo runs from ``seed``.

    ``scenario`` is a :class:`Scenario`, a YAML path or a dict; keyword
    overrides use ``section__key=value``. ``replications`` is a count or a
    list of replication indices: replication ``r`` gives the same numbers
    however many others run beside it. ``partners=False`` skips the
    per-partner scorecard (saves memory on very large runs);
    ``concentration=False`` skips the monthly concentration measures (NaN).
    With an ``uncertainty:`` section each replication draws its own values of
    the listed keys; ``uncertainty=False`` leaves the section out (the future's
    noise alone). ``engine`` picks the kernel: "compiled" (default) or "numpy" (the reference; the same
    numbers).
    """
    scn = load_scenario(scenario, **overrides) if overrides or not isinstance(scenario, Scenario) else scenario
    if not uncertainty:
        scn = scn.without_uncertainty()
    reps = replications
    check_result_memory(scn, reps.size, partners)
    monthly, scorecards, levers, tiers, kpis = [], [], [], [], []
    resolve_engine(engine)  # refused before any work
    with phase("simulate", total=reps.size) as shown:
        for kernel in run_blocks(scn, seed, reps, concentration=concentration, engine=engine):
            shown.advance(kernel.R)  # a block at a time: the compiled kernel runs a block's months in one call
            monthly.append(monthly_frame(kernel))
            levers.append(lever_cost_frame(kernel))
            tiers.append(tier_frame(kernel))
            kpis.append(kpi_table(kernel.replications, kernel.record, scn))
            if partners:
                scorecards.append(partner_frame(kernel))
    return SimulationResult(
        scenario=scn,
        seed=seed,
        replications=reps,
        monthly=pd.concat(monthly, ignore_index=True),
        partners=pd.concat(scorecards, ignore_index=True) if partners else None,
        lever_costs=pd.concat(levers, ignore_index=True),
        tiers=pd.concat(tiers, ignore_index=True),
        _kpis=pd.concat(kpis, ignore_index=True),
    )


# -- tables -------------------------------------------------------------------


def monthly_frame(kernel: ChannelKernel, upto: int | None = None) -> pd.DataFrame:
    """The monthly table of a kernel's block (months 0..``upto``, default: all)."""
    months = (kernel.month if upto is None else upto) + 1
    R = kernel.R
    data: dict[str, np.ndarray] = {
        "replication": np.repeat(kernel.replications, months),
        "month": np.tile(np.arange(months, dtype=np.int64), R),
    }
    for col in MONTHLY_COLUMNS:
        data[col] = kernel.record[col][:, :months].ravel()
    return pd.DataFrame(data)


def lever_cost_frame(kernel: ChannelKernel) -> pd.DataFrame:
    names = kernel.schedule.lever_names
    months = kernel.month + 1
    if not names:
        return pd.DataFrame(
            {
                "replication": pd.Series(dtype="int64"),
                "month": pd.Series(dtype="int64"),
                "lever": pd.Categorical([]),
                "cost": pd.Series(dtype="float64"),
            }
        )
    cost = kernel.lever_cost[:, :months, :]  # (R, months, L)
    R, L = kernel.R, len(names)
    return pd.DataFrame(
        {
            "replication": np.repeat(kernel.replications, months * L),
            "month": np.tile(np.repeat(np.arange(months), L), R),
            "lever": pd.Categorical.from_codes(np.tile(np.arange(L), R * months), categories=list(names)),
            "cost": cost.ravel(),
        }
    )


#: Columns of the ``tiers`` table, after replication, month and tier.
TIER_COLUMNS = ("partners", "promotions_in", "demotions_in", "cost", "rebate", "mdf")


def empty_tier_frame(names: tuple[str, ...]) -> pd.DataFrame:
    """The ``tiers`` table with its columns and no rows (a scenario without tiers)."""
    return pd.DataFrame(
        {
            "replication": pd.Series(dtype="int64"),
            "month": pd.Series(dtype="int64"),
            "tier": pd.Categorical([], categories=list(names)),
            **{c: pd.Series(dtype="int64" if c in _TIER_COUNTS else "float64") for c in TIER_COLUMNS},
        }
    )


_TIER_COUNTS = ("partners", "promotions_in", "demotions_in")


def tier_frame(kernel: ChannelKernel) -> pd.DataFrame:
    """Partner tiers per replication, month and tier (tiers lowest first).

    ``partners``: in-channel partners holding the tier at the end of the month (after the month's
    review, so from month m + 1 on they hold it); ``promotions_in`` / ``demotions_in``: partners
    moved into the tier at the month's review from a lower / higher one; ``rebate``, ``mdf``,
    ``cost``: what the tier cost in the month, for the tier held during it (before its review).
    """
    names = kernel.schedule.tier_names
    if not names:
        return empty_tier_frame(names)
    months = kernel.month + 1
    R, T = kernel.R, len(names)
    columns = {c: getattr(kernel, f"tier_{c}") for c in TIER_COLUMNS}  # the kernel's (R, months, T) tables
    return pd.DataFrame(
        {
            "replication": np.repeat(kernel.replications, months * T),
            "month": np.tile(np.repeat(np.arange(months, dtype=np.int64), T), R),
            "tier": pd.Categorical.from_codes(np.tile(np.arange(T), R * months), categories=list(names)),
            **{c: a[:, :months, :].ravel() for c, a in columns.items()},
        }
    )


def partner_frame(kernel: ChannelKernel) -> pd.DataFrame:
    """The partner scorecard: every company ever signed, at the kernel's current month."""
    pop, lay, now = kernel.pop, kernel.layout, kernel.month
    W = lay.width
    current = np.zeros(W, bool)
    current[: lay.partners] = True
    ever = (pop.signed_month != NEVER) | current[None, :]
    rows, cols = np.nonzero(ever)
    signed = pop.signed_month[rows, cols].astype(np.float64)
    first = pop.first_deal[rows, cols].astype(np.float64)
    signed[signed == NEVER] = np.nan
    recruited = ~current[cols]
    first_known = np.where((first != NEVER) & ~np.isnan(signed), first, np.nan)
    t12 = kernel.trailing_revenue()[rows, cols]
    segments = kernel.scenario.segment_names
    company = pop.company[rows, cols].astype(np.int64)
    listed = kernel.scenario.channel.partner_list
    if listed is not None:  # the vendor's own keys for today's partners; recruits have none yet
        ids = np.array([*listed.partner_id, None], dtype=object)
        partner_id = pd.array(ids[np.where(company < lay.partners, company, ids.size - 1)], dtype="string")
    else:
        partner_id = pd.array([None] * company.size, dtype="string")
    frame = pd.DataFrame(
        {
            "replication": kernel.replications[rows],
            "company": company,
            "partner_id": partner_id,
            "segment": pd.Categorical.from_codes(pop.segment[rows, cols], categories=list(segments)),
            "cohort": pd.Categorical.from_codes(recruited.astype(np.int8), categories=["current", "recruited"]),
            "state": pd.Categorical.from_codes(pop.state[rows, cols], categories=list(STATE_LABELS)),
            "signed_month": pd.array(signed, dtype="Int64"),
            "months_since_signing": pd.array(now - signed, dtype="Int64"),
            "first_deal_month": pd.array(np.where(first == NEVER, np.nan, first), dtype="Int64"),
            "time_to_first_deal": pd.array(first_known - signed, dtype="Int64"),
            "months_in_state": (now - pop.entered[rows, cols]).astype(np.int64),
            "months_collaborating": kernel.collaborating_months()[rows, cols].astype(np.int64),
            "potential": pop.potential[rows, cols].astype(np.float64),
            "fit_score": pop.fit_score[rows, cols].astype(np.float64),
            "run_rate": pop.run_rate[rows, cols].astype(np.float64),
            "revenue_t12m": t12,
            "growth_12m": kernel.growth_12m()[rows, cols],
            "tier": partner_tiers(kernel, rows, cols),
        }
    )
    return frame


def partner_tiers(kernel: ChannelKernel, rows: np.ndarray, cols: np.ndarray) -> pd.Categorical:
    """The tier each listed company holds now: its name for partners in the channel, missing for the rest
    (companies that left, and every company of a scenario without tiers), like other unknown values."""
    names = kernel.schedule.tier_names
    codes = np.full(rows.size, -1, np.int8)
    if names:
        pop = kernel.pop
        codes = np.where(IS_IN_CHANNEL[pop.state[rows, cols]], pop.tier[rows, cols], -1).astype(np.int8)
    return pd.Categorical.from_codes(codes, categories=list(names))


# -- horizon figures ------------------------------------------------------------

#: Horizon figures of the ``kpis`` table (``plan_met`` follows when the scenario has a plan).
KPI_COLUMNS = kpi_columns()
_REDUCE = {
    "last": lambda x: x[:, -1],
    "sum": lambda x: x[:, 1:].sum(axis=1),  # months 1..horizon (month 0 is the starting channel)
    "last12": lambda x: x[:, max(1, x.shape[1] - 12) :].sum(axis=1),
}


def kpi_table(replications: np.ndarray, columns: Mapping[str, np.ndarray], scenario: Scenario) -> pd.DataFrame:
    """Horizon figures per replication from monthly arrays ``columns[name]`` shaped (replications, months).

    Each figure of the vocabulary's ``kpis`` table reduces its monthly source: its value at the horizon,
    its sum over months 1..horizon, or its sum over the last 12 months (the plan's window; revenue of
    the last 12 months is the trailing-12-month revenue at the horizon, which for horizons under 12
    months includes the assumed history), or is computed from the monthly arrays. ``plan_met`` is added
    when ``plan.revenue_target`` is set.
    """
    out: dict[str, np.ndarray] = {"replication": np.asarray(replications, dtype=np.int64)}
    for f in VOCABULARY.figures("kpis"):
        if f.name == "plan_met":
            continue
        out[f.name] = f.compute(columns) if f.compute is not None else _REDUCE[f.reduce](columns[f.source])
    plan = scenario.plan
    if plan.revenue_targets:  # one target per plan year: revenue of year y is the trailing 12 months at 12 y
        met = np.ones(out["replication"].size, bool)
        for y, target in enumerate(plan.revenue_targets, start=1):
            out[f"revenue_year_{y}"] = columns["revenue_t12m"][:, 12 * y]
            out[f"plan_met_year_{y}"] = out[f"revenue_year_{y}"] >= target
            met &= out[f"plan_met_year_{y}"]
        out["plan_met"] = met  # every year met
    elif plan.revenue_target is not None:
        out["plan_met"] = out["revenue_last_12m"] >= plan.revenue_target
    return pd.DataFrame(out)


def horizon_kpis(monthly: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """:func:`kpi_table` from a monthly table (for example one read back from Parquet)."""
    m = monthly.sort_values(["replication", "month"])
    reps = m["replication"].unique()
    months = len(m) // len(reps)
    needed = [c for c in m.columns if c not in ("replication", "month")]
    return kpi_table(reps, {c: m[c].to_numpy().reshape(len(reps), months) for c in needed}, scenario)


def summarize(kpis: pd.DataFrame, figures: Iterable[str] | None = None) -> pd.DataFrame:
    """Mean and P10/P50/P90 of each figure across replications (plus P(plan met))."""
    wanted = list(figures) if figures is not None else [*kpi_columns(), "p_plan_met"]
    cols = [c for c in wanted if c != "p_plan_met" and (figures is not None or c in kpis)]
    rows = {}
    for col in cols:
        rows[col] = band_row(kpis[col].to_numpy(np.float64))
    table = pd.DataFrame.from_dict(rows, orient="index")
    if "plan_met" in kpis and "p_plan_met" in wanted:
        p = float(kpis["plan_met"].mean())
        table.loc["p_plan_met"] = [p, np.nan, np.nan, np.nan]
        for col in (c for c in kpis.columns if c.startswith("plan_met_year_")):  # P(each year met)
            table.loc[f"p_{col}"] = [float(kpis[col].mean()), np.nan, np.nan, np.nan]
    if figures is None:
        for col in (c for c in kpis.columns if c.startswith("revenue_year_")):
            table.loc[col] = list(band_row(kpis[col].to_numpy(np.float64)).values())
    table.index.name = "figure"
    return table


__all__ = [
    "INTEGER_COLUMNS",
    "KPI_COLUMNS",
    "SimulationResult",
    "horizon_kpis",
    "monthly_frame",
    "partner_frame",
    "simulate",
    "summarize",
    "tier_frame",
]
