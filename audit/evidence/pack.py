"""One deal's evidence pack: a zip of its records, history, stored files and audit events with
the chain proof, a manifest of every file's SHA-256, and `verify.py` (docs/evidence.md)."""

import datetime
import functools
import hashlib
import io
import os
import subprocess
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from audit.anchors import Anchor
from audit.evidence import offline_verify, sources
from audit.evidence.chain_proof import chain_proof
from audit.evidence.sources import dumps, records, row
from audit.selectors import DECISION_ACTIONS

VERIFY_SOURCE = Path(offline_verify.__file__).read_bytes()
README = b"""Dealdesk evidence pack

manifest.json  every file with its SHA-256 and size, the chain head at export
audit/         the deal's audit events with the chain proof, and the anchors covering them
history/       django-simple-history rows of the deal and everything that belongs to it
contract/      every contract version as stored, with its recorded SHA-256 (versions.json)
signature/     signature requests, signers, the sealed executed PDF and the seal's certificate
approvals.json who decided, when and why
billing/       billing records (with the contract/billing diff), invoices as stored, payments

Verify: python verify.py   (in this folder; or python verify.py pack.zip)
The chain key (AUDIT_CHAIN_KEY in the environment, or --key-file) lets it recompute the
keyed event hashes and the anchors' MACs.
"""


DECISION_FIELDS = ("seq", "occurred_at", "actor_username", "action", "object_repr", "reason")


@dataclass(frozen=True)
class DealPack:
    deal_id: int
    name: str
    content: bytes
    sha256: str


@functools.cache
def app_release() -> dict:
    """The app's version and commit, as far as this machine knows them."""
    try:
        version = metadata.version("dealdesk")
    except metadata.PackageNotFoundError:
        version = "unknown"
    commit = os.environ.get("APP_COMMIT", "")
    if not commit:
        try:
            commit = subprocess.run(
                ["git", "rev-parse", "HEAD"],  # noqa: S607 -- git from PATH, like make
                cwd=settings.BASE_DIR,
                capture_output=True,
                text=True,
                timeout=5,
                check=True,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            commit = "unknown"
    return {"version": version, "commit": commit}


def pack_name(deal_id: int) -> str:
    return f"deal-{deal_id}-evidence.zip"


class _PackFiles:
    """The pack's files in the order they are added, paths unique."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def add(self, path: str, content: bytes) -> str:
        if path in self.files:
            raise ValueError(f"two files named {path} in one pack")
        self.files[path] = content
        return path


def _stored(files: _PackFiles, folder: str, label: str, obj, actor) -> dict:
    """Adds the record's stored files under `folder`; their paths and recorded SHA-256."""
    return {
        field: {
            "path": files.add(f"{folder}/{PurePosixPath(getattr(obj, field).name).name}", content),
            "sha256": recorded,
        }
        for field, content, recorded in sources.stored_files(label, obj, actor)
    }


def _contracts(files: _PackFiles, deal_id: int, actor) -> None:
    versions = []
    for version in records("contracts.contractversion", deal_id, "deal", "created_by"):
        entry = row(version, "created_by.username")
        folder = f"contract/v{version.number}"
        entry["stored_files"] = _stored(files, folder, "contracts.contractversion", version, actor)
        versions.append(entry)
    files.add("contract/versions.json", dumps(versions))


def _approvals(files: _PackFiles, deal_id: int, events: list[dict]) -> None:
    """Who decided, when and why: approval requests, Legal's clause decisions, and every
    decision as the audit log recorded it (a contract approved in legal review has no request)."""
    who = ("decided_by", "group", "delegate_for")
    requests = records("approvals.approvalrequest", deal_id, "deal", *who)
    clauses = records("contracts.clausedecision", deal_id, "version__deal", "decided_by")
    decided = {
        "approval_requests": [
            row(r, "decided_by.username", "group.name", "delegate_for.username") for r in requests
        ],
        "clause_decisions": [row(c, "decided_by.username") for c in clauses],
        "decisions_in_the_audit_log": [
            {name: event["fields"][name] for name in DECISION_FIELDS}
            for event in events
            if event["of_this_deal"] and event["fields"]["action"] in DECISION_ACTIONS
        ],
    }
    files.add("approvals.json", dumps(decided))


def _signatures(files: _PackFiles, deal_id: int, actor) -> None:
    requests = []
    label = "esign.signaturerequest"
    for request in records(label, deal_id, "deal", "created_by").prefetch_related("signers"):
        entry = row(request, "created_by.username")
        entry["signers"] = [row(s) for s in request.signers.all()]
        entry["stored_files"] = _stored(
            files, f"signature/request-{request.pk}", label, request, actor
        )
        if "executed_pdf" in entry["stored_files"]:
            executed = files.files[entry["stored_files"]["executed_pdf"]["path"]]
            problems = sources.seal_check(executed, request.document_sha256)
            entry["seal_check"] = problems or "the seal holds and names the approved document"
        requests.append(entry)
    if any("seal_check" in r for r in requests):
        files.add("signature/seal-certificate.der", sources.seal_certificate_der())
    files.add("signature/requests.json", dumps(requests))


def _billing(files: _PackFiles, deal_id: int, actor) -> None:
    files.add(
        "billing/records.json", dumps([row(r) for r in records("billing.billingrecord", deal_id)])
    )
    invoices = []
    for invoice in records("billing.invoice", deal_id).prefetch_related("lines"):
        entry = row(invoice)
        entry["lines"] = [row(line) for line in invoice.lines.all()]
        folder = f"billing/invoices/{invoice.pk}"
        entry["stored_files"] = _stored(files, folder, "billing.invoice", invoice, actor)
        invoices.append(entry)
    files.add("billing/invoices.json", dumps(invoices))
    payment_ids = sources.deal_payment_ids(deal_id)
    cash = {
        "payments": [row(p) for p in records("billing.payment", payment_ids, "pk__in")],
        "allocations": [
            row(a) for a in records("billing.paymentallocation", deal_id, "invoice__deal")
        ],
        "ar_items": [row(a) for a in records("billing.aritem", deal_id)],
        "credit_notes": [
            {
                **row(note),
                "stored_files": _stored(
                    files, f"billing/credit-notes/{note.pk}", "billing.creditnote", note, actor
                ),
            }
            for note in records("billing.creditnote", deal_id, "invoice__deal")
        ],
        "refunds": [row(r) for r in records("billing.refund", payment_ids, "payment__in")],
    }
    files.add("billing/payments.json", dumps(cash))


def deal_pack(
    *,
    deal_id: int,
    actor: AbstractBaseUser | None,
    exporter: str,
    anchors: list[Anchor] | None = None,
) -> DealPack:
    """The deal's pack, built in memory (one deal's documents). Raises the model's
    DoesNotExist for an unknown deal, sources.StoredFileTampered for an altered stored file
    and chain_proof.ChainProofError for an altered event: nothing is half-exported."""
    exported_at = timezone.now().astimezone(datetime.UTC).replace(microsecond=0)
    files = _PackFiles()
    deal = sources.deal_row(deal_id)
    files.add("deal.json", dumps(deal))
    proof = chain_proof(deal_events=sources.deal_event_seqs(deal_id), anchors=anchors)
    _contracts(files, deal_id, actor)
    _approvals(files, deal_id, proof.events)
    _signatures(files, deal_id, actor)
    _billing(files, deal_id, actor)
    for label, rows in sources.history_rows(deal_id):
        files.add(f"history/{label}.json", dumps(rows))
    files.add("audit/events.json", dumps({"events": proof.events}))
    files.add("audit/anchors.json", dumps({"anchors": proof.anchors}))
    files.add("verify.py", VERIFY_SOURCE)
    files.add("README.txt", README)
    manifest = {
        "format": offline_verify.FORMAT,
        "deal": {"id": deal_id, "crm_id": deal["crm_id"], "name": deal["name"]},
        "exported_at": exported_at.isoformat(),
        "exported_by": exporter,
        "app": app_release(),
        "chain": proof.manifest_entry(),
        "deal_event_seqs": proof.deal_event_seqs,
        "not_yet_anchored": [
            e["fields"]["seq"]
            for e in proof.events
            if e["of_this_deal"] and e["anchor_seq"] is None
        ],
        "files": [
            {"path": path, "sha256": hashlib.sha256(content).hexdigest(), "size": len(content)}
            for path, content in files.files.items()
        ],
    }
    manifest["manifest_digest"] = offline_verify.manifest_digest(manifest)
    content = _zip({"manifest.json": dumps(manifest), **files.files}, exported_at)
    return DealPack(deal_id, pack_name(deal_id), content, hashlib.sha256(content).hexdigest())


def _zip(files: dict[str, bytes], at: datetime.datetime) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in files.items():
            archive.writestr(zip_entry(path, at), content)
    return buffer.getvalue()


def zip_entry(path: str, at: datetime.datetime) -> zipfile.ZipInfo:
    """An entry stamped with the export time (not the clock per file), readable by anyone."""
    entry = zipfile.ZipInfo(path, date_time=at.timetuple()[:6])
    entry.compress_type = zipfile.ZIP_DEFLATED
    entry.external_attr = 0o644 << 16
    return entry
