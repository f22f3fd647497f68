"""Built every projection of existing data once (new tables start empty; from here on the
services keep them on write).

It ran the current projection code, not historical models, so it became a no-op when
tracking 0007 added columns to ClientActivity (the current code writes them, and they may not
exist yet at this point of a migration). An installation that upgrades from before this
migration runs `manage.py refresh_dashboard --repair` once after migrating
(docs/deployment.md); one past it has its new columns filled by tracking 0007."""

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
