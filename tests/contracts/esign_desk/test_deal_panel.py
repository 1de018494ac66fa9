"""The deal page's Signature panel: what it shows, to whom, and its own polling."""

import pytest
from django.urls import reverse

from contracts.esign.models import SignatureRequest

pytestmark = pytest.mark.django_db


def panel(client, user, deal):
    client.force_login(user)
    return client.get(reverse("deal-detail", args=[deal.pk])).content.decode()


def test_deal_desk_sees_the_signers_in_order_with_their_actions(client, desk, out_for_signature):
    deal = out_for_signature()
    request = SignatureRequest.objects.get(deal=deal)
    customer, us = request.signers.order_by("routing_order")
    html = panel(client, desk, deal)
    assert 'data-testid="signature-panel"' in html
    assert html.index("Jordan Signer") < html.index("Cara Chen")
    assert f'data-testid="signer-state-{customer.pk}">Sent<' in html
    assert "Waiting for an earlier signer" in html  # our countersigner, after the customer
    assert request.document_sha256[:12] in html
    assert f'title="SHA-256 of the approved PDF: {request.document_sha256}"' in html
    # Asked signers can be reminded and their link copied; a waiting one not yet.
    assert f'data-testid="remind-{customer.pk}"' in html
    assert f'data-testid="copy-link-{customer.pk}"' in html
    assert f'data-testid="remind-{us.pk}"' not in html
    assert 'data-testid="void"' in html
    assert 'hx-trigger="every 5s"' in html  # live while out for signature


def test_auditors_see_the_panel_without_buttons_and_sales_not_at_all(
    client, make_user, out_for_signature
):
    deal = out_for_signature()
    html = panel(client, make_user("Auditor", username="audrey"), deal)
    assert 'data-testid="signature-panel"' in html
    assert "Jordan Signer" in html
    for action in ("remind-", "copy-link-", 'data-testid="void"', "signature-send", "paper-upload"):
        assert action not in html
    assert 'data-testid="signature-panel"' not in panel(client, deal.owner, deal)


def test_a_blocked_draft_says_why_and_offers_send(client, desk, won_deal, approve, countersigner):
    deal = won_deal()
    deal.contact_roles.all().delete()
    deal = approve(deal)
    assert deal.state == "approved"
    html = panel(client, desk, deal)
    assert 'data-testid="blocked-reason"' in html
    assert "has no customer signer with an e-mail address" in html
    assert "Send for signature" in html
    assert "every 5s" not in html  # nothing to wait for


def test_the_polled_panel_stops_polling_when_signed_and_brings_the_state_badge(
    client, desk, out_for_signature, sign
):
    deal = out_for_signature()
    client.force_login(desk)
    url = reverse("esign-desk:panel", args=[deal.pk])
    assert 'hx-trigger="every 5s"' in client.get(url).content.decode()
    for signer in SignatureRequest.objects.get(deal=deal).signers.order_by("routing_order"):
        signer.refresh_from_db()
        sign(signer)
    html = client.get(url).content.decode()
    assert "every 5s" not in html
    assert 'data-testid="signature-state">Completed<' in html
    assert 'data-testid="executed-pdf"' in html
    assert 'id="deal-state" data-testid="deal-state" hx-swap-oob="true">Signed<' in html


def test_the_panel_reads_in_a_fixed_number_of_queries(
    client, desk, out_for_signature, django_assert_max_num_queries
):
    deal = out_for_signature()
    client.force_login(desk)
    url = reverse("esign-desk:panel", args=[deal.pk])
    client.get(url)
    # Session, user, permissions (2), the deal, its latest request, its signers.
    with django_assert_max_num_queries(7):
        assert client.get(url).status_code == 200


def test_sales_cannot_fetch_the_panel(client, make_user, out_for_signature):
    deal = out_for_signature()
    client.force_login(make_user("Sales", username="other_ae"))
    assert client.get(reverse("esign-desk:panel", args=[deal.pk])).status_code == 403
