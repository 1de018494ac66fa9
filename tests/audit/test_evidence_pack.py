"""A deal's evidence pack: everything an auditor samples, with a manifest and the chain proof,
verified offline by the pack's own verify.py (no project, standard library only), and failing
on a changed byte."""

import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit.actions import Action
from audit.evidence import offline_verify
from audit.evidence.sample import audit_sample
from audit.evidence.services import evidence_pack_export, sample_zip_stream
from audit.evidence.sources import StoredFileTampered
from audit.models import AuditEvent
from audit.services import audit_anchor_head, audit_record
from billing.reconciliation.payments import payment_receive
from dealdesk.services import pipeline_user
from tests.billing.conftest import *  # noqa: F403 - the billing fixtures
from tests.dealdesk.factories import DealFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_deal(issued_invoice):
    """A deal drafted, approved, signed, invoiced and paid, the chain anchored half way."""
    invoice = issued_invoice()
    audit_anchor_head()
    payment_receive(
        source="bank",
        external_id="pay-evidence-1",
        amount=Decimal(invoice.total),
        currency=invoice.currency,
        received_on=timezone.localdate(),
        actor=pipeline_user(),
        reference=f"Payment for {invoice.number}",
    )
    return invoice.deal


def unzip(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rezip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def run_verify(where, *args, key: str | None = settings.AUDIT_CHAIN_KEY):
    """verify.py as an auditor runs it: isolated mode (-I: no project on the path, no
    PYTHON* variables), from a folder of its own."""
    env = {"PATH": os.environ["PATH"]}
    if key:
        env["AUDIT_CHAIN_KEY"] = key
    return subprocess.run(  # noqa: S603 - our own script on our own pack
        [sys.executable, "-I", "verify.py", *args],
        cwd=where,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def unpacked(folder, files: dict[str, bytes]):
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    return folder


def test_a_pack_holds_what_an_auditor_samples_and_verifies_offline(paid_deal, tmp_path):
    # One deal for several checks: walking a deal to paid takes most of a test's time.
    pack = evidence_pack_export(deal_id=paid_deal.pk, actor=None, exporter="test", via="test")
    files = unzip(pack.content)
    holds_what_an_auditor_samples(files, paid_deal)
    export = AuditEvent.objects.filter(action=Action.AUDIT_EVIDENCE_EXPORTED).get()
    assert (export.object_type, export.object_id) == ("dealdesk.deal", str(paid_deal.pk))
    assert export.data["zip_sha256"] == pack.sha256 == hashlib.sha256(pack.content).hexdigest()
    assert export.data["deal_ids"] == [paid_deal.pk]

    verifies_offline_and_fails_on_a_changed_byte(files, tmp_path / "a")
    an_event_changed_with_a_consistent_manifest_fails_on_its_hash(files, tmp_path / "b")
    a_rewritten_hash_breaks_the_anchor(files, tmp_path / "c")


def holds_what_an_auditor_samples(files, paid_deal):
    manifest = json.loads(files["manifest.json"])
    assert manifest["deal"]["id"] == paid_deal.pk
    assert {f["path"] for f in manifest["files"]} == set(files) - {"manifest.json"}
    for entry in manifest["files"]:
        assert hashlib.sha256(files[entry["path"]]).hexdigest() == entry["sha256"]
    # every contract version's files as stored, with the hash recorded when they were made
    versions = json.loads(files["contract/versions.json"])
    assert versions
    for version in versions:
        pdf = version["stored_files"]["pdf"]
        assert (
            hashlib.sha256(files[pdf["path"]]).hexdigest() == pdf["sha256"] == version["pdf_sha256"]
        )
    # the executed PDF with its seal, checked, and the seal's certificate
    (request,) = json.loads(files["signature/requests.json"])
    assert request["seal_check"] == "the seal holds and names the approved document"
    assert request["stored_files"]["executed_pdf"]["path"] in files
    assert "signature/seal-certificate.der" in files
    # approvals: who, when, why
    approvals = json.loads(files["approvals.json"])
    (decision,) = approvals["decisions_in_the_audit_log"]
    assert decision["action"] == "contract_version.approved"
    assert decision["actor_username"]
    assert decision["occurred_at"]
    # billing: the record with its diff, the invoice PDF as stored, the payment and allocation
    (record,) = json.loads(files["billing/records.json"])
    assert record["diff"] == []
    invoice = next(i for i in json.loads(files["billing/invoices.json"]) if i["plan_index"] == 1)
    assert invoice["state"] == "paid"
    assert invoice["lines"]
    assert invoice["stored_files"]["pdf"]["path"] in files
    cash = json.loads(files["billing/payments.json"])
    assert len(cash["payments"]) == len(cash["allocations"]) == 1
    # history of the deal and its parts
    deal_history = json.loads(files["history/dealdesk.deal.json"])
    assert [h["state"] for h in deal_history][-1] == "paid"
    assert json.loads(files["history/billing.payment.json"])
    # the deal's events, each with its hash and the one before; the anchor covering them
    events = json.loads(files["audit/events.json"])["events"]
    ours = [e for e in events if e["of_this_deal"]]
    assert [e["fields"]["seq"] for e in ours] == manifest["deal_event_seqs"]
    assert {e["fields"]["action"] for e in ours} >= {"deal.created", "deal.signed", "deal.paid"}
    anchored = [e for e in ours if e["anchor_seq"] is not None]
    assert anchored
    assert manifest["not_yet_anchored"]
    (anchor,) = json.loads(files["audit/anchors.json"])["anchors"]
    assert all(e["anchor_seq"] == anchor["seq"] for e in anchored)


def verifies_offline_and_fails_on_a_changed_byte(files, folder):
    folder = unpacked(folder, files)
    result = run_verify(folder)
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith("OK: every file, event hash, link and anchor verifies")

    # the zip itself, given as an argument
    (folder.parent / "pack.zip").write_bytes(rezip(files))
    assert run_verify(folder, str(folder.parent / "pack.zip")).returncode == 0

    # a changed byte in a stored file
    pdf = next(p for p in files if p.endswith(".pdf"))
    (folder / pdf).write_bytes(files[pdf][:-1] + bytes([files[pdf][-1] ^ 1]))
    result = run_verify(folder)
    assert result.returncode == 1
    assert f"{pdf}: SHA-256 differs from the manifest" in result.stdout
    (folder / pdf).write_bytes(files[pdf])

    # a changed byte in the manifest (here: the exporter's name)
    manifest = files["manifest.json"].replace(b'"test"', b'"tesT"')
    (folder / "manifest.json").write_bytes(manifest)
    result = run_verify(folder)
    assert result.returncode == 1
    assert "manifest.json: changed" in result.stdout


def tampered_event_pack(files: dict[str, bytes], change) -> dict[str, bytes]:
    """The pack with one event changed and the manifest rebuilt to match, as a forger would."""
    document = json.loads(files["audit/events.json"])
    change(document["events"])
    events = json.dumps(document).encode()
    manifest = json.loads(files["manifest.json"])
    for entry in manifest["files"]:
        if entry["path"] == "audit/events.json":
            entry.update(sha256=hashlib.sha256(events).hexdigest(), size=len(events))
    manifest["manifest_digest"] = offline_verify.manifest_digest(manifest)
    return {**files, "audit/events.json": events, "manifest.json": json.dumps(manifest).encode()}


def an_event_changed_with_a_consistent_manifest_fails_on_its_hash(files, folder):

    def change_reason(events):
        ours = next(e for e in events if e["of_this_deal"])
        ours["fields"]["reason"] += "."

    folder = unpacked(folder, tampered_event_pack(files, change_reason))
    result = run_verify(folder)
    assert result.returncode == 1
    assert "its hash does not match its fields (altered)" in result.stdout
    # without the key that cannot be seen, and the verdict says what was not checked
    unkeyed = run_verify(folder, key=None)
    assert unkeyed.returncode == 0
    assert "not recomputed" in unkeyed.stdout
    # a wrong key is named as such, not taken for tampering
    wrong = run_verify(folder, key="some-other-key-of-at-least-32-characters")
    assert "the key given is not the chain's key" in wrong.stdout


def a_rewritten_hash_breaks_the_anchor(files, folder):
    anchor_seq = json.loads(files["audit/anchors.json"])["anchors"][0]["seq"]

    def rehash_anchored(events):
        # the forger recomputes the anchored event's hash with the key: the anchor still differs
        event = next(e for e in events if e["fields"]["seq"] == anchor_seq)
        event["fields"]["reason"] = "rewritten"
        key = settings.AUDIT_CHAIN_KEY.encode()
        event["hash"] = offline_verify.event_hash(event["fields"], event["prev_hash"], key)

    result = run_verify(unpacked(folder, tampered_event_pack(files, rehash_anchored)))
    assert result.returncode == 1
    assert f"anchor {anchor_seq}'s hash is not the chain's hash there" in result.stdout


def test_a_tampered_stored_file_stops_the_export_and_is_audited(paid_deal):
    invoice = paid_deal.invoices.get(plan_index=1)
    path = invoice.pdf.path
    with open(path, "ab") as handle:
        handle.write(b"%")
    exports = AuditEvent.objects.filter(action=Action.AUDIT_EVIDENCE_EXPORTED)
    with pytest.raises(StoredFileTampered, match=invoice.pdf.name):
        evidence_pack_export(deal_id=paid_deal.pk, actor=None, exporter="test", via="test")
    finding = AuditEvent.objects.filter(action=Action.INVOICE_FILE_TAMPERED).get()
    assert finding.object_id == str(invoice.pk)
    assert not exports.exists()


def test_a_sample_meeting_a_tampered_deal_refuses_that_pack_and_finishes(paid_deal, tmp_path):
    other = DealFactory()
    audit_record(actor=None, action=Action.DEAL_OWNER_ASSIGNED, obj=other, reason="sampled too")
    invoice = paid_deal.invoices.get(plan_index=1)
    with open(invoice.pdf.path, "ab") as handle:
        handle.write(b"%")
    period = timezone.now().strftime("%Y-%m")
    out = tmp_path / "command"
    with pytest.raises(CommandError, match=rf"1 sampled deal\(s\) refused .*: {paid_deal.pk};"):
        call_command("export_audit", sample=50, period=period, seed="7", out=str(out))
    manifest = json.loads((out / f"sample-{period}-seed-7.json").read_text())
    assert other.pk in [p["deal_id"] for p in manifest["packs"]]
    assert [r["deal_id"] for r in manifest["refused"]] == [paid_deal.pk]
    refusal = (out / f"deal-{paid_deal.pk}-REFUSED.txt").read_text()
    assert invoice.pdf.name in refusal
    assert not (out / f"deal-{paid_deal.pk}-evidence.zip").exists()

    # The browser's streamed sample is a whole zip with the same refusal in it.
    sample = audit_sample(period=period, size=50, seed="7")
    streamed = b"".join(sample_zip_stream(sample=sample, actor=None, exporter="t", via="test"))
    with zipfile.ZipFile(io.BytesIO(streamed)) as archive:
        names = archive.namelist()
        listed = json.loads(archive.read("sample-manifest.json"))
    assert f"deal-{paid_deal.pk}-REFUSED.txt" in names
    assert f"deal-{other.pk}-evidence.zip" in names
    assert listed["refused"][0]["reason"] == manifest["refused"][0]["reason"]
    exports = AuditEvent.objects.filter(action=Action.AUDIT_EVIDENCE_EXPORTED).order_by("seq")
    assert [set(e.data["refused"]) for e in exports] == [{str(paid_deal.pk)}] * 2
