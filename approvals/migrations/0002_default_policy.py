from django.db import migrations

from approvals.reference_data import install_approval_reference_data


def forwards(apps, schema_editor):
    install_approval_reference_data(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("approvals", "0001_initial"),
        ("contracts", "0003_history_change_reason_text"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
