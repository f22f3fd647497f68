"""The dashboard keeps only its own rows: acknowledged episodes move from the old summaries to
FlagState; the summaries, the cache version and the schedules (now in assessments) go."""

import django.db.models.deletion
from django.db import migrations, models


def carry_acknowledgements(apps, schema_editor):
    Summary = apps.get_model("dashboard", "ClientSummary")
    FlagState = apps.get_model("dashboard", "FlagState")
    fields = ("ack_deterioration", "ack_quiet", "ack_overdue", "ack_rising")
    FlagState.objects.bulk_create(
        FlagState(client_id=row["client_id"], **{name: row[name] for name in fields})
        for row in Summary.objects.values("client_id", *fields)
        if any(row[name] is not None for name in fields)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0002_builtin_tags"),
        ("dashboard", "0003_summaries_for_existing_clients"),
        ("assessments", "0003_schedules_from_dashboard"),
    ]

    operations = [
        migrations.CreateModel(
            name="FlagState",
            fields=[
                (
                    "client",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="flag_state",
                        serialize=False,
                        to="clinic.client",
                    ),
                ),
                ("ack_deterioration", models.PositiveBigIntegerField(blank=True, null=True)),
                ("ack_quiet", models.DateField(blank=True, null=True)),
                ("ack_overdue", models.DateField(blank=True, null=True)),
                ("ack_rising", models.DateField(blank=True, null=True)),
            ],
        ),
        migrations.RunPython(carry_acknowledgements, migrations.RunPython.noop),
        migrations.RemoveField(model_name="flagsettings", name="assessment_every_weeks"),
        migrations.RemoveField(model_name="flagsettings", name="dashboard_version"),
        migrations.DeleteModel(name="AssessmentSchedule"),
        migrations.DeleteModel(name="ClientSummary"),
    ]
