"""Template versions need a second person's approval (issue 12).

The versions already in the database were in use before approval existed, and drafting must
go on with them: they are added as approved; every version published from now on starts
pending approval. Deal Desk may approve (Legal's lead gets the permission per user).
"""

import django.db.models.deletion
import django_fsm
from django.conf import settings
from django.db import migrations, models

from contracts.reference_data import ROLE_PERMISSIONS
from dealdesk.reference_data import create_app_permissions, grant_role_permissions


def grant_template_approval(apps, schema_editor):
    create_app_permissions(apps, apps.get_app_config("contracts"))
    grant_role_permissions(apps, ROLE_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0004_clausetype_cfo_approval_group"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="contracttemplate",
            options={
                "ordering": ["pattern__name", "-version"],
                "permissions": [
                    (
                        "approve_contracttemplate",
                        "Can approve or reject a contract template version someone else published",
                    )
                ],
            },
        ),
        migrations.AddField(
            model_name="contracttemplate",
            name="decided_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="contracttemplate",
            name="decided_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="contracttemplate",
            name="decision_note",
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name="contracttemplate",
            name="state",
            field=django_fsm.FSMField(
                choices=[
                    ("pending_approval", "Pending approval"),
                    ("approved", "Approved"),
                    ("rejected", "Rejected"),
                ],
                default="approved",
                max_length=50,
                protected=True,
            ),
        ),
        migrations.AddField(
            model_name="historicalcontracttemplate",
            name="decided_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="historicalcontracttemplate",
            name="decided_by",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="historicalcontracttemplate",
            name="decision_note",
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name="historicalcontracttemplate",
            name="state",
            field=django_fsm.FSMField(
                choices=[
                    ("pending_approval", "Pending approval"),
                    ("approved", "Approved"),
                    ("rejected", "Rejected"),
                ],
                default="approved",
                max_length=50,
                protected=True,
            ),
        ),
        # Existing rows got "approved" above; new ones start pending.
        migrations.AlterField(
            model_name="contracttemplate",
            name="state",
            field=django_fsm.FSMField(
                choices=[
                    ("pending_approval", "Pending approval"),
                    ("approved", "Approved"),
                    ("rejected", "Rejected"),
                ],
                default="pending_approval",
                max_length=50,
                protected=True,
            ),
        ),
        migrations.AlterField(
            model_name="historicalcontracttemplate",
            name="state",
            field=django_fsm.FSMField(
                choices=[
                    ("pending_approval", "Pending approval"),
                    ("approved", "Approved"),
                    ("rejected", "Rejected"),
                ],
                default="pending_approval",
                max_length=50,
                protected=True,
            ),
        ),
        migrations.RunPython(grant_template_approval, migrations.RunPython.noop),
    ]
