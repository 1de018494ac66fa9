"""The chain proof in a pack: each deal event's covering anchor and the segment up to it, a
segment too long left out (the anchor still named), and an altered event refused."""

import pytest

from audit.actions import Action
from audit.evidence import chain_proof as chain_proof_module
from audit.evidence.chain_proof import ChainProofError, chain_proof
from audit.models import AuditEvent
from audit.services import audit_anchor_head, audit_record
from tests.dealdesk.factories import DealFactory

pytestmark = pytest.mark.django_db


def record(obj, reason="x"):
    return audit_record(actor=None, action=Action.DEAL_OWNER_ASSIGNED, obj=obj, reason=reason)


def test_each_event_names_the_first_anchor_at_or_after_it_with_the_segment_to_it():
    ours, other = DealFactory.create_batch(2)
    first = record(ours)
    record(other)
    anchor = audit_anchor_head()
    second = record(ours)
    proof = chain_proof(deal_events=[first.seq, second.seq])
    by_seq = {e["fields"]["seq"]: e for e in proof.events}
    assert by_seq[first.seq]["anchor_seq"] == anchor.seq
    assert by_seq[second.seq]["anchor_seq"] is None  # not yet anchored
    assert set(range(first.seq, anchor.seq + 1)) <= set(by_seq)  # the segment, other deal's too
    assert not by_seq[anchor.seq]["of_this_deal"]
    assert proof.anchors == [
        {
            "seq": anchor.seq,
            "hash": anchor.hash,
            "anchored_at": anchor.anchored_at,
            "mac": anchor.mac,
        }
    ]


def test_a_segment_too_long_is_left_out_but_its_anchor_is_named(monkeypatch):
    monkeypatch.setattr(chain_proof_module, "MAX_SEGMENT_EVENTS", 2)
    ours, other = DealFactory.create_batch(2)
    event = record(ours)
    for _ in range(3):
        record(other)
    anchor = audit_anchor_head()
    proof = chain_proof(deal_events=[event.seq])
    assert [e["fields"]["seq"] for e in proof.events] == [event.seq, anchor.seq]
    assert proof.events[0]["segment_omitted"]
    assert proof.events[0]["anchor_seq"] == anchor.seq


def test_an_altered_event_is_not_exported(tamper):
    event = record(DealFactory(), reason="as it was")
    tamper("UPDATE audit_auditevent SET reason = %s WHERE seq = %s", ("rewritten", event.seq))
    with pytest.raises(ChainProofError, match=f"audit event {event.seq} does not match"):
        chain_proof(deal_events=[event.seq])
    assert AuditEvent.objects.get(seq=event.seq).reason == "rewritten"
