"""Words a person reads for the scales and scoring methods: one source for charts, tables and
exports, so that a scale is spelt the same everywhere ("Self-Judgment", never a British
spelling in one place and "self_judgment" in another).

Scale names come from the instrument files (assessments/instruments/*.json); this module only
adds "Total" and words for the total's scoring method. Pure: no Django.
"""

from __future__ import annotations

from assessments.instruments import ITEM_MEAN, SUBSCALE_MEAN, TOTAL, Instrument, get_instrument

TOTAL_LABEL = "Total"
TOTAL_METHOD_LABELS = {
    SUBSCALE_MEAN: "mean of the subscale means",
    ITEM_MEAN: "mean of all items",
}


def _instrument(instrument: Instrument | str) -> Instrument:
    return get_instrument(instrument) if isinstance(instrument, str) else instrument


def scale_labels(instrument: Instrument | str) -> dict[str, str]:
    """{code: name} for the total (if the instrument has one), its subscales and composites,
    in that order: e.g. {"total": "Total", "self_kindness": "Self-Kindness", ...}."""
    instrument = _instrument(instrument)
    labels = {TOTAL: TOTAL_LABEL} if instrument.has_total else {}
    labels.update({s.code: s.name for s in instrument.subscales})
    labels.update({c.code: c.name for c in instrument.composites})
    return labels


def scale_label(instrument: Instrument | str, code: str) -> str:
    """One scale's name; an unknown code is shown as words ("self_pity" -> "Self pity")."""
    return scale_labels(instrument).get(code) or code.replace("_", " ").capitalize()


def total_method_label(method: str) -> str:
    """How a total was computed, in words ("" for no method)."""
    if not method:
        return ""
    return TOTAL_METHOD_LABELS.get(method) or method.replace("_", " ")
