from io import StringIO

import pytest
from django.core.management import call_command, load_command_class
from django.core.management.base import CommandError
from django.db import connection, connections

from audit.services import audit_record


@pytest.fixture
def five_events(alice):
    return [
        audit_record(actor=alice, action="deal.changed", obj=alice, data={"step": n}, reason="r")
        for n in range(1, 6)
    ]


def verify() -> str:
    out = StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_intact_chain_verifies(five_events):
    assert verify() == "verified 5 events\n"


@pytest.mark.django_db
def test_empty_log_verifies():
    assert verify() == "verified 0 events\n"


@pytest.mark.django_db
def test_small_chunks_verify_the_same(five_events):
    out = StringIO()
    call_command("verify_audit", "--chunk-size", "2", stdout=out)
    assert out.getvalue() == "verified 5 events\n"


@pytest.mark.django_db
def test_altered_row_is_named(five_events, tamper):
    tamper("UPDATE audit_auditevent SET reason = 'nothing to see' WHERE seq = 3")
    with pytest.raises(CommandError, match=r"broken at seq 3: hash mismatch"):
        verify()


@pytest.mark.django_db
def test_altered_json_is_named(five_events, tamper):
    # Same text, different value: {"step": 4} instead of {"step": 2}.
    tamper("UPDATE audit_auditevent SET data = %s WHERE seq = 2", ('{"step": 4}',))
    with pytest.raises(CommandError, match=r"broken at seq 2: hash mismatch"):
        verify()


@pytest.mark.django_db
def test_rehashed_row_breaks_the_next_link(five_events, tamper):
    tamper("UPDATE audit_auditevent SET hash = %s WHERE seq = 4", ("f" * 64,))
    with pytest.raises(CommandError, match=r"broken at seq 4: hash mismatch"):
        verify()
    tamper("UPDATE audit_auditevent SET prev_hash = %s WHERE seq = 2", ("e" * 64,))
    with pytest.raises(CommandError, match=r"broken at seq 2: broken link"):
        verify()


@pytest.mark.django_db
def test_deleted_middle_row_is_a_gap(five_events, tamper):
    tamper("DELETE FROM audit_auditevent WHERE seq = 2")
    with pytest.raises(CommandError, match=r"broken at seq 2: gap: seq 2 is missing"):
        verify()


@pytest.mark.django_db
def test_deleted_first_row_is_a_gap(five_events, tamper):
    tamper("DELETE FROM audit_auditevent WHERE seq = 1")
    with pytest.raises(CommandError, match=r"broken at seq 1: gap"):
        verify()


@pytest.mark.django_db
def test_deleted_tail_is_a_head_mismatch(five_events, tamper):
    tamper("DELETE FROM audit_auditevent WHERE seq = 5")
    with pytest.raises(CommandError, match=r"broken at seq 5: head mismatch"):
        verify()


@pytest.mark.django_db
def test_whole_log_deleted_is_a_head_mismatch(five_events, tamper):
    tamper("DELETE FROM audit_auditevent")
    with pytest.raises(CommandError, match=r"broken at seq 1: head mismatch"):
        verify()


@pytest.mark.django_db
def test_head_behind_or_missing_is_a_head_mismatch(five_events, tamper):
    tamper("UPDATE audit_auditchainhead SET last_seq = 4, last_hash = %s", (five_events[3].hash,))
    with pytest.raises(CommandError, match=r"broken at seq 5: head mismatch"):
        verify()
    tamper("UPDATE audit_auditchainhead SET last_seq = 5, last_hash = %s", ("0" * 64,))
    with pytest.raises(CommandError, match=r"broken at seq 5: head mismatch"):
        verify()
    tamper("DELETE FROM audit_auditchainhead")
    with pytest.raises(CommandError, match=r"broken at seq 1: head mismatch: .* missing"):
        verify()


@pytest.mark.django_db
def test_manage_py_exits_non_zero(five_events, tamper, capsys, monkeypatch):
    # run_from_argv closes every connection when done, the test's own included.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    command = load_command_class("audit", "verify_audit")
    command.run_from_argv(["manage.py", "verify_audit"])
    assert capsys.readouterr().out == "verified 5 events\n"

    tamper("UPDATE audit_auditevent SET action = 'deal.approved' WHERE seq = 3")
    with pytest.raises(SystemExit) as exit_info:
        load_command_class("audit", "verify_audit").run_from_argv(["manage.py", "verify_audit"])
    assert exit_info.value.code == 1
    assert "broken at seq 3: hash mismatch" in capsys.readouterr().err


@pytest.mark.django_db
def test_unreadable_event_is_named(five_events, tamper):
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL refuses a timestamp that is not one")
    tamper("UPDATE audit_auditevent SET occurred_at = 'yesterday' WHERE seq = 4")
    with pytest.raises(CommandError, match=r"broken at seq 4: unreadable event"):
        verify()
