"""Names and types that collide (issue 16, class 7): refused at load time, or accepted as what they are."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import BASELINE, small_channel

import simulator as sim


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"market__segments": {"all": {"share": 1.0}}}, "segment name 'all' is reserved"),
        ({"market__segments": {"total": {"share": 1.0}}}, "segment name 'total' is reserved"),
        ({"market__segments": {"active": {"share": 1.0}}}, "is reserved (a lifecycle state"),
        ({"market__segments": {"a__b": {"share": 1.0}}}, "contains '__'"),
        ({"program__levers": [{"name": "my__lever", "applies_to": ["active"]}]}, "single underscores"),
        ({"plan__revenue_target": 0}, "plan.revenue_target = 0: out of range; it must be > 0"),
        ({"plan__revenue_target": -1.0}, "must be > 0"),
    ],
)
def test_ambiguous_names_and_impossible_plans_are_refused_at_load_time(overrides, needle):
    with pytest.raises(sim.ScenarioError) as err:
        sim.load_scenario(BASELINE, **overrides)
    assert needle in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("value", [np.int64(12), np.int32(12), np.uint16(12)], ids=["int64", "int32", "uint16"])
def test_numpy_integers_are_whole_numbers_everywhere(value):
    scn = sim.load_scenario(small_channel(), horizon_months=value, recruitment__nurture_per_month=value)
    assert scn.horizon_months == 12 and type(scn.horizon_months) is int
    assert sim.simulate(scn, replications=value, seed=value).kpis.shape[0] == 12


@pytest.mark.parametrize("value", [np.float64(12.0), 12.5, "12", True])
def test_non_whole_numbers_are_refused_where_a_count_is_expected(value):
    with pytest.raises(sim.ChannelError):
        sim.simulate(small_channel(horizon_months=6), replications=value)


def test_a_segment_cannot_merge_with_the_scorecards_totals():
    """The scorecard's total rows are named "all": no segment may take the name, so shares stay 100%."""
    from simulator.planning import scorecard

    card = scorecard(small_channel(horizon_months=6), replications=4, seed=1)
    totals = card.table[(card.table["segment"] == "all") & (card.table["tier"] == "all")]
    assert len(totals) == 1 and totals["revenue_share"].iloc[0] == pytest.approx(1.0)
