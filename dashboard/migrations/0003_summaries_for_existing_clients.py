"""Give every existing client a (stale) summary, so the first dashboard read builds it even if
`manage.py refresh_dashboard` is not run after upgrading (it should be: see deployment.md)."""

from django.db import migrations


def stale_summaries(apps, schema_editor):
    Client = apps.get_model("clinic", "Client")
    ClientSummary = apps.get_model("dashboard", "ClientSummary")
    have = set(ClientSummary.objects.values_list("client_id", flat=True))
    ClientSummary.objects.bulk_create(
        [
            ClientSummary(client_id=pk, stale=True)
            for pk in Client.objects.values_list("pk", flat=True)
            if pk not in have
        ],
        batch_size=1000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0002_dashboard_version"),
        ("clinic", "0001_initial"),
    ]

    operations = [migrations.RunPython(stale_summaries, migrations.RunPython.noop)]
