"""BILLING_BACKEND=stripe in the billing step: a signed deal's executed contract created in
(the fake) Stripe through `StripeLedger`, read back equal, the deal in billing; the checks."""

import dataclasses
from decimal import Decimal

import pytest

from billing.checks import check_billing_backend
from billing.diff import diff_records
from billing.ledger.base import ledger_for
from billing.ledger.stripe_ledger import StripeLedger, record_key
from billing.models import BillingRecord, Invoice
from dealdesk.services import pipeline_user
from tests.billing.fake_stripe import fake_stripe
from tests.billing.snapshots import ONBOARDING, SEATS, TERMS, clause, order_of


@pytest.fixture
def fake(settings):
    with fake_stripe(settings) as fake:
        yield fake
    assert fake.crashes == []


def test_a_signed_deal_is_created_in_stripe_read_back_equal_and_in_billing(fake, signed_deal):
    deal = signed_deal()

    record = BillingRecord.objects.get(deal=deal)
    assert (record.backend, record.state, record.diff) == ("stripe", "created", [])
    ids = record.external_ids
    assert ids["ledger"] == "stripe"
    assert ids["record_key"] == record_key(record) == f"record-{record.pk}"
    assert list(fake.customers) == [ids["customer"]]
    assert fake.customers[ids["customer"]]["metadata"]["account"] == deal.account.crm_id
    assert list(fake.schedules) == ids["schedules"]
    assert {s["metadata"]["record"] for s in fake.schedules.values()} == {ids["record_key"]}
    # Read back again from the stored ids: Stripe still holds exactly the contract.
    ledger = ledger_for(record)
    assert isinstance(ledger, StripeLedger)
    order = ledger.read_back(record, ids)
    assert order["deal_id"] == deal.pk
    assert order["po_number"] == "PO-4471"
    deal.refresh_from_db()
    assert deal.state == "billing"  # the first invoice is Stripe's: it comes by webhook
    assert not Invoice.objects.filter(deal=deal).exists()


def test_a_second_billing_run_creates_nothing_more_in_stripe(fake, signed_deal):
    from billing import services

    deal = signed_deal()
    record = BillingRecord.objects.get(deal=deal)

    assert services.billing_start(deal_id=deal.pk, actor=pipeline_user()) is None  # not signed
    StripeLedger().create(record, _order(record), actor=pipeline_user())

    assert {kind: fake.created[kind] for kind in ("customer", "subscription_schedule")} == {
        "customer": 1,
        "subscription_schedule": 1,
    }


def _order(record):
    from billing.canonical_order import canonical_order

    return canonical_order(
        record.version.typed_snapshot, signed_on=record.signed_on, go_live_on=record.go_live_on
    )


def test_a_two_hundred_line_order_bills_exactly_through_the_ledger(fake, signed_deal, settings):
    deal = signed_deal()
    record = BillingRecord.objects.get(deal=deal)
    lines = [
        dataclasses.replace(
            SEATS, key=f"l{n}", quantity=Decimal(n % 7 + 1), net_unit_price=Decimal(f"{n}.25")
        )
        for n in range(1, 191)
    ] + [dataclasses.replace(ONBOARDING, key=f"fee{n}") for n in range(1, 11)]
    order = order_of(
        dataclasses.replace(TERMS, billing_frequency="monthly", term_months=24),
        lines,
        clauses=[clause("purchase_order_required", po_number="PO-9")],
    )
    ledger = StripeLedger()

    # Another Stripe account: the record's keys there are its own.
    with fake_stripe(settings) as other:
        ids = ledger.create(record, order, actor=pipeline_user())

        assert len(ids["schedules"]) == len(other.schedules) == 10
        assert diff_records(ledger.expected(order), ledger.read_back(record, ids)) == []


def test_a_stripe_change_after_creation_shows_in_the_read_back(fake, signed_deal):
    deal = signed_deal()
    record = BillingRecord.objects.get(deal=deal)
    ledger = StripeLedger()
    customer = fake.customers[record.external_ids["customer"]]
    customer["metadata"]["account"] = "someone else"

    differences = diff_records(
        ledger.expected(_order(record)), ledger.read_back(record, record.external_ids)
    )

    assert [d.path for d in differences] == ["billing_account"]


def test_the_checks_refuse_an_unknown_backend_and_stripe_without_its_secrets(settings):
    assert check_billing_backend(None) == []
    settings.BILLING_BACKEND = "ledgerly"
    assert [e.id for e in check_billing_backend(None)] == ["billing.E001"]
    settings.BILLING_BACKEND = "stripe"
    settings.STRIPE_API_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = [" "]
    assert [e.id for e in check_billing_backend(None)] == ["billing.E002", "billing.E003"]
    settings.STRIPE_API_KEY = "sk_live_x"
    settings.STRIPE_WEBHOOK_SECRET = ["whsec_1"]
    assert check_billing_backend(None) == []
