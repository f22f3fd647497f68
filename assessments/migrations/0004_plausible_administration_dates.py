"""Administrations dated before 1900, or after tomorrow (clinic time) when this runs, get the
day they were entered (clinic time) as their date, before 0005 adds the constraint. Their
answers and scores are unchanged; each gets an audit event naming administered_on (actor:
none). The projections are built later (dashboard 0007, which depends on this), from the
repaired dates."""

import datetime as dt

from django.db import migrations
from django.db.models import Q
from django.utils import timezone

from clinic.repairs import local_day, plausible_day, report


def forwards(apps, schema_editor):
    Administration = apps.get_model("assessments", "Administration")
    AuditEvent = apps.get_model("clinic", "AuditEvent")
    # Tomorrow anywhere on earth bounds every clinic's tomorrow; each row is checked in its own.
    suspects = Administration.objects.filter(
        Q(administered_on__lt=dt.date(1900, 1, 1))
        | Q(administered_on__gt=timezone.now().date() + dt.timedelta(days=1))
    ).select_related("organisation")
    events = []
    for administration in suspects:
        zone = administration.organisation.time_zone
        tomorrow = local_day(timezone.now(), zone) + dt.timedelta(days=1)
        if plausible_day(administration.administered_on, tomorrow):
            continue
        day = min(local_day(administration.created_at, zone), tomorrow)
        Administration.objects.filter(pk=administration.pk).update(administered_on=day)
        events.append(
            AuditEvent(
                organisation_id=administration.organisation_id,
                client_id=administration.client_id,
                action="update",
                subject="assessment",
                fields=["administered_on"],
            )
        )
    AuditEvent.objects.bulk_create(events)
    report("administration(s) with an implausible date", len(events),
           "dated the day they were entered")


class Migration(migrations.Migration):
    dependencies = [("assessments", "0003_schedules_from_dashboard"), ("clinic", "0004_plausible_dates_and_identifiers")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
