"""A contract document is served only while its bytes match the SHA-256 stored when it was
generated; otherwise Deal Desk sees why, the audit log records it, and no bytes leave."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from contracts.selectors import DocumentTampered, verified_document

TAMPERED = "contract_version.document_tampered"


@pytest.fixture
def version(new_deal):
    return new_deal().contract_versions.get()


def _overwrite(file, content: bytes) -> None:
    with open(file.path, "wb") as handle:
        handle.write(content)


@pytest.mark.parametrize("kind", ["pdf", "docx"])
def test_an_intact_document_is_served_as_generated(client, version, desk_user, kind):
    client.force_login(desk_user)
    response = client.get(reverse("contract-document", args=[version.pk, kind]))
    assert response.status_code == 200
    with getattr(version, kind).open("rb") as handle:
        assert b"".join(response.streaming_content) == handle.read()
    assert not AuditEvent.objects.filter(action=TAMPERED).exists()


@pytest.mark.parametrize("kind", ["pdf", "docx"])
def test_a_tampered_document_is_not_served_and_is_audited(client, version, desk_user, kind):
    _overwrite(getattr(version, kind), b"%PDF-1.7 pay to account 666")
    client.force_login(desk_user)
    response = client.get(reverse("contract-document", args=[version.pk, kind]))
    assert response.status_code == 409
    page = response.content.decode()
    assert "is not the document that was generated" in page
    assert "666" not in page
    event = AuditEvent.objects.get(action=TAMPERED)
    assert (event.actor, event.data["kind"]) == (desk_user, kind)
    assert event.data["expected_sha256"] == getattr(version, f"{kind}_sha256")


def test_a_missing_document_is_reported_like_a_tampered_one(client, version, desk_user):
    version.pdf.storage.delete(version.pdf.name)
    client.force_login(desk_user)
    response = client.get(reverse("contract-document", args=[version.pk, "pdf"]))
    assert response.status_code == 409
    assert AuditEvent.objects.get(action=TAMPERED).data["found"] == "missing"


def test_the_verified_reader_refuses_what_the_sender_must_not_send(version, desk_user):
    """The one reader for downloads and (coming) e-signature: bytes only when they match."""
    assert verified_document(version=version, kind="pdf", actor=desk_user).startswith(b"%PDF")
    _overwrite(version.pdf, b"%PDF-1.7 edited")
    with pytest.raises(DocumentTampered, match="The PDF of"):
        verified_document(version=version, kind="pdf", actor=desk_user)
    assert AuditEvent.objects.filter(action=TAMPERED).count() == 1
