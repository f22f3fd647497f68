"""Build every projection of existing data once (new tables start empty; from here on the
services keep them on write).

This step runs the current projection code, not historical models: if a later migration
changes the projection tables, turn this into a no-op and run `manage.py refresh_dashboard
--repair` after migrating instead (docs/deployment.md)."""

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
        ("dashboard", "0004_flag_state"),
        # After the repairs of implausible dates: the projections are built from repaired rows.
        ("tracking", "0006_plausible_constraints"),
        ("assessments", "0005_plausible_constraint"),
        ("clinic", "0005_plausible_constraints"),
    ]

    operations = [migrations.RunPython(build, migrations.RunPython.noop)]
