"""Build every projection of existing data once, after every table and column they need exists
(from here on the services keep them on write).

This runs the current projection code, not historical models, which is safe only as the last
migration touching those tables: when a later migration changes a projection table, make this a
no-op (as 0005 and 0007 became) and add a build step after that migration instead.

Clients whose raw rows have no projection row yet are built: on a database 0007 never built
that is every client with data; on one 0007 built (the migrations since filled their new
columns from the rows they had) it is none, and nothing is rebuilt."""

from django.db import migrations


def build(apps, schema_editor):
    Administration = apps.get_model("assessments", "Administration")
    ScoreSummary = apps.get_model("assessments", "ScoreSummary")
    InnerCriticEntry = apps.get_model("tracking", "InnerCriticEntry")
    PracticeSession = apps.get_model("tracking", "PracticeSession")
    ClientActivity = apps.get_model("tracking", "ClientActivity")
    summarised = ScoreSummary.objects.values("client_id")
    active = ClientActivity.objects.values("client_id")
    ids = set()
    for rows, built in (
        (Administration.objects, summarised),
        (InnerCriticEntry.objects, active),
        (PracticeSession.objects, active),
    ):
        ids.update(rows.exclude(client_id__in=built).order_by().values_list("client_id", flat=True))
    if not ids:
        return
    from dashboard.consistency import repair

    repair(sorted(ids))


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0007_build_projections"),
        ("assessments", "0008_summary_subscale_changes"),
        ("tracking", "0009_rising_slope_columns"),
    ]

    operations = [migrations.RunPython(build, migrations.RunPython.noop)]
