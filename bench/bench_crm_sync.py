"""CRM sync of a large org through the real simple-salesforce client and a local fake.

20,000 won opportunities with 80,000 lines, 5,000 accounts and 200 products, served by
tests/dealdesk/fake_salesforce.py in its own process. `manage.py sync_crm --full` runs in a
child process so its peak memory (ru_maxrss from wait4) is the sync's alone. Measured: a full
sync from an empty database, then a full re-sync with no changes (every record fetched and
compared again; rows written counted over every table, history and audit included).

What is measured: the sync and the enqueue of each new deal's pipeline step, as in
production with a broker (kombu's in-memory transport here). The step itself (classify and
price) runs on the workers afterwards and is not in these figures.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import ROOT, django_database, parse_db_arg, report

OPPORTUNITIES = 20_000
LINES_PER_OPPORTUNITY = 4
ACCOUNTS = 5_000
PRODUCTS = 200
OWNERS = 40


def bundle() -> dict[str, list[dict]]:
    from tests.dealdesk.crm_records import account, line, opportunity, product

    accounts = [account(f"001B{n:011d}", f"Account {n}", at=n % 600) for n in range(ACCOUNTS)]
    products = [product(f"01tB{n:011d}", f"SKU-{n:04d}", f"Product {n}") for n in range(PRODUCTS)]
    opportunities, lines = [], []
    for n in range(OPPORTUNITIES):
        crm_id = f"006B{n:011d}"
        opportunities.append(
            opportunity(
                crm_id,
                f"001B{n % ACCOUNTS:011d}",
                at=n % 900,
                OwnerId=f"005B{n % OWNERS:011d}",
                Contract_Term_Months__c=12 + 12 * (n % 3),
            )
        )
        for k in range(LINES_PER_OPPORTUNITY):
            lines.append(
                line(
                    f"00kB{n:09d}{k:02d}",
                    crm_id,
                    f"SKU-{(n + k * 7) % PRODUCTS:04d}",
                    quantity=1 + (n + k) % 50,
                    price=100.0 + k,
                    Discount=float(n % 20),
                    Segment_Index__c=1,
                    at=n % 900,
                )
            )
    return {
        "Account": accounts,
        "Product2": products,
        "Opportunity": opportunities,
        "OpportunityLineItem": lines,
        "OpportunityContactRole": [],
    }


def map_owners() -> None:
    """The sales team, mapped to its CRM users as an admin does (admin → CRM owners)."""
    from django.contrib.auth import get_user_model

    from dealdesk.crm.models import CrmOwner

    for n in range(OWNERS):
        user = get_user_model().objects.create_user(username=f"bench-ae-{n}")
        CrmOwner.objects.create(salesforce_user_id=f"005B{n:011d}", user=user)


def sync(env: dict) -> tuple[float, float, dict]:
    """Seconds, peak RSS (MB) and the counts of one `sync_crm --full` in a child process."""
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "manage.py", "sync_crm", "--full"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"sync_crm failed ({status}): {out[-2000:]}")
    summary = json.loads(out.strip().splitlines()[-1])
    return seconds, usage.ru_maxrss / 1024, summary


def _phases(summary: dict) -> str:
    return ", ".join(f"{name} {c['seconds']}" for name, c in summary["counts"].items())


def main() -> None:
    kind = parse_db_arg(__doc__)
    with django_database(kind):
        from django.db import connection

        from tests.dealdesk.crm_records import row_counts

        # The fake builds the org itself: a child's peak RSS counts what it inherited, so
        # this process must not hold the 105,000 records.
        fake = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                str(ROOT / "tests" / "dealdesk" / "fake_salesforce.py"),
                "bench.bench_crm_sync:bundle",
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            port = int(fake.stdout.readline())
            url = os.environ["DATABASE_URL"]
            if kind == "postgres":
                # The harness made a fresh test database; the child must use it too.
                url = urlunparse(
                    urlparse(url)._replace(path="/" + connection.settings_dict["NAME"])
                )
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "DJANGO_SETTINGS_MODULE": "dealdesk.settings",
                "CRM_BACKEND": "salesforce",
                "SALESFORCE_INSTANCE_URL": f"http://127.0.0.1:{port}",
                "SALESFORCE_SESSION_ID": "test-session",
                "CELERY_BROKER_URL": "memory://localhost/",
                "LOG_LEVEL": "WARNING",
            }
            map_owners()
            connection.close()
            seconds, peak_mb, summary = sync(env)
            created = summary["counts"]["Opportunity"]["created"]
            before = sum(row_counts().values())
            report(f"full sync ({created:,} deals, {kind})", seconds, "s", "<= 30 s")
            print("  seconds per object:", _phases(summary), flush=True)
            report("full sync peak memory (RSS)", peak_mb, "MB", "<= 300 MB")
            connection.close()
            seconds, peak_mb, summary = sync(env)
            written = sum(row_counts().values()) - before
            report(f"re-sync, no changes ({kind})", seconds, "s", "<= 10 s")
            print("  seconds per object:", _phases(summary), flush=True)
            report("re-sync peak memory (RSS)", peak_mb, "MB", "<= 300 MB")
            report("re-sync rows written (all tables but the run log)", written, "rows", "0")
            assert created == OPPORTUNITIES, summary
        finally:
            fake.terminate()
            fake.wait()


if __name__ == "__main__":
    main()
