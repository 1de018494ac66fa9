"""Billing: 1,000 signed deals billed on the local ledger, including the read-back diff.

`--db sqlite|postgres`. One deal is drafted through the real services for a real executed
contract; 1,000 signed deals are then bulk-made around copies of its version (executed, with a
completed signature request), as bench_esign_send makes approved ones. Each is billed through
`billing_start`: the canonical order priced again from the snapshot, readiness, the invoices
drafted, read back and compared, the record created and the deal moved to billing. The
invoices' issuing (the next pipeline step) is not part of the figure: the pipeline is held.
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_esign_send import build_approved_deals, build_template_deal
from bench.harness import django_database, median, parse_db_arg, percentile, report, settle

DEALS = 1_000
TOTAL_TARGET_S = 30.0


def make_signed(ids: list[int]) -> None:
    """The approved copies made signed: executed versions, completed signature requests."""
    from django.utils import timezone

    from contracts.esign.models import SignatureRequest
    from contracts.models import ContractVersion
    from dealdesk.models import Deal

    ContractVersion.objects.filter(deal_id__in=ids).update(state="executed")
    versions = dict(ContractVersion.objects.filter(deal_id__in=ids).values_list("deal_id", "pk"))
    bot = ContractVersion.objects.filter(deal_id__in=ids).first().created_by
    now = timezone.now()
    SignatureRequest.objects.bulk_create(
        [
            SignatureRequest(
                deal_id=pk,
                version_id=versions[pk],
                backend="local",
                state="completed",
                document_sha256="0" * 64,
                created_by=bot,
                sent_at=now,
                finished_at=now,
            )
            for pk in ids
        ],
        batch_size=500,
    )
    Deal.objects.filter(pk__in=ids).update(state="signed")


def main() -> None:
    db = parse_db_arg(__doc__.splitlines()[0])
    with django_database(db):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from billing.models import BillingRecord, Invoice
        from billing.services import billing_start
        from dealdesk import pipeline
        from dealdesk.models import Deal
        from dealdesk.services import pipeline_user

        billable = {
            "billing_email": "ap@esign.example",
            "billing_street": "1 Market Street",
            "billing_city": "San Francisco",
            "billing_postal_code": "94105",
        }
        template, version, signer = build_template_deal(**billable)
        ids = build_approved_deals(template, version, signer)
        make_signed(ids)
        settle("dealdesk_deal", "contracts_contractversion", "esign_signaturerequest")
        bot = pipeline_user()

        samples = []
        start = time.perf_counter()
        with pipeline.held():
            for pk in ids:
                began = time.perf_counter()
                billing_start(deal_id=pk, actor=bot)
                samples.append((time.perf_counter() - began) * 1000)
        total = time.perf_counter() - start

        billed = Deal.objects.filter(pk__in=ids, state="billing").count()
        assert billed == DEALS, f"{billed} of {DEALS} deals in billing"
        created = BillingRecord.objects.filter(deal__in=ids, state="created", diff=[]).count()
        assert created == DEALS, f"{created} records created with an empty diff"
        invoices = Invoice.objects.filter(deal__in=ids).count()

        report(
            f"bill on the local ledger, {DEALS:,} signed deals incl. the diff, total",
            total,
            "s",
            f"≤ {TOTAL_TARGET_S:.0f} s",
        )
        report("bill, per deal, median", median(samples), "ms")
        report("bill, per deal, p95", percentile(samples, 95), "ms")
        report("invoices drafted", invoices, "invoices")
        extra = build_approved_deals(template, version, signer, first=DEALS, count=1)
        make_signed(extra)
        with CaptureQueriesContext(connection) as queries, pipeline.held():
            billing_start(deal_id=extra[0], actor=bot)
        report("bill, per deal, queries", len(queries), "queries")


if __name__ == "__main__":
    main()
