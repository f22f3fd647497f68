"""Reads for the assessments pages: results with change since baseline, timelines, lists.

Every function runs a fixed number of queries whatever the number of administrations.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import (
    Case,
    Exists,
    F,
    FilteredRelation,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Lower
from django.urls import reverse

from assessments.instruments import MISSING_ITEM_RULES, Instrument, get_instrument
from assessments.invitations import EmailFacts, InvitationFacts, invitation_steps, reminder_due_at
from assessments.labels import scale_label, total_method_label
from assessments.models import (
    Administration,
    AssessmentSettings,
    BaselineMoments,
    ItemWording,
    OneTimeLink,
    QuestionnaireInvitation,
    ReliableChangeSetting,
    Score,
    Status,
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
from clinic.models import (
    AuditAction,
    AuditEvent,
    Client,
    ClientStatus,
    EmailOptOut,
    EmailStatus,
    OutboxEmail,
)
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

SCHEDULED_INSTRUMENT = "scs"  # the questionnaire the schedule is about


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


@dataclass(frozen=True)
class DueQuestionnaire:
    """A questionnaire the client can open from the portal's tab bar, in one tap."""

    label: str
    url: str


def portal_questionnaire_due(client) -> DueQuestionnaire | None:
    """What the client's portal tab bar offers: an unfinished portal questionnaire to finish,
    else the SCS when it is due (a baseline as long as there is none, then every N weeks after
    the latest scored one, by the client's own schedule or the clinic's), else nothing. Nothing
    once the portal is read-only. Three small queries, no cache."""
    if client.portal_is_read_only:
        return None
    draft = (
        Administration.objects.filter(
            client=client, status=Status.DRAFT, one_time_link__isnull=True
        )
        .order_by("-pk")
        .values_list("instrument_code", flat=True)
        .first()
    )
    if draft is not None:
        url = reverse("assessments:portal_complete", kwargs={"instrument": draft})
        return DueQuestionnaire("Finish your questionnaire", url)
    every_weeks = AssessmentSettings.for_organisation(client.organisation_id).every_weeks
    next_due, latest_on = (
        with_next_due(Client.objects.filter(pk=client.pk), every_weeks)
        .values_list("next_due", "scs__latest_on")
        .get()
    )
    # A paused schedule (no next date) asks for nothing; without any SCS the baseline is due.
    if next_due is not None and (latest_on is None or next_due <= client.organisation.today()):
        url = reverse("assessments:portal_complete", kwargs={"instrument": "scs"})
        return DueQuestionnaire("Questionnaire due", url)
    return None


def with_next_due(clients: QuerySet[Client], default_weeks: int) -> QuerySet[Client]:
    """The clients joined to their SCS summary (as `scs`) and annotated with `next_due`."""
    return clients.annotate(
        scs=FilteredRelation(
            "score_summaries",
            condition=Q(score_summaries__instrument_code=SCHEDULED_INSTRUMENT),
        ),
    ).annotate(next_due=next_due_expression(default_weeks, "scs__latest_on"))


# An invitation whose email did not go: none could be queued (no address, unsubscribed), or
# the outbox gave up on it (the mail server refused it, or it was no longer wanted).
UNDELIVERED = (Q(link__isnull=True) & ~Q(not_delivered="")) | Q(
    email__status__in=[EmailStatus.FAILED, EmailStatus.CANCELLED]
)


def invitations_due(
    organisation_id: int, every_weeks: int, today: dt.date, now: dt.datetime, limit: int
) -> list[tuple[int, dt.date]]:
    """(client id, due date) of the clinic's active clients whose SCS is due by `today` and who
    have no invitation for that due date (nor another one still open), or whose invitation for
    it could not be delivered for a reason now gone (an address added). One query."""
    for_due_date = QuestionnaireInvitation.objects.filter(
        client=OuterRef("pk"), instrument_code=SCHEDULED_INSTRUMENT, due_on=OuterRef("next_due")
    )
    open_one = QuestionnaireInvitation.objects.filter(
        client=OuterRef("pk"),
        instrument_code=SCHEDULED_INSTRUMENT,
        link__used_at__isnull=True,
        link__expires_at__gt=now,
    )
    opted_out = EmailOptOut.objects.filter(
        organisation_id=organisation_id, address=Lower(OuterRef("email"))
    )
    fresh = ~Exists(for_due_date) & ~Exists(open_one)
    deliverable_now = (
        Exists(for_due_date.filter(link__isnull=True)) & ~Q(email="") & ~Exists(opted_out)
    )
    clients = with_next_due(
        Client.objects.filter(organisation_id=organisation_id, status=ClientStatus.ACTIVE),
        every_weeks,
    )
    return list(
        clients.filter(next_due__lte=today)
        .filter(fresh | deliverable_now)
        .order_by("next_due", "pk")
        .values_list("pk", "next_due")[: max(limit, 0)]
    )


def reminders_due(
    now: dt.datetime, clinic_settings: dict[int, AssessmentSettings]
) -> list[QuestionnaireInvitation]:
    """Invitations owing their next reminder at `now`: emailed (the mail server took it), the
    reminder's day come, the link open, the client in active care, reachable and not
    unsubscribed, and their SCS still due (a questionnaire completed in any way, or a paused
    schedule, moves it on). Two queries, and one per clinic with reminders owed."""
    opted_out = EmailOptOut.objects.filter(
        organisation_id=OuterRef("organisation_id"), address=Lower(OuterRef("client__email"))
    )
    candidates = [
        invitation
        for invitation in QuestionnaireInvitation.objects.filter(
            reminders_queued__lt=F("reminders_planned"),
            email__status=EmailStatus.SENT,
            link__used_at__isnull=True,
            link__expires_at__gt=now,
            client__status=ClientStatus.ACTIVE,
        )
        .exclude(client__email="")
        .exclude(Exists(opted_out))
        .select_related("client__organisation", "link__administration", "email")
        if invitation.email.sent_at is not None
        and reminder_due_at(
            invitation.email.sent_at, invitation.remind_after_days, invitation.reminders_queued + 1
        )
        <= now
        and invitation.link.is_open(now)
    ]
    by_clinic: dict[int, list[QuestionnaireInvitation]] = {}
    for invitation in candidates:
        by_clinic.setdefault(invitation.organisation_id, []).append(invitation)
    owed = []
    for organisation_id, invitations in by_clinic.items():
        settings = clinic_settings.get(organisation_id) or AssessmentSettings()
        today = now.astimezone(invitations[0].client.organisation.tz).date()
        still_due = set(
            with_next_due(
                Client.objects.filter(pk__in=[i.client_id for i in invitations]),
                settings.every_weeks,
            )
            .filter(next_due__lte=today)
            .values_list("pk", flat=True)
        )
        owed += [i for i in invitations if i.client_id in still_due]
    return owed


def client_invitations(client, now: dt.datetime, limit: int = 10) -> list[dict]:
    """The client's latest scheduled questionnaires, each with the steps it went through and
    its status, worked out now (assessments.invitations): two queries."""
    invitations = list(
        QuestionnaireInvitation.objects.filter(client=client)
        .select_related("link", "email", "last_reminder")
        .order_by("-scheduled_at", "-pk")[:limit]
    )
    subjects = [i.link.audit_subject for i in invitations if i.link is not None]
    opened = dict(
        AuditEvent.objects.filter(
            client=client, action=AuditAction.VIEW, actor__isnull=True, subject__in=subjects
        )
        .order_by()
        .values("subject")
        .annotate(first=Min("at"))
        .values_list("subject", "first")
    )
    rows = []
    for invitation in invitations:
        link = invitation.link
        facts = InvitationFacts(
            scheduled_at=invitation.scheduled_at,
            not_delivered=invitation.not_delivered,
            email=_email_facts(invitation.email),
            reminders_queued=invitation.reminders_queued,
            last_reminder=_email_facts(invitation.last_reminder),
            opened_at=opened.get(link.audit_subject) if link else None,
            completed_at=link.used_at if link else None,
            expires_at=link.expires_at if link else None,
        )
        steps = invitation_steps(facts, now)
        rows.append({"invitation": invitation, "steps": steps, "status": steps[-1]})
    return rows


def _email_facts(email: OutboxEmail | None) -> EmailFacts | None:
    if email is None:
        return None
    return EmailFacts(email.status, email.sent_at, email.smtp_reply)


def undelivered_invitations(client_ids: Iterable[int]) -> dict[tuple[int, dt.date], str]:
    """Why the scheduled questionnaire of each of these clients was not delivered, per (client,
    due date), for the dashboard's rows (which show it while that date is the one due): one
    query."""
    rows = (
        QuestionnaireInvitation.objects.filter(
            UNDELIVERED, client_id__in=list(client_ids), instrument_code=SCHEDULED_INSTRUMENT
        )
        .order_by()
        .values_list("client_id", "due_on", "link_id", "not_delivered", "email__smtp_reply")
    )
    return {
        (client_id, due_on): (reason if link_id is None else reply or "the mail server refused it")
        for client_id, due_on, link_id, reason, reply in rows
    }


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


# The results chart's bars: at least 3:1 on white, and the baseline hatched, so that the two
# differ by more than colour (the tracking and dashboard charts use the same blue).
THIS_BAR = {"color": "#0072B2"}
BASELINE_BAR = {"color": "#6C8EAD", "pattern": {"shape": "/", "fgcolor": "#212529", "size": 6}}


def subscale_figure(instrument, rows, administration, baseline) -> dict:
    names = [row.name for row in rows]
    data = [
        {
            "type": "bar",
            "name": f"This administration ({administration.administered_on:%d %b %Y})",
            "x": names,
            "y": [row.score for row in rows],
            "marker": THIS_BAR,
        }
    ]
    if baseline is not None:
        data.insert(
            0,
            {
                "type": "bar",
                "name": f"Baseline ({baseline.administered_on:%d %b %Y}, hatched)",
                "x": names,
                "y": [row.baseline for row in rows],
                "marker": BASELINE_BAR,
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
    """The client's latest 200 administrations, each with `scale_scores`: for an instrument
    without a total (the FSCRS), its subscale scores by name, [] otherwise."""
    administrations = list(
        Administration.objects.filter(client=client)
        .select_related("score")
        .order_by("-administered_on", "-pk")[:200]
    )
    for administration in administrations:
        administration.scale_scores = scale_scores(administration)
    return administrations


def scale_scores(administration: Administration) -> list[tuple[str, float | None]]:
    """(name, score) per subscale of a final administration whose instrument has no total
    (e.g. the FSCRS's three sums), so a list can show a number where it would show a total."""
    instrument = get_instrument(administration.instrument_code)
    score = getattr(administration, "score", None)
    if instrument.has_total or score is None or not administration.is_final:
        return []
    return [
        (scale_label(instrument, s.code), score.subscale_score(s.code))
        for s in instrument.subscales
    ]


def client_links(client) -> list:
    """The client's most recent one-time links (never their tokens: only hashes are stored)."""
    return list(
        OneTimeLink.objects.filter(client=client)
        .select_related("created_by", "administration", "invitation")
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
            summary = f"Total {score.total:.2f} ({total_method_label(score.total_method)})"
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
                timed=False,  # a questionnaire has a date, not a time
            )
        )
    return items


def scs_subscale_trend(client) -> list[dict]:
    """SCS scores over time for one client, for tracking's progress charts.

    The caller has already checked access to `client`. Rows are {administered_on, subscale,
    score} for the total (code "total", by the instrument's default method only: totals by
    two methods are never mixed in one chart) and the six SCS subscales of final
    administrations (raw means: a high self_judgment score means more self-judgment, as on the
    facts page). SCS-SF subscales are left out: the authors advise against interpreting them
    alone. One query, at most the 60 latest administrations.
    """
    method = get_instrument("scs").default_total_method
    administrations = (
        Administration.objects.final()
        .filter(client=client, instrument_code="scs")
        .with_score_values()
        .order_by("-administered_on", "-pk")[:60]
    )
    rows = []
    for administration in administrations:
        score = getattr(administration, "score", None)
        if score is None:
            continue
        if score.total is not None and score.total_method == method:
            rows.append(
                {
                    "administered_on": administration.administered_on,
                    "subscale": "total",
                    "score": score.total,
                }
            )
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
