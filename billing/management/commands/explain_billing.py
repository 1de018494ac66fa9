"""`manage.py explain_billing DEAL`: the deal's billing as JSON — the canonical order, the
billing system's ids, the contract ↔ billing diff and the invoices (payments join them with
reconciliation)."""

import json

from django.core.management.base import BaseCommand
from django.core.serializers.json import DjangoJSONEncoder

from billing.models import BillingRecord
from dealdesk.management.deal_argument import deal_from_argument


class Command(BaseCommand):
    help = "Print a deal's canonical order, billing ids, diff and invoices as JSON."

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
        }
        self.stdout.write(json.dumps(out, indent=2, cls=DjangoJSONEncoder))
