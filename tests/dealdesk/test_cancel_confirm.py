"""Cancelling a deal cannot be undone: the server wants a reason and a ticked confirmation."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from tests.dealdesk.factories import DealFactory


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ({"reason": "customer withdrew"}, "Tick the box to confirm"),
        ({"reason": "customer withdrew", "confirm": ""}, "Tick the box to confirm"),
        ({"reason": "   ", "confirm": "1"}, "Say why: a reason is required."),
        ({"confirm": "1"}, "Say why: a reason is required."),
    ],
)
def test_a_cancel_without_confirmation_or_reason_cancels_nothing(
    client, desk_user, posted, message
):
    deal = DealFactory()
    client.force_login(desk_user)
    response = client.post(reverse("deal-action", args=[deal.pk, "cancel"]), posted, follow=True)
    assert message in response.content.decode()
    deal.refresh_from_db()
    assert deal.state == "new"
    assert not AuditEvent.objects.filter(action="deal.cancelled").exists()


def test_a_confirmed_cancel_with_a_reason_cancels(client, desk_user):
    deal = DealFactory()
    client.force_login(desk_user)
    response = client.post(
        reverse("deal-action", args=[deal.pk, "cancel"]),
        {"reason": "customer withdrew", "confirm": "1"},
        follow=True,
    )
    deal.refresh_from_db()
    assert deal.state == "cancelled"
    assert deal.state_reason == "customer withdrew"
    assert "Cancel deal." in response.content.decode()


def test_the_page_asks_for_both_before_cancelling(client, desk_user):
    deal = DealFactory()
    client.force_login(desk_user)
    page = client.get(reverse("deal-detail", args=[deal.pk])).content.decode()
    start = page.index('data-testid="cancel-deal"')
    form = page[start : page.index("</details>", start)]
    assert "<summary" in form
    assert 'name="confirm"' in form
    assert "required" in form
    assert 'name="reason"' in form
