"""Cash: a 10,000-line bank statement imported and matched (upload, preview, commit).

`--db sqlite|postgres`. One deal is billed for real (bench_billing's template); 10,000 more
issued invoices are bulk-made beside its first one. The statement (CSV, a saved bank mapping)
pays most of them by number, some short, some over, some twice; some entries name nothing,
and some are our own debits. The figure is the whole import: upload (read and stored),
preview (every entry decided, a dry run) and commit (payments, allocations, invoices paid,
AR items, audit events), each timed.
"""

import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_billing import make_signed
from bench.bench_esign_send import build_approved_deals, build_template_deal
from bench.harness import django_database, parse_db_arg, report, settle

LINES = 10_000
TOTAL_TARGET_S = 5.0
HEADER = "Booking date;Amount;Currency;Payer;Description;Transaction ID"


def issued_invoices(first, count: int) -> list:
    """`count` issued invoices of the first invoice's deal, numbered after it."""
    from billing.models import Invoice

    year = first.issue_on.year
    copies = []
    for serial in range(2, count + 2):
        copy = Invoice(
            record_id=first.record_id, deal_id=first.deal_id, plan_index=serial,
            state="issued", legal_entity=first.legal_entity,
            number=f"{first.legal_entity}-{year}-{serial:06d}", currency=first.currency,
            period_start=first.period_start, period_last_day=first.period_last_day,
            issue_on=first.issue_on + timedelta(days=serial % 300), due_on=first.due_on,
            payment_terms=first.payment_terms, total=Decimal(1000 + serial % 500),
            issued_at=first.issued_at,
        )  # fmt: skip
        copies.append(copy)
    Invoice.objects.bulk_create(copies, batch_size=1000)
    return [first, *copies]


def statement(invoices: list) -> bytes:
    """LINES entries: by number exactly (80 %), short (4 %), over (4 %), twice (2 %), naming
    nothing (5 %), our debits (5 %)."""
    lines = [HEADER]
    for n in range(LINES):
        invoice = invoices[n % len(invoices)]
        kind = n % 100
        amount, reference = invoice.total, f"Invoice {invoice.number}"
        if kind < 4:
            amount = (invoice.total / 2).quantize(Decimal("0.01"))
        elif kind < 8:
            amount = invoice.total + 25
        elif kind < 10:
            reference = f"Invoice {invoices[0].number}"  # the first one, paid long ago
            amount = invoices[0].total
        elif kind < 15:
            amount, reference = Decimal("99.00"), "thanks"
        elif kind < 20:
            amount, reference = Decimal("-12.50"), "card fees"
        lines.append(f"2026-03-02;{amount};{invoice.currency};Payer {n % 50};{reference};TX{n}")
    return ("\n".join(lines) + "\n").encode()


def main() -> None:
    db = parse_db_arg(__doc__.splitlines()[0])
    with django_database(db):
        from django.contrib.auth.models import Group, User
        from django.db import connection

        from billing.bank_statements import ColumnMapping
        from billing.models import BankMapping, Invoice, Payment
        from billing.reconciliation.bank_import import (
            bank_import_commit,
            bank_import_preview,
            bank_import_upload,
        )
        from billing.services import billing_start, invoices_issue_for_deal
        from dealdesk import pipeline
        from dealdesk.services import pipeline_user

        template, version, signer = build_template_deal(
            billing_email="ap@esign.example", billing_street="1 Market Street",
            billing_city="San Francisco", billing_postal_code="94105",
        )  # fmt: skip
        (deal_id,) = build_approved_deals(template, version, signer, count=1)
        make_signed([deal_id])
        bot = pipeline_user()
        with pipeline.held():
            billing_start(deal_id=deal_id, actor=bot)
            invoices_issue_for_deal(deal_id=deal_id, actor=bot)
        first = Invoice.objects.get(deal_id=deal_id, plan_index=1)
        invoices = issued_invoices(first, LINES - 1)
        finance = User.objects.create(username="finance-bench")
        finance.groups.add(Group.objects.get(name="Finance"))
        mapping = ColumnMapping(
            booking_date="Booking date", amount="Amount", currency="Currency",
            counterparty_name="Payer", remittance=("Description",), reference="Transaction ID",
            delimiter=";",
        )  # fmt: skip
        BankMapping.objects.create(bank="Bench bank", mapping={}, updated_by=finance)
        BankMapping.objects.filter(bank="Bench bank").update(
            mapping=__import__("json").loads(mapping.to_json())
        )
        settle("billing_invoice", "billing_payment")
        content = statement(invoices)

        start = time.perf_counter()
        upload = bank_import_upload(
            actor=finance, filename="bench.csv", content=content, bank="Bench bank"
        )
        uploaded = time.perf_counter()
        preview = bank_import_preview(upload)
        previewed = time.perf_counter()
        queries = []
        # Counted, not captured: Django's capture keeps only the last 9,000 queries.
        with connection.execute_wrapper(lambda execute, *args: queries.append(1) or execute(*args)):
            summary = bank_import_commit(import_id=upload.pk, actor=finance)
        committed = time.perf_counter()

        assert len(preview.rows) == LINES
        assert Payment.objects.count() == summary["new_payments"] == LINES * 95 // 100
        paid = Invoice.objects.filter(state="paid").count()
        report(
            f"import a {LINES:,}-line statement: upload + preview + commit",
            committed - start,
            "s",
            f"≤ {TOTAL_TARGET_S:.0f} s",
        )
        report("  upload (read, store)", uploaded - start, "s")
        report("  preview (every entry decided, dry run)", previewed - uploaded, "s")
        report("  commit (payments booked and reconciled)", committed - previewed, "s")
        report(
            "  commit, queries per new payment", len(queries) / summary["new_payments"], "queries"
        )
        report("invoices paid", paid, "invoices")
        for status, count in summary["by_status"].items():
            report(f"  entries: {status}", count, "entries")


if __name__ == "__main__":
    main()
