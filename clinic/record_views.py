"""A client's record from request to erasure (clinic admins): the subject-access export, the
records past the clinic's retention period, and erasure. Thin, as every view."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render

from clinic import records, services
from clinic.access import client_for, clinic_admin_required
from clinic.forms import ErasureForm
from clinic.models import RecordErasure


@clinic_admin_required
def client_export(request, client_id: int):
    """GET says what the export holds; POST makes it (a zip) and audits it."""
    client = client_for(request.user, client_id, select_related=["organisation", "user"])
    if request.method == "POST":
        archive = records.subject_access_export(actor=request.user, client=client)
        response = HttpResponse(archive, content_type="application/zip")
        response["Content-Disposition"] = (
            f'attachment; filename="selfkind-subject-access-{client.code}.zip"'
        )
        return response
    return render(request, "clinic/records/export.html", {"client": client})


@clinic_admin_required
def retention(request):
    organisation = request.user.organisation
    return render(
        request,
        "clinic/records/retention.html",
        {
            "organisation": organisation,
            "due": records.records_past_retention(organisation),
            "erasures": RecordErasure.objects.filter(organisation=organisation).select_related(
                "erased_by"
            )[:50],
        },
    )


@clinic_admin_required
def client_erase(request, client_id: int):
    client = client_for(request.user, client_id, select_related=["organisation"])
    form = ErasureForm(request.POST or None, client=client)
    if request.method == "POST" and form.is_valid():
        try:
            records.client_erase(actor=request.user, client=client)
        except services.ServiceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"The record of {client.code} is erased.")
            return redirect("clinic:retention")
    return render(
        request,
        "clinic/records/erase.html",
        {"client": client, "form": form, "refusals": records.erasure_refusals(client)},
    )
