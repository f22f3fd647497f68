"""The instrument files: their keys match the facts page, and the loader rejects broken files."""

from __future__ import annotations

import copy
import json

import pytest

from assessments.instruments import (
    INSTRUMENTS_DIR,
    InstrumentFileError,
    UnknownInstrumentError,
    all_instruments,
    get_instrument,
    load_instrument,
)

# Keys from instruments.md (Neff 2003; Raes et al. 2011; Gilbert et al. 2004).
SCS_KEY = {
    "self_kindness": (5, 12, 19, 23, 26),
    "self_judgment": (1, 8, 11, 16, 21),
    "common_humanity": (3, 7, 10, 15),
    "isolation": (4, 13, 18, 25),
    "mindfulness": (9, 14, 17, 22),
    "over_identification": (2, 6, 20, 24),
}
SCS_REVERSE = (1, 2, 4, 6, 8, 11, 13, 16, 18, 20, 21, 24, 25)
SCS_SF_KEY = {
    "self_kindness": (2, 6),
    "self_judgment": (11, 12),
    "common_humanity": (5, 10),
    "isolation": (4, 8),
    "mindfulness": (3, 7),
    "over_identification": (1, 9),
}
SCS_SF_REVERSE = (1, 4, 8, 9, 11, 12)
FSCRS_KEY = {
    "inadequate_self": (1, 2, 4, 6, 7, 14, 17, 18, 20),
    "hated_self": (9, 10, 12, 15, 22),
    "reassured_self": (3, 5, 8, 11, 13, 16, 19, 21),
}


def test_the_five_shipped_instruments_load_and_are_listed_by_code():
    assert [i.code for i in all_instruments()] == ["fscrs", "gad-7", "phq-9", "scs", "scs-sf"]
    assert get_instrument("scs") is get_instrument("scs")  # loaded once


def test_an_unknown_instrument_code_names_the_known_ones():
    with pytest.raises(UnknownInstrumentError, match=r"unknown instrument 'bdi' \(known: fscrs"):
        get_instrument("bdi")


@pytest.mark.parametrize(
    ("code", "key", "reverse", "response_range"),
    [
        ("scs", SCS_KEY, SCS_REVERSE, (1, 5)),
        ("scs-sf", SCS_SF_KEY, SCS_SF_REVERSE, (1, 5)),
        ("fscrs", FSCRS_KEY, (), (0, 4)),
    ],
)
def test_each_instrument_file_holds_the_key_on_the_facts_page(code, key, reverse, response_range):
    instrument = get_instrument(code)
    assert {s.code: s.items for s in instrument.subscales} == key
    assert instrument.reverse_items == reverse
    assert (instrument.response_min, instrument.response_max) == response_range
    assert instrument.item_count == sum(len(items) for items in key.values())


def test_scs_totals_offer_both_methods_with_subscale_mean_as_default():
    scs = get_instrument("scs")
    assert scs.total_methods == ("subscale_mean", "item_mean")
    assert scs.default_total_method == "subscale_mean"
    assert [c.code for c in scs.composites] == [
        "compassionate_responding",
        "uncompassionate_responding",
    ]
    assert scs.composite("uncompassionate_responding").items == SCS_REVERSE


def test_the_short_form_total_is_the_item_mean_and_its_subscales_are_not_interpretable():
    short_form = get_instrument("scs-sf")
    assert short_form.total_methods == ("item_mean",)
    assert not any(s.interpretable for s in short_form.subscales)


def test_the_fscrs_has_no_total_no_bands_and_sum_scored_subscales():
    fscrs = get_instrument("fscrs")
    assert fscrs.total_methods == ()
    assert fscrs.default_total_method is None
    assert fscrs.bands == ()
    assert {s.aggregation for s in fscrs.subscales} == {"sum"}
    assert "total" not in fscrs.scale_codes


def test_item_labels_are_our_own_words_with_the_number_and_the_reverse_flag():
    scs = get_instrument("scs")
    assert scs.item_label(8) == "item 8 - self-judgment, reverse-keyed"
    assert scs.item_label(5) == "item 5 - self-kindness"
    assert len(scs.item_labels()) == 26


def test_direction_labels_say_what_a_high_score_means():
    scs = get_instrument("scs")
    assert scs.direction_label("self_judgment") == "higher = more self-criticism"
    assert scs.direction_label("self_kindness") == "higher = more self-compassion"
    assert scs.direction_label("total") == "higher = more self-compassion"
    assert scs.direction("isolation") == "higher_is_worse"
    fscrs = get_instrument("fscrs")
    assert fscrs.direction_label("reassured_self") == "higher = more self-reassurance"


def test_scs_total_reliability_and_the_missing_reference_sd_are_recorded_with_sources():
    scs = get_instrument("scs")
    total = scs.reliability_for("total")
    assert (total.retest_r, total.alpha, total.retest_verified) == (0.93, 0.92, True)
    assert "Neff 2003" in total.retest_source
    subscale = scs.reliability_for("self_judgment")
    assert (subscale.retest_r, subscale.retest_verified) == (0.80, False)
    assert scs.reference_sd("total").value is None
    assert scs.reference_sd("total").note


# -- the loader's error messages --------------------------------------------------------------
def _scs_data():
    return json.loads((INSTRUMENTS_DIR / "scs.json").read_text(encoding="utf-8"))


def _subscale(data, code):
    return next(s for s in data["subscales"] if s["code"] == code)


def _unknown_subscale(data):
    data["items"][3]["subscale"] = "foo"


def _gap_in_item_numbers(data):
    del data["items"][5]


def _item_in_two_subscales(data):
    _subscale(data, "self_kindness")["items"].append(3)


def _item_in_no_subscale(data):
    _subscale(data, "self_kindness")["items"].remove(26)


def _one_reverse_flag_differs(data):
    data["items"][0]["reverse"] = False


def _negative_subscale_not_reversed(data):
    for number in (1, 8, 11, 16, 21):
        data["items"][number - 1]["reverse"] = False


def _composite_with_unknown_item(data):
    data["composites"][0]["items"].append(27)


def _gap_between_bands(data):
    data["bands"]["bands"][1]["lower"] = 2.6


def _boundary_in_two_bands(data):
    data["bands"]["bands"][2]["lower_inclusive"] = True


def _unknown_total_method(data):
    data["total"]["methods"][1] = "median"


def _misspelt_field(data):
    data["items"][0]["revers"] = data["items"][0].pop("reverse")


def _missing_citation(data):
    del data["citation"]


def _retest_r_above_one(data):
    data["reliability"]["total"]["retest_r"] = 1.2


def _reliability_of_unknown_scale(data):
    data["reliability"]["kindness"] = {"retest_r": None}


def _unknown_missing_rule(data):
    data["missing_rule"] = "half-the-items"


@pytest.mark.parametrize(
    ("break_file", "message"),
    [
        (_unknown_subscale, "scs.json: items[3].subscale: unknown subscale 'foo'"),
        (
            _gap_in_item_numbers,
            "scs.json: items[5].number: expected 6, got 7 (items are numbered 1..N in order)",
        ),
        (
            _item_in_two_subscales,
            "scs.json: subscales[2].items: item 3 is already in subscale 'self_kindness'",
        ),
        (_item_in_no_subscale, "scs.json: items[25]: item 26 is in no subscale"),
        (
            _one_reverse_flag_differs,
            "scs.json: subscales[1].items: items of one subscale must share the reverse flag",
        ),
        (
            _negative_subscale_not_reversed,
            "scs.json: subscales[1].items: a higher_is_worse subscale's items must be "
            "reverse-keyed for the total",
        ),
        (_composite_with_unknown_item, "scs.json: composites[0].items[13]: unknown item 27"),
        (
            _gap_between_bands,
            "scs.json: bands.bands[1].lower: must equal the previous band's upper, 2.5",
        ),
        (
            _boundary_in_two_bands,
            "scs.json: bands.bands[2].lower_inclusive: the boundary 3.5 must belong to exactly "
            "one band",
        ),
        (_unknown_total_method, "scs.json: total.methods[1]: must be one of subscale_mean"),
        (_misspelt_field, "scs.json: items[0].revers: unknown field"),
        (_missing_citation, "scs.json: citation: missing"),
        (
            _retest_r_above_one,
            "scs.json: reliability.total.retest_r: must be a number between 0 and 1 (exclusive) "
            "or null, got 1.2",
        ),
        (_reliability_of_unknown_scale, "scs.json: reliability.kindness: unknown scale"),
        (_unknown_missing_rule, "scs.json: missing_rule: unknown rule 'half-the-items'"),
    ],
)
def test_a_broken_file_is_rejected_naming_the_file_and_the_field(tmp_path, break_file, message):
    data = copy.deepcopy(_scs_data())
    break_file(data)
    assert _refusal(tmp_path / "scs.json", data).startswith(message)


def _refusal(path, data) -> str:
    """The loader's message for `data` written to `path`."""
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InstrumentFileError) as error:
        load_instrument(path)
    return str(error.value)


def test_the_unbroken_copy_used_above_loads(tmp_path):
    path = tmp_path / "scs.json"
    path.write_text(json.dumps(_scs_data()), encoding="utf-8")
    assert load_instrument(path) == get_instrument("scs")


def test_a_file_that_is_not_json_is_rejected_with_the_position(tmp_path):
    path = tmp_path / "scs.json"
    path.write_text('{"schema": 1,,}', encoding="utf-8")
    with pytest.raises(InstrumentFileError, match=r"^scs\.json: not valid JSON: .*line 1"):
        load_instrument(path)


def test_a_missing_file_is_rejected_naming_it(tmp_path):
    with pytest.raises(InstrumentFileError, match=r"^gone\.json: cannot read the file"):
        load_instrument(tmp_path / "gone.json")


# -- PHQ-9 and GAD-7 (instruments.md, "Depression and anxiety measures") --------------------------

PHQ_9_ITEM_LOINC = (
    "44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5", "44253-3",
    "44260-8",
)  # fmt: skip


@pytest.mark.parametrize(
    ("code", "items", "top", "case_at", "points", "panel", "total"),
    [
        ("phq-9", 9, 27, 10, 6, "44249-1", "44261-6"),
        ("gad-7", 7, 21, 8, 4, "69737-5", "70274-6"),
    ],
)
def test_the_symptom_measures_hold_the_facts_page_figures(
    code, items, top, case_at, points, panel, total
):
    instrument = get_instrument(code)
    assert instrument.item_count == items
    assert (instrument.response_min, instrument.response_max) == (0, 3)
    assert instrument.total_only and instrument.subscales == ()
    assert instrument.reverse_items == ()
    assert instrument.direction("total") == "higher_is_worse"
    assert instrument.caseness.at_least == case_at
    assert instrument.change_threshold("total").points == points
    assert (instrument.loinc.panel, instrument.loinc.total) == (panel, total)
    assert instrument.band_for(top).code == "severe"
    assert instrument.missing_rule == "selfkind-sum"
    assert instrument.missing_rule_for(allow_proration=True) == "selfkind-sum-prorate-1"


def test_only_the_phq_9_has_a_risk_item_item_9_alerting_on_any_answer_above_0():
    phq = get_instrument("phq-9")
    assert (phq.risk_item.item, phq.risk_item.alert_above) == (9, 0)
    assert [phq.risk_alert({9: value}) for value in (None, 0, 1, 2, 3)] == [
        False, False, True, True, True,
    ]  # fmt: skip
    assert phq.risk_alert({9: 1})  # even when every other item is blank
    assert get_instrument("gad-7").risk_item is None
    assert get_instrument("scs").risk_item is None


def test_the_phq_9_item_loinc_codes_are_those_of_the_facts_page():
    phq = get_instrument("phq-9")
    assert tuple(phq.loinc.item(n) for n in range(1, 10)) == PHQ_9_ITEM_LOINC


def test_the_symptom_measures_store_no_item_wording():
    for code in ("phq-9", "gad-7"):
        labels = {item.label for item in get_instrument(code).items}
        assert labels <= {"depression symptom", "anxiety symptom",
                          "thoughts of death or self-harm (risk item)"}  # fmt: skip


def _phq_data() -> dict:
    return json.loads((INSTRUMENTS_DIR / "phq-9.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("break_file", "message"),
    [
        (
            lambda d: d["total"]["methods"].append("item_mean"),
            "phq-9.json: total.methods: item_sum is the only method of its instrument",
        ),
        (
            lambda d: d["items"][0].update(reverse=True),
            "phq-9.json: items[0].reverse: an item_sum total reverses no item",
        ),
        (
            lambda d: d["items"][0].update(subscale="mood"),
            "phq-9.json: items[0].subscale: this instrument has no subscales",
        ),
        (
            lambda d: d.update(missing_rule="selfkind-1"),
            "phq-9.json: missing_rule: 'selfkind-1' does not fit the total methods",
        ),
        (
            lambda d: d["risk_item"].update(item=10),
            "phq-9.json: risk_item.item: unknown item 10 (items are 1..9)",
        ),
        (
            lambda d: d["risk_item"].update(alert_above=3),
            "phq-9.json: risk_item.alert_above: must be an answer below the highest (0..2)",
        ),
        (
            lambda d: d["reliable_change"]["total"].update(points=0),
            "phq-9.json: reliable_change.total.points: must be a positive number, got 0",
        ),
        (
            lambda d: d["loinc"].update(total="44261"),
            "phq-9.json: loinc.total: must be a LOINC code such as 44261-6, got '44261'",
        ),
        (
            lambda d: d["loinc"]["items"].update({"10": "44260-8"}),
            "phq-9.json: loinc.items.10: unknown item (items are 1..9)",
        ),
    ],
)
def test_a_broken_symptom_measure_file_is_rejected_naming_the_field(tmp_path, break_file, message):
    data = _phq_data()
    break_file(data)
    assert _refusal(tmp_path / "phq-9.json", data).startswith(message)


def test_an_instrument_with_subscales_cannot_leave_them_out(tmp_path):
    data = copy.deepcopy(_scs_data())
    data["subscales"] = []
    for item in data["items"]:
        del item["subscale"]
    assert _refusal(tmp_path / "scs.json", data).startswith(
        "scs.json: subscales: must list at least one"
    )
