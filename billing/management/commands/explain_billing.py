"""`manage.py explain_billing DEAL`: the deal's billing as JSON — the canonical order, the
billing system's ids, the contract ↔ billing diff, the invoices, the payments that paid them
(or are held with one of the deal's AR items) with their allocations, and the AR items."""

import json

from django.core.management.base import BaseCommand
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Prefetch, Q

from billing.models import ARItem, BillingRecord, Payment, PaymentAllocation
from dealdesk.management.deal_argument import deal_from_argument


class Command(BaseCommand):
    help = (
        "Print a deal's canonical order, billing ids, diff, invoices, payments and AR items "
        "as JSON."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("deal", help="the deal's id or CRM id")

    def handle(self, *args, deal: str, **options) -> None:
        found = deal_from_argument(deal)
        records = BillingRecord.objects.filter(deal=found).select_related("version")
        out = {
            "deal": found.crm_id,
            "state": found.state,
            "records": [
                {
                    "contract_version": record.version.number,
                    "backend": record.backend,
                    "state": record.state,
                    "signed_on": record.signed_on,
                    "problems": record.problems,
                    "diff": record.diff,
                    "external_ids": record.external_ids,
                    "order_sha256": record.order_sha256,
                    "order": record.order,
                    "invoices": [
                        {
                            "number": invoice.number,
                            "state": invoice.state,
                            "issue_on": invoice.issue_on,
                            "due_on": invoice.due_on,
                            "currency": invoice.currency,
                            "total": invoice.total,
                            "amount_paid": invoice.amount_paid,
                            "lines": [
                                {
                                    "line_key": line.line_key,
                                    "sku": line.sku,
                                    "quantity": line.quantity,
                                    "amount": line.amount,
                                }
                                for line in invoice.lines.all()
                            ],
                        }
                        for invoice in record.invoices.prefetch_related("lines")
                    ],
                }
                for record in records
            ],
            "payments": _payments(found),
            "ar_items": [
                {
                    "key": item.key,
                    "reason": item.reason,
                    "state": item.state,
                    "amount": item.amount,
                    "currency": item.currency,
                    "invoice": item.invoice.number if item.invoice else None,
                    "payment": item.payment_id,
                    "detail": item.detail,
                    "resolution": item.resolution,
                }
                for item in ARItem.objects.filter(deal=found).select_related("invoice")
            ],
        }
        self.stdout.write(json.dumps(out, indent=2, cls=DjangoJSONEncoder))


def _payments(deal) -> list[dict]:
    """Payments applied to the deal's invoices or held with one of its AR items."""
    payments = (
        Payment.objects.filter(Q(allocations__invoice__deal=deal) | Q(ar_items__deal=deal))
        .distinct()
        .order_by("received_on", "pk")
        .prefetch_related(
            Prefetch("allocations", PaymentAllocation.objects.select_related("invoice"))
        )
    )
    return [
        {
            "id": payment.pk,
            "source": payment.source,
            "external_id": payment.external_id,
            "amount": payment.amount,
            "currency": payment.currency,
            "received_on": payment.received_on,
            "state": payment.state,
            "payer_name": payment.payer_name,
            "reference": payment.reference,
            "allocations": [
                {
                    "invoice": allocation.invoice.number,
                    "amount": allocation.amount,
                    "taken_back": allocation.amount_taken_back,
                    "how": allocation.how,
                }
                for allocation in payment.allocations.all()
            ],
        }
        for payment in payments
    ]
