from django.db import migrations

from contracts.esign.reference_data import install_esign_reference_data


def forwards(apps, schema_editor):
    install_esign_reference_data(apps)


class Migration(migrations.Migration):
    dependencies = [("esign", "0003_signature_requests")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
