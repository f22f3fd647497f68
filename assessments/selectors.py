"""Reads for the assessments pages: results with change since baseline, timelines, lists.

Every function runs a fixed number of queries whatever the number of administrations.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case, F, Value, When
from django.db.models.functions import Coalesce
from django.urls import reverse

from assessments.instruments import MISSING_ITEM_RULES, Instrument, get_instrument
from assessments.models import (
    Administration,
    BaselineMoments,
    ItemWording,
    OneTimeLink,
    ReliableChangeSetting,
    Score,
)
from assessments.reliable_change import (
    ReliableChange,
    SDChoice,
    choose_sd,
    reliable_change_for,
    sd_from_moments,
)
from assessments.scoring import STATUS_SCORED
from clinic.dbfunctions import AddDays
from clinic.timeline import TimelineItem

# Reliable change comes from the pure layer (assessments/reliable_change.py); this module only
# gathers the inputs (configured SD, the clinic's baseline scores) with a bounded number of queries.


def clinic_baseline_sds(organisation_id: int, instrument: Instrument) -> dict[str, SDChoice]:
    """The clinic's own baseline SD per scale (or why there is none), from the baseline
    moments the writing services keep: one query, exact after every write, no cache."""
    moments = {
        row.scale: row
        for row in BaselineMoments.objects.filter(
            organisation_id=organisation_id, instrument_code=instrument.code
        )
    }
    scales = ("total", *(s.code for s in instrument.subscales))
    return {
        scale: sd_from_moments(
            *(
                (moments[scale].n, moments[scale].total, moments[scale].total_sq)
                if scale in moments
                else (0, 0.0, 0.0)
            )
        )
        for scale in scales
    }


def sd_choices(organisation_id: int, instrument: Instrument) -> dict[str, SDChoice]:
    """The SD per scale: configured (clinic setting, else the instrument file's reference SD),
    else the clinic's own baseline SD once >= 30 clients have a baseline, else none."""
    configured = {
        s.scale: s
        for s in ReliableChangeSetting.objects.filter(
            organisation_id=organisation_id, instrument_code=instrument.code
        )
    }
    choices = {}
    baseline_sds = None
    for scale in ("total", *(s.code for s in instrument.subscales)):
        reference = instrument.reference_sd(scale)
        if scale in configured:
            setting = configured[scale]
            choices[scale] = choose_sd(
                configured_sd=setting.reference_sd, configured_source=setting.source
            )
        elif reference is not None and reference.value is not None:
            choices[scale] = choose_sd(
                configured_sd=reference.value, configured_source=reference.source
            )
        else:
            if baseline_sds is None:
                baseline_sds = clinic_baseline_sds(organisation_id, instrument)
            choices[scale] = baseline_sds[scale]
    return choices


# --- schedule ----------------------------------------------------------------------------------


def next_due_expression(default_weeks: int, latest_on: str):
    """The next SCS due date of each client of a Client queryset, in SQL: `every_weeks` weeks
    after the latest scored SCS (`latest_on`, a field path of the queryset; after intake when
    there is none). The client's own schedule overrides the clinic's default `default_weeks`; a
    paused schedule (its weeks left empty) gives NULL. Worked out when read, so a new
    questionnaire, schedule or intake date moves it at once and nothing is stored."""
    weeks = Case(
        When(assessment_schedule__isnull=False, then=F("assessment_schedule__every_weeks")),
        default=Value(default_weeks),
    )
    return AddDays(Coalesce(F(latest_on), F("intake_date")), weeks * 7)


# --- results ---------------------------------------------------------------------------------


@dataclass
class ScaleRow:
    code: str
    name: str
    kind: str  # subscale / total / composite
    score: float | None
    direction_label: str
    band: str
    blank_items: list[int]
    prorated: bool
    interpretable: bool
    baseline: float | None
    since_baseline: ReliableChange | None
    since_previous: ReliableChange | None
    sd_source: str


def history_for(administration: Administration) -> list[Administration]:
    """Final administrations of the same instrument for the same client, oldest first."""
    return list(
        Administration.objects.final()
        .filter(
            client_id=administration.client_id,
            instrument_code=administration.instrument_code,
        )
        .select_related("score")
        .order_by("administered_on", "created_at", "pk")
    )


def results_for(administration: Administration, *, with_change: bool = True) -> dict:
    instrument = get_instrument(administration.instrument_code)
    score: Score = administration.score
    history = history_for(administration)
    position = next(i for i, a in enumerate(history) if a.pk == administration.pk)
    # Change is measured from scored forms only: an unscored (incomplete) form is never a
    # baseline nor a "previous" score.
    earlier = [a for a in history[:position] if a.score.status == STATUS_SCORED]
    baseline = earlier[0] if earlier else None
    previous = earlier[-1] if earlier else None
    sds = sd_choices(administration.organisation_id, instrument) if with_change else {}

    def change(scale, other):
        if other is None or not with_change:
            return None
        if scale == "total" and other.score.total_method != score.total_method:
            return None  # totals by different methods are never compared
        return reliable_change_for(
            instrument,
            scale,
            other.score.scale_value(scale),
            score.scale_value(scale),
            sds.get(scale),
        )

    rows = []
    for subscale in instrument.subscales:
        entry = score.subscales.get(subscale.code) or {}
        rows.append(
            ScaleRow(
                code=subscale.code,
                name=subscale.name,
                kind="subscale",
                score=entry.get("score"),
                direction_label=subscale.direction_label,
                band="",
                blank_items=entry.get("blank_items", []),
                prorated=entry.get("prorated", False),
                interpretable=subscale.interpretable,
                baseline=baseline.score.scale_value(subscale.code) if baseline else None,
                since_baseline=change(subscale.code, baseline),
                since_previous=change(subscale.code, previous),
                sd_source=sds[subscale.code].source if subscale.code in sds else "",
            )
        )
    total_row = None
    if instrument.has_total:
        band = instrument.band_for(score.total)
        total_row = ScaleRow(
            code="total",
            name="Total",
            kind="total",
            score=score.total,
            direction_label=instrument.direction_label("total"),
            band=band.label if band else "",
            blank_items=list(score.missing_items),
            prorated=score.prorated,
            interpretable=True,
            baseline=baseline.score.scale_value("total") if baseline else None,
            since_baseline=change("total", baseline),
            since_previous=change("total", previous),
            sd_source=sds["total"].source if "total" in sds else "",
        )
    composites = [
        {
            "name": c.name,
            "score": score.composites.get(c.code),
            "direction_label": c.direction_label,
        }
        for c in instrument.composites
    ]
    return {
        "instrument": instrument,
        "score": score,
        "rows": rows,
        "total_row": total_row,
        "composites": composites,
        "baseline": baseline,
        "previous": previous,
        "figure": subscale_figure(instrument, rows, administration, baseline) if rows else None,
        "figure_caption": subscale_figure_caption(instrument) if rows else "",
        "missing_rule_text": MISSING_ITEM_RULES.get(
            score.missing_rule, instrument.missing_rule_text
        ),
        "case": instrument.caseness.is_case(score.total) if instrument.caseness else None,
        "threshold": instrument.change_threshold("total"),
        "unverified_reliability": sorted(
            {
                f"r = {r.retest_r:.2f} ({r.retest_source})"
                for r in instrument.reliability
                if r.scale != "total" and r.retest_r is not None and not r.retest_verified
            }
        ),
    }


def subscale_figure_caption(instrument: Instrument) -> str:
    """How to read the subscale chart, from the instrument's own definition."""
    subscales = instrument.subscales
    kinds = {s.aggregation for s in subscales}
    if kinds == {"mean"}:
        scale = (
            f"Subscale means on raw responses ({instrument.response_min} to "
            f"{instrument.response_max})"
        )
    else:
        ranges = ", ".join(
            f"{s.name} {instrument.response_min * s.n_items}-{instrument.response_max * s.n_items}"
            for s in subscales
        )
        scale = f"Subscale sums of raw responses ({ranges})"
    better = sum(1 for s in subscales if s.direction == "higher_is_better")
    worse = len(subscales) - better
    return (
        f"{scale}. {better} subscale{'s' if better != 1 else ''} "
        f'{"are" if better != 1 else "is"} "higher is better" and {worse} '
        f'"higher is worse": see the direction column above.'
    )


def subscale_figure(instrument, rows, administration, baseline) -> dict:
    names = [row.name for row in rows]
    data = [
        {
            "type": "bar",
            "name": f"This administration ({administration.administered_on:%d %b %Y})",
            "x": names,
            "y": [row.score for row in rows],
        }
    ]
    if baseline is not None:
        data.insert(
            0,
            {
                "type": "bar",
                "name": f"Baseline ({baseline.administered_on:%d %b %Y})",
                "x": names,
                "y": [row.baseline for row in rows],
            },
        )
    return {
        "data": data,
        "layout": {
            "barmode": "group",
            "yaxis": {
                "title": {"text": "Subscale score (raw responses)"},
                "range": [instrument.response_min, instrument.response_max]
                if all(s.aggregation == "mean" for s in instrument.subscales)
                else None,
            },
            "margin": {"t": 20},
        },
    }


def wording_for(organisation_id: int, instrument: Instrument) -> ItemWording | None:
    return ItemWording.objects.filter(
        organisation_id=organisation_id, instrument_code=instrument.code
    ).first()


def item_rows(instrument: Instrument, wording: ItemWording | None) -> list[dict]:
    texts = wording.wording if wording is not None else {}
    return [
        {
            "number": item.number,
            "name": f"item_{item.number}",
            "label": item.display_label,
            "short": f"{item.label}, reverse-keyed" if item.reverse else item.label,
            "plain": item.label,  # for clients: no scoring hints
            "text": texts.get(str(item.number), ""),
            "subscale": item.subscale,
        }
        for item in instrument.items
    ]


def preview_key(instrument: Instrument) -> dict:
    """The small scoring key the entry page's script uses for its live subscale preview (for
    an instrument without subscales, its total: the sum of every item)."""
    scales = [
        {"code": s.code, "name": s.name, "items": list(s.items), "aggregation": s.aggregation}
        for s in instrument.subscales
    ]
    if instrument.total_only:
        every_item = [item.number for item in instrument.items]
        scales = [{"code": "total", "name": "Total", "items": every_item, "aggregation": "sum"}]
    return {"min": instrument.response_min, "max": instrument.response_max, "subscales": scales}


def client_administrations(client) -> list[Administration]:
    return list(
        Administration.objects.filter(client=client)
        .select_related("score")
        .order_by("-administered_on", "-pk")[:200]
    )


def client_links(client) -> list:
    """The client's most recent one-time links (never their tokens: only hashes are stored)."""
    return list(
        OneTimeLink.objects.filter(client=client)
        .select_related("created_by", "administration")
        .order_by("-created_at")[:10]
    )


def timeline_provider(client, user) -> list[TimelineItem]:
    from datetime import datetime, time

    rows = (
        Administration.objects.final()
        .filter(client=client)
        .select_related("score")
        .order_by("-administered_on", "-pk")[:20]
    )
    items = []
    tz = client.organisation.tz
    for adm in rows:
        instrument = get_instrument(adm.instrument_code)
        score = getattr(adm, "score", None)
        if score is not None and score.total is not None:
            summary = f"Total {score.total:.2f} ({score.total_method})"
            if score.band:
                summary += f", {score.band}"
        elif score is not None and instrument.has_total:
            summary = "Total not scored (too many blank items)"
        else:
            summary = ", ".join(
                f"{s.name} {score.subscale_score(s.code):g}"
                for s in instrument.subscales
                if score is not None and score.subscale_score(s.code) is not None
            )
        items.append(
            TimelineItem(
                when=datetime.combine(adm.administered_on, time(12), tzinfo=tz),
                kind="Assessment",
                title=f"{instrument.short_name} ({adm.get_mode_display()})",
                url=reverse("assessments:results", kwargs={"pk": adm.pk}),
                summary=summary,
            )
        )
    return items


def scs_subscale_trend(client) -> list[dict]:
    """SCS subscale scores over time for one client, for tracking's progress chart.

    The caller has already checked access to `client`. Rows are {administered_on, subscale,
    score} for the six SCS subscales of final administrations (raw means: a high
    self_judgment score means more self-judgment, as on the facts page). SCS-SF subscales are
    left out: the authors advise against interpreting them alone. One query, at most the 60
    latest administrations.
    """
    administrations = (
        Administration.objects.final()
        .filter(client=client, instrument_code="scs")
        .select_related("score")
        .order_by("-administered_on", "-pk")[:60]
    )
    rows = []
    for administration in administrations:
        score = getattr(administration, "score", None)
        if score is None:
            continue
        for code in score.subscales:
            value = score.subscale_score(code)
            if value is not None:
                rows.append(
                    {
                        "administered_on": administration.administered_on,
                        "subscale": code,
                        "score": value,
                    }
                )
    return rows


SYMPTOM_MEASURES = ("phq-9", "gad-7")


def symptom_totals(client, first=None, last=None, limit: int = 60) -> list[dict]:
    """PHQ-9 and GAD-7 totals of one client over time, for the progress charts: rows
    {instrument (short name), administered_on, total, case_at (caseness threshold)} of scored
    administrations, oldest first, at most the `limit` latest. The caller has checked access to
    `client`. One query."""
    administrations = (
        Administration.objects.scored()
        .filter(client=client, instrument_code__in=SYMPTOM_MEASURES)
        .order_by("-administered_on", "-created_at", "-pk")
        .values_list("instrument_code", "administered_on", "score__total")
    )
    if first is not None:
        administrations = administrations.filter(administered_on__gte=first)
    if last is not None:
        administrations = administrations.filter(administered_on__lte=last)
    rows = []
    for code, on, total in reversed(list(administrations[:limit])):
        instrument = get_instrument(code)
        rows.append(
            {
                "instrument": instrument.short_name,
                "administered_on": on,
                "total": total,
                "case_at": instrument.caseness.at_least if instrument.caseness else None,
            }
        )
    return rows
