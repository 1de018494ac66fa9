from functools import partial

import pytest
from django.core.management import call_command

from audit.models import AuditChainHead, AuditEvent
from audit.services import audit_record
from tests.concurrency import at_once, raised

THREADS, EVENTS_EACH = 8, 25


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_neither_fork_nor_leave_gaps():
    def write(worker: int) -> None:
        for n in range(EVENTS_EACH):
            # Each call is its own transaction (autocommit), as in the app.
            audit_record(
                actor=None,
                action="test.concurrent",
                object_type="test.worker",
                object_id=str(worker),
                data={"n": n},
            )

    assert raised(at_once(*(partial(write, worker) for worker in range(THREADS)))) == []
    total = THREADS * EVENTS_EACH
    rows = list(AuditEvent.objects.values_list("seq", "prev_hash", "hash"))
    assert [seq for seq, _, _ in rows] == list(range(1, total + 1))
    assert all(rows[i][1] == rows[i - 1][2] for i in range(1, total))
    assert len({prev for _, prev, _ in rows}) == total  # no parent has two children
    for worker in range(THREADS):
        mine = AuditEvent.objects.filter(object_id=str(worker)).values_list("data", flat=True)
        assert [d["n"] for d in mine] == list(range(EVENTS_EACH))
    assert AuditChainHead.objects.get().last_seq == total
    call_command("verify_audit")
