"""Audit log: writing events (one transaction each, and in batches), and verifying a 100,000-event chain.

.venv/bin/python bench/bench_audit.py --db sqlite|postgres
"""

import datetime
import io
import multiprocessing
import sys
import time
from multiprocessing.synchronize import Barrier
from pathlib import Path

# Runs as a script from the repository root: make `bench` and the apps importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import django_database, median, parse_db_arg, report, timed

WRITES = 10_000
PASSES = 5  # of WRITES events each; with the others, the chain stays under CHAIN_LENGTH
CHAIN_LENGTH = 100_000
BATCH = 5_000
BATCHED = 100
BULK = 1_000
WRITER_PROCESSES = (2, 4)


def event(actor, n: int) -> dict:
    return {
        "actor": actor,
        "action": "deal.changed",
        "obj": actor,
        "before": {"state": "draft"},
        "after": {"state": "in_review", "n": n},
        "reason": "benchmark",
    }


def bench_writes() -> None:
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from audit.services import audit_record, audit_record_many

    actor = get_user_model().objects.create_user(username="bench-actor")

    def write(n: int) -> None:
        audit_record(**event(actor, n))

    # Several passes and their median, like the other figures: one pass is a few seconds, and
    # this VM's speed swings from one few seconds to the next.
    def write_all() -> None:
        for n in range(WRITES):
            # Outside any transaction, so each call commits on its own, as a task or view does.
            write(n)

    rates = [WRITES / (ms / 1000) for ms in timed(write_all, runs=PASSES, warmup=0)]
    report(
        f"audit_record, own transaction each ({WRITES:,} events, median of {PASSES})",
        median(rates),
        "events/s",
        ">= 2000/s on PostgreSQL",
    )
    report(f"  slowest of the {PASSES}", min(rates), "events/s")
    report(f"  fastest of the {PASSES}", max(rates), "events/s")
    # For comparison: a batch job (a CRM sync page, a bank statement import) writes many
    # events in one transaction.
    start = time.perf_counter()
    for first in range(0, WRITES, BATCHED):
        with transaction.atomic():
            for n in range(first, first + BATCHED):
                write(n)
    seconds = time.perf_counter() - start
    report(
        f"audit_record, {BATCHED} per transaction ({WRITES:,} events)",
        WRITES / seconds,
        "events/s",
    )
    # And how bulk work appends (audit_record_many: one head lock and one insert per batch).
    start = time.perf_counter()
    for first in range(0, WRITES, BULK):
        audit_record_many(events=[event(actor, n) for n in range(first, first + BULK)])
    seconds = time.perf_counter() - start
    report(
        f"audit_record_many, {BULK:,} per call ({WRITES:,} events)", WRITES / seconds, "events/s"
    )


def write_events(actor_pk: int, numbers: range, start: Barrier) -> None:
    """One writer process: its own connection, one transaction per event."""
    from django.contrib.auth import get_user_model

    from audit.services import audit_record

    actor = get_user_model().objects.get(pk=actor_pk)
    start.wait()
    for n in numbers:
        audit_record(**event(actor, n))


def bench_concurrent_writes() -> None:
    """Several processes appending at once, as web and Celery workers do: each waits for its
    own round trip, and the chain head lock is held only while the database runs the append."""
    from django.contrib.auth import get_user_model
    from django.db import connections

    actor = get_user_model().objects.get(username="bench-actor")
    context = multiprocessing.get_context("fork")
    for writers in WRITER_PROCESSES:
        # A forked child must open its own connection, not share the parent's socket.
        connections.close_all()
        start = context.Barrier(writers + 1)
        share = WRITES // writers
        processes = [
            context.Process(
                target=write_events, args=(actor.pk, range(k * share, (k + 1) * share), start)
            )
            for k in range(writers)
        ]
        for process in processes:
            process.start()
        start.wait()
        began = time.perf_counter()
        for process in processes:
            process.join()
        seconds = time.perf_counter() - began
        if any(process.exitcode for process in processes):
            raise SystemExit(f"a writer process failed: {[p.exitcode for p in processes]}")
        report(
            f"audit_record, {writers} writer processes ({WRITES:,} events)",
            WRITES / seconds,
            "events/s",
        )


def extend_chain_to(length: int) -> None:
    """Append valid events (hashed by audit.chain) with bulk_create, then move the head."""
    from django.db import transaction
    from django.utils import timezone

    from audit.chain import event_hash, normalise_json
    from audit.models import AuditChainHead, AuditEvent

    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().get()
        next_seq, prev_hash, before_last = head.last_seq + 1, head.last_hash, head.last_prev_hash
        base_time = timezone.now()
        while next_seq <= length:
            stop = min(next_seq + BATCH, length + 1)
            batch = []
            for seq in range(next_seq, stop):
                fields = {
                    "seq": seq,
                    "occurred_at": base_time + datetime.timedelta(microseconds=seq),
                    "actor_id": None,
                    "actor_username": "system",
                    "action": "billing.invoice_synced",
                    "object_type": "billing.invoice",
                    "object_id": str(seq % 5000),
                    "object_repr": f"Invoice {seq % 5000}",
                    "before": normalise_json({"status": "open"}),
                    "after": normalise_json({"status": "paid", "amount": "1250.00"}),
                    "data": normalise_json({"stripe_id": f"in_{seq:08d}", "attempt": 1}),
                    "reason": "",
                }
                digest = event_hash(fields, prev_hash)
                batch.append(AuditEvent(**fields, prev_hash=prev_hash, hash=digest))
                before_last, prev_hash = prev_hash, digest
            AuditEvent.objects.bulk_create(batch)
            next_seq = stop
        AuditChainHead.objects.filter(pk=head.pk).update(
            last_seq=length, last_prev_hash=before_last, last_hash=prev_hash
        )


def bench_verify() -> None:
    from django.core.management import call_command

    extend_chain_to(CHAIN_LENGTH)
    outputs = []

    def verify() -> None:
        out = io.StringIO()
        call_command("verify_audit", stdout=out)
        outputs.append(out.getvalue().strip())

    samples = timed(verify, runs=3, warmup=0)
    assert outputs == [f"verified {CHAIN_LENGTH} events"] * 3, outputs
    report(
        f"verify_audit over {CHAIN_LENGTH:,} events (median of 3)",
        median(samples) / 1000,
        "s",
        "<= 5 s",
    )


def main() -> None:
    kind = parse_db_arg(__doc__.splitlines()[0])
    with django_database(kind):
        bench_writes()
        if kind == "postgres":
            bench_concurrent_writes()
        # The chain verified below holds every event written above: none forked it.
        bench_verify()


if __name__ == "__main__":
    main()
