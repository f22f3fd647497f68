"""Assessment pages. Thin: access check, form, service or selector, render or redirect."""

from __future__ import annotations

import csv
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from assessments import selectors, services
from assessments.access import (
    administration_for,
    link_for,
    link_for_known_token,
    open_link_for_token,
    portal_administration_for,
)
from assessments.forms import (
    CorrectionForm,
    ImportForm,
    PaperEntryForm,
    ProrationForm,
    QuestionnaireDeliveryForm,
    ReliableChangeSettingsForm,
    SelfCompletionForm,
)
from assessments.instruments import UnknownInstrumentError, all_instruments, get_instrument
from assessments.models import (
    Administration,
    AssessmentSettings,
    Mode,
    ReliableChangeSetting,
    Status,
)
from clinic.access import (
    client_for,
    client_user_required,
    clients_for,
    clinic_admin_required,
    portal_client_for,
    staff_required,
)
from clinic.audit import audit_record, audit_records
from clinic.exporting import spreadsheet_safe
from clinic.models import AuditAction, Programme, SafetySignal, SignalKind, SignalSource
from clinic.selectors import crisis_contacts_of

SUBJECT = services.SUBJECT
RISK_MESSAGE = (
    "Your answers are saved. One of them tells us things may be very hard for you right now, "
    "so your clinician will be told. If you need help now, the contacts below are there for you."
)


def link_token(request) -> str:
    """The token of the one-time link this request came by (the URL's own argument)."""
    return request.resolver_match.kwargs["token"]


def instrument_or_404(code: str):
    try:
        return get_instrument(code)
    except UnknownInstrumentError:
        raise Http404("No such instrument.") from None


# --- staff -----------------------------------------------------------------------------------


@staff_required
def client_assessments(request, client_id: int):
    client = client_for(request.user, client_id, select_related=("organisation",))
    audit_record(request.user, client, AuditAction.VIEW, subject=SUBJECT)
    now = timezone.now()
    return render(
        request,
        "assessments/client_assessments.html",
        {
            "client": client,
            "administrations": selectors.client_administrations(client),
            "links": selectors.client_links(client),
            "invitations": selectors.client_invitations(client, now),
            "now": now,
            "instruments": all_instruments(),
            "programmes": Programme.objects.filter(organisation_id=client.organisation_id)
            .order_by("-starts_on", "name")
            .values_list("pk", "name"),
        },
    )


@staff_required
def entry(request, client_id: int, instrument: str):
    client = client_for(request.user, client_id, select_related=("organisation",))
    instrument = instrument_or_404(instrument)
    wording = selectors.wording_for(client.organisation_id, instrument)
    form = PaperEntryForm(
        request.POST or None,
        instrument=instrument,
        today=client.organisation.today(),
        allow_proration=services.allows_proration(client.organisation_id),
    )
    if request.method == "POST" and form.is_valid():
        administration = services.administration_create(
            client=client,
            instrument=instrument,
            answers=form.cleaned_data["answers"],
            administered_on=form.cleaned_data["administered_on"],
            mode=form.cleaned_data["mode"],
            entered_by=request.user,
            wording_used="paper form",
            submission=form.cleaned_data["submission"],
        )
        if form.unscored:
            messages.warning(
                request,
                f"{instrument.short_name} saved unscored, as entered: it does not count as a "
                "score. Correct its answers to score it.",
            )
        else:
            messages.success(request, f"{instrument.short_name} saved and scored.")
        return redirect("assessments:results", pk=administration.pk)
    return render(
        request,
        "assessments/entry.html",
        {
            "client": client,
            "instrument": instrument,
            "form": form,
            "items": list(
                zip(selectors.item_rows(instrument, wording), form.item_fields(), strict=True)
            ),
            "wording_label": services.wording_label(instrument, wording),
            "preview_key": selectors.preview_key(instrument),
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


@staff_required
def results(request, pk: int):
    administration = administration_for(request.user, pk)
    if not administration.is_final:
        raise Http404("This assessment is not finished yet.")
    audit_record(request.user, administration.client, AuditAction.VIEW, subject=SUBJECT)
    context = selectors.results_for(administration)
    corrections = list(administration.corrections.select_related("corrected_by"))
    context.update(
        administration=administration,
        client=administration.client,
        corrections=corrections,
        risk_signal=_risk_signal(context["instrument"], administration, corrections),
    )
    return render(request, "assessments/results.html", context)


def _risk_signal(instrument, administration, corrections) -> SafetySignal | None:
    """The risk flag this questionnaire raised, when its answers trip the risk item."""
    if not instrument.risk_alert(administration.answers_with(corrections)):
        return None
    return SafetySignal.objects.filter(
        client_id=administration.client_id,
        kind=SignalKind.RISK_ITEM,
        source=SignalSource.QUESTIONNAIRE,
        source_id=administration.pk,
    ).first()


def _stale_correction_form(request, administration, instrument, initial, submitted, stale):
    """Keep everything the user typed, name the items whose saved answer now differs from
    theirs, and let a second save apply theirs deliberately over the newer answers."""
    saved = administration.answers_with(administration.corrections.all())
    typed = submitted.cleaned_data["answers"]
    differing = ", ".join(
        f"item {n} is {'blank' if value is None else value}"
        for n, value in sorted(saved.items())
        if value != typed.get(n)
    )
    data = request.POST.copy()
    data["corrections_seen"] = str(stale.corrections_now)
    form = CorrectionForm(data, instrument=instrument, initial=initial)
    form.is_valid()
    form.add_error(
        None,
        "Someone else corrected these answers after you opened this page, so your correction "
        f"was not saved; your input is kept below. Saved now: {differing or 'same as yours'}. "
        "Save again to apply yours.",
    )
    return form


@staff_required
def correct(request, pk: int):
    administration = administration_for(request.user, pk)
    if not administration.is_final:
        raise Http404("Only a final assessment can be corrected.")
    instrument = get_instrument(administration.instrument_code)
    earlier = list(administration.corrections.all())
    current = administration.answers_with(earlier)
    initial = {f"item_{n}": "" if v is None else v for n, v in current.items()}
    initial["corrections_seen"] = len(earlier)
    form = CorrectionForm(request.POST or None, instrument=instrument, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.correction_create(
                administration=administration,
                new_answers=form.cleaned_data["answers"],
                reason=form.cleaned_data["reason"],
                user=request.user,
                corrections_seen=form.cleaned_data["corrections_seen"],
            )
        except services.StaleCorrection as stale:
            form = _stale_correction_form(request, administration, instrument, initial, form, stale)
        else:
            if changed:
                messages.success(request, f"Correction of {len(changed)} item(s) saved; re-scored.")
            else:
                messages.info(request, "No answer changed, so nothing was recorded.")
            return redirect("assessments:results", pk=administration.pk)
    return render(
        request,
        "assessments/correct.html",
        {
            "administration": administration,
            "client": administration.client,
            "instrument": instrument,
            "form": form,
            "items": list(
                zip(selectors.item_rows(instrument, None), form.item_fields(), strict=True)
            ),
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


@staff_required
@require_POST
def link_create(request, client_id: int):
    client = client_for(request.user, client_id, select_related=("organisation",))
    instrument = instrument_or_404(request.POST.get("instrument", ""))
    if client.portal_is_read_only:
        # The link would not open (assessments.access.open_link_for_token): say so instead.
        messages.error(
            request,
            f"{client.code} is discharged, so a one-time link would not open. "
            "Reactivate the client first.",
        )
        return redirect("assessments:client_assessments", client_id=client.pk)
    link, token = services.one_time_link_create(
        client=client, instrument=instrument, created_by=request.user
    )
    url = request.build_absolute_uri(reverse("assessment_link", kwargs={"token": token}))
    # Shown once; never cached (clinic.middleware.NoStoreMiddleware).
    return render(
        request,
        "assessments/link_created.html",
        {"client": client, "instrument": instrument, "link": link, "url": url},
    )


@staff_required
@require_POST
def link_revoke(request, pk: int):
    link = link_for(request.user, pk)
    services.one_time_link_revoke(link=link, user=request.user)
    messages.success(request, "The link is closed; it no longer opens the questionnaire.")
    return redirect("assessments:client_assessments", client_id=link.client_id)


@staff_required
def export_csv(request, client_id: int):
    client = client_for(request.user, client_id, select_related=("organisation",))
    instrument = instrument_or_404(request.GET.get("instrument", "scs"))
    audit_record(request.user, client, AuditAction.EXPORT, subject=SUBJECT)
    rows = (
        Administration.objects.final()
        .filter(client=client, instrument_code=instrument.code)
        .select_related("score")
        .order_by("administered_on", "pk")
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{client.code}-{instrument.code}-scores.csv"'
    )
    write_scores_csv(response, instrument, [(client, adm) for adm in rows])
    return response


@staff_required
def export_cohort_csv(request):
    """Scores of the user's caseload (every client in scope), or of one programme's cohort."""
    instrument = instrument_or_404(request.GET.get("instrument", "scs"))
    clients = clients_for(request.user)
    programme_id = request.GET.get("programme", "")
    label = "caseload"
    if programme_id:
        programme = Programme.objects.filter(
            pk=programme_id if programme_id.isdigit() else 0,
            organisation_id=request.user.organisation_id,
        ).first()
        if programme is None:
            raise Http404("No such programme.")
        clients = clients.filter(programmes=programme)
        label = f"programme-{programme.pk}"
    rows = list(
        Administration.objects.final()
        .for_clients(clients)
        .filter(instrument_code=instrument.code)
        .select_related("score", "client")
        .order_by("client__code", "administered_on", "pk")
    )
    audit_records(request.user, {adm.client for adm in rows}, AuditAction.EXPORT, subject=SUBJECT)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{label}-{instrument.code}-scores.csv"'
    write_scores_csv(response, instrument, [(adm.client, adm) for adm in rows])
    return response


def write_scores_csv(out, instrument, rows) -> None:
    """One row per administration; subscales as columns, their direction in the header."""
    writer = csv.writer(out)
    scales = [s.code for s in instrument.subscales]
    header = ["client_code", "administered_on", "mode", "instrument", "instrument_version"]
    header += [f"{code} ({instrument.direction_label(code)})" for code in scales]
    if instrument.has_total:
        header += [f"total ({instrument.direction_label('total')})", "total_method", "band"]
    header += [f"{c.code} ({c.direction_label})" for c in instrument.composites]
    header += ["missing_items", "prorated", "status"]
    writer.writerow(header)
    for client, adm in rows:
        score = adm.score
        line = [
            spreadsheet_safe(client.code),
            adm.administered_on.isoformat(),
            adm.mode,
            adm.instrument_code,
        ]
        line.append(adm.instrument_version)
        line += [_num(score.subscale_score(code)) for code in scales]
        if instrument.has_total:
            line += [_num(score.total), score.total_method, score.band]
        line += [_num(score.composites.get(c.code)) for c in instrument.composites]
        line += [" ".join(map(str, score.missing_items)), "yes" if score.prorated else "no"]
        line.append(score.status)
        writer.writerow(line)


def _num(value) -> str:
    return "" if value is None else f"{value:.4f}"


@staff_required
def fhir_export(request, pk: int):
    from assessments.fhir import administration_bundle

    administration = administration_for(request.user, pk)
    if not administration.is_final:
        raise Http404("This assessment is not finished yet.")
    audit_record(request.user, administration.client, AuditAction.EXPORT, subject=SUBJECT)
    bundle = administration_bundle(administration)
    response = HttpResponse(json.dumps(bundle, indent=2), content_type="application/fhir+json")
    response["Content-Disposition"] = f'attachment; filename="assessment-{administration.pk}.json"'
    return response


@clinic_admin_required
def rc_settings(request):
    """Clinic admins set a reference SD (with its source) per scale for reliable change."""
    organisation = request.user.organisation
    current = {
        (s.instrument_code, s.scale): s
        for s in ReliableChangeSetting.objects.filter(organisation=organisation)
    }
    proration = ProrationForm(
        request.POST if "proration" in request.POST else None,
        initial={"prorate_sum_totals": services.allows_proration(organisation.pk)},
    )
    if proration.is_bound and proration.is_valid():
        services.proration_set(organisation_id=organisation.pk, **proration.cleaned_data)
        messages.success(request, "Missing-item rule of the PHQ-9 and GAD-7 saved.")
        return redirect("assessments:rc_settings")
    form = ReliableChangeSettingsForm(
        request.POST if request.method == "POST" and not proration.is_bound else None,
        instruments=all_instruments(),
        current=current,
    )
    if form.is_bound and form.is_valid():
        services.reliable_change_settings_update(
            organisation=organisation, settings=form.cleaned_data["settings"]
        )
        messages.success(request, "Reliable-change settings saved.")
        return redirect("assessments:rc_settings")
    return render(
        request,
        "assessments/rc_settings.html",
        {"form": form, "proration": proration},
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


@clinic_admin_required
def delivery_settings(request):
    """Clinic admins set how scheduled questionnaires are delivered: link validity, reminders."""
    organisation_id = request.user.organisation_id
    current = AssessmentSettings.for_organisation(organisation_id)
    form = QuestionnaireDeliveryForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        services.assessment_settings_update(
            organisation_id=organisation_id,
            **{name: form.cleaned_data[name] for name in form.Meta.fields},
        )
        messages.success(request, "Saved: questionnaires scheduled from now on follow it.")
        return redirect("assessments:delivery_settings")
    return render(
        request,
        "assessments/delivery_settings.html",
        {"form": form, "every_weeks": current.every_weeks},
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


@clinic_admin_required
def import_upload(request):
    """The same import as `manage.py import_assessments`, for clinic admins, with its report."""
    from assessments.importing import import_valid, validate

    form = ImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        organisation = request.user.organisation
        report = validate(organisation, form.cleaned_data["data"])
        import_valid(report, actor=request.user, skip_invalid=form.cleaned_data["skip_invalid"])
    return render(
        request,
        "assessments/import.html",
        {"form": form, "report": report},
        status=400 if report is not None and not report.imported and not report.ok else 200,
    )


# --- client portal ---------------------------------------------------------------------------


@client_user_required
def portal_list(request):
    client = portal_client_for(request.user)
    administrations = selectors.client_administrations(client)
    return render(
        request,
        "assessments/portal_list.html",
        {
            "client": client,
            "finished": [a for a in administrations if a.is_final],
            "drafts": [a for a in administrations if not a.is_final],
            "instruments": all_instruments(),
        },
    )


@client_user_required
def portal_complete(request, instrument: str):
    # The whole page is a form to write answers: refused once the portal is read-only.
    client = portal_client_for(request.user, write=True)
    instrument = instrument_or_404(instrument)
    draft = (
        # Only the portal's own drafts: a draft started through a one-time link stays with it.
        Administration.objects.filter(
            client=client,
            instrument_code=instrument.code,
            status=Status.DRAFT,
            one_time_link__isnull=True,
        )
        .order_by("-pk")
        .first()
    )
    return _self_completion(
        request,
        client=client,
        instrument=instrument,
        draft=draft,
        mode=Mode.CLIENT_PORTAL,
        actor=request.user,
        done_url=reverse("assessments:portal_list"),
    )


@client_user_required
def portal_results(request, pk: int):
    administration = portal_administration_for(request.user, pk)
    instrument = get_instrument(administration.instrument_code)
    return render(
        request,
        "assessments/portal_results.html",
        {
            "administration": administration,
            "instrument": instrument,
            **selectors.results_for(administration, with_change=False),
        },
    )


# --- one-time link (no login; lives under /t/ so the token is redacted from logs) ---------------


@login_not_required
@never_cache
def link_complete(request, token: str):
    link = open_link_for_token(token)
    instrument = instrument_or_404(link.instrument_code)
    if request.method == "GET":
        # Whoever holds the link sees the client's questionnaire (and any draft answers): the
        # view is audited, and its first one is when a scheduled questionnaire was opened.
        audit_record(None, link.client, AuditAction.VIEW, subject=link.audit_subject)
    response = _self_completion(
        request,
        client=link.client,
        instrument=instrument,
        draft=link.administration,
        mode=Mode.ONE_TIME_LINK,
        actor=None,
        done_url=None,
        link=link,
    )
    # Never sent to another site; "no-referrer" would make browsers post Origin: null, which
    # Django's CSRF check refuses.
    response["Referrer-Policy"] = "same-origin"
    return response


@login_not_required
@never_cache
def link_help(request, token: str):
    """The crisis resources of the clinic that sent a one-time link: reachable without logging
    in from every page of the link (and after it is used), showing nothing about the client."""
    link = link_for_known_token(token)
    response = render(
        request,
        "assessments/link_help.html",
        {
            "contacts": crisis_contacts_of(link.organisation_id),
            "crisis_url": request.path,
            "back_url": reverse("assessment_link", kwargs={"token": token}),
            "link_open": link.is_open() and not link.client.portal_is_read_only,
        },
    )
    response["Referrer-Policy"] = "same-origin"
    return response


def _self_completion(request, *, client, instrument, draft, mode, actor, done_url, link=None):
    wording = selectors.wording_for(client.organisation_id, instrument)
    initial = {}
    if draft is not None:
        initial = {f"item_{k}": "" if v is None else v for k, v in draft.answers.items()}
    form = SelfCompletionForm(
        request.POST or None,
        instrument=instrument,
        initial=initial,
        allow_proration=services.allows_proration(client.organisation_id),
    )
    # A one-time link's pages link to its own crisis page (no login); the portal's base does.
    help_url = (
        reverse("assessment_link_help", kwargs={"token": link_token(request)}) if link else ""
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.self_completion_save(
                client=client,
                instrument=instrument,
                answers=form.cleaned_data["answers"],
                mode=mode,
                draft=draft,
                finish=form.finishing,
                actor=actor,
                wording_used=services.wording_label(instrument, wording),
                link=link,
                submission=form.cleaned_data["submission"],
            )
        except services.LinkClosed:
            raise Http404("This questionnaire is already finished.") from None
        alert = instrument.risk_alert(form.cleaned_data["answers"])
        if saved.is_final and done_url is None:
            return render(
                request,
                "assessments/link_done.html",
                {
                    "instrument": instrument,
                    "alert": alert,
                    "contacts": crisis_contacts_of(client.organisation_id) if alert else [],
                    "crisis_url": help_url,
                },
            )
        if alert and done_url is not None:
            # Right after submitting, the portal shows the crisis resources.
            messages.warning(request, RISK_MESSAGE)
            return redirect("clinic:portal_help")
        if alert:
            messages.warning(request, RISK_MESSAGE)
        if saved.is_final:
            messages.success(request, "Thank you, your answers are saved.")
            return redirect(done_url)
        messages.info(request, "Saved. You can come back and finish later.")
        return redirect(request.path)
    return render(
        request,
        "assessments/self_completion.html",
        {
            "instrument": instrument,
            "form": form,
            "items": list(
                zip(selectors.item_rows(instrument, wording), form.item_fields(), strict=True)
            ),
            "wording": wording,
            "wording_label": services.wording_label(instrument, wording),
            "resumed": draft is not None,
            "scale": range(instrument.response_min, instrument.response_max + 1),
            "anonymous_link": link is not None,
            "crisis_url": help_url,
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )
