"""Approvals: "My approvals" with 10,000 open requests, and gates + policy for a 200-line deal.

`--db sqlite|postgres`. One 200-line deal is drafted through the real services (the pipeline
held), then 10,000 open Finance requests are bulk-created with history on its contract. The
queue page is requested in-process through Django's test client as a Finance user (server
time: middleware, queries, template): first page, last page, and the last page searched and
sorted by TCV (every request matches, so the join and the sort see all 10,000); the evaluation is `approvals.selectors.evaluate`, what
the pipeline step runs before it writes anything.
"""

import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import django_database, median, parse_db_arg, percentile, report, settle, timed

REQUESTS = 10_000
LINES = 200
QUEUE_TARGET_MS, EVALUATE_TARGET_MS = 80.0, 30.0


def build_deal():
    from contracts import services as contracts
    from dealdesk import pipeline, services
    from dealdesk.models import Account, Contact, Product

    account = Account.objects.create(
        crm_id="001BENCH", name="Bench Co", legal_name="Bench Co Inc.", billing_city="Austin"
    )
    signer = Contact.objects.create(account=account, name="Sig Ner", email="sig@bench.example")
    seat = Product.objects.create(
        sku="SEAT-BENCH",
        name="Seat",
        kind="subscription",
        billing_interval="month",
        list_price=Decimal(45),
        floor_price=Decimal(30),
    )
    owner = services.service_user(username="bench-ae", first_name="AE", permissions=[])
    spec = services.DealSpec(
        crm_id="006BENCH",
        name="Bench deal",
        account=account,
        owner=owner,
        start_date=date(2026, 1, 1),
        term_months=12,
        ae_notes="Net 90, PO required (PO-1) on all invoices",
        crm_amount=Decimal(45) * Decimal("0.85") * 10 * LINES,
        lines=[services.LineSpec(seat, Decimal(10), Decimal(15)) for _ in range(LINES)],
        contacts=[services.ContactSpec(signer, "Signer", True)],
    )
    bot = services.pipeline_user()
    with pipeline.held():
        deal = services.deal_create(spec=spec, actor=bot)
        services.deal_classify_and_price(deal_id=deal.pk, actor=bot)
        version = contracts.contract_draft(deal_id=deal.pk, actor=bot)
    deal.refresh_from_db()
    return deal, version


def build_queue(deal, version):
    from django.contrib.auth.models import Group, User
    from simple_history.utils import bulk_create_with_history

    from approvals.models import ApprovalRequest

    finance = Group.objects.get(name="Finance")
    bulk_create_with_history(
        [
            ApprovalRequest(
                deal=deal,
                contract_version=version,
                content_hash=version.content_hash,
                step=step,
                group=finance,
                rule_names=["Finance: payment terms beyond net 60"],
                reasons=["payment terms net 90 are beyond net 60"],
            )
            for step in range(1, REQUESTS + 1)
        ],
        ApprovalRequest,
        batch_size=2_000,
    )
    user = User.objects.create_user("bench-finance")
    user.groups.add(finance)
    return user


def main() -> None:
    kind = parse_db_arg(__doc__)
    with django_database(kind):
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        from approvals.selectors import evaluate

        deal, version = build_deal()
        evaluation = evaluate(deal, version)
        assert len(version.typed_snapshot.lines) == LINES
        assert evaluation.passed, evaluation.gates
        samples = timed(lambda: evaluate(deal, version), runs=30)
        report(
            f"gates + policy, {LINES}-line deal, median",
            median(samples),
            "ms",
            f"≤ {EVALUATE_TARGET_MS:.0f}",
        )
        report(f"gates + policy, {LINES}-line deal, p95", percentile(samples, 95), "ms")
        with CaptureQueriesContext(connection) as queries:
            evaluate(deal, version)
        report("gates + policy, queries", len(queries), "queries")

        user = build_queue(deal, version)
        settle("approvals_approvalrequest")
        client = Client()
        client.force_login(user)
        last = REQUESTS // 25
        for size, url in (
            ("first page", "/approvals/"),
            ("last page", f"/approvals/?page={last}"),
            # Searched and sorted by TCV: every request matches, the join and sort see all.
            ("filtered, last page", f"/approvals/?q=bench&min_tcv=1&sort=-tcv&page={last}"),
        ):
            page = client.get(url)
            assert page.status_code == 200
            assert page.content.count(b'data-testid="request-') == 25, url
            samples = timed(lambda url=url: client.get(url), runs=20)
            with CaptureQueriesContext(connection) as queries:
                client.get(url)
            report(
                f"My approvals, {REQUESTS:,} open, {size}, median",
                median(samples),
                "ms",
                f"≤ {QUEUE_TARGET_MS:.0f}",
            )
            report(f"My approvals, {size}, queries", len(queries), "queries")


if __name__ == "__main__":
    main()
