import datetime
from decimal import Decimal

import pytest
from django.db import transaction

from audit.chain import GENESIS_HASH, event_hash
from audit.models import AuditChainHead, AuditEvent
from audit.selectors import audit_events_for, audit_events_for_objects
from audit.services import AuditChainError, audit_record


@pytest.mark.django_db
def test_record_chains_events_from_genesis(alice, hashed_fields):
    first = audit_record(actor=alice, action="deal.created", obj=alice, after={"state": "draft"})
    second = audit_record(
        actor=None,
        action="billing.synced",
        object_type="stripe.invoice",
        object_id="in_123",
        reason="nightly sync",
    )

    events = list(AuditEvent.objects.all())
    assert [e.seq for e in events] == [1, 2]
    assert events[0].prev_hash == GENESIS_HASH
    assert events[1].prev_hash == events[0].hash
    for event in events:
        assert event_hash(hashed_fields(event), event.prev_hash) == event.hash
    assert (first.actor_id, first.actor_username) == (alice.pk, "alice")
    assert (first.object_type, first.object_id, first.object_repr) == (
        "auth.user",
        str(alice.pk),
        "alice",
    )
    assert (second.actor_id, second.actor_username) == (None, "system")
    assert (second.object_type, second.object_id, second.object_repr) == (
        "stripe.invoice",
        "in_123",
        "",
    )
    head = AuditChainHead.objects.get()
    assert (head.last_seq, head.last_prev_hash, head.last_hash) == (2, first.hash, second.hash)


@pytest.mark.django_db
def test_awkward_json_round_trips_and_rehashes(alice, hashed_fields):
    data = {
        "amount": Decimal("1234.50"),
        "due": datetime.date(2026, 1, 31),
        "at": datetime.datetime(2026, 1, 31, 12, 30, 15, 123456, tzinfo=datetime.UTC),
        "customer": "Müller & Söhne 株式会社 Ελλάδα ✓",
        "nested": {"z": [1, 2, {"b": None, "a": "ü"}], "a": True},
        "big": 1e20,
        "ratio": 0.1,
        7: "int key",
    }
    recorded = audit_record(
        actor=alice,
        action="deal.priced",
        obj=alice,
        data=data,
        before={"lines": []},
        after={"lines": [{"net": Decimal("10")}]},
        reason="Preis geändert — 価格",
    )

    event = AuditEvent.objects.get(pk=recorded.pk)
    assert event.data == {
        "amount": "1234.50",
        "due": "2026-01-31",
        "at": "2026-01-31T12:30:15.123Z",
        "customer": "Müller & Söhne 株式会社 Ελλάδα ✓",
        "nested": {"z": [1, 2, {"b": None, "a": "ü"}], "a": True},
        "big": 100000000000000000000,
        "ratio": 0.1,
        "7": "int key",
    }
    assert event.after == {"lines": [{"net": "10"}]}
    assert event.occurred_at == recorded.occurred_at
    assert event_hash(hashed_fields(event), event.prev_hash) == recorded.hash


@pytest.mark.django_db
def test_nan_is_refused_and_nothing_is_written(alice):
    with pytest.raises(ValueError, match="Out of range float"):
        audit_record(actor=alice, action="deal.priced", data={"x": float("nan")})
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_event_rolls_back_with_the_callers_transaction(alice):
    def change_that_fails() -> None:
        with transaction.atomic():
            audit_record(actor=alice, action="deal.cancelled", obj=alice)
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        change_that_fails()

    assert not AuditEvent.objects.exists()
    assert AuditChainHead.objects.get().last_seq == 0
    assert audit_record(actor=alice, action="deal.cancelled", obj=alice).seq == 1


@pytest.mark.django_db
def test_anonymous_actor_is_recorded_without_a_user():
    from django.contrib.auth.models import AnonymousUser

    event = audit_record(
        actor=AnonymousUser(),
        action="webhook.received",
        object_type="stripe.event",
        object_id="evt_1",
    )
    assert (event.actor_id, event.actor_username) == (None, "anonymous")


@pytest.mark.django_db
def test_unsaved_object_and_overlong_values_are_refused(django_user_model):
    with pytest.raises(ValueError, match="unsaved"):
        audit_record(actor=None, action="deal.created", obj=django_user_model(username="ghost"))
    with pytest.raises(ValueError, match="action is longer"):
        audit_record(actor=None, action="x" * 101)
    with pytest.raises(ValueError, match="action is required"):
        audit_record(actor=None, action="")
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_long_object_repr_is_cut_to_200():
    long_id = "9" * 255
    first = audit_record(actor=None, action="import.row", object_type="csv.row", object_id=long_id)
    second = audit_record(actor=None, action="audit.exported", obj=first)
    assert (second.object_type, second.object_id) == ("audit.auditevent", str(first.pk))
    assert second.object_repr == str(first)[:200]
    assert len(second.object_repr) == 200


@pytest.mark.django_db
def test_missing_head_is_recreated_only_on_an_empty_log(alice, tamper):
    tamper("DELETE FROM audit_auditchainhead")  # what a test flush leaves behind
    assert audit_record(actor=None, action="system.started").seq == 1

    tamper("DELETE FROM audit_auditchainhead")
    with pytest.raises(AuditChainError, match="head row is missing"), transaction.atomic():
        audit_record(actor=None, action="system.started")
    assert AuditEvent.objects.count() == 1


@pytest.mark.django_db
def test_selectors_return_one_objects_events_in_order(
    alice, django_user_model, django_assert_num_queries
):
    bob = django_user_model.objects.create_user(username="bob")
    audit_record(actor=alice, action="user.changed", obj=bob)
    audit_record(actor=bob, action="user.changed", obj=alice)
    audit_record(actor=alice, action="user.locked", obj=bob)

    with django_assert_num_queries(1):
        events = [(e.seq, e.action, e.actor.username) for e in audit_events_for(obj=bob)]
    assert events == [(1, "user.changed", "alice"), (3, "user.locked", "alice")]

    both = audit_events_for_objects(object_type="auth.user", object_ids=[alice.pk, bob.pk])
    assert [e.seq for e in both] == [1, 2, 3]
    assert not audit_events_for_objects(object_type="auth.group", object_ids=[str(bob.pk)]).exists()
