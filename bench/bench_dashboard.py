"""Process dashboard with 1,000 deals and their audit events over 12 weeks: page time and
query count (vs. 10 deals), and the CSV export.

`--db sqlite|postgres`. Deals move through the flow at random times over the last 12 weeks
(some stop on the way, a few are cancelled); their audit events are appended in time order
through audit_record_many, each stamped with the moment the deal moved, with the contract
versions, approval requests and billing records the figures read. The page is requested
in-process through Django's test client as a Deal Desk user.
"""

import random
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import django_database, median, parse_db_arg, percentile, report, settle, timed

DEALS = 1_000
WEEKS = 12
OWNERS = 10
# (transition's audit action, state entered, days it takes at least and at most)
FLOW = [
    ("deal.drafting_started", "drafting", 0.001, 0.01),
    ("deal.submitted_for_review", "in_review", 0.2, 4),
    ("deal.approved", "approved", 0.1, 6),
    ("deal.sent_for_signature", "out_for_signature", 0.001, 0.05),
    ("deal.signed", "signed", 1, 20),
    ("deal.billing_started", "billing", 0.001, 0.05),
    ("deal.invoiced", "invoiced", 0.2, 3),
    ("deal.paid", "paid", 5, 50),
]


def build(count: int, rng: random.Random) -> None:
    from django.contrib.auth.models import Group, User
    from django.utils import timezone
    from simple_history.utils import bulk_create_with_history

    from approvals.models import ApprovalRequest
    from audit.services import audit_record_many
    from billing.models import BillingRecord
    from contracts.models import ContractTemplate, ContractVersion
    from dealdesk.models import Account, Deal, DealPattern
    from dealdesk.services import pipeline_user

    bot = pipeline_user()
    sales = Group.objects.get(name="Sales")
    owners = []
    for n in range(OWNERS):
        owner, created = User.objects.get_or_create(username=f"ae{n:02d}")
        if created:
            owner.groups.add(sales)
        owners.append(owner)
    account, _ = Account.objects.get_or_create(
        crm_id="001BENCH000000", defaults={"name": "Bench", "legal_name": "Bench Inc."}
    )
    patterns = list(DealPattern.objects.all())
    groups = list(Group.objects.filter(name__in=["Finance", "Executive"]))
    template = ContractTemplate.objects.first()
    now = timezone.now()
    first = now - timedelta(weeks=WEEKS)
    have = Deal.objects.count()
    plans, deals = [], []
    for n in range(have, have + count):
        won = first + timedelta(days=rng.uniform(0, WEEKS * 7 - 1))
        steps, at = [("deal.created", "new", won)], won
        stop = rng.choice([1, 2, 3, 4, 5, 7, 8, 8, 8, 8])
        for action, state, shortest, longest in FLOW[:stop]:
            at += timedelta(days=rng.uniform(shortest, longest))
            if at >= now:
                break
            steps.append((action, state, at))
        if len(steps) < 4 and rng.random() < 0.1:
            at += timedelta(days=1)
            if at < now:
                steps.append(("deal.cancelled", "cancelled", at))
        plans.append(steps)
        deals.append(
            Deal(
                crm_id=f"006D{n:011d}",
                name=f"Dashboard deal {n}",
                account=account,
                owner=owners[n % OWNERS],
                pattern=patterns[n % len(patterns)],
                currency=rng.choice(["USD", "USD", "EUR", "GBP"]),
                start_date=won.date(),
                term_months=12,
                state=steps[-1][1],
                tcv=Decimal(rng.randrange(5_000, 500_000)),
            )
        )
    bulk_create_with_history(deals, Deal, batch_size=1_000)
    deals = list(Deal.objects.filter(crm_id__in=[d.crm_id for d in deals]).order_by("pk"))
    events = sorted(
        (
            (at, deal, action, previous[1] if previous else None, state)
            for deal, steps in zip(deals, plans, strict=True)
            for previous, (action, state, at) in zip([None, *steps], steps, strict=False)
        ),
        key=lambda event: event[0],
    )
    # audit_record_many stamps each event with timezone.now(), once per event in order: the
    # moments the deals moved, so the log reads as if they had moved then.
    with mock.patch("django.utils.timezone.now", side_effect=[e[0] for e in events]):
        audit_record_many(
            events=[
                {
                    "actor": bot,
                    "obj": deal,
                    "action": action,
                    "before": {"state": before} if before else {},
                    "after": {"state": state},
                }
                for _, deal, action, before, state in events
            ]
        )
    versions, requests, records = {}, [], []
    for deal, steps in zip(deals, plans, strict=True):
        reached = {action: at for action, _, at in steps}
        if "deal.submitted_for_review" not in reached:
            continue
        versions[deal.pk] = ContractVersion(
            deal=deal,
            number=1,
            template=template,
            snapshot={},
            content_hash=f"{deal.pk:064d}",
            created_by=bot,
        )
    ContractVersion.objects.bulk_create(versions.values())
    for deal, steps in zip(deals, plans, strict=True):
        reached = {action: at for action, _, at in steps}
        if "deal.approved" in reached:
            request = ApprovalRequest(
                deal=deal,
                contract_version=versions[deal.pk],
                content_hash=versions[deal.pk].content_hash,
                step=1,
                group=groups[deal.pk % len(groups)],
                state="approved",
                decided_at=reached["deal.approved"],
            )
            requests.append((request, reached["deal.submitted_for_review"]))
        if "deal.paid" in reached:
            signed, paid = reached["deal.signed"].date(), reached["deal.paid"].date()
            records.append(
                BillingRecord(
                    deal=deal,
                    version=versions[deal.pk],
                    backend="local",
                    state="created",
                    signed_on=signed,
                    first_paid_on=paid,
                    days_to_first_payment=(paid - signed).days,
                )
            )
    ApprovalRequest.objects.bulk_create([r for r, _ in requests])
    for request, asked in requests:  # created_at is auto_now_add: set it to when it was asked
        ApprovalRequest.objects.filter(pk=request.pk).update(created_at=asked)
    BillingRecord.objects.bulk_create(records)
    settle(
        "audit_auditevent", "dealdesk_deal", "approvals_approvalrequest", "billing_billingrecord"
    )


def counted(get) -> tuple[object, int]:
    from django.db import connection

    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        result = get()
    return result, len(queries)


def measure(label: str, client, url: str) -> int:
    client.get(url)  # the session's activity stamp falls due once (see bench_deal_list)
    response, queries = counted(lambda: client.get(url))
    assert response.status_code == 200, response.status_code
    samples = timed(lambda: client.get(url), runs=20, warmup=2)
    report(f"{label}: median", median(samples), "ms", "≤ 300 ms")
    report(f"{label}: p95", percentile(samples, 95), "ms")
    return queries


def main() -> None:
    kind = parse_db_arg(__doc__)
    with django_database(kind):
        from django.contrib.auth.models import Group, User
        from django.test import Client

        from audit.models import AuditEvent

        desk = User.objects.create_user("bench.desk")
        desk.groups.add(Group.objects.get(name="Deal Desk"))
        client = Client()
        client.force_login(desk)
        rng = random.Random(16)

        build(10, rng)
        small = measure(f"dashboard, 10 deals [{kind}]", client, "/insights/")
        build(DEALS - 10, rng)
        report(f"  audit events for {DEALS:,} deals", AuditEvent.objects.count(), "events")
        for name, url in [
            ("last 12 weeks", "/insights/"),
            ("last 4 weeks", "/insights/?preset=4w"),
            ("one owner", "/insights/?owner=ae03"),
        ]:
            queries = measure(f"dashboard, {DEALS:,} deals, {name} [{kind}]", client, url)
            report(f"  queries ({name}) vs {small} with 10 deals", queries, "queries", "≤")
            if queries > small:
                raise SystemExit(f"query count grew: {queries} vs {small}")
        listing = "/insights/deals/?metric=stage:drafted"
        measure(f"deals behind a figure, {DEALS:,} deals [{kind}]", client, listing)

        def export() -> None:
            response = client.get("/insights/export.csv")
            assert response.status_code == 200
            b"".join(response.streaming_content)

        report(f"CSV export, {DEALS:,} deals [{kind}]: median", median(timed(export, runs=5)), "ms")


if __name__ == "__main__":
    main()
