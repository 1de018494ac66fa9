"""The outbox: how fast the sweep hands due steps to the broker, and what writing a step
with its transition costs.

`--db sqlite|postgres`. The broker is a throwaway Redis (redis-server from Debian's package)
when one is installed, else Celery's in-memory transport (the figure says which).
1. 10,000 due outbox messages are dispatched by `outbox_sweep()` (select what is due, lease
   it, publish it): messages per second, median of five passes.
2. A deal transition that writes its outbox row (and relays it after commit) against the
   transition as it was before the outbox: no row, the next task sent straight to the
   broker after commit. Medians of 300 each, interleaved, and the difference.
"""

import shutil
import socket
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import django_database, median, parse_db_arg, report, settle, timed

MESSAGES = 10_000
TRANSITIONS = 300
DISPATCH_TARGET, OVERHEAD_TARGET_MS = 2_000.0, 1.0


def start_broker() -> tuple[str, subprocess.Popen | None]:
    server = shutil.which("redis-server")
    if server is None:
        return "memory://localhost/", None
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(  # noqa: S603
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(100):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return f"redis://127.0.0.1:{port}/0", proc
        time.sleep(0.05)
    proc.terminate()
    raise SystemExit("redis-server did not start")


def use_broker(url: str) -> None:
    from dealdesk.celery import app

    app.conf.broker_url, app.conf.task_always_eager = url, False
    app._pool = None
    app.amqp._producer_pool = None


def bench_dispatch(db: str) -> None:
    from django.utils import timezone

    from dealdesk.integrations.models import OutboxMessage
    from dealdesk.integrations.outbox import outbox_sweep

    past = timezone.now() - timedelta(minutes=5)
    OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(
                task="dealdesk.tasks.deal_classify_and_price",
                args=[n],
                object_type="dealdesk.deal",
                object_id=str(n),
                state="new",
                next_attempt_at=past,
            )
            for n in range(MESSAGES)
        ],
        batch_size=2_000,
    )
    settle(OutboxMessage._meta.db_table)

    def make_due() -> None:
        OutboxMessage.objects.update(next_attempt_at=past)

    rates = []
    for _ in range(5):
        make_due()
        start = time.perf_counter()
        sent = outbox_sweep()
        rates.append(sent / (time.perf_counter() - start))
        assert sent == MESSAGES, sent
    report(
        f"sweep dispatch, {MESSAGES:,} due messages, median",
        median(rates),
        "msg/s",
        f"≥ {DISPATCH_TARGET:,.0f} on PostgreSQL",
    )


def bench_transition() -> None:
    from django.contrib.auth.models import Group, User
    from django.db import transaction

    from contracts.tasks import contract_void_for_cancelled_deal
    from dealdesk import pipeline, services
    from dealdesk.models import Account

    desk = User.objects.create(username="bench-desk")
    desk.groups.add(Group.objects.get(name="Deal Desk"))
    account = Account.objects.create(crm_id="001OUTBOX", name="Outbox Co", legal_name="Outbox")
    specs = [
        services.DealSpec(
            crm_id=f"006OUTBOX{n:06d}",
            name=f"Deal {n}",
            account=account,
            owner=desk,
            start_date=date(2026, 1, 1),
            term_months=12,
        )
        for n in range(2 * TRANSITIONS + 10)
    ]
    with pipeline.held():
        deals = iter(services.deals_create(specs=specs, actor=services.pipeline_user()))

    def cancel() -> None:
        services.deal_cancel(deal_id=next(deals).pk, actor=desk, reason="bench")

    def cancel_as_before() -> None:
        # Before the outbox: no row; the next task was sent to the broker after commit.
        pk = next(deals).pk
        with pipeline.held(), transaction.atomic():
            services.deal_cancel(deal_id=pk, actor=desk, reason="bench")
            transaction.on_commit(lambda: contract_void_for_cancelled_deal.delay(pk))

    with_step, before = [], []
    for _ in range(TRANSITIONS):  # interleaved, so drift in the machine hits both alike
        with_step += timed(cancel, runs=1, warmup=0)
        before += timed(cancel_as_before, runs=1, warmup=0)
    report("deal transition, outbox row + relay, median", median(with_step), "ms")
    report("deal transition as before (send after commit), median", median(before), "ms")
    report(
        "cost of the outbox row",
        median(with_step) - median(before),
        "ms",
        f"≤ {OVERHEAD_TARGET_MS:.0f} ms",
    )


def main() -> None:
    db = parse_db_arg(__doc__.splitlines()[0])
    url, proc = start_broker()
    try:
        with django_database(db):
            use_broker(url)
            print(f"broker: {url.split(':')[0]}")
            bench_dispatch(db)
            bench_transition()
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
