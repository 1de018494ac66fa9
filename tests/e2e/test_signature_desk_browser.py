"""Deal Desk's signature screens in a real browser: the deal page follows the signers live,
void and resend, and the "Out for signature" list (desktop and phone width)."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from contracts.esign.models import SignatureRequest
from contracts.esign.tokens import signing_token
from tests.esign.conftest import (  # noqa: F401  (a won deal through the real pipeline)
    _seal_and_mail,
    _stop_at_signed,
    approve,
    approvers,
    countersigner,
    media_root,
    new_deal,
    out_for_signature,
    sign,
    won_deal,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1280, 390])
def test_the_deal_page_follows_the_signers_live_until_signed(
    page,
    sign,  # noqa: F811
    live_server,
    login,
    screenshot,
    approvers,  # noqa: F811
    out_for_signature,  # noqa: F811
    width,
):
    deal = out_for_signature()
    request = SignatureRequest.objects.get(deal=deal)
    customer, us = request.signers.order_by("routing_order")
    page.set_viewport_size({"width": width, "height": 900})
    login("deal_desk")
    page.goto(f"{live_server.url}{reverse('deal-detail', args=[deal.pk])}")
    panel = page.get_by_test_id("signature-panel")
    expect(panel.get_by_test_id(f"signer-state-{customer.pk}")).to_have_text("Sent")
    expect(panel.get_by_test_id(f"signer-state-{us.pk}")).to_have_text(
        "Waiting for an earlier signer"
    )
    page.evaluate("window.stillTheSamePage = true")
    screenshot(f"esign-desk-panel-sent-{width}")

    sign(customer)
    expect(panel.get_by_test_id(f"signer-state-{customer.pk}")).to_have_text(
        "Signed", timeout=15_000
    )
    expect(panel.get_by_test_id(f"signer-state-{us.pk}")).to_have_text("Sent")
    assert page.evaluate("window.stillTheSamePage") is True  # no reload: the panel updated

    sign(us)
    expect(page.get_by_test_id("signature-state")).to_have_text("Completed", timeout=15_000)
    expect(page.get_by_test_id("deal-state")).to_have_text("Signed")
    # Finished: the page reloaded itself, so its actions and timeline are current too.
    expect(page.get_by_test_id("timeline")).to_contain_text("Signed by every party")
    expect(page.get_by_test_id("cancel-deal")).to_have_count(0)
    panel.scroll_into_view_if_needed()
    screenshot(f"esign-desk-panel-signed-{width}")
    with page.expect_download() as download:
        page.get_by_test_id("executed-pdf").click()
    assert download.value.suggested_filename.endswith("-executed.pdf")
    with open(download.value.path(), "rb") as handle:
        assert handle.read(5) == b"%PDF-"


def test_void_with_a_reason_returns_the_deal_to_approved_and_offers_resend(
    page,
    live_server,
    login,
    screenshot,
    approvers,  # noqa: F811
    out_for_signature,  # noqa: F811
):
    deal = out_for_signature()
    customer = SignatureRequest.objects.get(deal=deal).signers.get(role="customer")
    login("deal_desk")
    page.goto(f"{live_server.url}{reverse('deal-detail', args=[deal.pk])}")

    page.get_by_test_id(f"copy-link-{customer.pk}").click()
    expect(page.get_by_test_id("signing-link-url")).to_have_value(
        f"http://testserver/contracts/esign/sign/{signing_token(customer)}/"
    )
    expect(page.get_by_test_id("copy-button")).to_be_visible()
    screenshot("esign-desk-copy-link")
    page.click("text=Back")

    page.get_by_test_id("void").locator("summary").click()
    page.fill("textarea[name=reason]", "The customer's signer changed")
    page.check("#id_void_confirm")
    screenshot("esign-desk-void-confirm")
    page.get_by_test_id("void-submit").click()
    expect(page.get_by_role("alert").first).to_contain_text("Signature request voided")
    expect(page.get_by_test_id("deal-state")).to_have_text("Approved")
    expect(page.get_by_test_id("signature-state")).to_have_text("Voided")
    expect(page.get_by_test_id("signature-reason")).to_contain_text("The customer's signer changed")
    expect(page.get_by_test_id("signature-send")).to_have_text("Resend")
    screenshot("esign-desk-voided")

    page.get_by_test_id("signature-send").click()
    expect(page.get_by_test_id("deal-state")).to_have_text("Out for signature")
    expect(page.get_by_test_id("signature-state")).to_have_text("Sent")


@pytest.mark.parametrize("width", [1280, 390])
def test_the_list_filters_by_whom_it_waits_on(
    page,
    sign,  # noqa: F811
    live_server,
    login,
    screenshot,
    approvers,  # noqa: F811
    out_for_signature,  # noqa: F811
    width,
):
    theirs = out_for_signature(name="Waits on the customer")
    ours = out_for_signature(name="Waits on us")
    sign(SignatureRequest.objects.get(deal=ours).signers.get(role="customer"))
    page.set_viewport_size({"width": width, "height": 900})
    login("deal_desk")
    page.goto(f"{live_server.url}{reverse('esign-desk:list')}")
    rows = page.locator("[data-testid^=signature-row-]")
    expect(rows).to_have_count(2)
    expect(page.get_by_test_id("signature-list")).to_contain_text("Jordan Signer (customer)")
    expect(page.get_by_test_id("signature-list")).to_contain_text("Cara Chen (countersigner)")
    screenshot(f"esign-desk-list-{width}")

    page.select_option("select[name=waiting]", "us")
    page.click("text=Filter")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(ours.name)
    page.select_option("select[name=waiting]", "customer")
    page.click("text=Filter")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(theirs.name)
    screenshot(f"esign-desk-list-customer-{width}")
