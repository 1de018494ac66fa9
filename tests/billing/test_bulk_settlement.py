"""A statement's payments booked in bulk (receive_many → settlement.Books) come out exactly as
booked one at a time (receive_into, a batch of one): the same payments, allocations, invoice
amounts and states, AR items, history rows and audit events, and the audit chain verifies."""

import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction

from audit.models import AuditEvent
from billing.models import ARItem, BillingRecord, Invoice, Payment, PaymentAllocation
from billing.reconciliation import bank_import
from billing.reconciliation.bank_import import (
    bank_import_commit,
    bank_import_upload,
)
from billing.reconciliation.payments import receive_into
from tests.billing.cash import camt053, issued_copy

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance(make_user):
    return make_user("Finance", first_name="Fiona", last_name="Ledger")


def mixed_statement(first: Invoice) -> bytes:
    """~50 entries: exact, short then the rest (its shortfall settled), over, the first
    invoice (the deal paid) and again (paid twice), naming nothing, debits and a reversal of
    an earlier entry's payment."""
    copies = [
        issued_copy(first, serial=n, total=Decimal(1000 + n), days_later=n) for n in range(2, 14)
    ]
    entries = [(first.total, "CRDT", first.currency, "Customer Inc", f"Inv {first.number}", "F1")]
    for n, invoice in enumerate(copies):
        pay = (invoice.currency, "Customer Inc", f"Invoice {invoice.number}")
        kind = n % 4
        if kind == 0:
            entries.append((invoice.total, "CRDT", *pay, f"E{n}"))
        elif kind == 1:  # short, then the rest further down
            half = (invoice.total / 2).quantize(Decimal("0.01"))
            entries.append((half, "CRDT", *pay, f"S{n}"))
            entries.append((invoice.total - half, "CRDT", *pay, f"R{n}"))
        elif kind == 2:
            entries.append((invoice.total + 25, "CRDT", *pay, f"O{n}"))
        else:
            entries.append((Decimal("99.00"), "CRDT", invoice.currency, f"Payer {n}", "?", f"U{n}"))
        entries.append(("12.50", "DBIT", invoice.currency, "Bank", "fees", f"D{n}"))
    entries.append(
        (first.total, "CRDT", first.currency, "Customer Inc", f"Inv {first.number}", "F2")
    )
    # The bank takes back the first copy's payment (same payer, same amount).
    entries.append((copies[0].total, "DBIT", copies[0].currency, "Customer Inc",
                    f"Invoice {copies[0].number}", "X1", True))  # fmt: skip
    entries += [(f"{10 + n}.00", "CRDT", first.currency, "Nobody", "?", f"N{n}") for n in range(12)]
    return camt053(*entries)


def _sorted(rows) -> list:
    return sorted(rows, key=repr)  # None beside strings


def outcome(deal_id: int, since_seq: int) -> dict:
    """Everything booking changed, with ids that differ between two runs replaced."""
    ids = dict(Payment.objects.values_list("pk", "external_id"))

    def plain(value):
        if isinstance(value, str):
            value = re.sub(r"payment (\d+)", lambda m: f"payment {ids[int(m[1])]}", value)
            return re.sub(r"payment:(\d+):", lambda m: f"payment:{ids[int(m[1])]}:", value)
        if isinstance(value, dict):
            return {key: plain(item) for key, item in value.items()}
        return value

    def object_id(event: AuditEvent) -> str:
        if event.object_type == "billing.payment":
            return ids[int(event.object_id)]
        if event.object_type == "billing.aritem":
            return plain(ARItem.objects.get(pk=event.object_id).key)
        if event.object_type == "billing.invoice":
            return Invoice.objects.get(pk=event.object_id).number
        return event.object_id

    events = AuditEvent.objects.filter(seq__gt=since_seq).order_by("seq")
    return {
        "payments": _sorted(
            Payment.objects.values_list(
                "external_id",
                "amount",
                "state",
                "amount_applied",
                "amount_refunded",
                "account_id",
                "statement_id",
                "payer_name",
                "reference",
                "received_on",
            )
        ),
        "allocations": _sorted(
            PaymentAllocation.objects.values_list(
                "payment__external_id", "invoice__number", "amount", "how", "allocated_by_id"
            )
        ),
        "invoices": _sorted(
            Invoice.objects.values_list(
                "number", "state", "amount_paid", "amount_credited", "amount_written_off"
            )
        ),
        "paid_at_set": _sorted(
            Invoice.objects.filter(paid_at__isnull=False).values_list("number", flat=True)
        ),
        "ar_items": _sorted(
            (
                plain(item.key),
                item.reason,
                item.state,
                item.resolution,
                item.amount,
                item.invoice.number if item.invoice else None,
                ids.get(item.payment_id),
                item.detail,
                item.deal_id,
                item.account_id,
            )
            for item in ARItem.objects.select_related("invoice")
        ),
        "deal": BillingRecord.objects.filter(deal_id=deal_id).values_list(
            "deal__state", "first_paid_on", "days_to_first_payment"
        )[0],
        "events": [
            (
                e.action,
                e.object_type,
                object_id(e),
                e.actor_username,
                plain(e.before),
                plain(e.after),
                plain(e.data),
                plain(e.reason),
            )
            for e in events
        ],
        "history": _sorted(
            (model._meta.label, plain(str(key)), kind, plain(reason or ""))
            for model, key_field in (
                (Payment, "external_id"),
                (Invoice, "number"),
                (ARItem, "key"),
                (PaymentAllocation, "amount"),
            )
            for key, kind, reason in model.history.values_list(
                key_field, "history_type", "history_change_reason"
            )
        ),
    }


def one_at_a_time(invoices, payments, *, actor, **kwargs):
    """The per-payment path: each payment a batch of one, written before the next."""
    return [
        receive_into(invoices, payment, actor=actor, invoice_id=invoice_id, **kwargs)
        for payment, invoice_id in payments
    ]


def test_bulk_booking_matches_booking_one_payment_at_a_time(issued_invoice, finance, monkeypatch):
    first = issued_invoice()
    upload = bank_import_upload(
        actor=finance, filename="s.xml", content=mixed_statement(first), bank=""
    )
    since = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()

    rollback = transaction.savepoint()
    bulk_summary = bank_import_commit(import_id=upload.pk, actor=finance)
    bulk = outcome(first.deal_id, since)
    transaction.savepoint_rollback(rollback)
    assert not Payment.objects.exists()

    monkeypatch.setattr(bank_import, "receive_many", one_at_a_time)
    single_summary = bank_import_commit(import_id=upload.pk, actor=finance)
    single = outcome(first.deal_id, since)

    assert bulk_summary == single_summary
    assert bulk_summary["by_status"] == {
        "debit": 12, "overpaid": 3, "paid": 7, "paid_twice": 1, "partial": 3,
        "reversal": 1, "unmatched": 15,
    }  # fmt: skip
    for part in single:
        assert bulk[part] == single[part], part
    # The cases this statement is made of all happened.
    assert bulk["deal"][0] == "paid"
    assert {item[1:3] for item in bulk["ar_items"]} >= {
        ("partial", "resolved"), ("overpaid", "open"), ("paid_twice", "open"),
        ("unmatched", "open"), ("disputed", "open"),
    }  # fmt: skip
    assert {"payment.refunded", "invoice.reopened", "deal.paid"} <= {e[0] for e in bulk["events"]}
    call_command("verify_audit")


def test_a_bulk_booking_run_again_books_nothing_more(issued_invoice, finance):
    first = issued_invoice()
    content = mixed_statement(first)
    upload = bank_import_upload(actor=finance, filename="s.xml", content=content, bank="")
    bank_import_commit(import_id=upload.pk, actor=finance)
    before = outcome(first.deal_id, 0)
    # The same entries in another file: every credit is known, the reversal's AR item too.
    again = bank_import_upload(
        actor=finance, filename="again.xml", content=content.replace(b"M1", b"M2"), bank=""
    )
    summary = bank_import_commit(import_id=again.pk, actor=finance)
    assert summary["new_payments"] == 0
    after = outcome(first.deal_id, 0)
    assert {k: v for k, v in after.items() if k != "events"} == {
        k: v for k, v in before.items() if k != "events"
    }
    call_command("verify_audit")


def test_bulk_booking_takes_a_few_queries_per_chunk_not_per_payment(
    issued_invoice, finance, django_assert_max_num_queries
):
    first = issued_invoice()
    upload = bank_import_upload(
        actor=finance, filename="s.xml", content=mixed_statement(first), bank=""
    )
    # 50 entries, 38 payments: booked one at a time this is ~18 queries each; the reversal
    # and the deal's first invoice go the single-row way.
    with django_assert_max_num_queries(120):
        bank_import_commit(import_id=upload.pk, actor=finance)
