"""A contract that cannot be drawn: people read that Deal Desk has been told, ops read why
(the log, and the admin's Integrations → Integration calls), never the other way round."""

import logging

import pytest
from django.urls import reverse

from contracts.models import ContractTemplate, ContractVersion
from contracts.rendering import DRAWING_FAILED
from dealdesk.integrations.models import IntegrationCall

OPS_WORDS = ("apt-get", "fonts-noto", "Debian", "Traceback", "U+E000", "does not render")


@pytest.fixture
def drawing_log(caplog):
    caplog.set_level(logging.WARNING, logger="contracts.drawing_failures")
    return caplog


def _drawing_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "contracts.drawing_failures"]


def test_a_missing_font_tells_people_deal_desk_knows_and_ops_which_package(
    new_deal, drawing_log, client, desk_user
):
    deal = new_deal(legal_name="Nimbus \ue000 Labs")  # a character no installed font has
    assert deal.state == "manual_review"
    assert (
        deal.state_reason
        == DRAWING_FAILED
        == ("The contract could not be drawn: Deal Desk has been told.")
    )
    assert not ContractVersion.objects.filter(deal=deal).exists()

    [record] = _drawing_records(drawing_log)
    assert record.levelno == logging.ERROR
    assert deal.crm_id in record.getMessage()
    assert "U+E000" in record.getMessage()
    assert "apt-get install fonts-noto-core fonts-noto-cjk" in record.getMessage()

    call = IntegrationCall.objects.get(vendor="documents")
    assert (call.operation, call.status, call.idempotency_key) == (
        "draw_contract",
        "failed",
        deal.crm_id,
    )
    assert "apt-get install fonts-noto-core fonts-noto-cjk" in call.error

    client.force_login(desk_user)
    page = client.get(reverse("deal-detail", args=[deal.pk])).content.decode()
    assert DRAWING_FAILED in page
    for word in OPS_WORDS:
        assert word not in page


def test_a_template_that_fails_to_render_is_reported_with_its_traceback(new_deal, drawing_log):
    ContractTemplate.objects.update(html="{% if %}broken")
    deal = new_deal()
    assert deal.state_reason == DRAWING_FAILED
    [record] = _drawing_records(drawing_log)
    assert "HTML template does not render" in record.getMessage()
    assert record.exc_info is not None  # Django's own error underneath, for ops
    assert "HTML template does not render" in IntegrationCall.objects.get(vendor="documents").error


def test_a_control_character_is_the_deals_text_to_correct_not_an_ops_failure(new_deal, drawing_log):
    deal = new_deal(legal_name="Acme\vLogistics Inc.")  # Excel's line break, via the CRM
    assert deal.state == "manual_review"
    assert deal.state_reason == (
        "The contract could not be drawn: the PDF would show empty boxes for U+000B "
        "(a control character) in account.legal_name: control characters have no printed "
        "form: correct the text where it comes from."
    )
    [record] = _drawing_records(drawing_log)
    assert record.levelno == logging.WARNING
    assert not IntegrationCall.objects.filter(vendor="documents").exists()


def test_a_legal_edit_that_cannot_be_drawn_says_so_on_the_review_page(
    new_deal, legal_user, client, drawing_log
):
    version = new_deal().contract_versions.get()
    po = next(i for i, c in enumerate(version.clauses) if c["type"] == "purchase_order_required")
    client.force_login(legal_user)
    response = client.post(
        reverse("contract-clause-action", args=[version.pk, po, "edit"]),
        {"param_po_number": "PO \ue000 7", "reason": "customer's new PO"},
        follow=True,
    )
    page = response.content.decode()
    assert DRAWING_FAILED in page
    for word in OPS_WORDS:
        assert word not in page
    assert not ContractVersion.objects.filter(deal=version.deal, number=2).exists()
    [record] = _drawing_records(drawing_log)
    assert "apt-get install fonts-noto-core fonts-noto-cjk" in record.getMessage()
