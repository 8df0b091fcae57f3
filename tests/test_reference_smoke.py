"""A fast engine-vs-reference check in the default test run (the full comparison is marked slow).

The same core scenario as ``test_reference_equivalence.py`` (recruitment with a binding cool-off,
every partner state, three segments, churn, collaboration with a peer effect, growth noise), fewer
replications and another seed: every monthly mean of every column the per-agent reference model
records (states, flows, revenue) must agree with the engine's within 4.5 pooled standard errors.
"""

from __future__ import annotations

import numpy as np
from test_reference_equivalence import CORE, MAX_STANDARD_ERRORS, mean_gaps

import simulator as sim
from benchmarks.reference import simulate_reference


def test_engine_agrees_with_the_reference_model():
    scenario = sim.load_scenario(CORE)
    reference = simulate_reference(scenario, replications=120, seed=23)
    engine = sim.simulate(scenario, replications=1200, seed=23, partners=False, concentration=False).monthly
    gaps = mean_gaps(reference, engine)
    assert len(gaps) >= 19  # every state, flow and revenue column
    worst = {col: round(float(np.max(np.abs(z))), 2) for col, z in gaps.items()}
    assert max(worst.values()) <= MAX_STANDARD_ERRORS, worst
