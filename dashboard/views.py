"""Dashboard pages. Thin: check access, validate with a form, call a service or selector,
render or redirect."""

from __future__ import annotations

import csv
import math

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render

from assessments.models import AssessmentSchedule, AssessmentSettings
from assessments.reliable_change import MIN_BASELINE_CLIENTS
from assessments.services import assessment_schedule_set
from clinic.access import client_for, clinic_admin_required, staff_required
from clinic.audit import audit_record, audit_records
from clinic.exporting import spreadsheet_cell
from clinic.models import AuditAction, SafetySignal
from dashboard import brief as brief_reads
from dashboard import cohorts, flags, selectors, services, stats
from dashboard.forms import (
    BriefForm,
    DashboardFilterForm,
    FlagAcknowledgeForm,
    FlagSettingsForm,
    ScheduleForm,
)
from dashboard.models import FlagAcknowledgement, FlagSettings

PAGE_SIZE = 25
EXPORT_CHUNK = 500
# What a page of statistics says about small samples (dashboard.stats).
SMALL_SAMPLES = {"thresholds": stats.THRESHOLDS_TEXT, "too_few": stats.TOO_FEW}


def _filters(request) -> tuple[DashboardFilterForm, selectors.DashboardFilters]:
    """The filters asked for. A field that does not validate (e.g. a programme removed since the
    link was made) is left out and its error shown; the other filters still apply."""
    form = DashboardFilterForm(request.GET or None, user=request.user)
    cleaned = {}
    if form.is_bound:
        form.is_valid()
        cleaned = form.cleaned_data
    return form, selectors.DashboardFilters(
        q=cleaned.get("q") or "",
        clinician=cleaned.get("clinician"),
        programme=cleaned.get("programme"),
        flag=cleaned.get("flag") or "",
        sort=cleaned.get("sort") or "attention",
    )


def legend(rules: flags.Rules) -> list[tuple[str, str, str]]:
    return [(kind, flags.LABELS[kind], text) for kind, text in rules.explanations().items()]


@staff_required
def home(request):
    user = request.user
    today = user.organisation.today()
    context = selectors.clinic_context(user.organisation_id)
    form, filters = _filters(request)
    # Sort and page on the ids alone (narrow rows), then load the page's 25 in full.
    page = Paginator(selectors.dashboard_ids(user, filters, context, today), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    sort_query = request.GET.copy()
    for name in ("sort", "page"):
        sort_query.pop(name, None)
    prefix = f"?{sort_query.urlencode()}&" if sort_query else "?"
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "dashboard/home.html",
        {
            "t": {
                "form": form,
                "filters": filters,
                "page": page,
                "rows": selectors.dashboard_rows(
                    selectors.clients_in_order(page.object_list, context.rules), context, today
                ),
                "legend": legend(context.rules),
                "signals": selectors.open_signals_for(user),
                "sort_links": {
                    column: f"{prefix}sort={'-' if filters.sort == column else ''}{column}"
                    for column in selectors.SORT_LABELS
                },
                "sort_label": selectors.SORT_LABELS.get(filters.sort.lstrip("-"), ""),
            },
            "today": today,
            "query": query.urlencode(),
            "recent_days": selectors.RECENT_DAYS,
            "total_sd": context.sds.get("total"),
            "min_baselines": MIN_BASELINE_CLIENTS,
        },
    )


EXPORT_HEADERS = [
    "code",
    "name",
    "primary_clinician",
    "scs_latest_total",
    "scs_total_band",
    "scs_latest_on",
    "scs_baseline_total",
    "scs_change_since_baseline",
    "scs_reliable_change",
    "scs_last_on",
    "scs_next_due_on",
    "scs_due",
    "scs_not_delivered",
    f"critic_entries_last_{selectors.RECENT_DAYS}_days",
    f"practice_minutes_last_{selectors.RECENT_DAYS}_days",
    "last_activity_on",
    *(
        f"{code.replace('-', '')}_{column}"
        for code in selectors.SYMPTOM_MEASURES
        for column in ("latest_total", "band", "latest_on", "change_since_first", "reliable_change")
    ),
    "open_flags",
    "acknowledged_flags",
]


def _export_row(row: selectors.DashboardRow) -> list:
    summary = row.summary
    return [
        row.client.code,
        row.client.display_name,
        row.client.primary_clinician.label,
        summary.latest_total if summary else None,
        summary.latest_band if summary else None,
        summary.latest_on if summary else None,
        summary.baseline_values.get("total") if summary else None,
        summary.total_change if summary else None,
        row.verdict,
        summary.latest_on if summary else None,
        row.next_due_on,
        "yes" if row.due else "no",
        row.not_delivered,
        row.entries_recent,
        row.minutes_recent,
        row.activity.last_activity_on if row.activity else None,
        *(
            cell
            for code in selectors.SYMPTOM_MEASURES
            for cell in _symptom_cells(row.symptoms.get(code))
        ),
        "; ".join(f"{f.label}: {f.detail}" for f in row.flags if not f.acknowledged),
        "; ".join(f.label for f in row.flags if f.acknowledged),
    ]


def _symptom_cells(score: selectors.SymptomScore | None) -> list:
    if score is None:
        return [None] * 5
    return [score.total, score.band, score.latest_on, score.change, score.verdict]


class _Echo:
    def write(self, value):
        return value


@staff_required
def export_csv(request):
    """The filtered table as CSV, every page; each exported client gets an EXPORT audit event."""
    user = request.user
    today = user.organisation.today()
    context = selectors.clinic_context(user.organisation_id)
    form, filters = _filters(request)
    if form.errors:
        # Never export more than was asked for: refuse rather than drop a filter.
        problems = "; ".join(
            f"{form.fields[name].label or name}: {' '.join(errors)}"
            for name, errors in form.errors.items()
        )
        return HttpResponse(
            f"Nothing exported: a filter is not valid ({problems}).",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    ids = selectors.dashboard_ids(user, filters, context, today)
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(EXPORT_HEADERS)
        chunk_start = 0
        while True:
            chunk = selectors.clients_in_order(
                ids[chunk_start : chunk_start + EXPORT_CHUNK], context.rules
            )
            if not chunk:
                break
            audit_records(user, chunk, AuditAction.EXPORT, subject="dashboard")
            for row in selectors.dashboard_rows(chunk, context, today):
                yield writer.writerow([spreadsheet_cell(cell) for cell in _export_row(row)])
            chunk_start += EXPORT_CHUNK

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="selfkind-dashboard-{today.isoformat()}.csv"'
    )
    response["Cache-Control"] = "no-store"
    return response


# --- One client's flags ----------------------------------------------------------------------


@staff_required
def client_flags(request, client_id: int):
    user = request.user
    client = client_for(user, client_id, select_related=["organisation"])
    today = client.organisation.today()
    form = None
    if request.method == "POST":
        form = FlagAcknowledgeForm(request.POST)
        if form.is_valid():
            try:
                services.flag_acknowledge(
                    actor=user, client=client, today=today, **form.cleaned_data
                )
            except services.FlagNotRaised:
                form.add_error(
                    None,
                    "That flag is no longer raised as shown (its data changed since the page "
                    "was loaded): nothing was saved. The flags below are current.",
                )
            else:
                messages.success(request, "Flag acknowledged; your note is kept.")
                return redirect("dashboard:client_flags", client_id=client.pk)
    context = selectors.clinic_context(client.organisation_id)
    current = selectors.client_row(client, context, today).flags
    audit_record(user, client, AuditAction.VIEW, subject="flags", fields=["flags"])
    history = (
        FlagAcknowledgement.objects.filter(client=client)
        .select_related("acknowledged_by")
        .order_by("-acknowledged_at", "-pk")[:100]
    )
    signals = (
        SafetySignal.objects.filter(client=client)
        .select_related("acknowledged_by")
        .order_by("-raised_at", "-pk")[:100]
    )
    return render(
        request,
        "dashboard/client_flags.html",
        {
            "client": client,
            "signals": signals,
            "flags": current,
            "failed": form if form is not None and form.errors else None,
            "history": history,
            "explanations": context.rules.explanations(),
        },
    )


# --- Settings and schedules --------------------------------------------------------------


@clinic_admin_required
def flag_settings(request):
    user = request.user
    instance = FlagSettings.for_organisation(user.organisation_id)
    every_weeks = AssessmentSettings.for_organisation(user.organisation_id).every_weeks
    # The thresholds in force, read before a bound form copies the input onto `instance`.
    in_force = legend(flags.Rules.from_settings(instance, every_weeks))
    form = FlagSettingsForm(
        request.POST or None, instance=instance, initial={"assessment_every_weeks": every_weeks}
    )
    if request.method == "POST" and form.is_valid():
        services.flag_settings_update(
            actor=user,
            data={name: form.cleaned_data[name] for name in form.Meta.fields},
            every_weeks=form.cleaned_data["assessment_every_weeks"],
        )
        messages.success(request, "Thresholds saved; every flag now uses them.")
        return redirect("dashboard:flag_settings")
    return render(request, "dashboard/flag_settings.html", {"form": form, "legend": in_force})


@staff_required
def schedule(request, client_id: int):
    user = request.user
    client = client_for(user, client_id, select_related=["organisation"])
    default_weeks = AssessmentSettings.for_organisation(client.organisation_id).every_weeks
    instance = AssessmentSchedule.objects.filter(client=client).first()
    initial = {} if instance else {"every_weeks": default_weeks}
    form = ScheduleForm(
        request.POST or None, instance=instance, initial=initial, default_weeks=default_weeks
    )
    if request.method == "POST" and form.is_valid():
        assessment_schedule_set(
            actor=user, client=client, every_weeks=form.cleaned_data["every_weeks"]
        )
        messages.success(request, f"Assessment schedule of {client.code} saved.")
        return redirect("clinic:client_detail", client_id=client.pk)
    return render(
        request,
        "dashboard/schedule.html",
        {"client": client, "form": form, "schedule": instance, "default_weeks": default_weeks},
    )


# --- Session brief -------------------------------------------------------------------------


@staff_required
def brief(request, client_id: int):
    user = request.user
    client = client_for(user, client_id, select_related=["organisation", "primary_clinician"])
    today = client.organisation.today()
    form = BriefForm(request.GET, today=today)
    since = form.dates()["since"]
    if since is not None:
        reason = f"since {since.day} {since:%b %Y} (chosen)"
    else:
        since, reason = brief_reads.default_since(user, client, today)
    audit_record(user, client, AuditAction.VIEW, subject=brief_reads.SUBJECT, fields=["brief"])
    return render(
        request,
        "dashboard/brief.html",
        {
            "brief": brief_reads.brief_for(user, client, since, today, reason),
            "form": form,
            "client": client,
        },
    )


# --- Programmes, cohorts and dose-response ----------------------------------------------------


@staff_required
def programmes(request):
    return render(
        request,
        "dashboard/programmes.html",
        {"programmes": cohorts.programmes_for(request.user)},
    )


@staff_required
def cohort(request, programme_id: int):
    user = request.user
    programme = cohorts.programme_for(user, programme_id)
    cohort = cohorts.cohort_for(user, programme)
    # The page lists each member's scores: one VIEW event per member in the user's scope (the
    # members the cohort read, with their organisation).
    audit_records(user, cohort.members, AuditAction.VIEW, subject="cohort")
    return render(
        request,
        "dashboard/cohort.html",
        {"cohort": cohort, "programme": programme, **SMALL_SAMPLES},
    )


COHORT_HEADERS = ["code", "status", "pre_on", "post_on", "pre_total", "post_total"]


@staff_required
def cohort_csv(request, programme_id: int):
    """One row per member in the user's scope, missing ones included and marked."""
    user = request.user
    programme = cohorts.programme_for(user, programme_id)
    data = cohorts.cohort_for(user, programme)
    subscales = [scale for scale in data.labels if scale != "total"]
    headers = [
        *COHORT_HEADERS,
        "total_change",
        "total_comparable",
        "total_reliable_change",
        *(f"{when}_{code}" for code in subscales for when in ("pre", "post")),
    ]
    codes = {member.pk: member.code for member in data.members}
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="selfkind-cohort-{programme.pk}.csv"'
    response["Cache-Control"] = "no-store"
    writer = csv.writer(response)
    writer.writerow(headers)
    for row in data.frame.to_dict("records"):
        comparable = bool(row["total_comparable"])
        change = row["post_total"] - row["pre_total"] if comparable else None
        cells = [
            codes[row["client_id"]],
            row["status"],
            row["pre_on"],
            row["post_on"],
            _cell(row["pre_total"]),
            _cell(row["post_total"]),
            _cell(change),
            "yes" if comparable else "no",
            data.verdicts.get(row["client_id"], ""),
            *(_cell(row.get(f"{when}_{code}")) for code in subscales for when in ("pre", "post")),
        ]
        writer.writerow([spreadsheet_cell(cell) for cell in cells])
    audit_records(user, data.members, AuditAction.EXPORT, subject="cohort")
    return response


def _cell(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return round(value, 4) if isinstance(value, float) else value


@staff_required
def dose_response(request):
    user = request.user
    programme = None
    if request.GET.get("programme"):
        programme = cohorts.programme_for(user, request.GET["programme"])
    return render(
        request,
        "dashboard/dose_response.html",
        {
            "dose": cohorts.clinic_dose_response(user, programme),
            "programme": programme,
            "programmes": list(cohorts.programmes_for(user)),
            "whole_clinic": user.is_clinic_admin and programme is None,
            **SMALL_SAMPLES,
        },
    )
