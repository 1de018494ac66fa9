from django.db import migrations


def forwards(apps, schema_editor):
    from dealdesk.reference_data import install_reference_data

    # Creates the CFO group with its permissions; the other roles are left as they are.
    install_reference_data(apps)


def backwards(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="CFO").delete()


class Migration(migrations.Migration):
    dependencies = [("dealdesk", "0007_deal_terms_edits")]

    operations = [migrations.RunPython(forwards, backwards)]
