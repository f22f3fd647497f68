"""Once built every projection of existing data; a no-op since tracking's rated-practices
migration added projection columns that the current code writes but that do not exist yet at
this point of a migration. dashboard 0007, the last migration of the projection tables, builds
them instead."""

from django.db import migrations


def build(apps, schema_editor):
    """A no-op: see the module's docstring."""


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0004_flag_state"),
        # After the repairs of implausible dates: the projections are built from repaired rows.
        ("tracking", "0006_plausible_constraints"),
        ("assessments", "0005_plausible_constraint"),
        ("clinic", "0005_plausible_constraints"),
    ]

    operations = [migrations.RunPython(build, migrations.RunPython.noop)]
