from django.db import migrations

from approvals.default_policy import CFO, DEFAULT_RULES, EXECUTIVE


def _move_cfo_rules(apps, from_group: str, to_group: str) -> None:
    Group = apps.get_model("auth", "Group")
    ApprovalRule = apps.get_model("approvals", "ApprovalRule")
    # Only the shipped CFO rules still on their shipped group: a rule Finance re-pointed stays.
    ApprovalRule.objects.filter(
        name__in=[rule.name for rule in DEFAULT_RULES if rule.group == CFO],
        group__name=from_group,
    ).update(group=Group.objects.get(name=to_group))


def forwards(apps, schema_editor):
    from approvals.reference_data import install_approval_reference_data

    install_approval_reference_data(apps)
    _move_cfo_rules(apps, EXECUTIVE, CFO)


def backwards(apps, schema_editor):
    _move_cfo_rules(apps, CFO, EXECUTIVE)


class Migration(migrations.Migration):
    dependencies = [
        ("approvals", "0003_queue_open_index"),
        ("dealdesk", "0008_cfo_role"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
