"""Scenarios in which nothing happens unless a test says so, for exact, magnitude-level checks.

Every probability is 0, recruitment is off, the activation window outlasts the horizon and
growth has no noise; a test switches on the one mechanism it measures. Two segments, ``a`` and
``b``, with equal shares, so targeting by segment can be checked against an untargeted twin.
"""

from __future__ import annotations

import copy

import numpy as np

#: A right engine may be this many standard errors off; every planted bug is at least 10 away.
MAX_Z = 4.5
#: What a test must be able to tell apart: the wrong number at least this many standard errors away.
MIN_POWER = 10.0

QUIET = {
    "name": "quiet",
    "horizon_months": 1,
    "market": {
        "prospects": 0,
        "segments": {"a": {"share": 0.5}, "b": {"share": 0.5}},
    },
    "recruitment": {"nurture_per_month": 0},
    "activation": {"monthly_probability": 0.0, "window_months": 600},
    "churn": {
        "dormancy_probability": 0.0,
        "exit_probability": 0.0,
        "reactivation_probability": 0.0,
        "dormant_exit_probability": 0.0,
    },
    "collaboration": {"adoption_probability": 0.0, "peer_effect": 0.0, "lapse_probability": 0.0},
    "growth": {"volatility": 0.0},
}


def _merge(base: dict, extra: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def quiet(*, levers: list | None = None, **sections: object) -> dict:
    """The quiet scenario with ``sections`` merged in key by key (``horizon_months=12``, ``channel={...}``)."""
    data = _merge(QUIET, sections)
    if levers is not None:
        data["program"] = {"levers": levers}
    return data


def scaled(p: float, multiplier: float) -> float:
    """A probability whose hazard is scaled: ``1 - (1 - p) ** multiplier``."""
    return 1.0 - (1.0 - p) ** multiplier


def z_score(successes: float, trials: float, p: float) -> float:
    """How many binomial standard errors ``successes / trials`` is from ``p``."""
    return (successes / trials - p) / np.sqrt(p * (1 - p) / trials)


def binomial_se(p: float, trials: float) -> float:
    return float(np.sqrt(p * (1 - p) / trials))
