"""The search: optuna (TPE for one objective, NSGA-II for several) asking for candidates in fixed batches.

Reproducible and resumable by construction. Candidates are asked in batches
of ``BATCH``; batch ``k`` is asked by a fresh sampler seeded from the seed and
``k``, in a throw-away in-memory study that holds the finished trials of
batches ``0..k-1`` and nothing else. So the candidates of a batch depend only
on what was finished before it, never on where a run stopped, on the worker
count or on timing. Only evaluated candidates are stored, each as a finished
trial (with its budget constraint) in the persistent study
(``sqlite:///DIR/study.db``), by a writer thread while the next batch runs; a
search killed mid-batch loses the work not stored yet only, and on
``--resume`` asks the first unfinished batch again, skips the trials already
stored and continues: the final answer is the one an uninterrupted run gives.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from ..errors import ChannelError
from .evaluation import Evaluation
from .objectives import Budget, Objective
from .space import DecisionSpace

BATCH = 8  # candidates asked and evaluated together (fixed: part of what determines the answer)
STUDY_NAME = "optimize"
SAMPLER_ATTR = "sampler_attrs"


def _quiet_optuna() -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def batch_seed(seed: int, batch: int) -> int:
    """The sampler seed of one batch: a function of the search seed and the batch index only."""
    return int(np.random.SeedSequence([int(seed), int(batch)]).generate_state(1)[0])


def make_sampler(objectives: Sequence[Objective], seed: int, batch: int = BATCH) -> Any:
    import optuna

    if len(objectives) == 1:
        return optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True, n_startup_trials=10)
    return optuna.samplers.NSGAIISampler(seed=seed, population_size=2 * batch)


def open_study(storage: Any, objectives: Sequence[Objective], definition: Mapping[str, Any], resume: bool) -> Any:
    """The persistent study: new, or (``resume``) the stored one if it was made for the same search."""
    import optuna

    _quiet_optuna()
    directions = [o.direction for o in objectives]
    names = optuna.study.get_all_study_names(storage)
    if STUDY_NAME in names:
        study = optuna.load_study(study_name=STUDY_NAME, storage=storage)
        stored = study.user_attrs.get("definition")
        if stored != json.loads(json.dumps(definition)):
            key = _first_difference(stored or {}, json.loads(json.dumps(definition)))
            raise ChannelError(
                f"--resume: the stored search was made with a different {key}; "
                "rerun with the same arguments or choose another --out"
            )
        return study
    study = optuna.create_study(storage=storage, study_name=STUDY_NAME, directions=directions)
    study.set_user_attr("definition", json.loads(json.dumps(definition)))
    return study


def _first_difference(stored: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    for key in sorted(set(stored) | set(new)):
        if stored.get(key) != new.get(key):
            return key
    return "definition"


def finished_trials(study: Any) -> list[Any]:
    """The stored trials, in the order they were asked (batch, slot)."""
    import optuna

    trials = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    return sorted(trials, key=lambda t: (t.user_attrs["batch"], t.user_attrs["slot"]))


def ask_batch(
    space: DecisionSpace,
    objectives: Sequence[Objective],
    history: Sequence[Any],
    batch: int,
    size: int,
    seed: int,
    initial: Sequence[Mapping[str, Any]] = (),
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The parameters of batch ``batch``: ``size`` candidates asked after ``history`` (finished trials of the
    earlier batches). Returns (params, sampler system attributes) per candidate."""
    import optuna

    _quiet_optuna()
    shadow = optuna.create_study(
        directions=[o.direction for o in objectives], sampler=make_sampler(objectives, batch_seed(seed, batch))
    )
    distributions = space.distributions()
    shadow.add_trials(
        [
            optuna.trial.create_trial(
                params=dict(t.params),
                distributions=distributions,
                values=list(t.values),
                system_attrs=json.loads(t.user_attrs.get(SAMPLER_ATTR, "{}")),
                constraints=dict(t.constraints),
            )
            for t in history
        ]
    )
    for params in initial:
        shadow.enqueue_trial(dict(params))
    out = []
    for _ in range(size):
        trial = shadow.ask()
        params = space.suggest(trial)
        attrs = shadow.get_trials(deepcopy=False)[-1].system_attrs
        keep = {k: v for k, v in attrs.items() if not k.startswith("constraints") and _json_safe(v)}
        out.append((params, keep))
    return out


def _json_safe(value: Any) -> bool:
    try:
        json.dumps(value)
    except TypeError:
        return False
    return True


def run_search(
    study: Any,
    space: DecisionSpace,
    objectives: Sequence[Objective],
    budget: Budget,
    *,
    trials: int,
    seed: int,
    target: float | None,
    evaluate: Callable[[list[dict[str, Any]]], Evaluation],
    initial: Sequence[Mapping[str, Any]] = (),
    on_batch: Callable[[int, int], None] | None = None,
) -> list[Any]:
    """Ask, evaluate and store candidates until ``trials`` are stored; return the stored trials."""
    import optuna

    distributions = space.distributions()
    stored = finished_trials(study)
    # Storing a trial in SQLite costs about 35 ms of CPU, nearly all of it holding the GIL (optuna writes each
    # parameter on its own): a writer thread stores each finished batch while the next one is evaluated,
    # handed over once that batch is asked, so that the asking (which the workers wait for) does not share
    # the GIL with it. The search reads its history from the trials it made, in order; a stop loses only
    # what was not stored yet, and --resume asks it again.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-trials") as writer:
        writes: list[Future] = []
        unwritten: list[Any] = []
        while len(stored) < trials:
            batch = len(stored) // BATCH
            history = stored[: batch * BATCH]
            done = {t.user_attrs["slot"] for t in stored[batch * BATCH :]}
            size = min(BATCH, trials - batch * BATCH)
            asked = ask_batch(space, objectives, history, batch, size, seed, initial if batch == 0 else ())
            if unwritten:  # the batch before is stored while this one runs, not while this one was asked
                writes.append(writer.submit(study.add_trials, unwritten))
                unwritten = []
            todo = [(slot, params, attrs) for slot, (params, attrs) in enumerate(asked) if slot not in done]
            result = evaluate([space.point(params) for _, params, _ in todo])
            values = np.stack([result.objective(o, target) for o in objectives], axis=1)  # (P, objectives)
            excess = result.cost_excess(budget, space.horizon)
            overspend = result.p_overspend(budget, space.horizon)
            cost = result.values("program_cost").mean(axis=1)
            finished = [
                optuna.trial.create_trial(
                    params=params,
                    distributions=distributions,
                    values=[float(v) for v in values[i]],
                    constraints={"budget": float(excess[i]) / budget.amount},
                    user_attrs={
                        "batch": batch,
                        "slot": slot,
                        "cost_mean": float(cost[i]),
                        "cost_excess": float(excess[i]),
                        "p_overspend": float(overspend[i]),
                        SAMPLER_ATTR: json.dumps(attrs, sort_keys=True),
                    },
                )
                for i, (slot, params, attrs) in enumerate(todo)
            ]
            for future in [f for f in writes if f.done()]:
                future.result()  # a failed write stops the search here, not at the end
            unwritten = finished
            stored = sorted([*stored, *finished], key=lambda t: (t.user_attrs["batch"], t.user_attrs["slot"]))
            if on_batch is not None:
                on_batch(len(stored), trials)
        if unwritten:
            writes.append(writer.submit(study.add_trials, unwritten))
        for future in writes:
            future.result()
    stored = finished_trials(study)  # as stored: with their trial numbers
    return stored[:trials] if len(stored) > trials else stored


def feasible(trial: Any) -> bool:
    return all(v <= 0 for v in trial.constraints.values())
