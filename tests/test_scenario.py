"""Scenarios: defaults, overrides, immutability, safe YAML, and one-line errors."""

from __future__ import annotations

import pickle

import pytest
from conftest import BASELINE, small_channel

from simulator import Scenario, ScenarioError, load_scenario
from simulator.scenario import flat_keys, lever_catalogue
from simulator.scenario.yaml_io import parse_yaml


def test_defaults_follow_model_md():
    s = load_scenario({})
    assert s.horizon_months == 36
    assert s.market.vendor_signings_per_year == 2.5
    assert (s.growth.active, s.growth.collaborating) == (0.11, 0.19)
    assert s.activation.window_months == 6
    assert s.activation.monthly_probability == pytest.approx(0.11)
    assert s.market.segments["partner"].revenue_sigma == pytest.approx(1.7)
    assert s.plan.confidence == 0.9
    assert s.program.levers == ()


def test_baseline_is_a_mid_size_vendor():
    s = load_scenario(BASELINE)
    assert 1500 <= s.market.prospects <= 2500
    assert 150 <= s.channel.partners <= 250
    assert len(s.market.segments) == 3
    assert s.name == "Baseline mid-size vendor"
    # every number in the file carries a source note
    for key in flat_keys(s):
        if key.startswith(("name", "description", "currency", "program")) or s.get(key) in (None, {}):
            continue  # text, the lever list, and sections the baseline leaves unset (partner list, uncertainty)
        assert key in s.notes or key.rsplit(".", 1)[0] in s.notes, f"{key} has no source note"


def test_overrides_in_python_and_on_objects():
    s = load_scenario(BASELINE, activation__window_months=9, market__segments__msp__share=0.3)
    assert s.activation.window_months == 9
    t = s.override(horizon_months=24, program__levers=[{"use": "events", "months": [2, 10]}])
    assert (t.horizon_months, t.activation.window_months) == (24, 9)
    assert t.program.levers[0].name == "events" and t.program.levers[0].months == (2, 10)
    assert s.horizon_months == 36  # the original is unchanged
    assert t.get("program.levers[0].months") == [2, 10]


def test_scenario_is_immutable_hashable_and_picklable():
    s = load_scenario(small_channel())
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises ValidationError on frozen models
        s.horizon_months = 12
    with pytest.raises(TypeError):
        s.market.segments["x"] = None
    assert pickle.loads(pickle.dumps(s)) == s
    assert hash(s) == hash(load_scenario(small_channel()))
    assert s.fingerprint() == load_scenario(s.to_dict()).fingerprint()
    assert load_scenario(parse_yaml(s.to_yaml())) == s


def test_catalogue_levers_resolve_and_override():
    assert len(lever_catalogue()) >= 15
    s = load_scenario(
        {
            "program": {
                "levers": [
                    {
                        "use": "presales_support",
                        "effects": {"activation.monthly_probability": 0.5},
                        "cost": {"fixed_per_month": 100},
                    }
                ]
            }
        }
    )
    lever = s.program.levers[0]
    assert lever.effects["activation.monthly_probability"] == 0.5
    assert lever.cost.fixed_per_month == 100
    assert lever.cost.per_partner_month == lever_catalogue()["presales_support"]["cost"]["per_partner_month"]
    assert lever.phase == "activation"


def test_every_catalogue_lever_validates():
    for name in lever_catalogue():
        load_scenario({"program": {"levers": [{"use": name}]}})


def test_yaml_12_numbers_and_strings():
    data = parse_yaml("a: 1e3\nb: yes\nc: 012\nd: 2_000\ne: .5\nf: true\ng: 2026-01-01\n")
    assert data == {"a": 1000.0, "b": "yes", "c": 12, "d": 2000, "e": 0.5, "f": True, "g": "2026-01-01"}


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("a: !!python/object/apply:os.system ['echo hi']", "only plain YAML"),
        ("a: [1, 2\n", "not valid YAML"),
        (
            "a: &a [1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
            "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e]\n",
            "expands to more than",
        ),
        ("a:\n" + "".join("  " * i + f"  k{i}:\n" for i in range(40)) + "  " * 41 + "  x: 1\n", "nested"),
        ("x" * 1_100_000, "MB"),
    ],
)
def test_hostile_yaml_is_refused(text, needle):
    with pytest.raises(ScenarioError, match=needle):
        parse_yaml(text)


BAD = [
    ({"recruitment": {"win_share": 1.5}}, "recruitment.win_share = 1.5", "between 0 and 1"),
    ({"churn": {"exit_probability": -0.1}}, "churn.exit_probability = -0.1", "between 0 and 1"),
    ({"recruitment": {"nurture_per_mnth": 5}}, "recruitment.nurture_per_mnth", "did you mean 'nurture_per_month'"),
    ({"recruitment": {"nurture_per_month": 2.5}}, "recruitment.nurture_per_month = 2.5", "whole number"),
    ({"recruitment": {"nurture_per_month": -3}}, "recruitment.nurture_per_month = -3", ">= 0"),
    ({"market": {"prospects": "many"}}, "market.prospects = 'many'", "whole number"),
    ({"market": {"prospects": True}}, "market.prospects = True", "whole number"),
    ({"channel": {"active": -1}}, "channel.active = -1", ">= 0"),
    ({"market": {"segments": {"a": {"share": 0.5}, "b": {"share": 0.4}}}}, "market.segments", "sum to 0.9"),
    ({"channel": {"segment_shares": {"partner": 0.7}}}, "channel.segment_shares", "sum to 0.7"),
    ({"channel": {"segment_shares": {"zz": 1.0}}}, "channel.segment_shares", "unknown segment 'zz'"),
    ({"program": {"levers": [{"use": "partner_portl"}]}}, "program.levers[0].use", "did you mean 'partner_portal'"),
    (
        {"program": {"levers": [{"use": "events", "applies_to": ["activ"]}]}},
        "program.levers[0].applies_to",
        "did you mean 'active'",
    ),
    (
        {"program": {"levers": [{"name": "x", "effects": {"activation.monthly_probability": -1.5}}]}},
        "program.levers[0].effects.activation.monthly_probability",
        ">= -1",
    ),
    (
        {"program": {"levers": [{"name": "x", "effects": {"activation.speed": 0.2}}]}},
        "program.levers[0].effects",
        "not a rate",
    ),
    ({"program": {"levers": [{"use": "events", "months": [5, 50]}]}}, "program.levers[0].months", "horizon"),
    ({"program": {"levers": [{"use": "events", "months": [0, 5]}]}}, "program.levers[0].months", "horizon"),
    (
        {
            "program": {
                "levers": [{"name": "x", "applies_to": ["active"], "effects": {"activation.monthly_probability": 0.2}}]
            }
        },
        "program.levers[0].effects",
        "acts on signed",
    ),
    ({"program": {"levers": [{"use": "events"}, {"use": "events"}]}}, "program.levers[1].name", "used twice"),
    ({"program": {"levers": [{"use": "co_selling", "effects": {"growth.active": 20}}]}}, "program.levers", "at most 1"),
    ({"program": {"levers": [{"phase": "activation"}]}}, "program.levers[0]", "needs"),
    ({"horizon_months": 0}, "horizon_months = 0", ">= 1"),
    ({"horizon_months": "36"}, "horizon_months = '36'", "whole number"),
    ({"plan": {"confidence": 1.0}}, "plan.confidence = 1.0", "< 1"),
    ({"plan": {"revenue_target": -5}}, "plan.revenue_target = -5", "> 0"),
    ({"growth": {"volatility": float("nan")}}, "growth.volatility", "finite"),
    ({"market": {"segments": {"active": {"share": 1.0}}}}, "market.segments", "lifecycle state"),
    ({"market": {"segments": {}}}, "market.segments", "at least one segment"),
    ({"market": [1, 2]}, "market = [1, 2]", "mapping"),
    ({"foo": 1}, "foo", "unknown key"),
]


@pytest.mark.parametrize(("data", "key", "why"), BAD, ids=[b[1] for b in BAD])
def test_bad_scenarios_name_the_key(data, key, why):
    with pytest.raises(ScenarioError) as info:
        load_scenario(data)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(key), message
    assert why in message, message


def test_bad_override_paths():
    with pytest.raises(ScenarioError, match="unknown key"):
        load_scenario({}, activation__windw_months=3)
    with pytest.raises(ScenarioError, match="list has 0 item"):
        load_scenario({}, program__levers__0__months=[1, 2])


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(ScenarioError, match="not found"):
        load_scenario(tmp_path / "nope.yaml")
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(ScenarioError, match="empty"):
        load_scenario(empty)
    text = tmp_path / "list.yaml"
    text.write_text("- 1\n- 2\n")
    with pytest.raises(ScenarioError, match="mapping"):
        load_scenario(text)


def test_scenario_object_is_one_value():
    s = Scenario()
    with pytest.raises(TypeError):
        iter(s)


def test_intensity_cannot_scale_a_rate_below_zero():
    with pytest.raises(ScenarioError, match=r"program.levers\[0\].intensity: .*must be <= 10"):
        load_scenario({"program": {"levers": [{"use": "rebates", "intensity": 15}]}})
    load_scenario({"program": {"levers": [{"use": "rebates", "intensity": 10}]}})
