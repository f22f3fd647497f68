"""Scoring by hand-computed tables (instruments.md), and the two scorers agreeing.

Every expected number below is worked out in the comments, from the keys on the facts page:
SCS (Neff 2003), SCS-SF (Raes et al. 2011), FSCRS (Gilbert et al. 2004), PHQ-9 (Kroenke et al.
2001) and GAD-7 (Spitzer et al. 2006) with the project's missing-item rule for them.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assessments.instruments import get_instrument
from assessments.scoring import (
    ScoringError,
    item_columns,
    result_columns,
    score_frame,
    score_response,
)

SCS = get_instrument("scs")
SCS_SF = get_instrument("scs-sf")
FSCRS = get_instrument("fscrs")
PHQ_9 = get_instrument("phq-9")
GAD_7 = get_instrument("gad-7")

# A worked SCS response, item -> answer, grouped by subscale:
#   self_kindness        5:4 12:4 19:5 23:3 26:4  sum 20 / 5 = 4.0
#   self_judgment        1:2  8:3 11:2 16:1 21:2  sum 10 / 5 = 2.0 (raw; reversed 6 - 2.0 = 4.0)
#   common_humanity      3:3  7:4 10:3 15:4       sum 14 / 4 = 3.5
#   isolation            4:2 13:2 18:3 25:1       sum  8 / 4 = 2.0 (raw; reversed 4.0)
#   mindfulness          9:4 14:5 17:4 22:5       sum 18 / 4 = 4.5
#   over_identification  2:3  6:2 20:2 24:3       sum 10 / 4 = 2.5 (raw; reversed 3.5)
SCS_WORKED = {
    5: 4, 12: 4, 19: 5, 23: 3, 26: 4,
    1: 2, 8: 3, 11: 2, 16: 1, 21: 2,
    3: 3, 7: 4, 10: 3, 15: 4,
    4: 2, 13: 2, 18: 3, 25: 1,
    9: 4, 14: 5, 17: 4, 22: 5,
    2: 3, 6: 2, 20: 2, 24: 3,
}  # fmt: skip
POSITIVE_SCS_ITEMS = (3, 5, 7, 9, 10, 12, 14, 15, 17, 19, 22, 23, 26)
NEGATIVE_SCS_ITEMS = (1, 2, 4, 6, 8, 11, 13, 16, 18, 20, 21, 24, 25)


def scs(changes=None):
    """SCS_WORKED with some items changed (None = blank)."""
    return {**SCS_WORKED, **(changes or {})}


def uniform(instrument, value, changes=None):
    answers = dict.fromkeys(range(1, instrument.item_count + 1), value)
    return {**answers, **(changes or {})}


# -- SCS ----------------------------------------------------------------------------------------
def test_scs_subscales_are_means_of_raw_responses():
    result = score_response(SCS, SCS_WORKED)
    assert {code: s.score for code, s in result.subscales.items()} == {
        "self_kindness": 4.0,
        "self_judgment": 2.0,  # raw: high = more self-judgment, not reversed
        "common_humanity": 3.5,
        "isolation": 2.0,
        "mindfulness": 4.5,
        "over_identification": 2.5,
    }
    assert result.status == "scored"
    assert not result.prorated
    assert result.missing_items == ()


def test_the_subscale_mean_total_reverses_the_negative_subscales_and_averages_six_means():
    # (4.0 + 4.0 + 3.5 + 4.0 + 4.5 + 3.5) / 6 = 23.5 / 6 = 3.91666...
    result = score_response(SCS, SCS_WORKED)
    assert result.total_method == "subscale_mean"
    assert result.total == pytest.approx(23.5 / 6)
    assert result.band.code == "high"


def test_the_item_mean_total_averages_all_26_items_after_reversal():
    # positive items: 20 + 14 + 18 = 52; negative items reversed: (5*6 - 10) + (4*6 - 8)
    # + (4*6 - 10) = 20 + 16 + 14 = 50; (52 + 50) / 26 = 102 / 26 = 3.923...
    result = score_response(SCS, SCS_WORKED, total_method="item_mean")
    assert result.total_method == "item_mean"
    assert result.total == pytest.approx(102 / 26)
    assert result.total != score_response(SCS, SCS_WORKED).total  # the methods differ


def test_the_scs_composites_are_means_of_raw_positive_and_raw_negative_items():
    # compassionate: (20 + 14 + 18) / 13 = 52 / 13 = 4.0
    # uncompassionate (raw): (10 + 8 + 10) / 13 = 28 / 13 = 2.1538...
    result = score_response(SCS, SCS_WORKED)
    assert result.composites == {
        "compassionate_responding": pytest.approx(4.0),
        "uncompassionate_responding": pytest.approx(28 / 13),
    }


# Every item set to 1 while the rest answer 3. A subscale of n items then has raw mean
# (3 * (n - 1) + 1) / n: 13/5 = 2.6 for five items, 10/4 = 2.5 for four.
#   reverse-keyed, 5 items: subscale_mean (5 * 3 + (6 - 2.6)) / 6 = 18.4 / 6
#   reverse-keyed, 4 items: subscale_mean (5 * 3 + (6 - 2.5)) / 6 = 18.5 / 6
#   forward, 5 items:       subscale_mean (5 * 3 + 2.6) / 6 = 17.6 / 6
#   forward, 4 items:       subscale_mean (5 * 3 + 2.5) / 6 = 17.5 / 6
#   item_mean: reverse-keyed (25 * 3 + (6 - 1)) / 26 = 80 / 26; forward (75 + 1) / 26 = 76 / 26
REV5, REV4, FWD5, FWD4 = 18.4 / 6, 18.5 / 6, 17.6 / 6, 17.5 / 6
REV_ITEM, FWD_ITEM = 80 / 26, 76 / 26
EVERY_SCS_ITEM = [
    (1, "self_judgment", 2.6, REV5, REV_ITEM),
    (2, "over_identification", 2.5, REV4, REV_ITEM),
    (3, "common_humanity", 2.5, FWD4, FWD_ITEM),
    (4, "isolation", 2.5, REV4, REV_ITEM),
    (5, "self_kindness", 2.6, FWD5, FWD_ITEM),
    (6, "over_identification", 2.5, REV4, REV_ITEM),
    (7, "common_humanity", 2.5, FWD4, FWD_ITEM),
    (8, "self_judgment", 2.6, REV5, REV_ITEM),
    (9, "mindfulness", 2.5, FWD4, FWD_ITEM),
    (10, "common_humanity", 2.5, FWD4, FWD_ITEM),
    (11, "self_judgment", 2.6, REV5, REV_ITEM),
    (12, "self_kindness", 2.6, FWD5, FWD_ITEM),
    (13, "isolation", 2.5, REV4, REV_ITEM),
    (14, "mindfulness", 2.5, FWD4, FWD_ITEM),
    (15, "common_humanity", 2.5, FWD4, FWD_ITEM),
    (16, "self_judgment", 2.6, REV5, REV_ITEM),
    (17, "mindfulness", 2.5, FWD4, FWD_ITEM),
    (18, "isolation", 2.5, REV4, REV_ITEM),
    (19, "self_kindness", 2.6, FWD5, FWD_ITEM),
    (20, "over_identification", 2.5, REV4, REV_ITEM),
    (21, "self_judgment", 2.6, REV5, REV_ITEM),
    (22, "mindfulness", 2.5, FWD4, FWD_ITEM),
    (23, "self_kindness", 2.6, FWD5, FWD_ITEM),
    (24, "over_identification", 2.5, REV4, REV_ITEM),
    (25, "isolation", 2.5, REV4, REV_ITEM),
    (26, "self_kindness", 2.6, FWD5, FWD_ITEM),
]


@pytest.mark.parametrize(
    ("item", "subscale", "raw_mean", "by_subscales", "by_items"), EVERY_SCS_ITEM
)
def test_every_reverse_keyed_scs_item_is_mirrored_in_the_total(
    item, subscale, raw_mean, by_subscales, by_items
):
    answers = uniform(SCS, 3, {item: 1})
    result = score_response(SCS, answers)
    assert result.subscales[subscale].score == pytest.approx(raw_mean)  # raw, never reversed
    assert result.total == pytest.approx(by_subscales)
    assert score_response(SCS, answers, "item_mean").total == pytest.approx(by_items)
    # A low answer raises the total exactly when the item is reverse-keyed.
    assert (result.total > 3) == (item in NEGATIVE_SCS_ITEMS)


# -- bands --------------------------------------------------------------------------------------
# subscale_mean, exactly 2.5: self_kindness all 2 (2.0); self_judgment raw all 4 (reversed
# 2.0); common_humanity all 3 (3.0); isolation raw all 3 (3.0); mindfulness 2,3,2,3 (2.5);
# over_identification raw 4,3,4,3 (3.5, reversed 2.5): (2 + 2 + 3 + 3 + 2.5 + 2.5) / 6 = 2.5.
AT_2_5 = {
    **dict.fromkeys((5, 12, 19, 23, 26), 2),
    **dict.fromkeys((1, 8, 11, 16, 21), 4),
    **dict.fromkeys((3, 7, 10, 15), 3),
    **dict.fromkeys((4, 13, 18, 25), 3),
    9: 2, 14: 3, 17: 2, 22: 3,
    2: 4, 6: 3, 20: 4, 24: 3,
}  # fmt: skip
# The mirror image (6 - x for every item) has total 6 - 2.5 = 3.5.
AT_3_5 = {item: 6 - value for item, value in AT_2_5.items()}


@pytest.mark.parametrize(
    ("answers", "total", "band"),
    [
        (AT_2_5, 2.5, "moderate"),
        # item 5 from 2 to 1: self_kindness 9 / 5 = 1.8; (1.8 + 12.5) / 6 = 14.8 / 6 = 2.4667
        ({**AT_2_5, 5: 1}, 14.8 / 6, "low"),
        (AT_3_5, 3.5, "moderate"),
        # item 5 from 4 to 5: self_kindness 21 / 5 = 4.2; (4.2 + 17) / 6 = 21.2 / 6 = 3.5333
        ({**AT_3_5, 5: 5}, 21.2 / 6, "high"),
    ],
)
def test_a_subscale_mean_total_of_exactly_2_5_or_3_5_is_moderate(answers, total, band):
    result = score_response(SCS, answers)
    assert result.total == pytest.approx(total)
    assert result.band.code == band


# item_mean, exactly 2.5: positive items 2, negative items raw 3 (reversed 3):
# (13 * 2 + 13 * 3) / 26 = 65 / 26 = 2.5; positive items 4: (52 + 39) / 26 = 91 / 26 = 3.5.
@pytest.mark.parametrize(
    ("positive", "changes", "total", "band"),
    [
        (2, {}, 2.5, "moderate"),
        (2, {5: 1}, 64 / 26, "low"),  # 2.4615
        (4, {}, 3.5, "moderate"),
        (4, {5: 5}, 92 / 26, "high"),  # 3.5385
    ],
)
def test_an_item_mean_total_of_exactly_2_5_or_3_5_is_moderate(positive, changes, total, band):
    answers = {
        **dict.fromkeys(POSITIVE_SCS_ITEMS, positive),
        **dict.fromkeys(NEGATIVE_SCS_ITEMS, 3),
    }
    result = score_response(SCS, {**answers, **changes}, "item_mean")
    assert result.total == pytest.approx(total)
    assert result.band.code == band


@pytest.mark.parametrize(
    ("total", "band"),
    [(1.0, "low"), (2.4999, "low"), (2.5, "moderate"), (3.5, "moderate"), (3.5001, "high"),
     (5.0, "high")],
)  # fmt: skip
def test_the_scs_bands_put_both_boundaries_in_moderate(total, band):
    assert SCS.band_for(total).code == band
    assert SCS_SF.band_for(total).code == band


# -- missing items ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("blanks", "subscales", "by_subscales", "by_items", "status"),
    [
        # 19 (a 5) blank: self_kindness (4 + 4 + 3 + 4) / 4 = 3.75, prorated;
        # total (3.75 + 4 + 3.5 + 4 + 4.5 + 3.5) / 6 = 23.25 / 6 = 3.875;
        # item_mean: (102 - 5) / 25 = 97 / 25 = 3.88
        ((19,), {"self_kindness": 3.75}, 3.875, 97 / 25, "scored"),
        # 18 (raw 3) blank: isolation (2 + 2 + 1) / 3 = 5/3, reversed 13/3;
        # total (4 + 4 + 3.5 + 13/3 + 4.5 + 3.5) / 6 = 143 / 36; item_mean (102 - 3) / 25
        ((18,), {"isolation": 5 / 3}, 143 / 36, 99 / 25, "scored"),
        # one blank in each of two subscales: (3.75 + 4 + 3.5 + 13/3 + 4.5 + 3.5) / 6
        # = 70.75 / 18; item_mean (102 - 5 - 3) / 24 = 94 / 24
        ((18, 19), {"self_kindness": 3.75, "isolation": 5 / 3}, 70.75 / 18, 94 / 24, "scored"),
        # two blanks in one subscale: self_kindness unscored, so no total
        ((19, 23), {"self_kindness": None}, None, None, "incomplete"),
    ],
)
def test_the_missing_item_rule_for_the_scs(blanks, subscales, by_subscales, by_items, status):
    answers = scs(dict.fromkeys(blanks))
    result = score_response(SCS, answers)
    for code, expected in subscales.items():
        assert result.subscales[code].score == (expected and pytest.approx(expected))
        assert result.subscales[code].prorated == (expected is not None)
    assert result.total == (by_subscales and pytest.approx(by_subscales))
    assert score_response(SCS, answers, "item_mean").total == (by_items and pytest.approx(by_items))
    assert result.status == status
    assert result.missing_items == blanks
    assert result.prorated == (status == "scored")


def test_a_subscale_with_one_blank_lists_it_and_says_prorated():
    subscale = score_response(SCS, scs({19: None})).subscales["self_kindness"]
    assert (subscale.n_items, subscale.answered, subscale.blank_items) == (5, 4, (19,))
    assert subscale.prorated and subscale.scored


def test_a_composite_is_scored_only_when_the_subscales_it_draws_on_are_scored():
    result = score_response(SCS, scs({19: None, 23: None}))
    assert result.composites["compassionate_responding"] is None  # self_kindness unscored
    assert result.composites["uncompassionate_responding"] == pytest.approx(28 / 13)
    # one blank (19, a 5): (52 - 5) / 12 = 47 / 12
    one_blank = score_response(SCS, scs({19: None}))
    assert one_blank.composites["compassionate_responding"] == pytest.approx(47 / 12)


def test_a_response_with_every_item_blank_is_incomplete_and_lists_every_item():
    result = score_response(SCS, {})
    assert result.status == "incomplete"
    assert result.total is None and result.band is None
    assert result.missing_items == tuple(range(1, 27))
    assert all(s.score is None for s in result.subscales.values())


# -- SCS-SF ---------------------------------------------------------------------------------------
# items: 1:2 2:4 3:4 4:2 5:3 6:5 7:3 8:1 9:3 10:4 11:2 12:1
#   self_kindness 2,6 = 4,5 -> 4.5         self_judgment 11,12 = 2,1 -> 1.5 (reversed 4.5)
#   common_humanity 5,10 = 3,4 -> 3.5      isolation 4,8 = 2,1 -> 1.5 (reversed 4.5)
#   mindfulness 3,7 = 4,3 -> 3.5           over_identification 1,9 = 2,3 -> 2.5 (reversed 3.5)
# total: positive 4+5+3+4+4+3 = 23; reversed 4+4+5+3+4+5 = 25; 48 / 12 = 4.0
# (= mean of the subscale means: (4.5 + 4.5 + 3.5 + 4.5 + 3.5 + 3.5) / 6 = 24 / 6)
SCS_SF_WORKED = [2, 4, 4, 2, 3, 5, 3, 1, 3, 4, 2, 1]


def test_the_short_form_total_is_the_mean_of_its_items_after_reversal():
    result = score_response(SCS_SF, SCS_SF_WORKED)
    assert {code: s.score for code, s in result.subscales.items()} == {
        "self_kindness": 4.5,
        "self_judgment": 1.5,
        "common_humanity": 3.5,
        "isolation": 1.5,
        "mindfulness": 3.5,
        "over_identification": 2.5,
    }
    assert (result.total, result.total_method, result.band.code) == (4.0, "item_mean", "high")
    assert result.composites == {}


@pytest.mark.parametrize("item", range(1, 13))
def test_every_reverse_keyed_short_form_item_is_mirrored_in_the_total(item):
    # all 3 but one item 1: reverse-keyed (11 * 3 + 5) / 12 = 38 / 12, else (33 + 1) / 12
    result = score_response(SCS_SF, uniform(SCS_SF, 3, {item: 1}))
    expected = 38 / 12 if item in (1, 4, 8, 9, 11, 12) else 34 / 12
    assert result.total == pytest.approx(expected)


def test_one_blank_in_a_two_item_short_form_subscale_leaves_it_and_the_total_unscored():
    answers = {n: v for n, v in enumerate(SCS_SF_WORKED, start=1) if n != 2}
    result = score_response(SCS_SF, answers)
    assert result.subscales["self_kindness"].score is None
    assert result.subscales["self_judgment"].score == 1.5
    assert (result.total, result.status, result.missing_items) == (None, "incomplete", (2,))


# -- FSCRS ----------------------------------------------------------------------------------------
# inadequate_self 1,2,4,6,7,14,17,18,20 = 1,2,3,4,0,1,2,3,4 -> sum 20
# hated_self 9,10,12,15,22 = 0,1,0,2,1 -> sum 4
# reassured_self 3,5,8,11,13,16,19,21 = 3,3,4,2,3,3,4,2 -> sum 24
FSCRS_WORKED = {
    1: 1, 2: 2, 4: 3, 6: 4, 7: 0, 14: 1, 17: 2, 18: 3, 20: 4,
    9: 0, 10: 1, 12: 0, 15: 2, 22: 1,
    3: 3, 5: 3, 8: 4, 11: 2, 13: 3, 16: 3, 19: 4, 21: 2,
}  # fmt: skip


def test_fscrs_subscales_are_sums_and_there_is_no_total():
    result = score_response(FSCRS, FSCRS_WORKED)
    assert {code: s.score for code, s in result.subscales.items()} == {
        "inadequate_self": 20,
        "hated_self": 4,
        "reassured_self": 24,
    }
    assert (result.total, result.total_method, result.band) == (None, None, None)
    assert result.status == "scored"  # every subscale scored


@pytest.mark.parametrize(
    ("blanks", "code", "expected", "status"),
    [
        # item 7 (a 0) blank: 20 / 8 answered x 9 items = 22.5
        ((7,), "inadequate_self", 22.5, "scored"),
        # item 15 (a 2) blank: (4 - 2) / 4 x 5 = 2.5
        ((15,), "hated_self", 2.5, "scored"),
        # two blanks in one subscale: unscored
        ((3, 5), "reassured_self", None, "incomplete"),
    ],
)
def test_a_sum_subscale_with_one_blank_is_prorated(blanks, code, expected, status):
    result = score_response(FSCRS, {**FSCRS_WORKED, **dict.fromkeys(blanks)})
    assert result.subscales[code].score == expected
    assert result.subscales[code].prorated == (expected is not None)
    assert (result.status, result.missing_items) == (status, blanks)


def test_zero_is_an_answer_on_the_fscrs_but_not_on_the_scs():
    assert score_response(FSCRS, uniform(FSCRS, 0)).subscales["hated_self"].score == 0
    with pytest.raises(ScoringError, match=r"item 1: 0 is outside the response range 1\.\.5"):
        score_response(SCS, uniform(SCS, 3, {1: 0}))


# -- answers in every accepted shape, and invalid ones ------------------------------------------
def test_answers_may_be_a_sequence_text_or_a_mapping_with_text_keys():
    in_order = [SCS_WORKED[n] for n in range(1, 27)]
    expected = score_response(SCS, SCS_WORKED)
    assert score_response(SCS, in_order) == expected
    assert score_response(SCS, {str(n): f" {v} " for n, v in SCS_WORKED.items()}) == expected
    assert score_response(SCS, [float(v) for v in in_order]) == expected
    assert score_response("scs", SCS_WORKED) == expected


@pytest.mark.parametrize("blank", [None, "", "  ", float("nan")])
def test_none_nan_and_empty_text_are_blanks(blank):
    assert score_response(SCS, scs({19: blank})).missing_items == (19,)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (6, "item 3: 6 is outside the response range 1..5"),
        ("9", "item 3: 9 is outside the response range 1..5"),
        (-1, "item 3: -1 is outside the response range 1..5"),
        (2.5, "item 3: 2.5 is not a whole number"),
        ("2.5", "item 3: '2.5' is not a whole number"),
        ("x", "item 3: 'x' is not a whole number"),
        (True, "item 3: True is not a whole number"),
        (float("inf"), "item 3: inf is not a whole number"),
    ],
)
def test_an_invalid_value_is_rejected_naming_the_item_and_the_value(value, message):
    with pytest.raises(ScoringError) as error:
        score_response(SCS, scs({3: value}))
    assert str(error.value) == message


def test_every_bad_item_is_named_in_one_error():
    with pytest.raises(ScoringError) as error:
        score_response(SCS, scs({3: 6, 9: "x"}))
    assert error.value.problems == (
        "item 3: 6 is outside the response range 1..5",
        "item 9: 'x' is not a whole number",
    )
    assert str(error.value) == "; ".join(error.value.problems)


@pytest.mark.parametrize(
    ("instrument", "answers", "method", "message"),
    [
        ("scs", [3] * 25, None, "scs has 26 items, got 25 answers"),
        ("scs", {27: 3}, None, "unknown item number 27 (scs has items 1..26)"),
        ("scs", {0: 3}, None, "unknown item number 0 (scs has items 1..26)"),
        ("scs", {1: 3, "1": 3}, None, "item 1 is given twice"),
        ("scs", "3" * 26, None, "answers must be a mapping"),
        ("bdi", {}, None, "unknown instrument 'bdi' (known: fscrs, gad-7, phq-9, scs, scs-sf)"),
        ("scs", {}, "median", "unknown total method 'median' for scs (available: "),
        ("scs-sf", {}, "subscale_mean", "unknown total method 'subscale_mean' for scs-sf"),
        ("fscrs", {}, "item_mean", "fscrs has no total, so no total method 'item_mean'"),
    ],
)
def test_unusable_answers_or_settings_raise_a_scoring_error(instrument, answers, method, message):
    with pytest.raises(ScoringError) as error:
        score_response(instrument, answers, method)
    assert str(error.value).startswith(message)


def test_a_result_converts_to_json_ready_data():
    data = score_response(SCS, scs({19: None})).as_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["band"] == {"code": "high", "label": "High"}
    assert data["subscales"]["self_kindness"]["blank_items"] == [19]
    assert (data["instrument"], data["instrument_version"], data["missing_rule"]) == (
        "scs",
        "1",
        "selfkind-1",
    )


# -- the vectorised scorer ------------------------------------------------------------------------
def test_score_frame_returns_one_row_per_input_row_with_the_documented_columns():
    complete = [SCS_WORKED[n] for n in range(1, 27)]
    one_blank = [None if n == 19 else SCS_WORKED[n] for n in range(1, 27)]
    frame = pd.DataFrame([complete, one_blank], columns=item_columns(SCS), index=["a", "b"])
    scored = score_frame(SCS, frame)
    assert list(scored.columns) == result_columns(SCS)
    assert list(scored.index) == ["a", "b"]
    assert scored.loc["a", "total"] == pytest.approx(23.5 / 6)
    assert scored.loc["b", ["missing_items", "status", "band"]].tolist() == ["19", "scored", "high"]


def test_an_invalid_row_does_not_stop_the_frame():
    rows = [[3] * 26, ["x"] + [3] * 25, [3] * 25 + [9]]
    scored = score_frame(SCS, pd.DataFrame(rows, columns=item_columns(SCS), dtype=object))
    assert scored["status"].tolist() == ["scored", "invalid", "invalid"]
    assert scored["error"].tolist() == [
        "",
        "item 1: 'x' is not a whole number",
        "item 26: 9 is outside the response range 1..5",
    ]
    assert scored.loc[1:, "total"].isna().all()


def test_score_frame_needs_every_item_column():
    with pytest.raises(ScoringError, match="missing item columns for scs-sf: item_12"):
        score_frame(SCS_SF, pd.DataFrame(columns=item_columns(SCS_SF)[:11]))


def test_score_frame_scores_100000_rows_in_well_under_two_seconds():
    import time

    rng = np.random.default_rng(0)
    values = rng.integers(1, 6, size=(100_000, 26)).astype(float)
    values[rng.random(values.shape) < 0.01] = np.nan
    frame = pd.DataFrame(values, columns=item_columns(SCS))
    start = time.perf_counter()
    score_frame(SCS, frame)
    assert time.perf_counter() - start < 2.0


# -- PHQ-9 and GAD-7 (instruments.md, "Depression and anxiety measures") --------------------------


def totalling(instrument, total: int, blank=()) -> dict[int, int | None]:
    """Answers 0..3 filled from item 1 on so that they sum to `total`; `blank` items left blank
    (and so holding nothing)."""
    answers, left = {}, total
    for number in range(1, instrument.item_count + 1):
        if number in blank:
            answers[number] = None
            continue
        answers[number] = min(3, left)
        left -= answers[number]
    assert left == 0, "no such total with these blanks"
    return answers


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"),
        (14, "moderate"), (15, "moderately_severe"), (19, "moderately_severe"), (20, "severe"),
        (27, "severe"),
    ],
)  # fmt: skip
def test_every_phq_9_band_boundary(total, band):
    result = score_response(PHQ_9, totalling(PHQ_9, total))
    assert (result.total, result.band.code, result.status) == (total, band, "scored")
    assert result.total_method == "item_sum" and not result.prorated


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"),
        (14, "moderate"), (15, "severe"), (21, "severe"),
    ],
)  # fmt: skip
def test_every_gad_7_band_boundary(total, band):
    result = score_response(GAD_7, totalling(GAD_7, total))
    assert (result.total, result.band.code, result.status) == (total, band, "scored")


@pytest.mark.parametrize(
    ("instrument", "total", "case"),
    [(PHQ_9, 9, False), (PHQ_9, 10, True), (GAD_7, 7, False), (GAD_7, 8, True)],
)
def test_caseness_counts_the_threshold_score_itself_as_a_case(instrument, total, case):
    assert score_response(instrument, totalling(instrument, total)).case is case


@pytest.mark.parametrize("instrument", [PHQ_9, GAD_7])
def test_one_blank_item_leaves_the_total_unscored_unless_the_clinic_prorates(instrument):
    answers = uniform(instrument, 2, {1: None})
    plain = score_response(instrument, answers)
    assert (plain.total, plain.status, plain.band, plain.case) == (None, "incomplete", None, None)
    assert plain.missing_items == (1,) and plain.missing_rule == "selfkind-sum"
    # Prorated: the mean of the answered items (2) x the number of items.
    prorated = score_response(instrument, answers, allow_proration=True)
    assert prorated.total == 2 * instrument.item_count
    assert (prorated.status, prorated.prorated) == ("scored", True)
    assert prorated.missing_rule == "selfkind-sum-prorate-1"


def test_a_prorated_total_may_fall_between_whole_numbers_and_is_banded_by_its_value():
    # Eight answers summing to 13, item 9 blank: 13 x 9 / 8 = 14.625, moderate (10-14.99...).
    answers = {**totalling(PHQ_9, 13, blank={9}), 9: None}
    result = score_response(PHQ_9, answers, allow_proration=True)
    assert result.total == 14.625 and result.band.code == "moderate" and result.case


@pytest.mark.parametrize("instrument", [PHQ_9, GAD_7])
def test_two_blank_items_are_never_prorated(instrument):
    result = score_response(
        instrument, uniform(instrument, 1, {1: None, 2: None}), allow_proration=True
    )
    assert (result.total, result.status, result.missing_items) == (None, "incomplete", (1, 2))


def test_every_item_blank_is_incomplete_even_with_proration():
    result = score_response(GAD_7, {}, allow_proration=True)
    assert (result.total, result.status) == (None, "incomplete")
    assert result.missing_items == tuple(range(1, 8))


@pytest.mark.parametrize(("answer", "alert"), [(None, None), (0, False), (1, True), (3, True)])
def test_the_phq_9_risk_item_alerts_on_any_answer_above_0_even_on_an_incomplete_form(answer, alert):
    result = score_response(PHQ_9, {9: answer})  # items 1-8 blank: the total is not scored
    assert result.status == "incomplete"
    assert result.risk_alert is alert


def test_proration_changes_nothing_for_instruments_with_subscales():
    assert score_response(SCS, SCS_WORKED, allow_proration=True) == score_response(SCS, SCS_WORKED)


def test_score_frame_writes_caseness_and_the_risk_alert_for_the_phq_9():
    frame = pd.DataFrame(
        [[1] * 9, [2] * 8 + [None], [0] * 9, ["x"] + [3] * 8],
        columns=item_columns(PHQ_9),
        dtype=object,
    )
    scored = score_frame(PHQ_9, frame, allow_proration=True)
    assert list(scored.columns) == [
        "total", "total_method", "band", "case", "risk_alert", "missing_items", "status", "error",
    ]  # fmt: skip
    assert list(scored["total"].fillna(-1)) == [9.0, 18.0, 0.0, -1]
    assert list(scored["case"]) == ["no", "yes", "no", ""]
    assert list(scored["risk_alert"]) == ["yes", "", "no", ""]
    assert list(scored["status"]) == ["scored", "scored", "scored", "invalid"]


# -- properties -----------------------------------------------------------------------------------
INSTRUMENTS = [SCS, SCS_SF, FSCRS, PHQ_9, GAD_7]


def _frame_row(scored: pd.DataFrame, position: int) -> dict:
    row = scored.iloc[position]
    return {
        name: (None if isinstance(value, float) and math.isnan(value) else value)
        for name, value in row.items()
    }


def _yes_no(value) -> str:
    return "" if value is None else ("yes" if value else "no")


def _expected_row(instrument, answers, method, allow_proration=False) -> dict:
    """score_response's result in score_frame's terms (an error becomes an invalid row)."""
    columns = result_columns(instrument)
    blank = dict.fromkeys(columns)
    try:
        result = score_response(instrument, answers, method, allow_proration=allow_proration)
    except ScoringError as error:
        texts = dict.fromkeys(("total_method", "band", "missing_items", "case", "risk_alert"), "")
        texts = {name: text for name, text in texts.items() if name in columns}
        return {**blank, **texts, "status": "invalid", "error": str(error)}
    row = {
        **{code: s.score for code, s in result.subscales.items()},
        "total": result.total,
        "total_method": result.total_method or "",
        **result.composites,
        "band": result.band.code if result.band else "",
        "case": _yes_no(result.case),
        "risk_alert": _yes_no(result.risk_alert),
        "missing_items": " ".join(map(str, result.missing_items)),
        "status": result.status,
        "error": "",
    }
    return {name: row[name] for name in columns}


@st.composite
def responses(draw, cell=None, max_rows=25):
    instrument = draw(st.sampled_from(INSTRUMENTS))
    answer = st.integers(instrument.response_min, instrument.response_max)
    cells = cell(instrument) if cell else st.one_of(answer, answer, answer, st.none())
    row = st.lists(cells, min_size=instrument.item_count, max_size=instrument.item_count)
    rows = draw(st.lists(row, min_size=1, max_size=max_rows))
    method = draw(st.sampled_from([None, *instrument.total_methods]))
    return instrument, rows, method, draw(st.booleans())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(responses())
def test_the_single_and_the_vectorised_scorer_agree_exactly(case):
    instrument, rows, method, prorate = case
    numbers = pd.DataFrame(rows, columns=item_columns(instrument), dtype=float)  # None -> NaN
    texts = numbers.map(lambda v: "" if math.isnan(v) else str(int(v))).astype(str)
    for frame in (numbers, texts):
        scored = score_frame(instrument, frame, method, allow_proration=prorate)
        for position, answers in enumerate(rows):
            expected = _expected_row(instrument, answers, method, prorate)
            assert _frame_row(scored, position) == expected


def _messy_cells(instrument):
    answer = st.integers(instrument.response_min, instrument.response_max)
    odd = st.sampled_from(["x", "2.5", 2.5, True, " 3 ", "", "4.0", 7, -1, "07", None])
    return st.one_of(answer, answer, answer, odd)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(responses(cell=_messy_cells))
def test_the_scorers_agree_on_messy_input_including_the_error_messages(case):
    instrument, rows, method, prorate = case
    frame = pd.DataFrame(rows, columns=item_columns(instrument), dtype=object)
    scored = score_frame(instrument, frame, method, allow_proration=prorate)
    for position, answers in enumerate(rows):
        expected = _expected_row(instrument, answers, method, prorate)
        assert _frame_row(scored, position) == expected


def _scorable_scs_answers():
    """SCS or SCS-SF responses; SCS ones with a blank in any of its subscales (still scored)."""

    def for_instrument(instrument):
        values = st.lists(
            st.integers(1, 5), min_size=instrument.item_count, max_size=instrument.item_count
        )
        first_items = [s.items[0] for s in instrument.subscales]
        blanks = st.sets(st.sampled_from(first_items)) if instrument is SCS else st.just(set())
        method = st.sampled_from(instrument.total_methods)
        return st.tuples(st.just(instrument), values, blanks, method)

    return st.sampled_from([SCS, SCS_SF]).flatmap(for_instrument)


@settings(max_examples=200, deadline=None)
@given(_scorable_scs_answers())
def test_reversing_a_whole_response_mirrors_the_total(case):
    instrument, values, blanks, method = case
    answers = {n: (None if n in blanks else v) for n, v in enumerate(values, start=1)}
    mirrored = {n: (None if v is None else 6 - v) for n, v in answers.items()}
    result = score_response(instrument, answers, method)
    flipped = score_response(instrument, mirrored, method)
    assert flipped.total == pytest.approx(6 - result.total, abs=1e-12)
    for code, subscale in result.subscales.items():
        assert flipped.subscales[code].score == pytest.approx(6 - subscale.score, abs=1e-12)
    opposite = {"low": "high", "moderate": "moderate", "high": "low"}
    if result.total not in (2.5, 3.5):  # boundaries stay in moderate either way
        assert flipped.band.code == opposite[result.band.code]
