"""The chain is keyed (AUDIT_CHAIN_KEY): whoever can write the database but lacks the key
cannot rewrite events and recompute their hashes; events from before the key still verify."""

import hmac
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.chain import LAPTOP_CHAIN_KEY, canonical_json, cutover_seal, event_hash
from audit.checks import check_chain_key
from audit.models import AuditChainHead, AuditEvent
from audit.services import audit_record, audit_record_many
from tests.dealdesk.test_settings import PRODUCTION, _manage, production_env


def verify() -> str:
    out = StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


def record(count: int, alice) -> list[AuditEvent]:
    return [
        audit_record(actor=alice, action="deal.changed", obj=alice, data={"n": n}, reason="r")
        for n in range(count)
    ]


def rehash_from(seq: int, *, tamper, hashed_fields, keyed: bool, edit=None) -> None:
    """What a database administrator without the key can do: rewrite events from `seq` on,
    recompute every hash after them (plain SHA-256, or HMAC under a key of their own) and
    move the head onto the new last hash."""
    events = list(AuditEvent.objects.filter(seq__gte=seq).order_by("seq"))
    prev_hash = events[0].prev_hash
    for event in events:
        fields = hashed_fields(event)
        if edit and event.seq == seq:
            fields.update(edit)
        digest = event_hash(fields, prev_hash, keyed=keyed)
        tamper(
            "UPDATE audit_auditevent SET reason = %s, prev_hash = %s, hash = %s WHERE seq = %s",
            (fields["reason"], prev_hash, digest, event.seq),
        )
        last_prev_hash, prev_hash = prev_hash, digest
    tamper(
        "UPDATE audit_auditchainhead SET last_prev_hash = %s, last_hash = %s",
        (last_prev_hash, prev_hash),
    )


@pytest.mark.django_db
def test_hashes_are_hmacs_under_the_key_not_plain_sha256(alice, hashed_fields, settings):
    event = record(1, alice)[0]
    fields = hashed_fields(AuditEvent.objects.get(seq=event.seq))
    assert event.hash == event_hash(fields, event.prev_hash)
    assert event.hash != event_hash(fields, event.prev_hash, keyed=False)
    content = canonical_json({name: value for name, value in fields.items() if name != "seq"})
    message = f"{content}|{event.seq}|{event.prev_hash}".encode()
    assert event.hash == hmac.digest(settings.AUDIT_CHAIN_KEY.encode(), message, "sha256").hex()
    # Keys longer than SHA-256's block are hashed first, as RFC 2104 says.
    settings.AUDIT_CHAIN_KEY = "k" * 100
    assert event_hash(fields, event.prev_hash) == hmac.digest(b"k" * 100, message, "sha256").hex()


@pytest.mark.django_db
def test_rewrite_with_recomputed_sha256_hashes_is_detected(alice, tamper, hashed_fields):
    seq = record(5, alice)[2].seq
    rehash_from(
        seq, tamper=tamper, hashed_fields=hashed_fields, keyed=False, edit={"reason": "nothing"}
    )
    with pytest.raises(CommandError, match=rf"broken at seq {seq}: hash mismatch"):
        verify()


@pytest.mark.django_db
def test_rewrite_with_hmacs_under_another_key_is_detected(alice, tamper, hashed_fields, settings):
    seq = record(5, alice)[2].seq
    key = settings.AUDIT_CHAIN_KEY
    settings.AUDIT_CHAIN_KEY = "the-administrators-own-guess-at-a-key"
    rehash_from(seq, tamper=tamper, hashed_fields=hashed_fields, keyed=True, edit={"reason": "x"})
    settings.AUDIT_CHAIN_KEY = key
    with pytest.raises(CommandError, match=rf"broken at seq {seq}: hash mismatch"):
        verify()


@pytest.mark.django_db
def test_bulk_appends_are_keyed_like_single_ones(alice, hashed_fields):
    first = record(1, alice)[0]
    assert (
        audit_record_many(
            events=[
                {"actor": alice, "action": "deal.changed", "obj": alice, "data": {"n": n}}
                for n in range(3)
            ]
        )
        == 3
    )
    last = record(1, alice)[0]
    assert last.seq == first.seq + 4
    for event in AuditEvent.objects.filter(seq__gte=first.seq):
        assert event.hash == event_hash(hashed_fields(event), event.prev_hash)
    head = AuditChainHead.objects.get()
    assert (head.last_seq, head.last_hash) == (last.seq, last.hash)
    assert verify() == f"verified {last.seq} events\n"


@pytest.fixture
def legacy_chain(alice, tamper, hashed_fields):
    """Events as written before the keyed chain (plain SHA-256), the cut-over sealed after
    them as migration 0006 seals it, then two events appended by today's code."""
    cut_over = record(3, alice)[-1].seq + 1
    rehash_from(1, tamper=tamper, hashed_fields=hashed_fields, keyed=False)
    tamper(
        "UPDATE audit_auditchainhead SET hmac_from_seq = %s, hmac_from_seal = %s",
        (cut_over, cutover_seal(cut_over)),
    )
    return record(2, alice)


@pytest.mark.django_db
def test_legacy_sha256_events_before_the_cut_over_still_verify(legacy_chain, hashed_fields):
    cut_over = legacy_chain[0].seq
    for event in AuditEvent.objects.all():
        keyed = event.seq >= cut_over
        assert event.hash == event_hash(hashed_fields(event), event.prev_hash, keyed=keyed)
    assert verify() == f"verified {cut_over + 1} events\n"


@pytest.mark.django_db
def test_a_rewritten_legacy_event_is_caught_by_the_first_keyed_event(
    legacy_chain, tamper, hashed_fields
):
    # The last two legacy events rehashed in the old scheme; the first keyed event would
    # need the key to follow suit.
    cut_over = legacy_chain[0].seq
    events = list(AuditEvent.objects.filter(seq__lt=cut_over).order_by("seq"))[-3:]
    prev_hash = events[0].hash
    for event in events[1:]:
        edited = {"reason": "nothing"} if event == events[1] else {}
        fields = hashed_fields(event) | edited
        digest = event_hash(fields, prev_hash, keyed=False)
        tamper(
            "UPDATE audit_auditevent SET reason = %s, prev_hash = %s, hash = %s WHERE seq = %s",
            (fields["reason"], prev_hash, digest, event.seq),
        )
        prev_hash = digest
    tamper("UPDATE audit_auditevent SET prev_hash = %s WHERE seq = %s", (prev_hash, cut_over))
    with pytest.raises(CommandError, match=rf"broken at seq {cut_over}: hash mismatch"):
        verify()


@pytest.mark.django_db
def test_moving_the_cut_over_to_relabel_keyed_events_as_legacy_is_detected(
    alice, tamper, hashed_fields
):
    past_the_end = record(5, alice)[-1].seq + 1
    rehash_from(1, tamper=tamper, hashed_fields=hashed_fields, keyed=False, edit={"reason": "x"})
    # Without the key the seal can only be copied, not made for the new seq.
    tamper("UPDATE audit_auditchainhead SET hmac_from_seq = %s", (past_the_end,))
    with pytest.raises(CommandError, match=rf"broken at seq {past_the_end}: cut-over altered"):
        verify()


def test_check_deploy_refuses_a_missing_or_laptop_key(settings):
    for key in ("", LAPTOP_CHAIN_KEY, "short"):
        settings.AUDIT_CHAIN_KEY = key
        assert [error.id for error in check_chain_key(None)] == ["audit.E001"]
    settings.AUDIT_CHAIN_KEY = "k" * 40
    assert check_chain_key(None) == []


def test_production_refuses_to_start_without_a_chain_key(tmp_path):
    without_key = {k: v for k, v in PRODUCTION.items() if k != "AUDIT_CHAIN_KEY"}
    result = _manage("check", env=without_key)
    assert result.returncode != 0
    assert "ImproperlyConfigured: AUDIT_CHAIN_KEY is not set" in result.stderr
    assert _manage("check", "--deploy", env=production_env(tmp_path)).returncode == 0
