from django.db import migrations

from contracts.esign.reference_data import install_esign_reference_data


def forwards(apps, schema_editor):
    install_esign_reference_data(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("esign", "0001_initial"),
        # The roles' groups (Finance, ...) exist from here on.
        ("dealdesk", "0002_patterns_and_roles"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
