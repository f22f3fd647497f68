"""Existing rows made to satisfy clinic.validation before 0006 adds its constraints.

- Inner-critic entries whose time is before 1900 (UTC) or more than a day after this runs:
  set to the time the entry was created.
- Practice sessions dated before 1900 or after tomorrow (clinic time): dated the day they were
  logged (clinic time).
- Trigger category names: Unicode-normalised (NFC), white space collapsed, invisible and
  text-direction characters removed; stops, changing nothing, if two would become equal.
"""

import datetime as dt

from django.db import migrations
from django.db.models import Q
from django.utils import timezone

from clinic.repairs import local_day, normalise_column, plausible_day, report

EARLIEST_INSTANT = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)


def forwards(apps, schema_editor):
    InnerCriticEntry = apps.get_model("tracking", "InnerCriticEntry")
    PracticeSession = apps.get_model("tracking", "PracticeSession")
    TriggerCategory = apps.get_model("tracking", "TriggerCategory")
    now = timezone.now()

    entries = 0
    for entry in InnerCriticEntry.objects.filter(
        Q(occurred_at__lt=EARLIEST_INSTANT) | Q(occurred_at__gt=now + dt.timedelta(days=1))
    ).only("pk", "created_at"):
        InnerCriticEntry.objects.filter(pk=entry.pk).update(occurred_at=min(entry.created_at, now))
        entries += 1
    report("inner-critic entr(y/ies) with an implausible time", entries,
           "set to the time they were created")

    sessions = 0
    for session in PracticeSession.objects.filter(
        Q(practised_on__lt=dt.date(1900, 1, 1))
        | Q(practised_on__gt=now.date() + dt.timedelta(days=1))
    ).select_related("client__organisation"):
        zone = session.client.organisation.time_zone
        tomorrow = local_day(now, zone) + dt.timedelta(days=1)
        if plausible_day(session.practised_on, tomorrow):
            continue
        day = min(local_day(session.created_at, zone), tomorrow)
        PracticeSession.objects.filter(pk=session.pk).update(practised_on=day)
        sessions += 1
    report("practice session(s) with an implausible date", sessions,
           "dated the day they were logged")

    names = normalise_column(TriggerCategory, "name", scope="organisation_id",
                             label="trigger category name", collapse=True)
    report("trigger category name(s)", len(names), "normalised")


class Migration(migrations.Migration):
    dependencies = [("tracking", "0004_day_rollups"), ("clinic", "0004_plausible_dates_and_identifiers")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
