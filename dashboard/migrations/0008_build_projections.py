"""Build every projection of existing data once, after every table and column they need exists
(from here on the services keep them on write).

This runs the current projection code, not historical models, which is safe only as the last
migration touching those tables: when a later migration changes a projection table, make this a
no-op (as 0005 and 0007 became) and add a build step after that migration instead.

A database that 0007 built when it still built (its projections exist; the migrations since
filled their new columns from the rows they had) is left as it is: rebuilding it would only
take time."""

from django.db import migrations


def build(apps, schema_editor):
    Client = apps.get_model("clinic", "Client")
    ScoreSummary = apps.get_model("assessments", "ScoreSummary")
    ClientActivity = apps.get_model("tracking", "ClientActivity")
    if ScoreSummary.objects.exists() or ClientActivity.objects.exists():
        return
    ids = list(Client.objects.values_list("pk", flat=True))
    if not ids:
        return
    from dashboard.consistency import repair

    repair(ids)


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0007_build_projections"),
        ("assessments", "0008_summary_subscale_changes"),
        ("tracking", "0009_rising_slope_columns"),
    ]

    operations = [migrations.RunPython(build, migrations.RunPython.noop)]
