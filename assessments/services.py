"""Writes for the assessments app. Each runs in one transaction: nothing partial is saved."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from assessments import projections, selectors
from assessments.instruments import Instrument, get_instrument
from assessments.invitations import link_expiry
from assessments.models import (
    Administration,
    AnswerCorrection,
    AssessmentSchedule,
    AssessmentSettings,
    ItemWording,
    Mode,
    OneTimeLink,
    QuestionnaireInvitation,
    ReliableChangeSetting,
    Score,
    Status,
    default_link_expiry,
    hash_token,
)
from assessments.scoring import ScoreResult, score_response
from clinic.audit import audit_record
from clinic.models import (
    AuditAction,
    Client,
    EmailKind,
    Organisation,
    SafetySignal,
    SignalKind,
    SignalSource,
    saved_once,
)
from clinic.outbox import absolute_url, email_enqueue, email_opted_out
from clinic.safety import safety_signal_raise
from clinic.validation import HAPPENED, check_plausible_date

SUBJECT = "assessment"


class StaleCorrection(Exception):
    """Someone corrected the answers after this user's form was loaded; nothing was saved."""

    def __init__(self, corrections_now: int):
        self.corrections_now = corrections_now
        super().__init__("The answers were corrected by someone else meanwhile.")


class LinkClosed(Exception):
    """The one-time link or the draft was used up meanwhile (e.g. a double submission)."""


def wording_label(instrument: Instrument, wording: ItemWording | None) -> str:
    if wording is not None:
        return f"Clinic-loaded wording: {wording.source}"
    return "Selfkind's own item labels (no published wording loaded)"


def score_fields(result: ScoreResult) -> dict:
    return {
        "status": result.status,
        "total": result.total,
        "total_method": result.total_method or "",
        "band": result.band.code if result.band else "",
        "subscales": {code: s.as_dict() for code, s in result.subscales.items()},
        "composites": dict(result.composites),
        "missing_items": list(result.missing_items),
        "prorated": result.prorated,
        "missing_rule": result.missing_rule,
        "scored_at": timezone.now(),
    }


def allows_proration(organisation_id: int) -> bool:
    """The clinic prorates one blank item of a PHQ-9 or GAD-7 total (AssessmentSettings)."""
    return AssessmentSettings.for_organisation(organisation_id).prorate_sum_totals


def _store_score(administration: Administration, answers: Mapping[int, int | None]) -> Score:
    """Score the answers, store the score, and bring the client's projections up to date (in
    the caller's transaction)."""
    instrument = get_instrument(administration.instrument_code)
    result = score_response(
        instrument,
        dict(answers),
        allow_proration=allows_proration(administration.organisation_id),
    )
    score, _ = Score.objects.update_or_create(
        administration=administration, defaults=score_fields(result)
    )
    projections.scores_refresh([administration.client_id])
    return score


def risk_check(
    administration: Administration,
    instrument: Instrument,
    answers: Mapping[int, int | None],
    actor=None,
) -> SafetySignal | None:
    """Raise the risk flag at once (clinic.safety: routed to the primary clinician and the
    safety contacts) when these answers trip the instrument's risk item (PHQ-9 item 9 above 0),
    whatever the total, on a final form or a draft; once per questionnaire. In the caller's
    transaction."""
    if not instrument.risk_alert(answers):
        return None
    item = instrument.risk_item.item
    return safety_signal_raise(
        client=administration.client,
        kind=SignalKind.RISK_ITEM,
        source=SignalSource.QUESTIONNAIRE,
        source_id=administration.pk,
        actor=actor,
        label=f"{instrument.short_name} item {item} answered {answers[item]} "
        f"({instrument.response_min}-{instrument.response_max})",
    )


def _json_answers(answers: Mapping[int, int | None]) -> dict[str, int | None]:
    return {str(number): answers.get(number) for number in sorted(answers)}


@transaction.atomic
def administration_create(
    *,
    client,
    instrument: Instrument,
    answers: Mapping[int, int | None],
    administered_on: dt.date,
    mode: str,
    entered_by,
    wording_used: str = "",
    submission: uuid.UUID | None = None,
) -> Administration:
    """A final, scored administration (counselor entry of a paper form, or an import). A
    form's `submission` key saves once: a second post of the same paper form's entry (a
    double click on Save) gets the administration the first saved, and raises no second
    risk signal."""
    check_plausible_date(
        administered_on, HAPPENED, label="Date administered", today=client.organisation.today()
    )
    administration = Administration(
        submission=submission,
        organisation_id=client.organisation_id,
        client=client,
        instrument_code=instrument.code,
        instrument_version=instrument.version,
        administered_on=administered_on,
        mode=mode,
        status=Status.FINAL,
        answers=_json_answers(answers),
        wording_used=wording_used,
        entered_by=entered_by if entered_by is not None and entered_by.is_authenticated else None,
        finalised_at=timezone.now(),
    )
    saved = saved_once(
        administration, same=("instrument_code", "administered_on", "mode", "answers")
    )
    if saved is not administration:
        return saved
    _store_score(administration, answers)
    audit_record(entered_by, client, AuditAction.CREATE, subject=SUBJECT, fields=["answers"])
    risk_check(administration, instrument, answers, entered_by)
    return administration


@transaction.atomic
def self_completion_save(
    *,
    client,
    instrument: Instrument,
    answers: Mapping[int, int | None],
    mode: str,
    draft: Administration | None,
    finish: bool,
    actor=None,
    wording_used: str = "",
    link: OneTimeLink | None = None,
    submission: uuid.UUID | None = None,
) -> Administration:
    """Save a client's own answers: as a draft to resume later, or final (and scored).

    The link and the draft are locked and checked again inside the transaction, so two
    submissions racing on one link create one administration, and the second gets LinkClosed.
    In the portal the page's `submission` key does the same: the administration keeps the key
    of the page it was last saved from, so the page posted again (a double tap on Finish)
    gets that administration back, scored and flagged once, whether it arrives while the
    first is being saved (the draft is no longer a draft) or after (no draft is left).
    """
    today = client.organisation.today()
    if link is not None:
        link = OneTimeLink.objects.select_for_update().get(pk=link.pk)
        if not link.is_open():
            raise LinkClosed("This link has been used or has expired.")
        draft = link.administration
    if draft is not None:
        draft = Administration.objects.select_for_update().get(pk=draft.pk)
        if draft.status != Status.DRAFT:
            if submission is not None and draft.submission == submission:
                return draft
            raise LinkClosed("This questionnaire is already finished.")
    if draft is None:
        draft = Administration(
            organisation_id=client.organisation_id,
            client=client,
            instrument_code=instrument.code,
            instrument_version=instrument.version,
            mode=mode,
            status=Status.DRAFT,
        )
    if submission is not None:
        draft.submission = submission
    draft.answers = _json_answers(answers)
    draft.administered_on = today
    draft.wording_used = wording_used
    if finish:
        draft.status = Status.FINAL
        draft.finalised_at = timezone.now()
    if draft.pk is None:
        saved = saved_once(draft, same=("instrument_code", "answers", "status"))
        if saved is not draft:
            return saved
    else:
        draft.save()
    if link is not None:
        link.administration = draft
        if finish:
            link.used_at = timezone.now()
        link.save(update_fields=["administration", "used_at"])
    if finish:
        _store_score(draft, answers)
        audit_record(actor, client, AuditAction.CREATE, subject=SUBJECT, fields=["answers"])
    risk_check(draft, instrument, answers, actor)  # a draft too: the alert cannot wait
    return draft


@transaction.atomic
def correction_create(
    *,
    administration: Administration,
    new_answers: Mapping[int, int | None],
    reason: str,
    user,
    corrections_seen: int | None = None,
) -> list[AnswerCorrection]:
    """Record a correction of a final administration's answers and re-score it.

    The answers as entered stay untouched; each changed item becomes one AnswerCorrection.
    `corrections_seen` is how many corrections the user's form was loaded with: if another
    correction was saved since, nothing is written (StaleCorrection), so a form showing older
    answers cannot silently undo someone else's correction.
    """
    administration = Administration.objects.select_for_update().get(pk=administration.pk)
    earlier = list(administration.corrections.all())
    if corrections_seen is not None and len(earlier) != corrections_seen:
        raise StaleCorrection(len(earlier))
    current = administration.answers_with(earlier)
    now = timezone.now()
    corrections = [
        AnswerCorrection(
            administration=administration,
            item=number,
            old_value=current.get(number),
            new_value=value,
            reason=reason,
            corrected_by=user,
            corrected_at=now,
        )
        for number, value in sorted(new_answers.items())
        if current.get(number) != value
    ]
    if not corrections:
        return []
    AnswerCorrection.objects.bulk_create(corrections)
    for correction in corrections:
        current[correction.item] = correction.new_value
    _store_score(administration, current)
    audit_record(
        user,
        administration.client,
        AuditAction.UPDATE,
        subject=SUBJECT,
        fields=[f"item_{c.item}" for c in corrections],
    )
    risk_check(administration, get_instrument(administration.instrument_code), current, user)
    return corrections


@transaction.atomic
def one_time_link_create(
    *,
    client,
    instrument: Instrument,
    created_by,
    expires_at: dt.datetime | None = None,
    token: str | None = None,
) -> tuple[OneTimeLink, str]:
    """A new one-time link. Returns the link and the token, which is never stored in clear.

    Staff make links valid for ONE_TIME_LINK_DAYS; a scheduled questionnaire passes the
    clinic's validity and a token it can derive again for its reminders."""
    token = token or secrets.token_urlsafe(32)
    link = OneTimeLink.objects.create(
        organisation_id=client.organisation_id,
        client=client,
        instrument_code=instrument.code,
        token_hash=hash_token(token),
        created_by=created_by,
        expires_at=expires_at or default_link_expiry(),
    )
    audit_record(created_by, client, AuditAction.CREATE, subject="assessment_link")
    return link, token


@transaction.atomic
def one_time_link_revoke(*, link: OneTimeLink, user) -> OneTimeLink:
    """Close an unused link at once (it then answers 404 like an expired one)."""
    link = OneTimeLink.objects.select_for_update().get(pk=link.pk)
    if link.is_open():
        link.expires_at = timezone.now()
        link.save(update_fields=["expires_at"])
        audit_record(user, link.client, AuditAction.UPDATE, subject="assessment_link")
    return link


@transaction.atomic
def reliable_change_settings_update(*, organisation, settings: dict) -> None:
    """Replace the clinic's reference SDs: {(instrument, scale): (sd or None, source)}."""
    for (code, scale), (sd, source) in settings.items():
        if sd is None:
            ReliableChangeSetting.objects.filter(
                organisation=organisation, instrument_code=code, scale=scale
            ).delete()
        else:
            ReliableChangeSetting.objects.update_or_create(
                organisation=organisation,
                instrument_code=code,
                scale=scale,
                defaults={"reference_sd": sd, "source": source},
            )


@transaction.atomic
def wording_load(
    *, organisation, instrument: Instrument, wording: Mapping[int, str], source: str
) -> ItemWording:
    """Store (or replace) the clinic's item wording for an instrument."""
    missing = [n for n in range(1, instrument.item_count + 1) if not wording.get(n, "").strip()]
    if missing:
        raise ValueError(
            f"wording for {instrument.code} lacks items {', '.join(map(str, missing))}"
        )
    extra = sorted(n for n in wording if not 1 <= n <= instrument.item_count)
    if extra:
        raise ValueError(f"{instrument.code} has no items {', '.join(map(str, extra))}")
    record, _ = ItemWording.objects.update_or_create(
        organisation=organisation,
        instrument_code=instrument.code,
        defaults={
            "instrument_version": instrument.version,
            "source": source[:200],
            "wording": {str(n): wording[n].strip() for n in sorted(wording)},
            "loaded_at": timezone.now(),
        },
    )
    return record


@transaction.atomic
def assessment_schedule_set(*, actor, client, every_weeks: int | None) -> AssessmentSchedule:
    """The client's own SCS schedule (None pauses it): the due date follows at once, since it
    is worked out when read from the latest scored SCS and this schedule."""
    schedule, _ = AssessmentSchedule.objects.update_or_create(
        client=client,
        defaults={"every_weeks": every_weeks, "set_by": actor, "set_at": timezone.now()},
    )
    audit_record(
        actor, client, AuditAction.UPDATE, subject="assessment schedule", fields=["every_weeks"]
    )
    return schedule


SETTINGS_FIELDS = ("every_weeks", "link_valid_days", "reminder_count", "remind_after_days")


@transaction.atomic
def assessment_settings_update(*, organisation_id: int, **values: int) -> AssessmentSettings:
    """The clinic's default SCS schedule and how its scheduled questionnaires are delivered
    (link validity, reminders); the fields not given stay as they are."""
    unknown = sorted(set(values) - set(SETTINGS_FIELDS))
    if unknown:
        raise TypeError(f"not an assessment setting: {', '.join(unknown)}")
    settings, _ = AssessmentSettings.objects.update_or_create(
        organisation_id=organisation_id, defaults={**values, "updated_at": timezone.now()}
    )
    return settings


# --- Scheduled questionnaires ------------------------------------------------------------------
#
# Run every minute by assessments.tasks. A client whose SCS is due (next_due_expression, in the
# clinic's time zone) gets one invitation per due date, with a one-time link and an email, in
# one transaction; a client no email can reach gets the invitation with the reason instead,
# which the dashboard lists. Overlapping runs on several consumers do each thing once: the
# invitation is unique per (client, instrument, due date), a reminder is claimed by a
# conditional UPDATE, and every email has its own outbox key.

SCHEDULED_INSTRUMENT = selectors.SCHEDULED_INSTRUMENT
INVITE_BATCH = 500  # per run; the next run goes on where this one stopped
NO_ADDRESS = "no email address"
UNSUBSCRIBED = "unsubscribed from the clinic's emails"
_HMAC_KEY_SALT = "selfkind.assessments.QuestionnaireInvitation"


@dataclass(frozen=True)
class ScheduleRun:
    invited: int = 0
    not_delivered: int = 0
    reminded: int = 0


def _invitation_token(invitation: QuestionnaireInvitation) -> str:
    """The link's token, derived from the server's secret key and the invitation's salt, so a
    reminder can carry the same link although only the token's hash is stored."""
    return salted_hmac(
        _HMAC_KEY_SALT, f"{invitation.pk}:{invitation.token_salt}", algorithm="sha256"
    ).hexdigest()


def _undeliverable(client: Client) -> str:
    if not client.email.strip():
        return NO_ADDRESS
    if email_opted_out(client.organisation_id, client.email):
        return UNSUBSCRIBED
    return ""


def _questionnaire_email_context(token: str, link: OneTimeLink, tz) -> dict:
    until = link.expires_at.astimezone(tz)
    return {
        "link": absolute_url(reverse("assessment_link", kwargs={"token": token})),
        "valid_until": f"{until:%A} {until.day} {until:%B} at {until:%H:%M}",
    }


@transaction.atomic
def invitation_send(
    *, client: Client, due_on: dt.date, settings: AssessmentSettings, now: dt.datetime
) -> QuestionnaireInvitation | None:
    """The SCS due on `due_on`: an invitation, its one-time link (valid for the clinic's days)
    and the email with it; or, when no email can reach the client, the invitation with the
    reason. An invitation left undelivered is delivered by a later run once the reason is gone
    (an address added). None when another run got there first."""
    invitation = (
        QuestionnaireInvitation.objects.select_for_update()
        .filter(client=client, instrument_code=SCHEDULED_INSTRUMENT, due_on=due_on)
        .first()
    )
    if invitation is not None and invitation.link_id is not None:
        return None
    if invitation is None:
        try:
            with transaction.atomic():
                invitation = QuestionnaireInvitation.objects.create(
                    organisation_id=client.organisation_id,
                    client=client,
                    instrument_code=SCHEDULED_INSTRUMENT,
                    due_on=due_on,
                    scheduled_at=now,
                )
        except IntegrityError:
            return None
    reason = _undeliverable(client)
    if reason:
        invitation.not_delivered = reason
        invitation.save(update_fields=["not_delivered"])
        return invitation
    invitation.token_salt = secrets.token_hex(32)
    token = _invitation_token(invitation)
    tz = client.organisation.tz
    link, _ = one_time_link_create(
        client=client,
        instrument=get_instrument(SCHEDULED_INSTRUMENT),
        created_by=None,
        expires_at=link_expiry(now, settings.link_valid_days, tz),
        token=token,
    )
    invitation.link = link
    invitation.not_delivered = ""
    invitation.reminders_planned = settings.reminder_count
    invitation.remind_after_days = settings.remind_after_days
    invitation.email = email_enqueue(
        key=f"questionnaire:{invitation.pk}",
        kind=EmailKind.QUESTIONNAIRE,
        to=client.email,
        template="questionnaire",
        context=_questionnaire_email_context(token, link, tz),
        organisation=client.organisation,
        client=client,
    )
    invitation.save()
    return invitation


@transaction.atomic
def invitation_remind(
    *, invitation: QuestionnaireInvitation, number: int
) -> QuestionnaireInvitation | None:
    """Reminder `number` of an invitation whose questionnaire is still open and due (the
    caller checked), with the same link as the first email. None if another run sent it."""
    claimed = QuestionnaireInvitation.objects.filter(
        pk=invitation.pk, reminders_queued=number - 1
    ).update(reminders_queued=number)
    if not claimed:
        return None
    client, link = invitation.client, invitation.link
    token = _invitation_token(invitation)
    if hash_token(token) != link.token_hash:
        # The server's secret key changed since the first email: the link takes the token
        # the reminder carries (the first email's copy of it no longer opens).
        OneTimeLink.objects.filter(pk=link.pk).update(token_hash=hash_token(token))
    invitation.last_reminder = email_enqueue(
        key=f"questionnaire:{invitation.pk}:reminder:{number}",
        kind=EmailKind.QUESTIONNAIRE_REMINDER,
        to=client.email,
        template="questionnaire_reminder",
        context=_questionnaire_email_context(token, link, client.organisation.tz),
        organisation=client.organisation,
        client=client,
    )
    invitation.reminders_queued = number
    QuestionnaireInvitation.objects.filter(pk=invitation.pk).update(
        last_reminder=invitation.last_reminder
    )
    return invitation


def invitations_send_due(
    *, now: dt.datetime | None = None, limit: int = INVITE_BATCH
) -> ScheduleRun:
    """Invite every active client whose SCS is due today or earlier (in their clinic's time
    zone) and who has no invitation for that due date yet, and send the reminders that fell
    due: only while the questionnaire is open (link unused and unexpired) and still due (a
    questionnaire completed in any way moves the due date on), never to a client not in active
    care, without an address, or unsubscribed."""
    now = now or timezone.now()
    invited = not_delivered = 0
    clinic_settings = {s.organisation_id: s for s in AssessmentSettings.objects.all()}
    for organisation in Organisation.objects.order_by("pk"):
        settings = clinic_settings.get(organisation.pk) or AssessmentSettings(
            organisation=organisation
        )
        today = now.astimezone(organisation.tz).date()
        due = selectors.invitations_due(
            organisation.pk, settings.every_weeks, today, now, limit - invited - not_delivered
        )
        clients = Client.objects.select_related("organisation").in_bulk([pk for pk, _ in due])
        for client_id, due_on in due:
            invitation = invitation_send(
                client=clients[client_id], due_on=due_on, settings=settings, now=now
            )
            if invitation is not None and invitation.link_id is not None:
                invited += 1
            elif invitation is not None:
                not_delivered += 1
        if invited + not_delivered >= limit:
            break
    reminded = 0
    for invitation in selectors.reminders_due(now, clinic_settings):
        reminded += (
            invitation_remind(invitation=invitation, number=invitation.reminders_queued + 1)
            is not None
        )
    return ScheduleRun(invited, not_delivered, reminded)


@transaction.atomic
def proration_set(*, organisation_id: int, prorate_sum_totals: bool) -> AssessmentSettings:
    """Whether the clinic prorates one blank PHQ-9 or GAD-7 item: forms scored from now on
    follow (a score keeps the rule it was scored by, stated with it)."""
    settings, _ = AssessmentSettings.objects.update_or_create(
        organisation_id=organisation_id,
        defaults={"prorate_sum_totals": prorate_sum_totals, "updated_at": timezone.now()},
    )
    return settings


__all__ = [
    "Mode",
    "administration_create",
    "correction_create",
    "invitations_send_due",
    "one_time_link_create",
    "self_completion_save",
    "wording_load",
]
