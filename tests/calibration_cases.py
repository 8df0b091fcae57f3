"""Known scenarios for the calibration tests: what a synthetic export from each should calibrate back to."""

from __future__ import annotations

import copy

from simulator.scenario import Scenario, load_scenario

#: A channel in three segments with every mechanism on (the truth behind the recovery exports).
TRUTH = {
    "name": "recovery truth",
    "horizon_months": 48,
    "market": {
        "prospects": 1500,
        "segments": {
            "reseller": {"share": 0.5, "revenue_median": 2500, "revenue_sigma": 1.5, "activation_multiplier": 1.0},
            "msp": {"share": 0.3, "revenue_median": 3500, "revenue_sigma": 1.2, "activation_multiplier": 1.3},
            "integrator": {"share": 0.2, "revenue_median": 9000, "revenue_sigma": 1.6, "activation_multiplier": 0.6},
        },
    },
    "channel": {"signed": 20, "active": 120, "collaborating": 30, "dormant": 30},
    "recruitment": {"nurture_per_month": 12, "win_share": 0.3, "nurture_months": 6, "scoring_accuracy": 0.5},
    "activation": {"monthly_probability": 0.12, "window_months": 6},
    "churn": {
        "dormancy_probability": 0.015,
        "exit_probability": 0.008,
        "reactivation_probability": 0.05,
        "dormant_exit_probability": 0.04,
    },
    "collaboration": {"adoption_probability": 0.02, "peer_effect": 1.0, "lapse_probability": 0.025},
    "growth": {"active": 0.10, "collaborating": 0.18, "volatility": 0.25},
}


def truth(scale: float = 1.0, **sections) -> Scenario:
    """The truth scenario, its channel and recruitment scaled by ``scale``."""
    data = copy.deepcopy(TRUTH)
    data["channel"] = {k: round(v * scale) for k, v in data["channel"].items()}
    data["recruitment"]["nurture_per_month"] = round(data["recruitment"]["nurture_per_month"] * scale)
    data["market"]["prospects"] = round(data["market"]["prospects"] * scale)
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    return load_scenario(data)


def true_value(scenario: Scenario, key: str) -> float:
    """The scenario's value of a fitted key (dotted)."""
    return float(scenario.get(key))
