"""Reliable change and clinical significance (Jacobson & Truax 1991), as on instruments.md."""

from __future__ import annotations

import math

import pytest

from assessments.instruments import get_instrument
from assessments.reliable_change import (
    DETERIORATED,
    IMPROVED,
    NO_RELIABLE_CHANGE,
    NOT_ENOUGH_DATA,
    NOT_INTERPRETABLE,
    Population,
    choose_sd,
    clinical_cutoffs,
    minimum_reliable_change,
    reliable_change,
    reliable_change_for,
    standard_error,
    standard_error_of_difference,
)

# The facts page's example: SD 0.70 and r .93 on the SCS total.
#   SE = 0.70 * sqrt(1 - .93) = 0.70 * 0.264575 = 0.185203
#   S_diff = sqrt(2 * 0.185203^2) = 0.261916
#   minimum change = 1.96 * 0.261916 = 0.513355, i.e. 0.51
FACTS_SD = choose_sd(configured_sd=0.70, configured_source="facts page example")


def test_the_facts_page_example_needs_a_change_of_at_least_0_51():
    assert standard_error(0.70, 0.93) == pytest.approx(0.185203, abs=1e-6)
    assert standard_error_of_difference(0.70, 0.93) == pytest.approx(0.261916, abs=1e-6)
    assert round(minimum_reliable_change(0.70, 0.93), 2) == 0.51


def test_a_rise_beyond_the_minimum_on_a_higher_is_better_scale_is_improved():
    # RC = (3.1 - 2.5) / 0.261916 = 2.2908 > 1.96
    change = reliable_change(2.5, 3.1, direction="higher_is_better", retest_r=0.93, sd=FACTS_SD)
    assert change.rc == pytest.approx(0.6 / 0.261916, rel=1e-5)
    assert (change.reliable, change.verdict) == (True, IMPROVED)
    assert change.minimum_change == pytest.approx(0.513355, abs=1e-6)
    assert change.sd_source == "configured: facts page example"


def test_the_same_rise_on_a_higher_is_worse_scale_is_deteriorated():
    change = reliable_change(2.5, 3.1, direction="higher_is_worse", retest_r=0.93, sd=FACTS_SD)
    assert change.verdict == DETERIORATED


def test_a_fall_beyond_the_minimum_on_a_higher_is_better_scale_is_deteriorated():
    change = reliable_change(3.1, 2.5, direction="higher_is_better", retest_r=0.93, sd=FACTS_SD)
    assert change.verdict == DETERIORATED


def test_a_change_below_the_minimum_is_no_reliable_change():
    # RC = 0.5 / 0.261916 = 1.909, not beyond 1.96
    change = reliable_change(2.5, 3.0, direction="higher_is_better", retest_r=0.93, sd=FACTS_SD)
    assert (change.reliable, change.verdict) == (False, NO_RELIABLE_CHANGE)


@pytest.mark.parametrize(
    ("earlier", "later", "retest_r", "sd", "reason"),
    [
        (2.5, 3.5, 0.93, choose_sd([3.0] * 29), "not enough data: no configured SD and 29 of 30"),
        (2.5, 3.5, None, FACTS_SD, "no test-retest reliability for this scale"),
        (None, 3.5, 0.93, FACTS_SD, "one of the two scores is missing"),
        (2.5, 3.5, 0.93, None, "no SD was given"),
    ],
)
def test_without_an_sd_an_r_or_both_scores_there_is_no_verdict(
    earlier, later, retest_r, sd, reason
):
    change = reliable_change(earlier, later, direction="higher_is_better", retest_r=retest_r, sd=sd)
    assert (change.reliable, change.rc, change.verdict) == (None, None, NOT_ENOUGH_DATA)
    assert change.reason.startswith(reason)


def test_the_scs_total_uses_its_test_retest_of_93_and_reads_higher_as_better():
    change = reliable_change_for(get_instrument("scs"), "total", 2.5, 3.1, FACTS_SD)
    assert (change.retest_r, change.verdict) == (0.93, IMPROVED)


def test_a_rise_in_raw_self_judgment_is_a_deterioration():
    change = reliable_change_for(get_instrument("scs"), "self_judgment", 2.0, 3.5, FACTS_SD)
    assert (change.retest_r, change.verdict) == (0.80, DETERIORATED)


def test_short_form_subscales_get_no_verdict_because_they_are_not_interpretable_alone():
    change = reliable_change_for(get_instrument("scs-sf"), "self_kindness", 2.0, 4.5, FACTS_SD)
    assert (change.reliable, change.verdict) == (None, NOT_INTERPRETABLE)


def test_the_short_form_total_has_no_verdict_until_a_test_retest_r_is_configured():
    change = reliable_change_for(get_instrument("scs-sf"), "total", 2.0, 4.5, FACTS_SD)
    assert change.verdict == NOT_ENOUGH_DATA


# -- choosing the SD ------------------------------------------------------------------------------
def test_a_configured_sd_is_used_with_its_source_even_when_baselines_exist():
    choice = choose_sd([1.0, 5.0] * 20, configured_sd=0.7, configured_source="Smith 2020")
    assert (choice.value, choice.source, choice.kind) == (
        0.7,
        "configured: Smith 2020",
        "configured",
    )


def test_a_configured_sd_needs_its_source():
    with pytest.raises(ValueError, match="needs its source"):
        choose_sd(configured_sd=0.7)


def test_the_clinic_baseline_sd_is_used_from_30_clients_as_a_sample_sd():
    # 15 baselines of 2 and 15 of 4: mean 3, squared deviations 30 x 1 = 30;
    # sample SD (ddof=1) = sqrt(30 / 29) = 1.01709
    choice = choose_sd([2.0] * 15 + [4.0] * 15 + [None])  # a blank score is not counted
    assert choice.value == pytest.approx(math.sqrt(30 / 29))
    assert (choice.kind, choice.baseline_clients) == ("clinic_baseline", 30)
    assert choice.source == "this clinic's baseline SD (30 clients)"


def test_with_29_baselines_and_no_configured_sd_there_is_no_sd():
    choice = choose_sd([2.0, 4.0] * 14 + [3.0])
    assert (choice.value, choice.kind, choice.available) == (None, "none", False)


def test_identical_baselines_give_no_sd_rather_than_zero():
    assert choose_sd([3.0] * 40).value is None


@pytest.mark.parametrize(("sd", "retest_r"), [(0.0, 0.9), (-1.0, 0.9), (0.7, 1.0), (0.7, -0.1)])
def test_an_impossible_sd_or_r_is_rejected(sd, retest_r):
    with pytest.raises(ValueError):
        minimum_reliable_change(sd, retest_r)


# -- clinical significance ----------------------------------------------------------------------
CLINICAL = Population(mean=2.5, sd=0.6, source="example clinical sample")
FUNCTIONAL = Population(mean=3.2, sd=0.5, source="example community sample")


def test_cut_offs_a_b_and_c_on_a_higher_is_better_scale():
    # a = 2.5 + 2 * 0.6 = 3.7; b = 3.2 - 2 * 0.5 = 2.2
    # c = (0.5 * 2.5 + 0.6 * 3.2) / (0.5 + 0.6) = (1.25 + 1.92) / 1.1 = 2.88182
    cutoffs = clinical_cutoffs(CLINICAL, FUNCTIONAL, direction="higher_is_better")
    assert (cutoffs.a, cutoffs.b) == (pytest.approx(3.7), pytest.approx(2.2))
    assert cutoffs.c == pytest.approx(3.17 / 1.1)
    assert cutoffs.in_functional_range(3.0) and not cutoffs.in_functional_range(2.8)


def test_cut_offs_a_and_b_flip_on_a_higher_is_worse_scale():
    # clinical mean 20 (SD 5), functional 10 (SD 4): a = 20 - 10 = 10; b = 10 + 8 = 18;
    # c = (4 * 20 + 5 * 10) / 9 = 130 / 9 = 14.444
    cutoffs = clinical_cutoffs(Population(20, 5), Population(10, 4), direction="higher_is_worse")
    assert (cutoffs.a, cutoffs.b, cutoffs.c) == (10, 18, pytest.approx(130 / 9))
    assert cutoffs.in_functional_range(12) and not cutoffs.in_functional_range(15)


@pytest.mark.parametrize(("clinical", "functional"), [(CLINICAL, None), (None, FUNCTIONAL)])
def test_no_cut_offs_unless_both_populations_are_given(clinical, functional):
    assert clinical_cutoffs(clinical, functional, direction="higher_is_better") is None


# -- PHQ-9 and GAD-7: NHS Talking Therapies thresholds in points ------------------------------


@pytest.mark.parametrize(
    ("code", "earlier", "later", "verdict"),
    [
        ("phq-9", 16, 10, "improved"),  # 6 points down: the threshold itself is reliable
        ("phq-9", 16, 11, "no reliable change"),  # 5 points
        ("phq-9", 10, 16, "deteriorated"),
        ("gad-7", 12, 8, "improved"),  # 4 points
        ("gad-7", 12, 9, "no reliable change"),
        ("gad-7", 8, 12, "deteriorated"),
        ("gad-7", None, 12, "not enough data"),
    ],
)
def test_symptom_measures_count_reliable_change_in_points_and_say_so(code, earlier, later, verdict):
    change = reliable_change_for(get_instrument(code), "total", earlier, later, sd=None)
    assert change.verdict == verdict
    assert change.method == "threshold"
    assert change.minimum_change == {"phq-9": 6, "gad-7": 4}[code]
    assert "NHS Talking Therapies" in change.sd_source


def test_the_scs_still_uses_jacobson_and_truax():
    change = reliable_change_for(get_instrument("scs"), "total", 3.0, 4.0, sd=None)
    assert change.method == "Jacobson & Truax"
