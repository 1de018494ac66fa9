"""`verify_executed DEAL` and `esign_status DEAL` on deals run through the real pipeline to
the local backend's signing links, and signed there."""

import hashlib
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from contracts import services as contracts
from contracts.esign import services as esign
from contracts.esign.backends.local import LocalBackend
from contracts.esign.models import SignatureRequest, Signer, SigningAuthority
from contracts.esign.tokens import signer_for_token
from contracts.selectors import current_version
from tests.approvals.conftest import won_deal  # noqa: F401  (the real pipeline, approvals too)
from tests.esign.conftest import _stop_at_signed, sign  # noqa: F401

pytestmark = pytest.mark.django_db

SITE = "https://dealdesk.test"


@pytest.fixture(autouse=True)
def stop_before_approvals():
    """tests/contracts stops the flow before approvals; these tests run all of it."""


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE
    settings.ESIGN_BACKEND = "local"
    settings.ESIGN_ROUTING_ORDER = "customer_first"


@pytest.fixture
def people(make_user):
    director = make_user("Deal Desk", username="director", first_name="Dee", last_name="Rector")
    SigningAuthority.objects.create(user=director, title="Deal Desk director", max_tcv=None)
    return {
        "legal": make_user("Legal", username="lee", email="lee@dealdesk.test"),
        "desk": make_user("Deal Desk", username="desk"),
        "director": director,
    }


@pytest.fixture
def out_for_signature(won_deal, people, django_capture_on_commit_callbacks):  # noqa: F811
    """A deal Legal approved: the pipeline sent it to its customer signer, then us."""
    deal = won_deal()
    with django_capture_on_commit_callbacks(execute=True):
        contracts.contract_approve(version_id=current_version(deal).pk, actor=people["legal"])
    deal.refresh_from_db()
    assert deal.state == "out_for_signature"
    return deal


@pytest.fixture
def signed_deal(out_for_signature, sign):  # noqa: F811
    """Every signer signs through their link, in routing order."""
    deal = out_for_signature
    while signer := Signer.objects.filter(request__deal=deal, state="notified").first():
        sign(signer)
    deal.refresh_from_db()
    assert deal.state == "signed"
    return deal


def verify(deal, *args: str) -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("verify_executed", str(deal), *args, stdout=out)
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


def executed(deal) -> SignatureRequest:
    return SignatureRequest.objects.get(deal=deal, state="completed")


def test_a_deal_signed_on_the_local_backend_verifies(signed_deal):
    output, error = verify(signed_deal.crm_id)
    assert error is None
    for check in (
        "executed file",
        "audit log",
        "approved version's hash",
        "approved PDF",
        "seal",
    ):
        assert f"  {check}: ok" in output
    assert "FAIL" not in output
    assert output.rstrip().endswith("executed contract verifies.")
    # The deal's id works as well as its CRM id.
    assert verify(signed_deal.pk)[1] is None


def test_one_byte_changed_in_the_executed_pdf_fails_naming_the_seal_and_the_hashes(signed_deal):
    path = executed(signed_deal).executed_pdf.path
    with open(path, "rb") as handle:
        data = bytearray(handle.read())
    data[len(data) // 3] ^= 0x01
    with open(path, "wb") as handle:
        handle.write(data)

    output, error = verify(signed_deal.crm_id)

    assert error is not None
    assert error.returncode == 1
    assert "executed file, audit log, seal" in str(error)
    assert "  seal: FAIL: the file was changed after sealing" in output
    assert "  executed file: FAIL:" in output
    assert "  approved PDF: ok" in output


def test_a_replaced_file_with_its_hash_column_rewritten_is_caught_by_the_audit_log(
    signed_deal, pipeline_user
):
    """Someone re-seals a document with a different signer's name and updates the stored
    hash to match: the file and the seal hold, the audit log's record does not."""
    request = executed(signed_deal)
    Signer.objects.filter(request=request, role="customer").update(typed_name="Someone Else")
    forged, _ = LocalBackend().executed_document(request, actor=pipeline_user)
    with open(request.executed_pdf.path, "wb") as handle:
        handle.write(forged)
    SignatureRequest.objects.filter(pk=request.pk).update(
        executed_sha256=hashlib.sha256(forged).hexdigest()
    )

    output, error = verify(signed_deal.crm_id)

    assert error is not None
    assert str(error).endswith("fails: audit log")
    assert "  seal: ok" in output
    assert "  executed file: ok" in output
    assert f"records sha256 {request.executed_sha256}" in output


def test_the_approved_pdf_altered_after_signing_is_named(signed_deal):
    version = current_version(signed_deal)
    with open(version.pdf.path, "ab") as handle:
        handle.write(b"%% appended")

    output, error = verify(signed_deal.crm_id)

    assert str(error).endswith("fails: approved PDF")
    assert f"approved PDF: FAIL: {version.pdf.name} hashes to" in output


def test_json_lists_every_check(signed_deal):
    output, error = verify(signed_deal.crm_id, "--json")
    assert error is None
    report = json.loads(output)
    assert report["ok"] is True
    assert report["backend"] == "local"
    assert report["request"] == str(executed(signed_deal).public_id)
    assert [c["check"] for c in report["checks"]] == [
        "executed file",
        "audit log",
        "approved version's hash",
        "approved PDF",
        "seal",
    ]
    assert all(c["ok"] and c["problem"] == "" for c in report["checks"])


def test_a_deal_with_no_executed_contract_exits_2(out_for_signature):
    output, error = verify(out_for_signature.crm_id)
    assert error is not None
    assert error.returncode == 2
    assert "has no executed contract" in str(error)
    assert output == ""


def test_an_unknown_deal_is_refused():
    with pytest.raises(CommandError, match="no deal with id or CRM id '006NOPE'"):
        call_command("verify_executed", "006NOPE")
    with pytest.raises(CommandError, match="no deal with id or CRM id '999999'"):
        call_command("esign_status", "999999")


def test_paper_needs_legal_other_than_the_uploader(
    out_for_signature, people, django_capture_on_commit_callbacks
):
    deal = out_for_signature
    approved = current_version(deal).pdf.read()
    with django_capture_on_commit_callbacks(execute=True):
        request = esign.signature_paper_upload(
            deal_id=deal.pk,
            actor=people["desk"],
            pdf=approved,
            change_statement="Wet ink; no change to the approved text.",
        )
        esign.signature_paper_confirm(request_id=request.pk, actor=people["legal"])
    output, error = verify(deal.crm_id)
    assert error is None
    assert "  Legal's confirmation: ok" in output
    assert "  seal:" not in output  # a paper contract carries no seal of ours

    SignatureRequest.objects.filter(pk=request.pk).update(confirmed_by=people["desk"])
    output, error = verify(deal.crm_id)
    assert str(error).endswith("fails: Legal's confirmation")
    assert "confirmed the contract they uploaded themselves" in output


def status(deal) -> dict:
    out = StringIO()
    call_command("esign_status", deal.crm_id, stdout=out)
    return json.loads(out.getvalue())


def test_esign_status_shows_the_request_its_signers_and_the_working_links(
    out_for_signature,
    sign,  # noqa: F811
    people,
    django_capture_on_commit_callbacks,
):
    deal = out_for_signature
    report = status(deal)
    assert report["deal"] == {
        "id": deal.pk,
        "crm_id": deal.crm_id,
        "name": deal.name,
        "state": "out_for_signature",
    }
    [request] = report["signature_requests"]
    stored = SignatureRequest.objects.get(deal=deal)
    assert request["id"] == stored.pk
    assert request["public_id"] == str(stored.public_id)
    assert (request["state"], request["backend"]) == ("sent", "local")
    assert request["document_sha256"] == current_version(deal).pdf_sha256
    assert request["sent_at"]
    assert request["expires_at"]
    assert request["finished_at"] is None
    assert request["executed_sha256"] == ""
    assert request["envelope_id"] == ""
    customer, us = request["signers"]
    assert (customer["role"], customer["routing_order"], customer["state"]) == (
        "customer",
        1,
        "notified",
    )
    assert (us["role"], us["routing_order"], us["state"]) == ("countersigner", 2, "waiting")
    assert us["email"] == people["director"].email
    assert customer["notified_at"]
    assert customer["signed_at"] is None
    # The customer's link opens their signing page; ours waits for our turn.
    assert customer["link"].startswith(f"{SITE}/contracts/esign/sign/")
    token = customer["link"].rstrip("/").rsplit("/", 1)[1]
    assert signer_for_token(token, now=stored.sent_at).email == customer["email"]
    assert us["link"] is None

    sign(Signer.objects.get(request=stored, role="customer"))
    customer, us = status(deal)["signature_requests"][0]["signers"]
    assert customer["state"] == "signed"
    assert customer["link"] is None
    assert us["state"] == "notified"
    assert us["link"].startswith(SITE)


def test_esign_status_lists_requests_newest_first_with_reasons(
    out_for_signature, people, django_capture_on_commit_callbacks
):
    deal = out_for_signature
    first = SignatureRequest.objects.get(deal=deal)
    with django_capture_on_commit_callbacks(execute=True):
        esign.signature_void(
            request_id=first.pk, actor=people["desk"], reason="Wrong signer on file."
        )
        second = esign.signature_send(deal_id=deal.pk, actor=people["desk"], resend=True)
    requests = status(deal)["signature_requests"]
    assert [r["id"] for r in requests] == [second.pk, first.pk]
    assert requests[1]["state"] == "voided"
    assert requests[1]["reason"] == "Wrong signer on file."
    assert requests[1]["finished_at"]
    assert all(s["link"] is None for s in requests[1]["signers"])
    assert requests[0]["signers"][0]["link"].startswith(SITE)


def test_esign_status_of_a_deal_never_sent_is_empty(won_deal):  # noqa: F811
    deal = won_deal()
    assert status(deal)["signature_requests"] == []


def test_docusign_checks_the_combined_document_and_the_certificate_against_the_audit_log(
    won_deal,  # noqa: F811
    people,
    settings,
    monkeypatch,
    pipeline_user,
    django_capture_on_commit_callbacks,
):
    from dealdesk import pipeline

    settings.ESIGN_BACKEND = "docusign"
    # Sent, not delivered: no envelope is created; DocuSign's completion is what is checked.
    monkeypatch.delitem(pipeline.NEXT_STEP, ("esign.signaturerequest", "sent"))
    deal = won_deal()
    with django_capture_on_commit_callbacks(execute=True):
        contracts.contract_approve(version_id=current_version(deal).pk, actor=people["legal"])
    request = SignatureRequest.objects.get(deal=deal, backend="docusign", state="sent")
    with django_capture_on_commit_callbacks(execute=True):
        esign.signature_complete(
            request_id=request.pk,
            actor=pipeline_user,
            document=b"%PDF-1.7 DocuSign's combined document",
            certificate=b"%PDF-1.7 DocuSign's certificate of completion",
        )
    output, error = verify(deal.crm_id)
    assert error is None
    assert "  certificate of completion: ok" in output
    assert "  seal:" not in output  # DocuSign's document carries DocuSign's seal, not ours

    request.refresh_from_db()
    with open(request.certificate_pdf.path, "ab") as handle:
        handle.write(b"!")
    output, error = verify(deal.crm_id)
    assert str(error).endswith("fails: audit log, certificate of completion")
    assert "  executed file: ok" in output
    assert f"records certificate_sha256 {request.certificate_sha256}" in output
