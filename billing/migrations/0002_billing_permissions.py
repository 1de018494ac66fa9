from django.db import migrations

from billing.reference_data import install_billing_reference_data


def forwards(apps, schema_editor):
    install_billing_reference_data(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0001_billing_records_and_invoices"),
        ("dealdesk", "0002_patterns_and_roles"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
