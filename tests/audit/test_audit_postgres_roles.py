"""On PostgreSQL the chain head is guarded like the events, and the application's role
(docs/audit.md: no owner rights, no UPDATE/DELETE on events) cannot switch the guards off."""

import pytest
from django.db import DatabaseError, connection, transaction

from audit.models import AuditChainHead
from audit.services import audit_record, audit_record_many

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

APP_ROLE = "dealdesk_audit_test_app"


@pytest.fixture
def three_events(alice):
    return [audit_record(actor=alice, action="deal.changed", obj=alice) for _ in range(3)]


def head() -> tuple:
    return AuditChainHead.objects.values_list("last_seq", "last_hash").get()


def refused(sql: str, params: tuple = (), match: str = "") -> None:
    with (
        pytest.raises(DatabaseError, match=match),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditchainhead SET last_seq = last_seq - 1",  # rewound
        "UPDATE audit_auditchainhead SET last_hash = md5('x') || md5('y')",  # rewritten
        # moved past events that are not there
        "UPDATE audit_auditchainhead SET last_seq = last_seq + 5",
        "UPDATE audit_auditchainhead SET hmac_from_seq = hmac_from_seq + 1",  # cut-over moved
        "DELETE FROM audit_auditchainhead",
        "TRUNCATE audit_auditchainhead",
    ],
)
def test_head_guard_refuses_what_no_append_does(three_events, sql):
    before = head()
    with connection.cursor() as cursor:
        # Run the deferred checks of the inserts now: PostgreSQL refuses a TRUNCATE in a
        # transaction with pending trigger events before any trigger fires.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    refused(sql, match="moves only forward")
    assert head() == before


def test_head_guard_lets_single_and_bulk_appends_through(three_events, alice):
    audit_record_many(events=[{"actor": alice, "action": "deal.changed"} for _ in range(4)])
    last = audit_record(actor=alice, action="deal.changed")
    assert last.seq == three_events[-1].seq + 5
    assert head() == (last.seq, last.hash)


def test_the_app_role_cannot_disable_triggers_nor_change_events_but_can_append(three_events):
    with connection.cursor() as cursor:
        # Rolled back with the test's transaction, role included (roles are transactional).
        cursor.execute(f"CREATE ROLE {APP_ROLE} NOLOGIN")
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")
        cursor.execute(f"GRANT SELECT, INSERT ON audit_auditevent TO {APP_ROLE}")
        cursor.execute(f"GRANT USAGE ON SEQUENCE audit_auditevent_id_seq TO {APP_ROLE}")
        cursor.execute(f"GRANT SELECT, UPDATE ON audit_auditchainhead TO {APP_ROLE}")
        cursor.execute(f"SET LOCAL ROLE {APP_ROLE}")
    try:
        for sql in (
            "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only_row",
            "ALTER TABLE audit_auditchainhead DISABLE TRIGGER USER",
            "DROP TRIGGER audit_chain_head_guard_row ON audit_auditchainhead",
        ):
            refused(sql, match="must be owner")
        refused("SET session_replication_role = replica", match="permission denied")
        refused("UPDATE audit_auditevent SET reason = 'x'", match="permission denied")
        refused("DELETE FROM audit_auditevent", match="permission denied")
        refused("TRUNCATE audit_auditevent", match="permission denied")
        refused("UPDATE audit_auditchainhead SET last_seq = 0", match="moves only forward")
        refused("DELETE FROM audit_auditchainhead", match="permission denied")

        event = audit_record(actor=None, action="system.started")
        assert event.seq == three_events[-1].seq + 1
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone() == (APP_ROLE,)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
    assert head() == (event.seq, event.hash)
