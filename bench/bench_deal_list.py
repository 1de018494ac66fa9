"""Deal list page with 100,000 deals: server time and query count (vs. 10 deals), and
its CSV export of one state's deals.

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


def counted(get) -> tuple[object, int]:
    """get()'s result and the statements it sent. A wrapper, not CaptureQueriesContext: it
    counts every statement sent, whatever the connection's debug query log keeps across the
    request's connection handling."""
    from django.db import connection

    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        result = get()
    return result, len(queries)


def measure(label: str, client, url: str) -> int:
    # Untimed and uncounted first: the session's activity stamp is written at most once a
    # minute (dealdesk/security/middleware.py), and after a long build it falls due here.
    client.get(url)
    response, queries = counted(lambda: client.get(url))
    assert response.status_code == 200, response.status_code
    samples = timed(lambda: client.get(url), runs=60, warmup=5)
    report(f"{label}: median", median(samples), "ms", "≤ 60 ms")
    report(f"{label}: p95", percentile(samples, 95), "ms", "≤ 120 ms")
    return queries


def measure_export(label: str, client, url: str) -> None:
    """One whole CSV export, streamed and read to the end: time, rows and queries (the
    export loads deals_in_order's rows in chunks, export.CHUNK_SIZE at a time)."""
    from dealdesk.deal_export import CHUNK_SIZE

    def export() -> list[bytes]:
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        return list(response.streaming_content)

    lines, queries = counted(export)
    rows = sum(chunk.count(b"\n") for chunk in lines) - 1
    samples = timed(export, runs=5, warmup=1)
    chunks = -(-rows // CHUNK_SIZE)
    report(f"{label}: median", median(samples), "ms")
    report(f"  rows exported ({label})", rows, "rows")
    report(f"  queries ({label})", queries, "queries", f"≤ {12 + 3 * chunks} (page's + 3 a chunk)")
    if queries > 12 + 3 * chunks:
        raise SystemExit(f"export queries grew with rows: {queries} for {rows} rows")


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
            ("two states, page 40", "/deals/?state=paid&state=in_review&page=40"),
            ("sorted by TCV desc", "/deals/?sort=-tcv"),
            # Every deal is an "expansion": the other word does the narrowing, and the
            # count reads every row to find the few that match.
            ("search of two words", "/deals/?q=expansion+4711"),
        ]
        for name, url in pages:
            queries = measure(f"deal list, {DEALS:,} deals, {name} [{kind}]", client, url)
            # A page with no deal in review skips the waiting-on queries: fewer is fine.
            report(f"  queries ({name}) vs {small} with 10 deals", queries, "queries", "≤")
            if queries > small:
                raise SystemExit(f"query count grew: {queries} vs {small}")
        measure_export(
            f"CSV export, {DEALS:,} deals, state filter [{kind}]",
            client,
            "/deals/export.csv?state=paid",
        )


if __name__ == "__main__":
    main()
