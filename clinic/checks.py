"""System checks of the clinic app (`manage.py check`)."""

from __future__ import annotations

from django.core.checks import Warning, register
from django.db import DatabaseError

MAX_NAMED = 10


@register()
def crisis_contacts_configured(app_configs=None, **kwargs) -> list[Warning]:
    """A clinic without crisis contacts shows its clients only the general advice to call their
    local emergency number: warn until a clinic admin adds the clinic's own. Silent when the
    database is not there yet (e.g. before the first migrate)."""
    from clinic.models import Organisation

    try:
        slugs = list(
            Organisation.objects.filter(crisis_contacts__isnull=True)
            .order_by("slug")
            .values_list("slug", flat=True)[: MAX_NAMED + 1]
        )
    except DatabaseError:
        return []
    warnings = [
        Warning(
            f"Clinic {slug!r} has no crisis contacts: its clients see only the advice to call "
            "their local emergency number.",
            hint="A clinic admin adds them under Clinic settings > Crisis contacts.",
            id="selfkind.W001",
        )
        for slug in slugs[:MAX_NAMED]
    ]
    if len(slugs) > MAX_NAMED:
        warnings.append(Warning("More clinics have no crisis contacts.", id="selfkind.W001"))
    return warnings
