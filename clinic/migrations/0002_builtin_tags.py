from django.db import migrations

BUILT_IN = [
    "Perfectionism",
    "Shame",
    "Burnout",
    "Trauma",
    "ADHD",
    "Anxiety",
    "Depression",
    "Body image",
    "Other",
]


def create_builtin_tags(apps, schema_editor):
    Tag = apps.get_model("clinic", "Tag")
    for name in BUILT_IN:
        Tag.objects.get_or_create(organisation=None, name=name)


class Migration(migrations.Migration):
    dependencies = [("clinic", "0001_initial")]
    operations = [migrations.RunPython(create_builtin_tags, migrations.RunPython.noop)]
