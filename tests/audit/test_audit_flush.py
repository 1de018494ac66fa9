import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from audit.models import AuditChainHead, AuditEvent
from audit.services import audit_record


@pytest.mark.django_db(transaction=True)
def test_flush_of_the_test_database_empties_the_log_and_the_chain_restarts():
    # Every transactional test ends in a flush; on PostgreSQL it must get past the
    # append-only TRUNCATE trigger (audit/management/commands/flush.py).
    audit_record(actor=None, action="system.started")
    call_command("flush", interactive=False, verbosity=0)

    assert not AuditEvent.objects.exists()
    assert not AuditChainHead.objects.exists()
    assert audit_record(actor=None, action="system.started").seq == 1
    call_command("verify_audit")


@pytest.mark.django_db
def test_flush_is_refused_on_a_real_database_with_audit_events(monkeypatch):
    seq = audit_record(actor=None, action="system.started").seq
    # The connection stays open on the test database; only the name flush judges by changes.
    monkeypatch.setitem(connection.settings_dict, "NAME", "/srv/dealdesk/dealdesk.sqlite3")
    with pytest.raises(CommandError, match="holds audit events"):
        call_command("flush", interactive=False, verbosity=0)
    assert AuditEvent.objects.count() == seq
    assert AuditChainHead.objects.get().last_seq == seq


@pytest.mark.django_db
def test_flush_of_a_real_database_without_audit_events_still_runs(
    monkeypatch, django_user_model, tamper
):
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL's append-only triggers refuse TRUNCATE of the audit tables")
    tamper("DELETE FROM audit_auditevent")  # whatever the migrations recorded
    django_user_model.objects.create_user(username="bob")
    monkeypatch.setitem(connection.settings_dict, "NAME", "/srv/dealdesk/dealdesk.sqlite3")
    call_command("flush", interactive=False, verbosity=0)
    assert not django_user_model.objects.exists()
