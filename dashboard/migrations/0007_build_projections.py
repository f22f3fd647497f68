"""Build every projection of existing data once, after every table they need exists (new
projection tables start empty; from here on the services keep them on write).

This runs the current projection code, not historical models, which is safe only as the last
migration touching those tables: when a later migration changes a projection table, make this a
no-op (as 0005 became) and add a build step after that migration instead."""

from django.db import migrations


def build(apps, schema_editor):
    Client = apps.get_model("clinic", "Client")
    ids = list(Client.objects.values_list("pk", flat=True))
    if not ids:
        return
    from dashboard.consistency import repair

    repair(ids)


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0006_practice_raising_distress"),
        ("clinic", "0009_safety_pathway"),
        ("assessments", "0007_symptom_proration"),
        ("tracking", "0008_rated_practices"),
    ]

    operations = [migrations.RunPython(build, migrations.RunPython.noop)]
