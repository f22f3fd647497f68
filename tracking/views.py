"""Tracking pages. Thin: access -> form -> service/selector -> render or redirect.

Client pages (/tracking/me/...) show the client's own rows with their words; a POST there is a
write and passes the portal's write check in access (read-only after discharge), and the pages
hide their forms when the portal is read-only. Staff pages (/tracking/clients/<id>/...) read
entries only through selectors.redacted_entries.
"""

from __future__ import annotations

import csv
import datetime as dt
import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import F
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from clinic.access import (
    client_user_required,
    clinic_admin_required,
    portal_client_for,
    staff_required,
)
from clinic.audit import audit_record
from clinic.exporting import spreadsheet_safe
from clinic.models import AuditAction, SignalKind
from clinic.outbox import email_opted_out
from clinic.safety import safety_signal_raise
from clinic.selectors import crisis_contacts_of
from clinic.validation import EARLIEST
from tracking import access, selectors, services
from tracking.forms import (
    DifficultForm,
    EntryForm,
    JournalForm,
    PracticeForm,
    RangeForm,
    ReframeForm,
    ReminderForm,
    TriggerCategoryForm,
    WeekForm,
)
from tracking.models import Emotion, Pattern, ReminderPurpose, TriggerCategory

AUDIT_SUBJECT = services.AUDIT_SUBJECT
LIST_LIMIT = 50
DEFAULT_RANGE_WEEKS = 4
DEFAULT_CHART_WEEKS = 26


def _apply_form_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


# --- Client portal -------------------------------------------------------------------------


@client_user_required
def my_log(request):
    client = portal_client_for(request.user, write=request.method == "POST")
    tz = client.organisation.tz
    form = EntryForm(request.POST or None, organisation_id=client.organisation_id)
    if request.method == "POST" and form.is_valid():
        try:
            entry = services.entry_create(actor=request.user, client=client, data=form.cleaned_data)
        except ValidationError as error:
            _apply_form_errors(form, error)
        else:
            messages.success(request, "Saved. You can reframe it now, or come back later.")
            return redirect("tracking:my_entry", entry_id=entry.pk)
    today = timezone.localtime(timezone.now(), tz).date()
    week_form = WeekForm(request.GET, today=today)
    chosen = week_form.dates()["week"]
    if chosen is None:
        # The last 7 days, today included: on a Monday the log still shows yesterday's entries.
        first, last = today - dt.timedelta(days=6), today
        previous_week, next_week = selectors.week_start(first - dt.timedelta(days=1)), None
    else:
        first = min(selectors.week_start(chosen), selectors.week_start(today))
        last = first + dt.timedelta(days=6)
        previous_week = first - dt.timedelta(weeks=1) if first > EARLIEST else None
        # The week after, or back to the last 7 days once that week reaches them.
        following = first + dt.timedelta(weeks=1)
        next_week = following if following + dt.timedelta(days=6) < today - dt.timedelta(6) else ""
    days, more = selectors.range_feed(
        selectors.own_entry_rows(access.own_entries(request.user)), tz, first, last
    )
    return render(
        request,
        "tracking/my_log.html",
        {
            "form": form,
            "week_form": week_form,
            "client": client,
            "days": days,
            "more": more,
            "first": first,
            "last": last,
            "last_seven_days": chosen is None,
            "previous_week": previous_week,
            "next_week": next_week,
            "limit": selectors.FEED_LIMIT,
        },
    )


@client_user_required
def my_entry(request, entry_id: int):
    entry = access.own_entry(request.user, entry_id, write=request.method == "POST")
    # own_entry already ties the entry to this user's clinic: no second look-up of the record.
    form = EntryForm(
        request.POST or None, instance=entry, organisation_id=request.user.organisation_id
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.entry_update(actor=request.user, entry=entry, data=form.cleaned_data)
        except ValidationError as error:
            _apply_form_errors(form, error)
        else:
            messages.success(request, "Entry saved.")
            return redirect("tracking:my_entry", entry_id=entry.pk)
    if request.method == "POST":
        entry.refresh_from_db()  # show the stored words beside the form, not the rejected ones
    return render(
        request,
        "tracking/my_entry.html",
        {
            "entry": entry,
            "client": entry.client,
            "form": form,
            "reframe_form": ReframeForm(instance=entry),
        },
    )


@client_user_required
@require_POST
def my_entry_delete(request, entry_id: int):
    # Allowed after discharge too: a client's words are theirs to take back, read-only portal
    # or not (privacy over a complete record; the audit keeps that an entry was deleted).
    entry = access.own_entry(request.user, entry_id)
    services.entry_delete(actor=request.user, entry=entry)
    messages.success(request, "Entry deleted.")
    return redirect("tracking:my_log")


@client_user_required
@require_POST
def my_reframe(request, entry_id: int):
    entry = access.own_entry(request.user, entry_id, write=True)
    form = ReframeForm(request.POST, instance=entry)
    if form.is_valid():
        try:
            services.entry_reframe(actor=request.user, entry=entry, data=form.cleaned_data)
        except ValidationError as error:
            _apply_form_errors(form, error)
        else:
            messages.success(request, "Reframe saved. That took kindness.")
            return redirect("tracking:my_entry", entry_id=entry.pk)
    entry.refresh_from_db()
    return render(
        request,
        "tracking/my_entry.html",
        {
            "entry": entry,
            "client": entry.client,
            "form": EntryForm(instance=entry, organisation_id=request.user.organisation_id),
            "reframe_form": form,
            "reframe_open": True,
        },
    )


@client_user_required
def my_practice(request):
    client = portal_client_for(request.user, write=request.method == "POST")
    form = PracticeForm(request.POST or None, initial={"practised_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            session = services.practice_create(
                actor=request.user, client=client, data=form.cleaned_data
            )
        except ValidationError as error:
            _apply_form_errors(form, error)
        else:
            messages.success(request, "Practice logged.")
            if raised_distress(session):
                # A practice that left the client more distressed: a gentle note first.
                return redirect("tracking:my_practice_note", practice_id=session.pk)
            return redirect("tracking:my_practice")
    sessions = list(access.own_practice(request.user)[:LIST_LIMIT])
    return render(
        request,
        "tracking/my_practice.html",
        {"client": client, "form": form, "sessions": sessions, "limit": LIST_LIMIT},
    )


@client_user_required
def my_journal(request):
    client = portal_client_for(request.user, write=request.method == "POST")
    week = services.current_week(client)
    journal = access.own_journal(request.user)
    current = journal.filter(week_start=week).first()
    form = JournalForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        try:
            services.journal_save(
                actor=request.user, client=client, week_start=week, data=form.cleaned_data
            )
        except (ValidationError, services.ServiceError) as error:
            if isinstance(error, ValidationError):
                _apply_form_errors(form, error)
            else:
                form.add_error(None, str(error))
        else:
            messages.success(request, "This week's journal is saved. You can edit it until Sunday.")
            return redirect("tracking:my_journal")
    # A read-only portal shows this week's journal with the earlier ones instead of a form.
    shown = journal if client.portal_is_read_only else journal.filter(week_start__lt=week)
    past = list(shown[:LIST_LIMIT])
    return render(
        request,
        "tracking/my_journal.html",
        {
            "client": client,
            "current": current,
            "form": form,
            "week": week,
            "week_end": week + dt.timedelta(days=6),
            "past": past,
        },
    )


def raised_distress(session) -> bool:
    """Distress after the practice was higher than before it."""
    before, after = session.distress_before, session.distress_after
    return before is not None and after is not None and after > before


@client_user_required
def my_practice_note(request, practice_id: int):
    """After a practice that raised distress (or one the client found too much): a gentle note
    suggesting a shorter or different practice, and one tap to tell the clinician."""
    session = access.own_practice_session(request.user, practice_id)
    return render(
        request,
        "tracking/practice_note.html",
        {
            "client": session.client,
            "session": session,
            "raised": raised_distress(session),
        },
    )


@client_user_required
@require_POST
def my_difficult(request):
    """ "This brought up something difficult" on an entry, a practice or a journal entry, with
    or without asking to be contacted: a safety flag for the primary clinician and the clinic's
    safety contacts (clinic.safety). The flag names what kind of record it was, never its words:
    a private entry stays private."""
    client = portal_client_for(request.user, write=True)
    form = DifficultForm(request.POST)
    if not form.is_valid():
        return _something_hard(request, client, form, status=400)
    record = access.own_record(
        request.user, form.cleaned_data["source"], form.cleaned_data["record"]
    )
    asked = form.cleaned_data["contact"]
    safety_signal_raise(
        client=client,
        kind=SignalKind.SAFETY,
        source=form.signal_source,
        source_id=record.pk,
        actor=request.user,
        asked_for_contact=asked,
    )
    messages.success(
        request,
        "Thank you for saying so. Your clinician will see it"
        + (" and that you would like them to contact you." if asked else "."),
    )
    return redirect("tracking:my_something_hard")


@client_user_required
def my_something_hard(request):
    """The "something is hard" screen: what happens next, and the crisis resources."""
    return _something_hard(request, portal_client_for(request.user))


def _something_hard(request, client, form=None, status=200):
    return render(
        request,
        "tracking/something_hard.html",
        {
            "client": client,
            "form": form,
            "contacts": crisis_contacts_of(client.organisation_id),
        },
        status=status,
    )


def _chart_range(request, client, weeks: int) -> tuple[RangeForm, dt.date, dt.date]:
    """The days asked for, else the last `weeks` weeks, but never from before the week of the
    client's intake: a new client's charts do not start with months of nothing."""
    today = timezone.localtime(timezone.now(), client.organisation.tz).date()
    form = RangeForm(request.GET, today=today)
    dates = form.dates()
    last = dates["end"] or today
    default_first = selectors.week_start(last) - dt.timedelta(weeks=weeks - 1)
    if client.intake_date:
        default_first = min(max(default_first, selectors.week_start(client.intake_date)), last)
    first = dates["start"] or default_first
    last = max(first, last)  # a start after today, with no end: that day alone
    if not form.is_bound:
        # Show the range in use rather than empty date boxes.
        form = RangeForm(initial={"start": first, "end": last})
    return form, first, last


def _charts_context(request, client, *, for_staff: bool) -> dict:
    """The chart page's context, from the client's day rollups (bounded by the range, not by
    the number of entries). `client` comes from an access function."""
    form, first, last = _chart_range(request, client, DEFAULT_CHART_WEEKS)
    first, last = selectors.chart_range(first, last)
    data = selectors.chart_data(client, first, last, for_staff=for_staff)
    return {
        "client": client,
        "form": form,
        "first": first,
        "last": last,
        "figures": selectors.chart_figures(data, time_zone=client.organisation.time_zone),
    }


@client_user_required
def my_charts(request):
    client = portal_client_for(request.user)
    context = _charts_context(request, client, for_staff=False)
    return render(request, "tracking/charts.html", {**context, "own": True})


EXPORT_FIELDS = (
    "id",
    "occurred_at",
    "critic_text",
    "intensity",
    "situation",
    "trigger",
    "emotions",
    "emotions_other",
    "body_location",
    "pattern",
    "mindful_acknowledgement",
    "common_humanity",
    "self_kindness",
    "friend_response",
    "intensity_after",
    "reframed_at",
    "is_private",
    "created_at",
)


def _export_rows(user):
    rows = (
        access.own_entries(user)
        .order_by("occurred_at", "id")
        .values(
            *(name for name in EXPORT_FIELDS if name != "trigger"), trigger_name=F("trigger__name")
        )
    )
    for row in rows.iterator(chunk_size=2000):
        row["trigger"] = row.pop("trigger_name") or ""
        yield row


class _Echo:
    def write(self, value):
        return value


# The CSV a client downloads is read by a person in a spreadsheet: headers in words, times in
# the clinic's time zone with their offset, codes as their labels. (The JSON export keeps the
# field names and codes, for programs.)
CSV_HEADERS = {
    "id": "Entry number",
    "occurred_at": "When",
    "critic_text": "What the critic said",
    "intensity": "Intensity (0 to 10)",
    "situation": "Situation",
    "trigger": "Trigger",
    "emotions": "Emotions",
    "emotions_other": "Other emotions",
    "body_location": "Where in the body",
    "pattern": "Pattern",
    "mindful_acknowledgement": "Mindful acknowledgement",
    "common_humanity": "Common humanity",
    "self_kindness": "Self-kindness",
    "friend_response": "What I would say to a friend",
    "intensity_after": "Intensity after reframing (0 to 10)",
    "reframed_at": "Reframed",
    "is_private": "Words kept private",
    "created_at": "Written down",
}
CSV_TIMES = ("occurred_at", "reframed_at", "created_at")
BOM = "\ufeff"  # so that Excel reads the file as UTF-8 (accents, curly quotes)


def _csv_header(name: str, time_zone: str) -> str:
    label = CSV_HEADERS[name]
    return f"{label} ({time_zone} time)" if name in CSV_TIMES else label


def _csv_cell(name: str, value, tz) -> str:
    """One cell as a person reads it; free text neutralised against spreadsheet formulas."""
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        return timezone.localtime(value, tz).isoformat(sep=" ", timespec="minutes")
    if name == "pattern":
        return Pattern(value).label if value in Pattern else str(value)
    if name == "emotions":
        return "; ".join(Emotion(v).label if v in Emotion else str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return spreadsheet_safe(str(value))


@client_user_required
def my_export_csv(request):
    client = portal_client_for(request.user)
    tz, zone = client.organisation.tz, client.organisation.time_zone
    writer = csv.writer(_Echo())

    def lines():
        yield BOM + writer.writerow([_csv_header(name, zone) for name in EXPORT_FIELDS])
        for row in _export_rows(request.user):
            yield writer.writerow([_csv_cell(name, row[name], tz) for name in EXPORT_FIELDS])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="selfkind-inner-critic-{client.code}.csv"'
    )
    return response


@client_user_required
def my_export_json(request):
    client = portal_client_for(request.user)
    payload = {
        "client": client.code,
        "time_zone": client.organisation.time_zone,
        "exported_at": timezone.now(),
        "entries": [
            {name: row[name] for name in EXPORT_FIELDS} for row in _export_rows(request.user)
        ],
        "practice": list(
            access.own_practice(request.user)
            .order_by("practised_on", "id")
            .values(
                "id",
                "practised_on",
                "practice_type",
                "minutes",
                "distress_before",
                "distress_after",
                "note",
            )
        ),
        "journal": list(
            access.own_journal(request.user)
            .order_by("week_start")
            .values("week_start", "difficulty", "mindfulness", "common_humanity", "self_kindness")
        ),
    }
    response = HttpResponse(
        json.dumps(payload, cls=DjangoJSONEncoder, indent=1),
        content_type="application/json",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="selfkind-inner-critic-{client.code}.json"'
    )
    return response


# --- Staff: one client on the caseload -----------------------------------------------------


@staff_required
def client_log(request, client_id: int):
    client = access.staff_client(request.user, client_id)
    tz = client.organisation.tz
    form, first, last = _chart_range(request, client, DEFAULT_RANGE_WEEKS)
    days, more = selectors.range_feed(
        selectors.redacted_entries(access.staff_entries(request.user, client)), tz, first, last
    )
    practice = list(
        access.staff_practice(request.user, client).filter(
            practised_on__gte=first, practised_on__lte=last
        )[:LIST_LIMIT]
    )
    journal = list(
        access.staff_journal(request.user, client).filter(
            week_start__gte=selectors.week_start(first), week_start__lte=last
        )[:LIST_LIMIT]
    )
    audit_record(
        request.user,
        client,
        AuditAction.VIEW,
        subject=AUDIT_SUBJECT,
        fields=["entries", "practice", "journal"],
    )
    return render(
        request,
        "tracking/client_log.html",
        {
            "client": client,
            "form": form,
            "first": first,
            "last": last,
            "days": days,
            "more": more,
            "limit": selectors.FEED_LIMIT,
            "practice": practice,
            "journal": journal,
            "list_limit": LIST_LIMIT,
        },
    )


@staff_required
def client_charts(request, client_id: int):
    client = access.staff_client(request.user, client_id)
    context = _charts_context(request, client, for_staff=True)
    audit_record(request.user, client, AuditAction.VIEW, subject=AUDIT_SUBJECT, fields=["charts"])
    return render(request, "tracking/charts.html", {**context, "own": False})


@staff_required
def client_entry_create(request, client_id: int):
    client = access.staff_client(request.user, client_id)
    form = EntryForm(request.POST or None, organisation_id=client.organisation_id)
    if request.method == "POST" and form.is_valid():
        try:
            services.entry_create(actor=request.user, client=client, data=form.cleaned_data)
        except ValidationError as error:
            _apply_form_errors(form, error)
        else:
            messages.success(request, f"Entry saved for {client.code}.")
            return redirect("tracking:client_log", client_id=client.pk)
    return render(request, "tracking/client_entry_form.html", {"client": client, "form": form})


# --- Clinic settings: the clinic's own trigger categories ------------------------------------


@clinic_admin_required
def trigger_settings(request):
    org_id = request.user.organisation_id
    form = TriggerCategoryForm(request.POST or None, organisation_id=org_id)
    if request.method == "POST" and form.is_valid():
        services.trigger_category_create(actor=request.user, name=form.cleaned_data["name"])
        messages.success(request, "Trigger category added.")
        return redirect("tracking:trigger_settings")
    categories = TriggerCategory.objects.available_to(org_id)
    return render(
        request, "tracking/trigger_settings.html", {"form": form, "categories": categories}
    )


@client_user_required
def my_reminders(request):
    """The client's own email reminders: days, a time in the clinic's time zone, a pause.
    Read-only after discharge (no reminder is sent then either)."""
    client = portal_client_for(request.user, write=request.method == "POST")
    saved = {reminder.purpose: reminder for reminder in access.own_reminders(request.user)}
    forms = {
        purpose: ReminderForm(
            request.POST or None,
            prefix=purpose,
            initial={
                "weekdays": saved[purpose].weekdays if purpose in saved else [],
                "local_time": saved[purpose].local_time if purpose in saved else dt.time(8, 0),
                "paused": saved[purpose].paused if purpose in saved else False,
            },
        )
        for purpose in ReminderPurpose.values
    }
    if request.method == "POST" and all(form.is_valid() for form in forms.values()):
        resubscribed = services.reminders_save(
            client=client, choices={purpose: form.cleaned_data for purpose, form in forms.items()}
        )
        messages.success(
            request,
            "Reminders saved."
            + (" You are subscribed to reminders again." if resubscribed else ""),
        )
        return redirect("tracking:my_reminders")
    return render(
        request,
        "tracking/my_reminders.html",
        {
            "client": client,
            "forms": [(ReminderPurpose(purpose), form) for purpose, form in forms.items()],
            "time_zone": client.organisation.time_zone,
            "unsubscribed": bool(client.email)
            and email_opted_out(client.organisation, client.email),
        },
        status=400 if request.method == "POST" else 200,
    )
