from django.db import migrations

from dealdesk.reference_data import install_reference_data


def forwards(apps, schema_editor):
    install_reference_data(apps)


def backwards(apps, schema_editor):
    from dealdesk.reference_data import ROLE_PERMISSIONS

    apps.get_model("auth", "Group").objects.filter(name__in=list(ROLE_PERMISSIONS)).delete()
    apps.get_model("dealdesk", "DealPattern").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("dealdesk", "0001_initial"),
        ("audit", "0001_initial"),
        # create_permissions below needs auth's 255-character permission names: without
        # this edge a migration plan may run it first (PostgreSQL refuses longer names).
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
