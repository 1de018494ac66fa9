"""Anchors: the chain head (seq, hash, time, and an HMAC over them) written to a write-once
destination, so that deleting the tail of the log and rewinding the head to match is caught.

`AUDIT_ANCHOR_URL` names the destination: `file:///path` (the default, under the var dir) is
a file only ever appended to; `s3://bucket/prefix` is the production destination, one object
per anchor under S3 Object Lock in compliance mode, which nobody (root account included) can
delete or shorten before its retention ends (docs/audit.md).
"""

import hmac
import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit
from urllib.request import url2pathname

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from audit.chain import anchor_mac


class AnchorStoreError(Exception):
    """The anchor store holds something that is not an anchor."""


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str
    anchored_at: str  # ISO-8601, UTC
    mac: str

    @property
    def authentic(self) -> bool:
        # Someone who can write the store but lacks the key cannot add a believable anchor.
        expected = anchor_mac(self.seq, self.hash, self.anchored_at)
        return hmac.compare_digest(self.mac, expected)


class AnchorStore(Protocol):
    def append(self, anchor: Anchor) -> None: ...

    def read(self) -> list[Anchor]: ...


class FileAnchorStore:
    """One JSON line per anchor in a file opened with O_APPEND: nothing is ever rewritten.

    (On a laptop that is a convention, not a guarantee: the file's owner can still edit it.
    `chattr +a` makes it append-only for root too; production anchors to S3 Object Lock.)
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, anchor: Anchor) -> None:
        line = json.dumps(asdict(anchor), sort_keys=True) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            # One write: with O_APPEND it lands whole at the end, whoever else appends.
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self) -> list[Anchor]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        anchors = []
        for number, line in enumerate(lines, start=1):
            try:
                anchors.append(Anchor(**json.loads(line)))
            except (ValueError, TypeError) as exc:
                raise AnchorStoreError(
                    f"{self.path}, line {number}: not an anchor ({exc})"
                ) from exc
        return anchors


class S3AnchorStore:
    """One object per anchor, written under S3 Object Lock (compliance mode, retained for
    AUDIT_ANCHOR_RETENTION_DAYS). Credentials come from the usual AWS environment; an
    S3-compatible store (or the tests' local fake) is reached through
    AUDIT_ANCHOR_S3_ENDPOINT_URL. boto3 is imported only here."""

    def __init__(self, bucket: str, prefix: str) -> None:
        import boto3

        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.client = boto3.client("s3", endpoint_url=settings.AUDIT_ANCHOR_S3_ENDPOINT_URL or None)

    def _key(self, anchor: Anchor) -> str:
        # Sorted by key is sorted by seq, then time: read() needs no other order.
        name = f"{anchor.seq:020d}-{anchor.anchored_at}.json"
        return f"{self.prefix}/{name}" if self.prefix else name

    def _locked(self) -> bool:
        from botocore.exceptions import ClientError

        try:
            lock = self.client.get_object_lock_configuration(Bucket=self.bucket)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ObjectLockConfigurationNotFoundError":
                return False
            raise
        return lock["ObjectLockConfiguration"].get("ObjectLockEnabled") == "Enabled"

    def append(self, anchor: Anchor) -> None:
        if not self._locked():
            # Without Object Lock an anchor is just a file someone can delete.
            raise ImproperlyConfigured(f"S3 bucket {self.bucket} has no Object Lock enabled")
        retain_until = datetime.now(UTC) + timedelta(days=settings.AUDIT_ANCHOR_RETENTION_DAYS)
        self.client.put_object(
            Bucket=self.bucket,
            Key=self._key(anchor),
            Body=json.dumps(asdict(anchor), sort_keys=True).encode(),
            ContentType="application/json",
            ObjectLockMode="COMPLIANCE",
            ObjectLockRetainUntilDate=retain_until,
        )

    def read(self) -> list[Anchor]:
        anchors = []
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}/" if self.prefix else ""
        )
        for page in pages:
            for entry in page.get("Contents", []):
                body = self.client.get_object(Bucket=self.bucket, Key=entry["Key"])["Body"]
                try:
                    anchors.append(Anchor(**json.loads(body.read())))
                except (ValueError, TypeError) as exc:
                    raise AnchorStoreError(f"s3://{self.bucket}/{entry['Key']}: {exc}") from exc
        return anchors


def anchor_store(url: str | None = None) -> AnchorStore:
    """The store `url` (default: AUDIT_ANCHOR_URL) names."""
    url = url or settings.AUDIT_ANCHOR_URL
    parts = urlsplit(url)
    if parts.scheme == "file":
        return FileAnchorStore(Path(url2pathname(parts.path)))
    if parts.scheme == "s3" and parts.netloc:
        return S3AnchorStore(parts.netloc, parts.path)
    raise ImproperlyConfigured(
        f"AUDIT_ANCHOR_URL={url!r}: use file:///path or s3://bucket/prefix (docs/audit.md)"
    )
