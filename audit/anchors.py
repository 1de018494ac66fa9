"""Anchors: the chain head (seq, hash, time, and an HMAC over them) written to a write-once
destination, so that deleting the tail of the log and rewinding the head to match is caught.

`AUDIT_ANCHOR_URL` names the destination: `file:///path` (the default, under the var dir) is
a file only ever appended to. S3 Object Lock is the production destination (docs/audit.md);
it is not implemented yet, and a URL naming it is refused rather than silently ignored.
"""

import hmac
import json
import os
from dataclasses import asdict, dataclass
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


def anchor_store(url: str | None = None) -> AnchorStore:
    """The store `url` (default: AUDIT_ANCHOR_URL) names."""
    url = url or settings.AUDIT_ANCHOR_URL
    parts = urlsplit(url)
    if parts.scheme == "file":
        return FileAnchorStore(Path(url2pathname(parts.path)))
    raise ImproperlyConfigured(
        f"AUDIT_ANCHOR_URL={url!r}: only file:// anchors are implemented (docs/audit.md)"
    )
