"""The chain proof of a pack: a deal's audit events with their hashes and links, the anchors
that cover them, and the chain segment from each event up to its anchor.

A deal's events are scattered through the chain. Each event's hash covers its prev_hash, so
an event proves its own link; the segment from it to the first anchor at or after it (other
deals' events included: an anchor names one seq of the whole chain) lets an auditor walk link
by link to a hash held outside the database (docs/evidence.md).
"""

import bisect
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q

from audit.anchors import Anchor, anchor_store

# _default: the chain's own serialisation of a datetime, so the pack cannot drift from it.
from audit.chain import HASHED_FIELDS, _default, chain_key, event_hash
from audit.models import AuditChainHead, AuditEvent

# A segment longer than this is left out (the anchor is still named): hourly anchors keep
# segments far shorter, and a pack should not carry a day of other deals' events.
MAX_SEGMENT_EVENTS = 5000
CHUNK_SIZE = 2000


class ChainProofError(Exception):
    """The database's events do not recompute: the pack would carry an altered event."""


@dataclass(frozen=True)
class ChainProof:
    head_seq: int
    head_hash: str
    hmac_from_seq: int
    deal_event_seqs: list[int]
    events: list[dict] = field(repr=False)
    anchors: list[dict] = field(repr=False)

    def manifest_entry(self) -> dict:
        return {
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "hmac_from_seq": self.hmac_from_seq,
            "key_id": chain_key_id(),
            "scheme": "HMAC-SHA256(key, canonical JSON of the fields but seq | seq | prev_hash);"
            " plain SHA-256 before hmac_from_seq (audit/chain.py)",
        }


def chain_key_id() -> str:
    """Names the key without giving it away: tells "wrong key" from "altered event"."""
    return hashlib.sha256(b"dealdesk-audit-chain-key-id|" + chain_key()).hexdigest()[:16]


def event_fields(event: AuditEvent) -> dict:
    """The hashed fields as audit/chain.py serialises them (occurred_at in UTC, to the µs)."""
    fields = {name: getattr(event, name) for name in HASHED_FIELDS}
    fields["occurred_at"] = _default(event.occurred_at)
    return fields


class _Anchors:
    """The anchors sorted by seq, and which one covers an event."""

    def __init__(self, anchors: list[Anchor]) -> None:
        self.anchors = sorted(anchors, key=lambda a: a.seq)
        self.seqs = [a.seq for a in self.anchors]

    def covering(self, seq: int) -> Anchor | None:
        """The first anchor whose seq is at or after `seq`."""
        index = bisect.bisect_left(self.seqs, seq)
        return self.anchors[index] if index < len(self.anchors) else None


def chain_proof(*, deal_events: Iterable[int], anchors: list[Anchor] | None = None) -> ChainProof:
    """The proof for the events with these seqs: two queries for the head and the seqs' ranges
    (streamed in chunks), whatever the number of events."""
    head = AuditChainHead.objects.filter(pk=1).values_list("last_seq", "last_hash", "hmac_from_seq")
    head_seq, head_hash, hmac_from_seq = head.first() or (0, "", 1)
    # Only what the head had when we looked: later appends belong to a later pack.
    seqs = sorted(seq for seq in deal_events if seq <= head_seq)
    covering = _Anchors(
        [a for a in (anchor_store().read() if anchors is None else anchors) if a.seq <= head_seq]
    ).covering
    ranges, omitted, named = [], set(), {}
    for seq in seqs:  # ascending, so each range only ever extends the last one
        anchor = covering(seq)
        end = anchor.seq if anchor else seq
        if anchor:
            named[anchor.seq] = anchor
        if end - seq + 1 > MAX_SEGMENT_EVENTS:
            omitted.add(seq)
            end = seq
        if ranges and seq <= ranges[-1][1] + 1:
            ranges[-1][1] = max(ranges[-1][1], end)
        else:
            ranges.append([seq, end])
    condition = Q(seq__in=list(named))  # the anchored events, also where a segment is left out
    for start, end in ranges:
        condition |= Q(seq__range=(start, end))
    deal_seqs = set(seqs)
    events = []
    for event in AuditEvent.objects.filter(condition).order_by("seq").iterator(CHUNK_SIZE):
        fields = event_fields(event)
        keyed = event.seq >= hmac_from_seq
        if event_hash(fields, event.prev_hash, keyed=keyed) != event.hash:
            raise ChainProofError(
                f"audit event {event.seq} does not match its hash: the log was altered "
                "(run manage.py verify_audit); no evidence is exported from it"
            )
        entry = {"fields": fields, "prev_hash": event.prev_hash, "hash": event.hash}
        entry["of_this_deal"] = event.seq in deal_seqs
        if entry["of_this_deal"]:
            anchor = covering(event.seq)
            entry["anchor_seq"] = anchor.seq if anchor else None
            entry["segment_omitted"] = event.seq in omitted
        events.append(entry)
    return ChainProof(
        head_seq=head_seq,
        head_hash=head_hash,
        hmac_from_seq=hmac_from_seq,
        deal_event_seqs=seqs,
        events=events,
        anchors=[
            {"seq": a.seq, "hash": a.hash, "anchored_at": a.anchored_at, "mac": a.mac}
            for a in named.values()
        ],
    )
