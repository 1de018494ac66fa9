"""The customer and our countersigner sign in a real browser from the links in their e-mails;
the deal is signed with a sealed executed PDF. A decline sends the deal back with its reason."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from contracts.esign.executed import verify_executed_pdf
from contracts.esign.models import SignatureRequest
from dealdesk.models import Deal
from tests.approvals.conftest import approvers, won_deal  # noqa: F401
from tests.contracts.conftest import new_deal  # noqa: F401
from tests.esign.conftest import (  # noqa: F401
    _stop_at_signed,
    approve,
    countersigner,
    out_for_signature,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LINK = re.compile(r"https?://\S+/contracts/esign/sign/\S+/")


@pytest.fixture(autouse=True)
def _local(settings, tmp_path, live_server):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ESIGN_DEV_SEAL_DIR = tmp_path / "seal"
    settings.ESIGN_BACKEND = "local"
    settings.SITE_URL = live_server.url


def link_for(address: str) -> str:
    """The signing link in the newest e-mail to `address` that carries one."""
    bodies = (m.body for m in reversed(mail.outbox) if m.to == [address])
    return next(match.group(0) for body in bodies if (match := LINK.search(body)))


def test_customer_then_countersigner_sign_from_their_emails(
    page,
    out_for_signature,  # noqa: F811
    screenshot,
):
    deal = out_for_signature()
    request = SignatureRequest.objects.get(deal=deal)
    customer = request.signers.get(role="customer")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(link_for(customer.email))
    first = page.locator("[data-testid=page-image]").first
    expect(first).to_be_visible()
    page.wait_for_function("document.querySelector('[data-testid=page-image]').naturalWidth > 0")
    expect(page.get_by_test_id("document-sha256")).to_have_text(request.document_sha256)
    screenshot("signing-page-phone")

    page.set_viewport_size({"width": 1280, "height": 900})
    pad = page.locator("canvas[data-signature-pad]")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 40)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 20 + step * 25, box["y"] + 40 + (step % 3) * 15)
    page.mouse.up()
    page.fill("#typed_name", "Jordan Signer")
    page.check("#consent")
    screenshot("signing-page-desktop")
    page.get_by_test_id("sign-button").click()
    expect(page.get_by_test_id("sign-done")).to_be_visible()

    page.goto(link_for("cara@dealdesk.test"))
    page.fill("#typed_name", "Cara Chen")
    page.check("#consent")
    page.get_by_test_id("sign-button").click()
    expect(page.get_by_test_id("sign-done")).to_contain_text("every party has now signed")

    deal = Deal.objects.get(pk=deal.pk)
    request = SignatureRequest.objects.get(pk=request.pk)
    assert deal.state == "signed"
    assert bytes(request.signers.get(role="customer").drawn_signature).startswith(b"\x89PNG")
    executed = request.executed_pdf.read()
    assert verify_executed_pdf(executed, expected_document_sha256=request.document_sha256) == []

    page.goto(link_for(customer.email))  # the link again: used, says so, offers nothing
    expect(page.get_by_test_id("sign-refused")).to_contain_text("already signed")
    expect(page.locator("form")).to_have_count(0)


def test_a_decline_sends_the_deal_back_with_the_reason(
    page,
    live_server,
    login,
    approvers,  # noqa: F811
    out_for_signature,  # noqa: F811
):
    deal = out_for_signature()
    customer = SignatureRequest.objects.get(deal=deal).signers.get(role="customer")
    page.goto(link_for(customer.email))
    page.locator("details summary").click()
    page.fill("#reason", "Our legal entity name is wrong")
    page.get_by_test_id("decline-button").click()
    expect(page.get_by_test_id("sign-done")).to_be_visible()
    deal = Deal.objects.get(pk=deal.pk)
    assert deal.state == "changes_requested"
    assert "Our legal entity name is wrong" in deal.state_reason

    login("deal_desk")  # Deal Desk reads why on the deal page
    page.goto(f"{live_server.url}/deals/{deal.pk}/")
    expect(page.get_by_test_id("deal-state")).to_have_text("Changes requested")
    expect(page.get_by_test_id("state-reason")).to_contain_text("Our legal entity name is wrong")
    expect(page.get_by_test_id("signature-panel")).to_contain_text("Declined")
