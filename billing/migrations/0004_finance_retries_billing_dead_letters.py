from django.db import migrations

from billing.reference_data import install_billing_reference_data


def forwards(apps, schema_editor):
    # Finance may now send billing's dead letters again (billing/reference_data.py _RETRY).
    install_billing_reference_data(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0003_payments_and_receivables"),
        ("integrations", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
