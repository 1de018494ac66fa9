from django.db import migrations, models

import billing.models
from billing.reference_data import install_billing_reference_data


def forwards(apps, schema_editor):
    # Deal Desk and Finance may set a deal's go-live date (billing/reference_data.py _GO_LIVE).
    install_billing_reference_data(apps)


class Migration(migrations.Migration):
    """The go-live permission, granted to Deal Desk and Finance; and the credit note's PDF."""

    dependencies = [
        ("billing", "0005_ar_reason_uncollectible"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="billingrecord",
            options={
                "ordering": ["-created_at", "-pk"],
                "permissions": [
                    ("manage_billing", "Can bill deals again and resolve billing exceptions"),
                    ("set_go_live", "Can set the go-live date of a deal waiting for it"),
                ],
            },
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.AddField(
            model_name="creditnote",
            name="pdf",
            field=models.FileField(
                blank=True, max_length=255, upload_to=billing.models._credit_note_path
            ),
        ),
        migrations.AddField(
            model_name="creditnote",
            name="pdf_sha256",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="historicalcreditnote",
            name="pdf",
            field=models.TextField(blank=True, max_length=255),
        ),
        migrations.AddField(
            model_name="historicalcreditnote",
            name="pdf_sha256",
            field=models.CharField(blank=True, max_length=64),
        ),
    ]
