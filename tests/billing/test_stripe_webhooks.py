"""Stripe's webhooks at /billing/webhooks/stripe/ (and /webhooks/stripe/): verified, stored
once, answered at once, handled by re-fetching the object from (the fake) Stripe — invoices
mirrored and issued, paid through reconciliation, voided, uncollectible, refunded, disputed,
a schedule changed by hand turned into a billing exception; and a refund the AR queue sends
through Stripe, booked once."""

from decimal import Decimal

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from billing.diff import from_minor_units
from billing.ledger.stripe_client import stripe_client
from billing.models import ARItem, BillingRecord, Invoice, Payment
from billing.stripe_sync.refunds import NotRefundableInStripe, stripe_refund_send
from dealdesk.integrations.models import IntegrationCall, WebhookEvent
from tests.billing.fake_stripe import fake_stripe

URL = "/billing/webhooks/stripe/"


@pytest.fixture
def fake(settings):
    with fake_stripe(settings) as fake:
        yield fake
    assert fake.crashes == []


@pytest.fixture
def deliver(client, fake, django_capture_on_commit_callbacks):
    """deliver(*types) → every event of these types (all when none) Stripe emitted and we
    have not been sent yet, delivered as signed webhooks, in Stripe's order."""
    sent: set[str] = set()

    def run(*types, url=URL):
        answers = []
        for event in list(fake.events):
            if event["id"] in sent or (types and event["type"] not in types):
                continue
            sent.add(event["id"])
            answers.append(post(client, fake, event["id"], django_capture_on_commit_callbacks, url))
        return answers

    return run


def post(client, fake, event_id, capture, url=URL, **signing):
    body, headers = fake.webhook(event_id, **signing)
    with capture(execute=True):
        return client.post(
            url,
            data=body,
            content_type="application/json",
            headers={"Stripe-Signature": headers["Stripe-Signature"]},
        )


@pytest.fixture
def stripe_deal(fake, signed_deal):
    """A signed deal billed in Stripe whose first invoice Stripe has just finalized."""
    deal = signed_deal()
    fake.advance_clock(3600)  # the first invoice's draft finalizes itself
    return deal


def stripe_invoice(fake) -> dict:
    (invoice,) = fake.invoices.values()
    return invoice


def pay(fake) -> dict:
    return stripe_client().v1.invoices.pay(stripe_invoice(fake)["id"])


def test_the_first_invoice_is_mirrored_issued_and_paid(fake, stripe_deal, deliver):
    api = stripe_client().v1
    sin = stripe_invoice(fake)
    api.invoices.send_invoice(sin["id"])

    assert {a.status_code for a in deliver()} == {200}

    invoice = Invoice.objects.get(deal=stripe_deal)
    record = BillingRecord.objects.get(deal=stripe_deal)
    assert (invoice.state, invoice.external_id, invoice.number) == (
        "issued",
        sin["id"],
        sin["number"],
    )
    assert invoice.plan_index == 1
    assert invoice.total == from_minor_units(sin["total"], "USD")
    planned = record.order["invoices"][0]
    assert str(invoice.period_start) == planned["period_start"]
    assert str(invoice.period_last_day) == planned["last_day"]
    assert sum(line.amount for line in invoice.lines.all()) == invoice.total
    assert {line.line_key for line in invoice.lines.all()} <= {
        line["key"] for line in record.order["lines"]
    }
    assert invoice.po_number == "PO-4471"
    assert invoice.due_on is not None
    stripe_deal.refresh_from_db()
    assert stripe_deal.state == "invoiced"
    assert not invoice.pdf  # Stripe drew and sent it: we mail nothing

    pay(fake)
    deliver()

    invoice.refresh_from_db()
    assert (invoice.state, invoice.amount_paid) == ("paid", invoice.total)
    (payment,) = Payment.objects.all()
    (invoice_payment,) = fake.invoice_payments
    assert (payment.source, payment.external_id, payment.state) == (
        "stripe",
        invoice_payment,
        "applied",
    )
    stripe_deal.refresh_from_db()
    assert stripe_deal.state == "paid"
    record.refresh_from_db()
    assert record.days_to_first_payment is not None
    # Every event is stored once and handled, the ones we do nothing with included.
    assert WebhookEvent.objects.filter(vendor="stripe").count() == len(fake.events)
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"done"}


def test_the_generic_inbox_url_takes_stripe_too_and_get_is_refused(
    fake, stripe_deal, deliver, client
):
    assert client.get(URL).status_code == 405
    assert reverse("billing:stripe-webhook") == URL
    answers = deliver(url="/webhooks/stripe/")
    assert {a.status_code for a in answers} == {200}
    assert Invoice.objects.get(deal=stripe_deal).state == "issued"


def test_a_repeated_delivery_is_acknowledged_and_changes_nothing(
    fake, stripe_deal, deliver, client, django_capture_on_commit_callbacks
):
    pay(fake)
    deliver()
    paid = next(e for e in fake.events if e["type"] == "invoice.paid")
    events, audits = WebhookEvent.objects.count(), AuditEvent.objects.count()

    again = post(client, fake, paid["id"], django_capture_on_commit_callbacks)

    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert (WebhookEvent.objects.count(), AuditEvent.objects.count()) == (events, audits)
    assert Payment.objects.count() == 1


def test_a_voided_invoice_is_void_here(fake, stripe_deal, deliver):
    deliver()
    stripe_client().v1.invoices.void_invoice(stripe_invoice(fake)["id"])
    deliver()

    assert Invoice.objects.get(deal=stripe_deal).state == "void"
    assert AuditEvent.objects.filter(action="invoice.voided").count() == 1


def test_an_uncollectible_invoice_is_an_ar_item(fake, stripe_deal, deliver):
    stripe_client().v1.invoices.mark_uncollectible(stripe_invoice(fake)["id"])
    deliver()

    invoice = Invoice.objects.get(deal=stripe_deal)
    (item,) = ARItem.objects.all()
    assert (item.reason, item.invoice, item.amount) == ("uncollectible", invoice, invoice.total)
    assert "uncollectible" in item.detail


def test_a_failed_payment_is_an_ar_item_while_the_invoice_is_owed(fake, stripe_deal, deliver):
    import stripe

    fake.decline_next_payment()
    with pytest.raises(stripe.CardError):
        pay(fake)
    deliver()

    invoice = Invoice.objects.get(deal=stripe_deal)
    (item,) = ARItem.objects.all()
    assert (item.reason, item.invoice, item.state) == ("payment_failed", invoice, "open")


def test_a_payment_failure_handled_after_the_invoice_was_paid_opens_nothing(
    fake, stripe_deal, deliver
):
    import stripe

    fake.decline_next_payment()
    with pytest.raises(stripe.CardError):
        pay(fake)
    pay(fake)  # the customer's second card worked before we heard of the first failure
    deliver()

    assert not ARItem.objects.exists()
    assert Invoice.objects.get(deal=stripe_deal).state == "paid"


def charge_of(fake) -> str:
    (charge,) = fake.charges
    return charge


def test_a_refund_takes_the_money_back_and_opens_an_ar_item(fake, stripe_deal, deliver):
    pay(fake)
    deliver()
    invoice = Invoice.objects.get(deal=stripe_deal)
    part = 10000  # 100.00 of it

    stripe_client().v1.refunds.create({"charge": charge_of(fake), "amount": part})
    deliver()
    deliver()  # nothing new: the same refund is never taken back twice

    invoice.refresh_from_db()
    assert invoice.state == "issued"  # owes again
    assert invoice.amount_due == from_minor_units(part, "USD")
    (item,) = ARItem.objects.all()
    assert (item.reason, item.amount, item.invoice) == ("refunded", invoice.amount_due, invoice)
    payment = Payment.objects.get()
    assert payment.amount_refunded == invoice.amount_due
    assert payment.unapplied == 0
    # The allocation keeps what was applied and says what was taken back: the invoice's
    # allocations still add up to what it was paid.
    (allocation,) = payment.allocations.all()
    assert (allocation.amount, allocation.amount_taken_back) == (invoice.total, invoice.amount_due)
    assert allocation.amount_applied == invoice.amount_paid
    assert AuditEvent.objects.filter(action="invoice.reopened").count() == 1


def test_a_full_refund_handled_before_the_payment_still_counts_once(fake, stripe_deal, deliver):
    pay(fake)
    stripe_client().v1.refunds.create({"charge": charge_of(fake)})

    deliver("charge.refunded")  # the refund's news first: the payment is received on the way
    deliver()

    invoice = Invoice.objects.get(deal=stripe_deal)
    assert (invoice.state, invoice.amount_paid) == ("issued", 0)
    payment = Payment.objects.get()
    assert (payment.state, payment.amount_refunded) == ("refunded", invoice.total)
    assert ARItem.objects.get().reason == "refunded"
    assert [a.amount_applied for a in payment.allocations.all()] == [0]


def test_a_dispute_takes_the_money_back_and_holds_the_payment(fake, stripe_deal, deliver):
    pay(fake)
    deliver()
    fake.dispute(charge_of(fake))
    deliver()
    deliver()

    invoice = Invoice.objects.get(deal=stripe_deal)
    assert (invoice.state, invoice.amount_paid) == ("issued", 0)
    (item,) = ARItem.objects.all()
    assert (item.reason, item.amount) == ("disputed", invoice.total)
    payment = Payment.objects.get()
    assert (payment.state, payment.unapplied) == ("held", invoice.total)


def test_a_schedule_cancelled_in_stripe_is_a_billing_exception(fake, stripe_deal, deliver):
    deliver()
    record = BillingRecord.objects.get(deal=stripe_deal)
    assert record.state == "created"  # the schedule's own creation events: no difference
    (schedule,) = record.external_ids["schedules"]

    stripe_client().v1.subscription_schedules.cancel(schedule)
    deliver()

    record.refresh_from_db()
    assert record.state == "exception"
    assert record.diff == [
        {
            "path": f"schedules[{schedule}].status",
            "expected": "active",
            "actual": "canceled",
            "kind": "changed",
        }
    ]
    assert AuditEvent.objects.filter(action="billing_record.stopped").exists()


def test_an_unknown_event_type_is_stored_and_ignored(fake, stripe_deal, deliver):
    fake._emit("radar.early_fraud_warning.created", {"id": "issfr_1", "object": "x"})
    (answer,) = deliver("radar.early_fraud_warning.created")

    assert answer.status_code == 200
    event = WebhookEvent.objects.get(type="radar.early_fraud_warning.created")
    assert (event.status, event.handler_error) == ("done", "")


@pytest.mark.parametrize(
    ("signing", "why"),
    [
        ({"secret": "whsec_someone_else"}, "does not match"),
        ({"timestamp": 1}, "older than 300 s"),
    ],
)
@pytest.mark.django_db
def test_a_forged_or_stale_webhook_is_refused_and_not_stored(
    fake, client, django_capture_on_commit_callbacks, signing, why
):
    fake._emit("invoice.paid", {"id": "in_x", "object": "invoice"})
    answer = post(
        client, fake, fake.events[-1]["id"], django_capture_on_commit_callbacks, **signing
    )

    assert answer.status_code == 400
    assert why in answer.json()["error"]
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_a_tampered_body_and_a_missing_signature_are_refused(fake, client):
    fake._emit("invoice.paid", {"id": "in_x", "object": "invoice"})
    body, headers = fake.webhook(fake.events[-1]["id"])
    tampered = body.replace(b"in_x", b"in_y")

    for data, signature in [(tampered, headers["Stripe-Signature"]), (body, "")]:
        answer = client.post(
            URL, data=data, content_type="application/json", headers={"Stripe-Signature": signature}
        )
        assert answer.status_code == 400
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_a_rotated_secret_is_accepted_during_the_rotation(
    settings, client, django_capture_on_commit_callbacks
):
    with fake_stripe(settings, webhook_secrets=["whsec_new", "whsec_old"]) as fake:
        fake._emit("customer.created", {"id": "cus_x", "object": "customer"})
        answer = post(
            client,
            fake,
            fake.events[-1]["id"],
            django_capture_on_commit_callbacks,
            secret="whsec_old",
        )
    assert answer.status_code == 200
    assert WebhookEvent.objects.get().signature_verified


def test_news_older_than_the_last_read_back_is_not_read_again_but_a_new_change_is(
    fake, signed_deal, deliver
):
    deal = signed_deal()  # no clock moved: Stripe's events and our read-back share a second
    reads = IntegrationCall.objects.filter(operation="customer_get")
    before = reads.count()
    deliver()
    record = BillingRecord.objects.get(deal=deal)
    assert record.state == "created"
    assert reads.count() - before <= 2  # at most the events of the read-back's own second

    (schedule,) = record.external_ids["schedules"]
    stripe_client().v1.subscription_schedules.cancel(schedule)
    deliver()

    record.refresh_from_db()
    assert record.state == "exception"


# --- a refund the AR queue sends through Stripe (the seam for receivables.ar_refund) -------


def test_a_refund_from_the_ar_queue_is_sent_once_and_its_webhook_not_booked_again(
    fake, stripe_deal, deliver
):
    pay(fake)
    deliver()
    payment = Payment.objects.get()

    first = stripe_refund_send(payment=payment, amount=Decimal("25.00"), ar_item_id=7)
    again = stripe_refund_send(payment=payment, amount=Decimal("25.00"), ar_item_id=7)

    assert first == again
    (refund,) = fake.refunds.values()
    assert (refund["amount"], refund["metadata"]) == (2500, {"ar_item": "7"})
    assert fake.charges[charge_of(fake)]["amount_refunded"] == 2500
    keys = IntegrationCall.objects.filter(operation="refund_create").values_list(
        "idempotency_key", flat=True
    )
    assert set(keys) == {"ar-item:7:refund:2500"}
    deliver()  # charge.refunded: the AR queue books this refund, not the webhook
    assert not ARItem.objects.exists()
    assert Invoice.objects.get(deal=stripe_deal).state == "paid"


def test_finance_refunds_an_overpaid_stripe_payment_from_the_ar_queue_through_stripe(
    fake, stripe_deal, deliver, make_user
):
    from django.db import transaction

    from billing.models import ARReason, Refund
    from billing.receivables import ar_refund
    from billing.settlement import ar_open

    finance = make_user("Finance")

    pay(fake)
    deliver()
    payment = Payment.objects.get()
    # 25 of it beyond what the invoice asked: held with an AR item.
    Payment.objects.filter(pk=payment.pk).update(amount_applied=payment.amount - 25)
    with transaction.atomic():
        item, _ = ar_open(
            key="test:overpaid", reason=ARReason.OVERPAID, amount=Decimal(25),
            currency=payment.currency, detail="overpaid", actor=finance, payment=payment,
        )  # fmt: skip

    refund = ar_refund(item_id=item.pk, amount="25", reason="overpaid", actor=finance)

    (sent,) = fake.refunds.values()
    assert (sent["id"], sent["amount"]) == (refund.external_id, 2500)
    item.refresh_from_db()
    assert (item.state, item.resolution) == ("resolved", "refunded")
    deliver()  # charge.refunded: booked by the AR queue already
    assert Refund.objects.count() == 1


def test_a_payment_made_outside_stripe_is_not_refunded_there(fake, stripe_deal, deliver):
    stripe_client().v1.invoices.pay(stripe_invoice(fake)["id"], {"paid_out_of_band": True})
    deliver()
    payment = Payment.objects.get()

    with pytest.raises(NotRefundableInStripe, match="outside Stripe"):
        stripe_refund_send(payment=payment, amount=Decimal(1), ar_item_id=1)
    assert fake.refunds == {}
