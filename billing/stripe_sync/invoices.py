"""Stripe's invoices mirrored as our `Invoice` rows, moved to the state Stripe holds now.

Stripe numbers, sends and collects them; we keep the same invoice (its `external_id`,
Stripe's number, amounts in our Decimal major units, period, due date, each line tied to its
contract line by the `line` metadata the mapping put on every item) so that reconciliation,
the AR queue and the deal's states work exactly as on the local ledger.

`invoice_converge` is the one way in, whatever the event: it reads the invoice as it is now
and does what is still missing (mirror, issue, payments, void, uncollectible), under the
billing record's row lock, so a duplicate or a late event finds it done.
"""

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from audit.actions import Action
from audit.services import record_change
from billing.diff import from_minor_units
from billing.ledger.stripe_objects import invoice_get, invoice_payments
from billing.models import (
    ARReason,
    BillingRecord,
    Invoice,
    InvoiceLine,
    InvoiceState,
    Payment,
    PaymentSource,
)
from billing.reconciliation.payments import payment_receive
from billing.settlement import ar_open
from billing.stripe_sync.converged import converged_mark
from billing.stripe_sync.records import record_of
from dealdesk import services as deal_services
from dealdesk.models import Deal, DealState

log = logging.getLogger(__name__)

# Stripe's invoice statuses that mean it was finalized: numbered and owed (or settled).
FINALIZED = ("open", "paid", "uncollectible", "void")


class UnplannedInvoice(ValueError):
    """A Stripe invoice of one of our records that no planned invoice of its order bills."""


def invoice_converge(
    *, stripe_invoice_id: str, actor: AbstractBaseUser, payment_failed: bool = False
) -> Invoice | None:
    """Our invoice for this Stripe invoice, as Stripe has it now; None for one that is not
    ours, still a draft (Stripe may change it until it is finalized) or for nothing.
    `payment_failed`: a collection attempt failed; while the invoice is still owed, an AR
    item says so (paid or voided since, there is nothing to chase)."""
    fetched_from = timezone.now()
    invoice = _converge(invoice_get(stripe_invoice_id), actor, payment_failed=payment_failed)
    # After what the fetch applied committed (or in the caller's transaction, rolled back
    # with it): a mark never outlives the work it vouches for.
    converged_mark(stripe_invoice_id, fetched_from)
    return invoice


def _converge(
    stripe_invoice: dict[str, Any], actor: AbstractBaseUser, *, payment_failed: bool
) -> Invoice | None:
    stripe_invoice_id = stripe_invoice["id"]
    details = (stripe_invoice.get("parent") or {}).get("subscription_details") or {}
    record = record_of(details.get("metadata"))
    if record is None:
        log.info("Stripe invoice %s is not one of our billing records", stripe_invoice_id)
        return None
    if stripe_invoice["status"] not in FINALIZED or stripe_invoice["total"] <= 0:
        return None  # a zero invoice (free months) asks for nothing: Stripe settles it itself
    paid = invoice_payments(invoice_id=stripe_invoice_id) if stripe_invoice["amount_paid"] else []
    with transaction.atomic():
        # Every event of this record's invoices waits here for the one before it.
        record = BillingRecord.objects.select_for_update().get(pk=record.pk)
        invoice = Invoice.objects.filter(record=record, external_id=stripe_invoice_id).first()
        if invoice is None:
            invoice = _mirror(record, stripe_invoice, actor)
        if invoice.state == InvoiceState.DRAFT:
            _issue(invoice, stripe_invoice, actor)
        # Payments received already are skipped here: most news of a paid invoice repeats.
        received = set(
            Payment.objects.filter(
                source=PaymentSource.STRIPE, external_id__in=[p["id"] for p in paid]
            ).values_list("external_id", flat=True)
            if paid
            else ()
        )
        for payment in paid:
            if payment["status"] == "paid" and payment["id"] not in received:
                _receive(invoice, stripe_invoice, payment, actor)
        status = stripe_invoice["status"]
        if status == "void" and invoice.state == InvoiceState.ISSUED:
            _void(invoice, actor)
        elif status == "uncollectible":
            _ar_item(
                invoice,
                stripe_invoice,
                ARReason.UNCOLLECTIBLE,
                f"Stripe marked invoice {invoice.number} uncollectible",
                actor,
            )
        elif payment_failed and status == "open" and stripe_invoice["amount_remaining"] > 0:
            _ar_item(
                invoice,
                stripe_invoice,
                ARReason.PAYMENT_FAILED,
                f"Stripe could not collect invoice {invoice.number} "
                f"(attempt {stripe_invoice['attempt_count']})",
                actor,
            )
    return invoice


def _mirror(record: BillingRecord, stripe_invoice: dict[str, Any], actor) -> Invoice:
    currency = stripe_invoice["currency"].upper()
    order = record.order
    names = {line["key"]: line["name"] for line in order["lines"]}
    skus = {product: sku for sku, product in record.external_ids.get("products", {}).items()}
    lines = [line for line in stripe_invoice["lines"]["data"] if _ours(line)]
    starts = [_day(line["period"]["start"]) for line in lines]
    ends = [_day(line["period"]["end"]) for line in lines]
    invoice = Invoice(
        record=record,
        deal_id=record.deal_id,
        plan_index=_plan_index(record, stripe_invoice, min(starts)),
        legal_entity=settings.INVOICE_LEGAL_ENTITY,
        currency=currency,
        external_id=stripe_invoice["id"],
        period_start=min(starts),
        period_last_day=max(ends) - dt.timedelta(days=1),
        issue_on=_day(stripe_invoice["status_transitions"]["finalized_at"]),
        due_on=_day(stripe_invoice["due_date"]) if stripe_invoice["due_date"] else None,
        payment_terms=order["payment_terms"],
        po_number=order["po_number"],
        total=from_minor_units(stripe_invoice["total"], currency),
    )
    invoice._history_user = actor
    invoice._change_reason = f"Stripe invoice {stripe_invoice['id']}"
    invoice.save()
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=invoice,
            line_key=line["metadata"].get("line", ""),
            sku=skus.get(_product(line), _product(line)),
            description=(line["description"] or names.get(line["metadata"].get("line"), ""))[:255],
            quantity=Decimal(line["quantity"]) * Decimal(line["metadata"].get("lot", 1)),
            amount=from_minor_units(line["amount"], currency),
        )
        for line in lines
    )
    return invoice


def _ours(line: dict[str, Any]) -> bool:
    # The zero item that carries a schedule of one-time lines bills nothing and no line.
    return bool(line["amount"] or (line.get("metadata") or {}).get("line"))


def _product(line: dict[str, Any]) -> str:
    details = (line.get("pricing") or {}).get("price_details") or {}
    product = details.get("product") or ""
    return product if isinstance(product, str) else product["id"]


def _plan_index(record: BillingRecord, stripe_invoice: dict[str, Any], start: dt.date) -> int:
    """The planned invoice this one bills (by its period's start). A deal split across
    several schedules gets one Stripe invoice per schedule a period: part p of planned
    invoice i is (i - 1) × parts + p, so the first period's first part stays number 1."""
    planned = {inv["period_start"]: inv["index"] for inv in record.order["invoices"]}
    index = planned.get(start.isoformat())
    if index is None:
        raise UnplannedInvoice(
            f"Stripe invoice {stripe_invoice['id']} bills from {start}: "
            f"no planned invoice of billing record {record.pk} starts then"
        )
    details = stripe_invoice["parent"]["subscription_details"]
    part, _, parts = str(details["metadata"].get("part", "1/1")).partition("/")
    return (index - 1) * int(parts or 1) + int(part)


def _issue(invoice: Invoice, stripe_invoice: dict[str, Any], actor) -> None:
    number = stripe_invoice["number"]
    invoice.issue(number=number, at=_moment(stripe_invoice["status_transitions"]["finalized_at"]))
    record_change(
        invoice,
        actor=actor,
        action=Action.INVOICE_ISSUED,
        before={"state": InvoiceState.DRAFT},
        after={"state": invoice.state, "number": number},
        data={
            "total": str(invoice.total),
            "currency": invoice.currency,
            "due_on": invoice.due_on.isoformat() if invoice.due_on else None,
            "stripe_invoice": stripe_invoice["id"],
        },
        reason="finalized in Stripe",
    )
    deal = Deal.objects.select_for_update().get(pk=invoice.deal_id)
    if invoice.plan_index == 1 and deal.state == DealState.BILLING:
        deal_services.deal_mark_invoiced(
            deal_id=deal.pk, actor=actor, reason=f"first invoice {number} issued by Stripe"
        )


def _receive(invoice: Invoice, stripe_invoice: dict[str, Any], payment: dict, actor) -> None:
    currency = payment["currency"].upper()
    payment_receive(
        source="stripe",
        external_id=payment["id"],
        amount=from_minor_units(payment["amount_paid"], currency),
        currency=currency,
        received_on=_day(payment["status_transitions"]["paid_at"] or payment["created"]),
        actor=actor,
        payer_name=stripe_invoice.get("customer_name") or "",
        reference=invoice.number or "",
        invoice_id=invoice.pk,
        note=f"Stripe invoice {stripe_invoice['id']}",
    )


def _void(invoice: Invoice, actor) -> None:
    before = {"state": invoice.state}
    invoice.void()
    record_change(
        invoice,
        actor=actor,
        action=Action.INVOICE_VOIDED,
        before=before,
        after={"state": invoice.state},
        reason="voided in Stripe",
    )


def _ar_item(invoice: Invoice, stripe_invoice: dict, reason: str, detail: str, actor) -> None:
    ar_open(
        key=f"stripe:{stripe_invoice['id']}:{reason}",
        reason=reason,
        amount=from_minor_units(stripe_invoice["amount_remaining"], invoice.currency),
        currency=invoice.currency,
        detail=detail,
        actor=actor,
        invoice=invoice,
    )


def _day(moment: int) -> dt.date:
    # Stripe's times are UTC; the mapping puts periods on UTC midnights.
    return dt.datetime.fromtimestamp(moment, dt.UTC).date()


def _moment(moment: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(moment, dt.UTC) if moment else timezone.now()
