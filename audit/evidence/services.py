"""Exporting evidence: each export is itself audited, with the deals, the period and seed of a
sample, and the SHA-256 of what left the system."""

import datetime
import hashlib
import logging
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from audit.actions import Action
from audit.anchors import anchor_store
from audit.evidence.chain_proof import ChainProofError
from audit.evidence.pack import DealPack, deal_pack, pack_name, zip_entry
from audit.evidence.sample import Sample
from audit.evidence.sources import DEAL, StoredFileTampered, dumps
from audit.services import audit_record

SAMPLE_MANIFEST = "sample-manifest.json"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RefusedPack:
    """A sampled deal whose pack was not made: a stored file or an audit event no longer
    matches its record. The sample goes on; the refusal is itself evidence, in the sample."""

    deal_id: int
    reason: str

    @property
    def name(self) -> str:
        return f"deal-{self.deal_id}-REFUSED.txt"

    @property
    def content(self) -> bytes:
        return f"No evidence pack was made for deal {self.deal_id}.\n\n{self.reason}\n".encode()


def _record_export(
    *, actor: AbstractBaseUser | None, data: dict, deal_id: int | None = None
) -> None:
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=Action.AUDIT_EVIDENCE_EXPORTED,
            object_type=DEAL if deal_id else "",
            object_id=str(deal_id) if deal_id else "",
            data=data,
            reason="evidence exported for auditors",
        )


def evidence_pack_export(
    *, deal_id: int, actor: AbstractBaseUser | None, exporter: str, via: str
) -> DealPack:
    """One deal's pack, its export audited on the deal."""
    pack = deal_pack(deal_id=deal_id, actor=actor, exporter=exporter)
    _record_export(
        actor=actor,
        deal_id=deal_id,
        data={"deal_ids": [deal_id], "via": via, "file": pack.name, "zip_sha256": pack.sha256},
    )
    return pack


def sample_packs(
    *, sample: Sample, actor: AbstractBaseUser | None, exporter: str
) -> Iterator[DealPack | RefusedPack]:
    """The sample's packs one at a time (a sample is never held in memory whole); the anchors
    are read once for all of them. A deal whose records were altered is a RefusedPack (the
    finding is already audited by the reader that found it) and the sample goes on."""
    anchors = anchor_store().read()
    for deal_id in sample.deal_ids:
        try:
            yield deal_pack(deal_id=deal_id, actor=actor, exporter=exporter, anchors=anchors)
        except (StoredFileTampered, ChainProofError) as exc:
            log.error("evidence pack of sampled deal %s refused: %s", deal_id, exc)
            yield RefusedPack(deal_id=deal_id, reason=str(exc))


@dataclass
class SampleExport:
    """What a sample export wrote so far: each pack's SHA-256, each refusal's reason."""

    packs: dict[int, str]
    refused: dict[int, str]

    @classmethod
    def start(cls) -> "SampleExport":
        return cls(packs={}, refused={})

    def add(self, pack: DealPack | RefusedPack) -> None:
        if isinstance(pack, RefusedPack):
            self.refused[pack.deal_id] = pack.reason
        else:
            self.packs[pack.deal_id] = pack.sha256


def sample_manifest(sample: Sample, export: SampleExport, exporter: str) -> dict:
    return {
        **sample.manifest(),
        "exported_at": timezone.now().isoformat(),
        "exported_by": exporter,
        "packs": [
            {"deal_id": deal_id, "file": pack_name(deal_id), "zip_sha256": sha256}
            for deal_id, sha256 in export.packs.items()
        ],
        "refused": [
            {"deal_id": deal_id, "file": RefusedPack(deal_id, reason).name, "reason": reason}
            for deal_id, reason in export.refused.items()
        ],
    }


def record_sample_export(
    *, sample: Sample, actor: AbstractBaseUser | None, export: SampleExport, via: str, **more
) -> None:
    """Audits a finished sample export (`more`: the sample zip's or manifest's SHA-256)."""
    _record_export(
        actor=actor,
        data={
            "deal_ids": sample.deal_ids,
            "period": sample.period.name,
            "seed": sample.seed,
            "population_size": len(sample.population),
            "via": via,
            "packs": {str(deal_id): sha256 for deal_id, sha256 in export.packs.items()},
            "refused": {str(deal_id): reason for deal_id, reason in export.refused.items()},
            **more,
        },
    )


class _Chunks:
    """A write-only file the zip writes into; the view sends what it collected so far."""

    def __init__(self) -> None:
        self.pending: list[bytes] = []
        self.sha256 = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.pending.append(bytes(data))
        self.sha256.update(data)
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data, self.pending = b"".join(self.pending), []
        return data


def sample_zip_stream(
    *, sample: Sample, actor: AbstractBaseUser | None, exporter: str, via: str
) -> Iterator[bytes]:
    """The sample as a zip of zips, streamed one deal pack at a time; the export is audited
    once the last byte is out (a download abandoned half way is not an export)."""
    sink = _Chunks()
    at = timezone.now().astimezone(datetime.UTC)
    export = SampleExport.start()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_STORED) as archive:  # zips do not shrink
        for pack in sample_packs(sample=sample, actor=actor, exporter=exporter):
            entry = zip_entry(pack.name, at)
            entry.compress_type = zipfile.ZIP_STORED
            archive.writestr(entry, pack.content)
            export.add(pack)
            yield sink.take()
        manifest = dumps(sample_manifest(sample, export, exporter))
        archive.writestr(zip_entry(SAMPLE_MANIFEST, at), manifest)
    yield sink.take()
    record_sample_export(
        sample=sample,
        actor=actor,
        export=export,
        via=via,
        zip_sha256=sink.sha256.hexdigest(),
        manifest_sha256=hashlib.sha256(manifest).hexdigest(),
    )
