from django.db import migrations

BUILT_IN = [
    "Work",
    "Relationships",
    "Body and appearance",
    "Performance",
    "Parenting",
    "Health",
    "Money",
    "Other",
]


def add_builtins(apps, schema_editor):
    TriggerCategory = apps.get_model("tracking", "TriggerCategory")
    for position, name in enumerate(BUILT_IN):
        TriggerCategory.objects.get_or_create(
            organisation=None, name=name, defaults={"position": position}
        )


class Migration(migrations.Migration):
    dependencies = [("tracking", "0001_initial")]

    operations = [migrations.RunPython(add_builtins, migrations.RunPython.noop)]
