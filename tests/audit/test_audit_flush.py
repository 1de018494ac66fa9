import pytest
from django.core.management import call_command

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
