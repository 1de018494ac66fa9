"""The local ledger: our own invoices, one per planned invoice of the canonical order, drafted
when the contract is billed and numbered when issued (billing/services.py)."""

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from billing.canonical_order import CanonicalOrder
from billing.models import BillingRecord, Invoice, InvoiceLine


class LocalLedger:
    def create(
        self, record: BillingRecord, order: CanonicalOrder, *, actor: AbstractBaseUser
    ) -> dict[str, Any]:
        with transaction.atomic():
            record = BillingRecord.objects.select_for_update().get(pk=record.pk)
            if not record.invoices.exists():  # a second run finds them drafted
                for planned in order.invoices:
                    invoice = Invoice(
                        record=record,
                        deal_id=record.deal_id,
                        plan_index=planned.index,
                        legal_entity=settings.INVOICE_LEGAL_ENTITY,
                        currency=planned.currency,
                        period_start=planned.period_start,
                        period_last_day=planned.last_day,
                        issue_on=planned.issue_on,
                        due_on=planned.due_on,
                        payment_terms=order.payment_terms,
                        po_number=order.po_number,
                        total=planned.total,
                    )
                    invoice._history_user = actor
                    invoice._change_reason = "drafted from the executed contract"
                    invoice.save()
                    InvoiceLine.objects.bulk_create(
                        InvoiceLine(
                            invoice=invoice,
                            line_key=line.line_key,
                            sku=line.sku,
                            description=line.description,
                            quantity=line.quantity,
                            amount=line.amount,
                        )
                        for line in planned.lines
                    )
        return {"ledger": "local", "invoices": len(order.invoices)}

    def expected(self, order: CanonicalOrder) -> dict[str, Any]:
        return _view(
            order.currency,
            order.payment_terms,
            order.po_number,
            [
                (
                    planned.index,
                    planned.period_start,
                    planned.last_day,
                    planned.issue_on,
                    planned.due_on,
                    planned.total,
                    [(ln.line_key, ln.sku, ln.quantity, ln.amount) for ln in planned.lines],
                )
                for planned in order.invoices
            ],
        )

    def read_back(self, record: BillingRecord, ids: dict[str, Any]) -> dict[str, Any]:
        invoices = list(record.invoices.prefetch_related("lines").order_by("plan_index"))
        first = invoices[0] if invoices else None
        return _view(
            first.currency if first else "",
            first.payment_terms if first else 0,
            first.po_number if first else "",
            [
                (
                    inv.plan_index,
                    inv.period_start,
                    inv.period_last_day,
                    inv.issue_on,
                    inv.due_on,
                    inv.total,
                    [(ln.line_key, ln.sku, ln.quantity, ln.amount) for ln in inv.lines.all()],
                )
                for inv in invoices
            ],
        )


def _view(currency: str, payment_terms: int, po_number: str, invoices: list) -> dict[str, Any]:
    """The billing-relevant facts as plain JSON (decimals normalised: 10.50 is 10.5)."""
    return {
        "currency": currency,
        "payment_terms": payment_terms,
        "po_number": po_number,
        "invoices": [
            {
                "index": index,
                "period_start": str(start),
                "last_day": str(last),
                "issue_on": str(issue_on) if issue_on else None,
                "due_on": str(due_on) if due_on else None,
                "total": _number(total),
                "lines": [
                    {
                        "line_key": key,
                        "sku": sku,
                        "quantity": _number(quantity),
                        "amount": _number(amount),
                    }
                    for key, sku, quantity, amount in lines
                ],
            }
            for index, start, last, issue_on, due_on, total, lines in invoices
        ],
    }


def _number(value) -> str:
    return format(value.normalize(), "f")
