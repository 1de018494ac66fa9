"""Deal list page with 100,000 deals: server time and query count (vs. 10 deals).

`--db sqlite|postgres`. Deals are bulk-created with history (the history-aware bulk helper),
then the page is requested in-process through Django's test client as a Deal Desk user:
server time is the whole request (middleware, queries, template), without a network.
"""

import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    django_database,
    median,
    parse_db_arg,
    percentile,
    report,
    settle,
    timed,
)

DEALS = 100_000
ACCOUNTS = 5_000
OWNERS = 20
STATES = ["drafting", "in_review", "approved", "out_for_signature", "paid", "invoiced"]


def build(deals: int) -> None:
    from django.contrib.auth.models import Group, User
    from simple_history.utils import bulk_create_with_history

    from dealdesk.models import Account, Deal, DealPattern

    sales = Group.objects.get(name="Sales")
    owners = []
    for n in range(OWNERS):
        owner, created = User.objects.get_or_create(username=f"ae{n:02d}")
        if created:
            owner.groups.add(sales)
        owners.append(owner)
    if not Account.objects.exists():
        bulk_create_with_history(
            [
                Account(crm_id=f"001B{n:011d}", name=f"Account {n}", legal_name=f"Account {n} Inc.")
                for n in range(ACCOUNTS)
            ],
            Account,
            batch_size=2_000,
        )
    accounts = list(Account.objects.values_list("pk", flat=True))
    patterns = list(DealPattern.objects.all())
    have = Deal.objects.count()
    start = date(2026, 1, 1)
    batch = []
    for n in range(have, deals):
        batch.append(
            Deal(
                crm_id=f"006B{n:011d}",
                name=f"Deal {n} — expansion",
                account_id=accounts[n % len(accounts)],
                owner=owners[n % OWNERS],
                pattern=patterns[n % len(patterns)],
                start_date=start + timedelta(days=n % 365),
                term_months=12 * (1 + n % 3),
                state=STATES[n % len(STATES)],
                tcv=Decimal(10_000 + n),
            )
        )
        if len(batch) == 5_000:
            bulk_create_with_history(batch, Deal, batch_size=5_000)
            batch = []
    if batch:
        bulk_create_with_history(batch, Deal, batch_size=5_000)
    settle("dealdesk_deal", "dealdesk_account")


def measure(label: str, client, url: str) -> int:
    from django.db import connection

    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    # A wrapper, not CaptureQueriesContext: it counts every statement sent, whatever the
    # connection's debug query log keeps across the request's connection handling.
    with connection.execute_wrapper(count):
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    samples = timed(lambda: client.get(url), runs=60, warmup=5)
    report(f"{label}: median", median(samples), "ms", "≤ 60 ms")
    report(f"{label}: p95", percentile(samples, 95), "ms", "≤ 120 ms")
    return len(queries)


def main() -> None:
    kind = parse_db_arg(__doc__)
    with django_database(kind):
        from django.contrib.auth.models import Group, User
        from django.test import Client

        desk = User.objects.create_user("bench.desk")
        desk.groups.add(Group.objects.get(name="Deal Desk"))
        client = Client()
        client.force_login(desk)

        build(10)
        small = measure(f"deal list, 10 deals [{kind}]", client, "/deals/")
        build(DEALS)
        pages = [
            ("first page", "/deals/"),
            ("state filter, page 40", "/deals/?state=paid&page=40"),
            ("sorted by TCV desc", "/deals/?sort=-tcv"),
        ]
        for name, url in pages:
            queries = measure(f"deal list, {DEALS:,} deals, {name} [{kind}]", client, url)
            report(f"  queries ({name}) vs {small} with 10 deals", queries, "queries", "equal")
            if queries != small:
                raise SystemExit(f"query count grew: {queries} vs {small}")


if __name__ == "__main__":
    main()
