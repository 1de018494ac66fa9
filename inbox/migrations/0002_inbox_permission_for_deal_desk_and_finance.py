from django.db import migrations

from inbox.reference_data import install_inbox_reference_data


def forwards(apps, schema_editor):
    install_inbox_reference_data(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0001_exception_inbox"),
        # The roles' groups exist from dealdesk's reference data.
        ("dealdesk", "0002_patterns_and_roles"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
