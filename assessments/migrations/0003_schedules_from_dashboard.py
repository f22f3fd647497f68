"""Move the SCS schedules (per client, and each clinic's default) from the dashboard app, where
they lived until the projections rework, to assessments, which now owns the schedule."""

from django.db import migrations


def move(apps, schema_editor):
    OldSchedule = apps.get_model("dashboard", "AssessmentSchedule")
    FlagSettings = apps.get_model("dashboard", "FlagSettings")
    Schedule = apps.get_model("assessments", "AssessmentSchedule")
    Settings = apps.get_model("assessments", "AssessmentSettings")
    Schedule.objects.bulk_create(
        Schedule(
            client_id=old.client_id,
            every_weeks=old.every_weeks,
            set_by_id=old.set_by_id,
            set_at=old.set_at,
        )
        for old in OldSchedule.objects.all()
    )
    Settings.objects.bulk_create(
        Settings(organisation_id=row.organisation_id, every_weeks=row.assessment_every_weeks)
        for row in FlagSettings.objects.exclude(assessment_every_weeks=4)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0002_projections_and_schedule"),
        ("dashboard", "0003_summaries_for_existing_clients"),
    ]

    operations = [migrations.RunPython(move, migrations.RunPython.noop)]
