"""Cash for the demo company (manage.py seed_demo): deals paid in full and in part, as a bank
import would record them, and a bank statement file for Finance to import by hand."""

import csv
import io
from decimal import Decimal
from pathlib import Path

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from billing.models import Invoice, InvoiceState
from billing.reconciliation.payments import payment_receive
from dealdesk.models import Deal

# The share of its first invoice each demo deal's customer has paid.
PAID_SHARE = {"paid": Decimal(1), "partially_paid": Decimal("0.4")}


def pay_for_demo(deal: Deal, share: Decimal, *, finance: AbstractBaseUser) -> None:
    """The customer's transfer for the deal's first invoice, as Finance's bank import records
    it: in full (the invoice and the deal paid) or in part (an AR item in the queue)."""
    invoice = Invoice.objects.get(deal=deal, plan_index=1)
    payment_receive(
        source="bank",
        external_id=f"demo-{deal.crm_id}",
        amount=(invoice.total * share).quantize(Decimal("0.01")),
        currency=invoice.currency,
        received_on=timezone.localdate(),
        actor=finance,
        payer_name=deal.account.legal_name or deal.account.name,
        reference=f"Invoice {invoice.number}",
    )


def write_demo_statement(path: Path) -> Path:
    """A bank statement (a multi-currency account's CSV export) that pays what the demo still
    owes: every open first invoice in full (the part-paid one: its rest), plus a transfer
    nobody can match and an outgoing payment the import leaves alone. Written again on every
    seed, so it names the invoice numbers of this database."""
    today = timezone.localdate().strftime("%d-%m-%Y")

    def transfer(ref: str, amount: str, currency: str, what: str, reference: str, payer: str):
        return {
            "TransferWise ID": f"TRANSFER-DEMO-{ref}",
            "Date": today,
            "Amount": amount,
            "Currency": currency,
            "Description": what,
            "Payment Reference": reference,
            "Payer Name": payer if not amount.startswith("-") else "",
            "Payee Name": payer if amount.startswith("-") else "",
        }

    rows = []
    open_invoices = Invoice.objects.filter(state=InvoiceState.ISSUED, plan_index=1).select_related(
        "deal__account"
    )
    for invoice in open_invoices.order_by("pk"):
        payer = invoice.deal.account.legal_name or invoice.deal.account.name
        rows.append(
            transfer(
                str(invoice.pk),
                f"{invoice.amount_due:.2f}",
                invoice.currency,
                f"Received money from {payer}",
                invoice.number,
                payer,
            )
        )
    rows.append(
        transfer("U1", "480.00", "USD", "Received money", "REF 88213", "Unknown Trading Co")
    )
    rows.append(transfer("D1", "-82.10", "USD", "Sent money", "Electricity", "Office Energy Ltd"))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path
