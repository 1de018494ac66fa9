from django.db import migrations, models

from insights.reference_data import install_insights_reference_data


def forwards(apps, schema_editor):
    # Deal Desk, Finance, Executive and Auditor see the dashboard (insights/reference_data.py).
    install_insights_reference_data(apps)


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        # The roles' groups exist from here on.
        ("dealdesk", "0011_notification_signature_kinds"),
    ]

    operations = [
        migrations.CreateModel(
            name="Dashboard",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
            ],
            options={
                "permissions": [("view_dashboard", "Can see the process dashboard")],
                "managed": False,
                "default_permissions": (),
            },
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
