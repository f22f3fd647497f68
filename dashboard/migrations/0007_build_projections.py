"""Once built every projection of existing data; a no-op since assessments' summary
subscale-change and tracking's rising-slope columns were added: the current code writes them
and they do not exist yet at this point of a migration. dashboard 0008 builds the projections
instead."""

from django.db import migrations


def build(apps, schema_editor):
    """A no-op: see the module's docstring."""


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0006_practice_raising_distress"),
        ("clinic", "0009_safety_pathway"),
        ("assessments", "0007_symptom_proration"),
        ("tracking", "0008_rated_practices"),
    ]

    operations = [migrations.RunPython(build, migrations.RunPython.noop)]
