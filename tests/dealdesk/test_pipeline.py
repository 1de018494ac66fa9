"""A won deal enters as `new`; the pipeline prices it, classifies it and starts drafting."""

from datetime import date
from decimal import Decimal

import pytest

from audit.models import AuditEvent
from dealdesk import pipeline, services
from dealdesk.models import Deal
from tests.dealdesk.factories import AccountFactory, DealFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def _spec(**overrides) -> services.DealSpec:
    fields = {
        "crm_id": "006X00000000001",
        "name": "Acme — New business",
        "account": AccountFactory(),
        "owner": UserFactory(roles=["Sales"]),
        "start_date": date(2026, 3, 1),
        "term_months": 12,
        "lines": [services.LineSpec(ProductFactory(list_price=Decimal("12000")), Decimal(2))],
    }
    fields.update(overrides)
    return services.DealSpec(**fields)


def test_the_pipeline_table_names_the_step_after_a_new_deal():
    assert pipeline.next_step("dealdesk.deal", "new") == "dealdesk.tasks.deal_classify_and_price"
    assert pipeline.next_step("dealdesk.deal", "paid") is None


def test_a_new_deal_is_priced_classified_and_drafted_after_commit(
    pipeline_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        deal = services.deal_create(spec=_spec(), actor=pipeline_user)
    deal.refresh_from_db()
    assert deal.state == "new", "nothing runs before the transaction commits"
    assert len(callbacks) == 1
    callbacks[0]()
    deal.refresh_from_db()
    assert deal.state == "drafting"
    assert deal.pattern.code == "simple"
    assert deal.tcv == Decimal("24000.00")
    assert deal.lines_total == Decimal("24000.00")
    assert deal.priced_at is not None
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert actions == ["deal.created", "deal.classified", "deal.drafting_started"]
    assert deal.history.latest().history_user == pipeline_user


def test_a_deal_that_fits_no_pattern_goes_to_manual_review_with_the_reason(
    pipeline_user, django_capture_on_commit_callbacks
):
    one_time = ProductFactory(kind="one_time", billing_interval="one_time")
    with django_capture_on_commit_callbacks(execute=True):
        deal = services.deal_create(
            spec=_spec(lines=[services.LineSpec(one_time, Decimal(1))]), actor=pipeline_user
        )
    deal.refresh_from_db()
    assert deal.state == "manual_review"
    assert deal.state_reason == (
        "fits no pattern: the deal has no recurring line; one-time-only deals need a person"
    )


def test_a_deal_with_an_incomplete_catalog_product_goes_to_manual_review(
    pipeline_user, django_capture_on_commit_callbacks
):
    incomplete = ProductFactory(sku="NEW-FROM-CRM", kind="", billing_interval="")
    with django_capture_on_commit_callbacks(execute=True):
        deal = services.deal_create(
            spec=_spec(lines=[services.LineSpec(incomplete, Decimal(1))]), actor=pipeline_user
        )
    deal.refresh_from_db()
    assert deal.state == "manual_review"
    assert deal.state_reason == (
        "cannot be priced: product NEW-FROM-CRM — Product NEW-FROM-CRM not set up for billing: "
        "Finance sets the kind, billing interval and list price in the catalog"
    )
    assert deal.tcv is None


def test_the_step_is_idempotent(pipeline_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        deal = services.deal_create(spec=_spec(), actor=pipeline_user)
    events, history = AuditEvent.objects.count(), deal.history.count()
    services.deal_classify_and_price(deal_id=deal.pk, actor=pipeline_user)
    assert (AuditEvent.objects.count(), deal.history.count()) == (events, history)


def test_the_celery_task_runs_the_step_as_the_pipeline_user(django_capture_on_commit_callbacks):
    from dealdesk.tasks import deal_classify_and_price

    deal = DealFactory()
    ProductFactory()
    assert deal_classify_and_price.delay(deal.pk).get() == "manual_review"  # no lines
    deal.refresh_from_db()
    assert deal.history.latest().history_user.username == "svc-pipeline"


def test_a_cancelled_deal_schedules_only_voiding_its_contract_and_signature_request(
    desk_user, django_capture_on_commit_callbacks
):
    deal = DealFactory()
    with django_capture_on_commit_callbacks() as callbacks:
        services.deal_cancel(deal_id=deal.pk, actor=desk_user, reason="withdrawn")
    assert len(callbacks) == 2
    for callback in callbacks:
        callback()  # no contract or request yet: nothing to void, nothing written
    assert Deal.objects.get(pk=deal.pk).state == "cancelled"
    assert not AuditEvent.objects.filter(action="contract_version.voided").exists()
    assert not AuditEvent.objects.filter(action="signature_request.voided").exists()


def test_a_deal_whose_totals_would_not_fit_goes_to_manual_review_instead_of_failing(
    pipeline_user, django_capture_on_commit_callbacks
):
    # Each line fits its columns; over the term the totals would not fit the deal's.
    huge = ProductFactory(list_price=Decimal("90000000000"))
    with django_capture_on_commit_callbacks(execute=True):
        deal = services.deal_create(
            spec=_spec(lines=[services.LineSpec(huge, Decimal("900000000"))]), actor=pipeline_user
        )
    deal.refresh_from_db()
    assert deal.state == "manual_review"
    assert "is beyond what a deal can hold" in deal.state_reason
    assert deal.tcv is None
