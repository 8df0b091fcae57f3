"""The formatting rules, each with examples: how every number and key is written for people."""

from __future__ import annotations

import math

import pytest

from simulator import formatting as f


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (776_050, "776k"),  # three significant figures, never "776.05k"
        (1_254_000, "1.25m"),
        (30_800_000, "30.8m"),
        (50_000_000, "50m"),
        (2_100_000_000, "2.1bn"),
        (999.4, "999"),  # whole units below a thousand
        (999_600, "1m"),  # the unit is chosen after rounding: not "1,000k"
        (999.6, "1k"),
        (12_345, "12.3k"),
        (-830_400, "-830k"),
        (-0.2, "0"),  # no negative zero
        (0, "0"),
        (None, "-"),
        (math.nan, "-"),
        (math.inf, "-"),
    ],
)
def test_money_three_significant_figures_in_k_m_bn(value, text):
    assert f.money(value) == text


def test_money_with_currency_and_sign():
    assert f.money(50e6, "USD") == "50m USD"
    assert f.signed_money(1.2e6, "USD") == "+1.2m USD"
    assert f.signed_money(-830_000) == "-830k"
    assert f.signed_money(-0.3) == "0"
    assert f.signed_money(0.0) == "0"


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.84, "84.0%"), (0.905, "90.5%"), (1.0, "100.0%"), (-0.0001, "0.0%"), (-0.00049, "0.0%"), (None, "-")],
)
def test_shares_and_probabilities_are_percentages_without_negative_zero(value, text):
    assert f.share(value) == text


def test_share_decimals():
    assert f.share(0.9, 0) == "90%"
    assert f.share(0.8412, 2) == "84.12%"


@pytest.mark.parametrize(
    ("diff", "text"),
    [(0.145, "+14.5 points"), (-0.03, "-3.0 points"), (0.0, "0.0 points"), (-0.0004, "0.0 points"), (None, "-")],
)
def test_changes_of_shares_are_points(diff, text):
    assert f.points(diff) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.806, "0.81"), (0.25, "0.25"), (0.0123, "0.0123"), (0.05432, "0.0543"), (0, "0"), (-0.0001, "-0.0001")],
)
def test_indices_are_plain_numbers(value, text):
    assert f.index(value) == text  # Gini 0.81 everywhere, HHI never a percentage


def test_signed_index():
    assert f.signed_index(-0.03) == "-0.03"
    assert f.signed_index(0.2) == "+0.20"
    assert f.signed_index(0.0) == "0"


@pytest.mark.parametrize(
    ("value", "text"),
    [(64.3, "64"), (432.0, "432"), (2200, "2,200"), (4.3, "4.3"), (4.0, "4"), (9.96, "10.0"), (-0.2, "-0.2")],
)
def test_counts_are_whole_unless_a_mean_below_ten(value, text):
    assert f.quantity(value) == text


def test_quantity_never_negative_zero():
    assert f.quantity(-0.01) == "0"  # rounds to zero at one decimal
    assert f.signed_quantity(12) == "+12" and f.signed_quantity(-3) == "-3" and f.signed_quantity(0) == "0"


def test_figures_are_written_by_their_kind_in_the_vocabulary():
    assert f.figure("revenue_last_12m", 30_812_000, "USD") == "30.8m USD"
    assert f.figure("top20_share", 0.8412) == "84.1%"
    assert f.figure("p_plan_met", 0.905) == "90.5%"  # P always as a percentage
    assert f.figure("gini", 0.806) == "0.81"
    assert f.figure("hhi", 0.0543) == "0.0543"
    assert f.figure("nurtured", 432.0) == "432"
    assert f.figure("signings", 4.25) == "4.2"
    assert f.change("revenue_last_12m", 1.2e6) == "+1.2m"
    assert f.change("p_plan_met", 0.145) == "+14.5 points"
    assert f.change("top20_share", -0.02) == "-2.0 points"
    assert f.change("gini", -0.03) == "-0.03"
    assert f.change("active", 12.0) == "+12"
    assert f.figure_label("revenue_last_12m", "USD") == "Revenue, last 12 months (USD)"
    assert f.figure_label("gini", "USD") == "Gini (earning)"


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.123, "+12.3%"), (-0.04, "-4.0%"), (-0.0001, "0.0%"), (0.0, "0.0%"), (None, "-")],
)
def test_signed_share_for_growth_rates(value, text):
    assert f.signed_share(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (5e7, "50,000,000"),  # never "5e+07"
        (50_000_000, "50,000,000"),
        (0.75, "0.75"),
        (0.1234567, "0.123457"),
        (1e-7, "0.0000001"),
        (2.5, "2.5"),
        (800, "800"),
        (None, "none"),
        (True, "true"),
        ([1, 12], "[1, 12]"),
        ((1, 12), "[1, 12]"),
        ({"msp": 0.3, "reseller": 0.7}, "msp: 0.3, reseller: 0.7"),
        ("USD", "USD"),
    ],
)
def test_scenario_values_are_written_without_exponents(value, text):
    assert f.value_text(value) == text


def test_plain_numbers_and_decision_values():
    assert f.number(0.14321) == "0.143"
    assert f.number(1234.5) == "1,234"
    assert f.number(-2.5) == "-2.5"
    assert f.number(-0.0001, 2) == "-0.0001"
    assert f.decision_value("recruitment.nurture_per_month", 22.0, integer=True) == "22"
    assert f.decision_value("activation.monthly_probability", 0.143) == "14.3%"
    assert f.decision_value("economics.onboarding_cost", 12_000) == "12k"
    assert f.decision_value("program.levers[0].intensity", 1.3456) == "1.35"
    assert f.decision_value("x", None) == "-"


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("recruitment.nurture_per_month", "prospects nurtured a month"),
        ("activation.window_months", "months to a first deal (activation window)"),
        ("market.segments.msp.share", "msp: share of prospects"),
        ("market.segments.reseller.revenue_median", "reseller: median monthly revenue"),
        ("channel.segment_shares.integrator", "integrator: share of today's partners"),
        ("lever:presales_support", "the presales support lever"),
        ("lever:training.intensity", "training lever: intensity"),
        ("lever:training.segments", "training lever: segments"),
        (
            "lever:training.effects.activation.monthly_probability",
            "training lever: effect on chance a month of a first deal",
        ),
        ("program.levers[1].months", "lever 2: months"),
        ("unknown.some_key", "unknown some key"),
    ],
)
def test_keys_in_words(key, words):
    assert f.key_words(key) == words
    assert "_" not in f.key_words(key)  # no raw field names in sentences


def test_every_model_key_has_words():
    import simulator as sim
    from simulator.scenario import flat_keys

    scn = sim.load_scenario({"name": "x"})
    for key in flat_keys(scn):
        assert "_" not in f.key_words(key) and "." not in f.key_words(key), key


def test_shorten_bounds_the_length_at_a_word():
    text = "the plan is met in most futures but not in all of them"
    assert f.shorten(text, 100) == text
    short = f.shorten(text, 20)
    assert len(short) <= 20 and short.endswith("…") and short == "the plan is met in…"
    assert f.shorten("a\nb\t c", 10) == "a b c"
    assert len(f.shorten("x" * 50, 10)) == 10


def test_lever_words_and_plural():
    assert f.lever_words("presales_support") == "presales support"
    assert f.plural(1, "lever") == "1 lever" and f.plural(2200, "company") == "2,200 companies"


def test_levers_in_words_with_their_cost():
    import simulator as sim

    scn = sim.load_scenario(
        {
            "name": "x",
            "market": {"segments": {"msp": {"share": 0.4}, "reseller": {"share": 0.6}}},
            "program": {
                "levers": [
                    {"use": "presales_support", "segments": ["msp"], "months": [3, 12], "intensity": 0.5},
                    {"name": "rebate", "effects": {"growth.active": 0.1}, "cost": {"revenue_share": 0.02}},
                ]
            },
        }
    )
    presales, rebate = scn.program.levers
    text = f.describe_lever(presales, "USD")
    # intensity 0.5 halves the catalogue's +35%; the segment restriction and the months are said
    assert text == (
        "+18% chance a month of a first deal; for signed partners in msp only; months 3-12; intensity 0.5; "
        "costs 450 USD a partner a month"
    )
    assert f.lever_cost(rebate) == "2.0% of the revenue of the partners it targets"
    assert (
        f.lever_cost(
            scn.override(program__levers=[{"name": "free", "effects": {"growth.active": 0.1}}]).program.levers[0]
        )
        == "-"
    )
