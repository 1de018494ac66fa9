"""The chain head is anchored to a write-once store; verify_audit checks the chain against
every anchor, so a deleted tail with the head rewound to match, or a rewritten tail, is caught."""

import json
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.anchors import Anchor, FileAnchorStore, anchor_store
from audit.models import AuditEvent
from audit.services import audit_anchor_head, audit_record
from audit.tasks import anchor as anchor_task
from audit.verify import verify_chain


def verify() -> str:
    out = StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


@pytest.fixture
def anchored_five(alice) -> int:
    """Five events, the head anchored on the last: its seq."""
    for n in range(5):
        event = audit_record(actor=alice, action="deal.changed", obj=alice, data={"n": n})
    call_command("anchor_audit", stdout=StringIO())
    return event.seq


def rewind_head_to(seq: int, tamper) -> None:
    tamper(
        "UPDATE audit_auditchainhead SET last_seq = %s, last_hash = %s, last_prev_hash = %s",
        (seq, AuditEvent.objects.get(seq=seq).hash, AuditEvent.objects.get(seq=seq).prev_hash),
    )


@pytest.mark.django_db
def test_anchor_audit_writes_the_head_with_its_hmac(anchored_five, anchor_file):
    (line,) = anchor_file.read_text().splitlines()
    anchor = Anchor(**json.loads(line))
    assert (anchor.seq, anchor.hash) == (anchored_five, AuditEvent.objects.last().hash)
    assert anchor.authentic
    assert verify() == f"verified {anchored_five} events\n"


@pytest.mark.django_db
def test_the_anchor_file_is_only_ever_appended_to(anchored_five, anchor_file, alice):
    first = anchor_file.read_bytes()
    audit_record(actor=alice, action="deal.changed", obj=alice)
    audit_anchor_head()
    anchor_task()  # the hourly beat job: the same head once more
    after = anchor_file.read_bytes()
    assert after.startswith(first)
    seq = anchored_five
    assert [a.seq for a in anchor_store().read()] == [seq, seq + 1, seq + 1]
    assert verify() == f"verified {seq + 1} events\n"


@pytest.mark.django_db
def test_truncated_tail_with_the_head_rewound_is_detected(anchored_five, tamper):
    seq = anchored_five
    tamper("DELETE FROM audit_auditevent WHERE seq > %s", (seq - 2,))
    rewind_head_to(seq - 2, tamper)
    assert verify_chain().ok  # the chain and its head alone no longer tell
    with pytest.raises(
        CommandError, match=rf"broken at seq {seq}: tail truncated: seq {seq}, anchored"
    ):
        verify()


@pytest.mark.django_db
def test_head_rewound_below_an_anchor_is_detected(anchored_five, tamper):
    seq = anchored_five
    rewind_head_to(seq - 2, tamper)
    with pytest.raises(
        CommandError, match=rf"broken at seq {seq}: head rewound: the head is at seq {seq - 2}"
    ):
        verify()


@pytest.mark.django_db
def test_a_tail_replaced_after_rewinding_no_longer_matches_its_anchor(anchored_five, tamper, alice):
    seq = anchored_five
    tamper("DELETE FROM audit_auditevent WHERE seq > %s", (seq - 2,))
    rewind_head_to(seq - 2, tamper)
    # Appended by the application itself, so correctly keyed: only the anchor knows better.
    for n in range(2):
        audit_record(actor=alice, action="deal.changed", obj=alice, data={"n": -n})
    with pytest.raises(CommandError, match=rf"broken at seq {seq}: anchored hash mismatch"):
        verify()


@pytest.mark.django_db
def test_an_anchor_without_the_keys_hmac_is_refused(anchored_five, anchor_file):
    seq = anchored_five - 1
    forged = Anchor(seq=seq, hash=AuditEvent.objects.get(seq=seq).hash, anchored_at="x", mac="0")
    FileAnchorStore(anchor_file).append(forged)
    with pytest.raises(CommandError, match=rf"broken at seq {seq}: forged anchor"):
        verify()


@pytest.mark.django_db
def test_garbage_in_the_anchor_file_fails_verification(anchored_five, anchor_file):
    with anchor_file.open("a") as f:
        f.write("not json\n")
    with pytest.raises(CommandError, match=r"anchors unreadable: .*line 2"):
        verify()


def test_an_hourly_beat_entry_runs_the_anchor_task():
    entry = django_settings.CELERY_BEAT_SCHEDULE["audit-anchor-hourly"]
    assert entry["task"] == anchor_task.name == "audit.anchor"
    assert entry["schedule"].minute == {0}
    assert len(entry["schedule"].hour) == 24
