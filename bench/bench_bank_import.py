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


def _rows() -> int:
    """Rows in the tables a commit inserts into: payments, allocations, AR items, the
    history rows of everything it changes, audit events."""
    from audit.models import AuditEvent
    from billing.models import ARItem, BillingRecord, Invoice, Payment, PaymentAllocation
    from dealdesk.models import Deal

    models = [Payment, PaymentAllocation, ARItem, Invoice, BillingRecord, Deal]
    return AuditEvent.objects.count() + sum(m.objects.count() + m.history.count() for m in models)


def main() -> None:
    db = parse_db_arg(__doc__.splitlines()[0])
    with django_database(db):
        from django.contrib.auth.models import Group, User
        from django.core.management import call_command
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

        # Wall time and this process's CPU time: the machine's 2 CPUs are often shared, and
        # the CPU figure is what the import costs whatever else runs.
        start, cpu_start = time.perf_counter(), time.process_time()
        upload = bank_import_upload(
            actor=finance, filename="bench.csv", content=content, bank="Bench bank"
        )
        uploaded, cpu_uploaded = time.perf_counter(), time.process_time()
        preview = bank_import_preview(upload)
        previewed, cpu_previewed = time.perf_counter(), time.process_time()
        rows_before = _rows()
        queries = []
        # Counted, not captured: Django's capture keeps only the last 9,000 queries.
        with connection.execute_wrapper(lambda execute, *args: queries.append(1) or execute(*args)):
            summary = bank_import_commit(import_id=upload.pk, actor=finance)
        committed, cpu_committed = time.perf_counter(), time.process_time()

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
        report("  CPU time of this process, all three", cpu_committed - cpu_start, "s")
        report("    of which upload", cpu_uploaded - cpu_start, "s")
        report("    of which preview", cpu_previewed - cpu_uploaded, "s")
        report("    of which commit", cpu_committed - cpu_previewed, "s")
        report(
            "  commit, queries per new payment", len(queries) / summary["new_payments"], "queries"
        )
        inserted = _rows() - rows_before
        report(
            "  commit, rows inserted per new payment", inserted / summary["new_payments"], "rows"
        )
        report("invoices paid", paid, "invoices")
        for status, count in summary["by_status"].items():
            report(f"  entries: {status}", count, "entries")
        # Not timed: the chain the import appended to still verifies end to end.
        call_command("verify_audit")


if __name__ == "__main__":
    main()
