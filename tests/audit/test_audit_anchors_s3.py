"""Anchors in S3 under Object Lock, through the real boto3 client against a local S3 (moto's
server over HTTP): written locked in compliance mode, read back by verify_audit, and beyond
anyone's reach to delete."""

from datetime import UTC, datetime
from io import StringIO

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from moto.server import ThreadedMotoServer

from audit.anchors import S3AnchorStore, anchor_store
from audit.services import audit_record
from tests.audit.test_audit_anchors import rewind_head_to, verify

BUCKET, PREFIX = "dealdesk-audit", "anchors"


@pytest.fixture
def s3(settings, monkeypatch):
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    # moto keeps its buckets per process, not per server: start every test from none.
    requests.post(f"http://{host}:{port}/moto-api/reset", timeout=10).raise_for_status()
    for name, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)  # the environment boto3 reads, not the SDK
    settings.AUDIT_ANCHOR_S3_ENDPOINT_URL = f"http://{host}:{port}"
    settings.AUDIT_ANCHOR_URL = f"s3://{BUCKET}/{PREFIX}"
    client = boto3.client("s3", endpoint_url=settings.AUDIT_ANCHOR_S3_ENDPOINT_URL)
    yield client
    server.stop()


@pytest.fixture
def locked_bucket(s3):
    s3.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
    return s3


@pytest.fixture
def anchored_five(locked_bucket, alice) -> int:
    for n in range(5):
        event = audit_record(actor=alice, action="deal.changed", obj=alice, data={"n": n})
    call_command("anchor_audit", stdout=StringIO())
    return event.seq


@pytest.mark.django_db
def test_an_s3_anchor_is_written_locked_in_compliance_mode(anchored_five, locked_bucket):
    assert isinstance(anchor_store(), S3AnchorStore)
    (anchor,) = anchor_store().read()
    assert anchor.seq == anchored_five
    assert anchor.authentic
    (entry,) = locked_bucket.list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}/")["Contents"]
    head = locked_bucket.head_object(Bucket=BUCKET, Key=entry["Key"])
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"] > datetime.now(UTC).replace(year=2030)
    assert verify() == f"verified {anchored_five} events\n"


@pytest.mark.django_db
def test_an_s3_anchor_cannot_be_deleted(anchored_five, locked_bucket):
    (entry,) = locked_bucket.list_object_versions(Bucket=BUCKET, Prefix=f"{PREFIX}/")["Versions"]
    with pytest.raises(ClientError, match="AccessDenied"):
        locked_bucket.delete_object(Bucket=BUCKET, Key=entry["Key"], VersionId=entry["VersionId"])
    assert len(anchor_store().read()) == 1


@pytest.mark.django_db
def test_a_truncated_tail_is_detected_against_an_s3_anchor(anchored_five, tamper):
    seq = anchored_five
    tamper("DELETE FROM audit_auditevent WHERE seq > %s", (seq - 2,))
    rewind_head_to(seq - 2, tamper)
    with pytest.raises(CommandError, match=rf"broken at seq {seq}: tail truncated"):
        verify()


@pytest.mark.django_db
def test_a_bucket_without_object_lock_is_refused(s3, alice):
    s3.create_bucket(Bucket=BUCKET)
    audit_record(actor=alice, action="deal.changed", obj=alice)
    with pytest.raises(ImproperlyConfigured, match="no Object Lock"):
        call_command("anchor_audit", stdout=StringIO())
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
