"""``optimize``: the best mix of levers for a budget (space -> screening -> search -> re-evaluation -> files)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..engine.population import forget_markets
from ..errors import ChannelError
from ..formatting import money
from ..scenario import load_scenario
from ..scenario.loading import ScenarioLike
from ..sweeps.executors import Workers
from ..validation import FLAG, MAX_SEED, POSITIVE_COUNT, WORKERS, Whole, validate_arguments
from .evaluation import evaluate
from .objectives import Budget, Objective, parse_objectives
from .reevaluate import pareto_front, reevaluate
from .result import OptimizationResult
from .search import BATCH, feasible, open_study, run_search
from .space import DecisionSpace, build_space, kept_fixed_cost

STUDY_FILE = "study.db"
SCREEN_SHARE = 0.05  # a lever whose Morris mu* is below 5% of the largest has no effect worth searching


@validate_arguments(
    trials=POSITIVE_COUNT,
    replications=Whole(2),
    seed=Whole(0, MAX_SEED - 1),  # the re-evaluation runs from seed + 1
    top=POSITIVE_COUNT,
    reevaluation_replications=Whole(2, optional=True),
    workers=WORKERS,
    per_year=FLAG,
    resume=FLAG,
    screen=FLAG,
    screen_trajectories=Whole(2),
)
def optimize(
    scenario: ScenarioLike,
    levers: str | Sequence[str] | Mapping[str, tuple[float, float] | None] = "all",
    budget: float | None = None,
    *,
    objective: str | Sequence[str] = "contribution",
    per_year: bool = False,
    nurture: tuple[int, int] | None = None,
    start_months: bool | tuple[int, int] = False,
    trials: int = 100,
    replications: int = 100,
    seed: int = 0,
    top: int = 10,
    reevaluation_replications: int | None = None,
    workers: int | None = None,
    dask: str | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    screen: bool = False,
    screen_trajectories: int = 10,
    extends: str | Path | bool | None = True,
    on_progress: Callable[[str], None] | None = None,
) -> OptimizationResult:
    """The best program of levers for a budget, robust to the noise of the simulation.

    ``levers``: ``"all"`` (the catalogue and the scenario's levers), names, or
    name -> (low, high) intensity range (default 0 to 2); each is switched on
    or off and scaled, and with ``start_months`` also started later;
    ``nurture=(low, high)`` makes ``recruitment.nurture_per_month`` a decision.
    ``budget`` limits the program's cost over the horizon (``per_year``: each
    plan year) on the candidate's mean over the replications; the program's
    cost is every lever's cost, plus recruitment when nurture is a decision.
    ``objective``: one name or several (a Pareto front) of
    :data:`~simulator.optimization.objectives.OBJECTIVES`. ``trials``
    candidates are searched (optuna: TPE, NSGA-II for several objectives) on
    ``replications`` common replications from ``seed``; the ``top`` best are
    re-run on ``reevaluation_replications`` (default twice as many) fresh
    ones from ``seed + 1`` with the scenario's own program, and the winner is
    picked there. ``out``: a folder for ``study.db`` (so ``resume=True``
    continues a stopped search) and the outputs; ``screen=True`` first drops
    levers without effect (Morris). The winning program is written to
    ``out/winner.yaml``, which ``extends:`` the scenario file (``extends=True``:
    ``scenario`` when it is a path; or give the path; ``False``: the whole
    scenario is written). Bad input raises
    :class:`~simulator.errors.ChannelError` before anything runs.
    """
    started = time.perf_counter()
    if extends is True:
        scenario_path = Path(scenario) if isinstance(scenario, str | Path) else None
    else:
        scenario_path = Path(extends) if isinstance(extends, str | Path) else None
    scn = load_scenario(scenario)
    space = build_space(scn, levers, start_months=start_months, nurture=nurture)
    objectives = parse_objectives(objective, scn.plan.revenue_target)
    if budget is None:
        raise ChannelError("--budget: give the most the program may cost, e.g. --budget 500000")
    try:
        amount = float(budget)
    except (TypeError, ValueError):
        raise ChannelError(f"--budget {budget!r}: must be a positive amount") from None
    limit = Budget(amount, per_year, recruitment=space.nurture is not None)
    re_reps = 2 * int(replications) if reevaluation_replications is None else int(reevaluation_replications)
    check_budget(space, limit)
    folder = Path(out) if out is not None else None
    if folder is not None:
        if folder.exists() and not folder.is_dir():
            raise ChannelError(f"--out {folder}: exists and is not a folder")
        if (folder / STUDY_FILE).exists() and not resume:
            raise ChannelError(
                f"--out {folder}: holds a search already ({STUDY_FILE}); add --resume to continue it, "
                "or choose another --out"
            )
    say = on_progress or (lambda _msg: None)
    screening, dropped = None, []
    if screen:
        screening, dropped = screen_levers(
            space, objectives[0], int(replications), int(seed), screen_trajectories, workers, dask
        )
        space = space.without(dropped)
        say(f"screening (Morris mu* of {objectives[0].figure}): dropped {', '.join(dropped) or 'none'}")

    definition = {
        "scenario": scn.fingerprint(),
        "space": space.definition(),
        "objectives": [o.name for o in objectives],
        "budget": [limit.amount, limit.per_year, limit.recruitment],
        "replications": int(replications),
        "seed": int(seed),
        "batch": BATCH,
    }
    if folder is not None:
        import optuna

        folder.mkdir(parents=True, exist_ok=True)
        storage: Any = f"sqlite:///{(folder / STUDY_FILE).resolve()}"
    else:
        import optuna

        storage = optuna.storages.InMemoryStorage()
    study = open_study(storage, objectives, definition, resume)
    # One set of workers for every batch and the re-run: processes start once and keep their markets.
    with Workers(workers, dask) as pool:
        try:
            run = partial(evaluate, space, replications=int(replications), seed=int(seed), budget=limit, workers=pool)
            initial = [p for p in (space.own_params(), space.off_params()) if p is not None]
            if len(initial) == 2 and initial[0] == initial[1]:
                initial = initial[:1]
            stored = run_search(
                study,
                space,
                objectives,
                limit,
                trials=int(trials),
                seed=int(seed),
                target=scn.plan.revenue_target,
                evaluate=run,
                initial=initial,
                on_batch=lambda done, total: say(f"searched {done}/{total} candidates"),
            )
            # The front within budget, as optuna keeps it (it leaves out trials whose constraint is violated).
            kept = {t.number for t in stored}
            table = trials_table(space, objectives, stored, {t.number for t in study.best_trials if t.number in kept})
            candidates = pick_candidates(table, objectives, int(top))
            say(f"re-running the top {len(candidates)} on {re_reps} fresh replications")
            fresh_seed = int(seed) + 1
            re = reevaluate(
                space,
                objectives,
                limit,
                [(int(n), space.point(stored_by_number(stored, n).params)) for n in candidates],
                replications=re_reps,
                seed=fresh_seed,
                target=scn.plan.revenue_target,
                evaluate=partial(evaluate, space, replications=re_reps, seed=fresh_seed, budget=limit, workers=pool),
            )
        finally:
            forget_markets()  # what this process kept (a pool's processes end with it)
    winner_point = None
    if re.winner is not None:
        winner_point = space.point(stored_by_number(stored, int(re.table["trial"].iloc[re.winner])).params)
    result = OptimizationResult(
        scenario=scn,
        space=space,
        objectives=objectives,
        budget=limit,
        trials=table,
        reevaluation=re,
        winner=None if winner_point is None else space.scenario_of(winner_point),
        winner_point=winner_point,
        settings={
            "trials": int(trials),
            "replications": int(replications),
            "seed": int(seed),
            "top": int(top),
            "batch": BATCH,
            "seconds": time.perf_counter() - started,
        },
        screening=screening,
        dropped=dropped,
        folder=folder,
    )
    if folder is not None:
        from .writer import write_outputs

        write_outputs(result, folder, scenario_path)
    return result


def check_budget(space: DecisionSpace, budget: Budget) -> None:
    """Refuse a budget no candidate can keep to: below the fixed cost every candidate pays (the levers the
    scenario keeps), or, with nothing else to spend on, below every chosen lever's fixed cost."""
    cur = space.scenario.currency
    H = space.horizon
    allowed = budget.over_horizon(H)
    kept = kept_fixed_cost(space)
    if kept > allowed:
        raise ChannelError(
            f"--budget {money(budget.amount, cur)}: impossible; the levers the scenario keeps "
            f"({', '.join(space.kept)}) cost {money(kept, cur)} in fixed costs over the horizon alone"
        )
    if space.nurture is not None:
        return
    cheapest = min(space.levers, key=lambda lv: lv.cheapest_fixed_cost())
    if kept + cheapest.cheapest_fixed_cost() > allowed:
        raise ChannelError(
            f"--budget {budget.describe(cur)}: impossible; it is below the fixed cost of every lever over the horizon "
            f"(the cheapest, {cheapest.name}, costs {money(cheapest.cheapest_fixed_cost(), cur)} at intensity "
            f"{cheapest.low if cheapest.low > 0 else 1:g}"
            + (f", on top of {money(kept, cur)} for the levers kept" if kept else "")
            + ")"
        )


def trials_table(
    space: DecisionSpace, objectives: Sequence[Objective], stored: Sequence[Any], front: set[int] | None = None
) -> pd.DataFrame:
    """One row per trial: number, batch, the candidate (in words and as its decision values), its figures, and
    whether it is on the front within budget (``front``: trial numbers; default: computed here)."""
    rows = []
    for t in stored:
        point = space.point(t.params)
        row: dict[str, Any] = {
            "trial": t.number,
            "batch": t.user_attrs["batch"],
            "slot": t.user_attrs["slot"],
            "candidate": space.describe(point),
        }
        for o, v in zip(objectives, t.values, strict=True):
            row[o.name] = float(v)
        row["cost_mean"] = t.user_attrs["cost_mean"]
        row["cost_excess"] = t.user_attrs["cost_excess"]
        row["p_overspend"] = t.user_attrs["p_overspend"]
        row["feasible"] = feasible(t)
        row.update(point)
        rows.append(row)
    table = pd.DataFrame(rows)
    if front is not None:
        table["on_front"] = table["trial"].isin(front)
        return table
    scores = np.stack([o.sign * table[o.name].to_numpy(np.float64) for o in objectives], axis=1)
    on_front = np.zeros(len(table), bool)
    ok = table["feasible"].to_numpy()
    if ok.any():
        on_front[ok] = pareto_front(scores[ok])
    table["on_front"] = on_front
    return table


def pick_candidates(table: pd.DataFrame, objectives: Sequence[Objective], top: int) -> list[int]:
    """The trials to re-run: the ``top`` best within budget (distinct programs); with several objectives,
    members of the search's Pareto front spread along the first objective."""
    first = objectives[0]
    ok = table[table["feasible"]].copy()
    if ok.empty:  # nothing within budget: re-run the cheapest, so the answer says how far off they are
        ok = table.sort_values("cost_excess").head(top).copy()
    ok["_score"] = first.sign * ok[first.name]
    ok = ok.sort_values(["_score", "trial"], ascending=[False, True]).drop_duplicates("candidate")
    if len(objectives) > 1:
        front = ok[ok["on_front"]]
        if len(front) > top:
            picks = np.unique(np.round(np.linspace(0, len(front) - 1, top)).astype(int))
            front = front.iloc[picks]
        rest = ok[~ok["trial"].isin(front["trial"])]
        ok = pd.concat([front, rest]).head(max(top, len(front)))
    return [int(n) for n in ok["trial"].head(top)]


def stored_by_number(stored: Sequence[Any], number: int) -> Any:
    for t in stored:
        if t.number == number:
            return t
    raise KeyError(number)


def screen_levers(
    space: DecisionSpace,
    objective: Objective,
    replications: int,
    seed: int,
    trajectories: int,
    workers: int | None,
    dask: str | None,
) -> tuple[pd.DataFrame, list[str]]:
    """Morris screening of the levers' intensities on the objective's figure: drop those without effect.

    A lever is dropped when its mu* is below ``SCREEN_SHARE`` of the largest
    one (its effect, costs included, is small against what the others do).
    """
    from ..sweeps import sensitivity

    figure = "cost_total" if objective.figure == "program_cost" else objective.figure
    ranges = {lv.intensity_key: (lv.low, lv.high) for lv in space.levers if lv.high > lv.low}
    if len(ranges) < 2:
        return pd.DataFrame(), []
    res = sensitivity(
        space.base,
        ranges,
        kpi=figure,
        method="morris",
        samples=int(trajectories),
        replications=max(2, min(int(replications), 50)),
        seed=int(seed),
        workers=workers,
        dask=dask,
        progress=False,
    )
    names = {lv.intensity_key: lv.name for lv in space.levers}
    table = res.table.copy()
    table.insert(0, "lever", [names[k] for k in table.index])
    largest = float(table["mu_star"].max())
    table["kept"] = table["mu_star"] >= SCREEN_SHARE * largest
    dropped = [str(n) for n in table.loc[~table["kept"], "lever"]]
    return table.reset_index(drop=True), dropped
