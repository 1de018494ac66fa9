from django.db import migrations

from contracts.reference_data import install_contract_reference_data


def forwards(apps, schema_editor):
    install_contract_reference_data(apps)


def backwards(apps, schema_editor):
    apps.get_model("contracts", "ContractTemplate").objects.all().delete()
    apps.get_model("contracts", "ClauseType").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0001_initial"),
        ("dealdesk", "0002_patterns_and_roles"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
