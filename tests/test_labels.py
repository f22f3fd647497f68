"""One spelling of every scale name: charts, tables and exports take their words from
assessments.labels (the instrument files' names), and no page shows a code."""

from __future__ import annotations

from pathlib import Path

from assessments import labels
from assessments.instruments import get_instrument

ROOT = Path(__file__).resolve().parents[1]
SCS = get_instrument("scs")


def test_the_charts_the_dashboard_and_the_cohorts_name_each_scale_as_the_instrument_does():
    from dashboard import cohorts, selectors
    from tracking import charts

    names = {s.code: s.name for s in SCS.subscales}
    assert {code: charts.SCS_LABELS[code] for code in names} == names
    assert charts.PATTERN_LABELS == {
        "self_judgment": "Self-Judgment",
        "isolation": "Isolation",
        "over_identification": "Over-Identification",
    }
    assert cohorts.scale_labels() == {"total": "Total", **names}
    assert selectors.scale_names() == {
        "total": "total",
        **{code: name.lower() for code, name in names.items()},
        **{c.code: c.name.lower() for c in SCS.composites},
    }


def test_fscrs_scales_have_names_and_no_total():
    assert labels.scale_labels("fscrs") == {
        "inadequate_self": "Inadequate Self",
        "hated_self": "Hated Self",
        "reassured_self": "Reassured Self",
    }
    assert labels.scale_label("fscrs", "self_pity") == "Self pity"  # never a code


def test_a_total_method_is_told_in_words():
    assert labels.total_method_label("subscale_mean") == "mean of the subscale means"
    assert labels.total_method_label("item_mean") == "mean of all items"
    assert labels.total_method_label("") == ""


def test_no_source_spells_a_scale_another_way():
    offenders = [
        str(path.relative_to(ROOT))
        for pattern in ("*.py", "*.html", "*.js")
        for path in ROOT.glob(f"[!.]*/**/{pattern}")
        if "judgement" in path.read_text(encoding="utf-8", errors="ignore").lower()
        and path.name != "test_labels.py"
        and "/vendor/" not in str(path)
    ]
    assert offenders == []
