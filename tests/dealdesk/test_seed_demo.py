from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import F

from dealdesk.models import Deal, DealLine, Product
from dealdesk.roles import Role


def _row_counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def test_seed_demo_builds_a_realistic_company_and_a_second_run_changes_nothing(
    db, capsys, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo")
    out = capsys.readouterr().out
    for role in Role:
        users = get_user_model().objects.filter(groups__name=role)
        assert users.exists()
        for user in users:
            assert user.username in out
            assert user.check_password("dealdesk-demo")
    assert "dealdesk-demo" in out
    assert Product.objects.count() >= 12
    assert set(Product.objects.values_list("kind", flat=True)) == {
        "subscription",
        "one_time",
        "usage",
    }
    assert Deal.objects.count() == 40
    states = set(Deal.objects.values_list("state", flat=True))
    assert len(states) >= 10
    assert {"drafting", "paid", "manual_review", "cancelled"} <= states
    assert Deal.objects.exclude(ae_notes="").count() >= 30
    assert not Deal.objects.filter(state="drafting", pattern=None).exists()
    assert not DealLine.objects.exclude(product__currency=F("deal__currency")).exists()

    before = _row_counts()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo")
    assert _row_counts() == before
