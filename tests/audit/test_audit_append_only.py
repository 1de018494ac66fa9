import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from audit.models import AppendOnlyError, AuditEvent
from audit.services import audit_record


@pytest.fixture
def event(alice):
    return audit_record(actor=alice, action="deal.approved", obj=alice, reason="ok")


def unchanged(event) -> bool:
    stored = AuditEvent.objects.get(pk=event.pk)
    return (stored.seq, stored.reason, stored.hash) == (event.seq, "ok", event.hash)


@pytest.mark.django_db
def test_save_of_an_existing_event_is_refused(event):
    stored = AuditEvent.objects.get(pk=event.pk)
    stored.reason = "rewritten"
    with pytest.raises(AppendOnlyError, match="append-only"):
        stored.save()
    assert unchanged(event)


@pytest.mark.django_db
def test_a_copy_with_the_same_pk_cannot_overwrite(event):
    copy = AuditEvent.objects.get(pk=event.pk)
    copy._state.adding = True
    copy.reason = "rewritten"
    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save()  # forced insert, never an UPDATE
    assert unchanged(event)


@pytest.mark.django_db
def test_delete_is_refused(event):
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.get(pk=event.pk).delete()
    assert unchanged(event)


@pytest.mark.django_db
def test_queryset_update_and_delete_are_refused(event):
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(reason="rewritten")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    stored = AuditEvent.objects.get(pk=event.pk)
    stored.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_update([stored], ["reason"])
    assert unchanged(event)


@pytest.mark.django_db
def test_an_actor_with_events_cannot_be_deleted(event, alice):
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        alice.delete()
    assert unchanged(event)


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditevent SET reason = 'rewritten'",
        "DELETE FROM audit_auditevent",
        "TRUNCATE audit_auditevent",
        "TRUNCATE audit_auditevent, audit_auditchainhead",
    ],
)
def test_trigger_refuses_raw_sql(event, sql):
    with connection.cursor() as cursor:
        # Run the deferred foreign-key checks of the insert now: PostgreSQL refuses a
        # TRUNCATE in a transaction with pending trigger events before any trigger fires.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with (
        pytest.raises(DatabaseError, match="audit events are append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert unchanged(event)
