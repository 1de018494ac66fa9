"""The AR queue, an AR item's page and the write-off tolerances page: who sees them, filters,
the query count of the list, action forms pre-filled, refusals shown with what was typed."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import ARItem, ARReason, WriteOffTolerance
from tests.billing.test_receivables import held_item, partial_item


@pytest.fixture
def fin(client, make_user):
    user = make_user("Finance", username="fin_a")
    client.force_login(user)
    return user


def test_the_queue_lists_what_needs_finance_oldest_first_in_few_queries(
    client, fin, django_assert_max_num_queries
):
    items = [held_item(Decimal(10 + n), "USD") for n in range(30)]
    for n, item in enumerate(items):
        ARItem.objects.filter(pk=item.pk).update(
            created_at=timezone.now() - timedelta(days=100 - n)
        )
    held_item(Decimal(5), "EUR", reason=ARReason.WRONG_CURRENCY)
    # Session, user, permissions, the page of items and its count, the navigation's and the
    # Finance tabs' counts: the same however many rows.
    with django_assert_max_num_queries(16):
        response = client.get(reverse("billing:ar"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index(f"ar-row-{items[0].pk}") < html.index(f"ar-row-{items[29].pk}")
    assert "100 d" in html
    assert response.context["page"].paginator.count == 31


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"old_usd", "new_eur"}),
        ("currency=EUR", {"new_eur"}),
        ("reason=wrong_currency", {"new_eur"}),
        ("age=90%2B", {"old_usd"}),
        ("age=0-30", {"new_eur"}),
        ("state=resolved", set()),
        ("state=nonsense&currency=XYZ", {"old_usd", "new_eur"}),  # refused: the default
    ],
)
def test_the_queue_filters_by_reason_state_currency_and_age(client, fin, query, expected):
    old = held_item(Decimal(10), "USD")
    ARItem.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=120))
    new = held_item(Decimal(5), "EUR", reason=ARReason.WRONG_CURRENCY)
    response = client.get(f"{reverse('billing:ar')}?{query}")
    shown = {item.pk for item in response.context["page"]}
    assert shown == {{"old_usd": old.pk, "new_eur": new.pk}[name] for name in expected}


def test_only_finance_and_auditors_see_the_ar_pages(client, make_user, desk_user):
    item = held_item(Decimal(10), "USD")
    client.force_login(desk_user)
    for url in (
        reverse("billing:ar"),
        reverse("billing:ar-item", args=[item.pk]),
        reverse("billing:ar-tolerances"),
    ):
        assert client.get(url).status_code == 403
    client.force_login(make_user("Auditor", username="audrey"))
    assert client.get(reverse("billing:ar-item", args=[item.pk])).status_code == 200
    response = client.post(
        reverse("billing:ar-item", args=[item.pk]), {"action": "refund", "amount": "10"}
    )
    assert response.status_code == 403


def test_the_item_page_prefills_the_actions_and_shows_a_refused_amount_with_its_message(
    client, fin, issued_invoice
):
    invoice = issued_invoice()
    item = partial_item(invoice, invoice.total - Decimal("12.5"))
    url = reverse("billing:ar-item", args=[item.pk])
    page = client.get(url).content.decode()
    assert (
        'name="amount" inputmode="decimal" required class="form-control form-control-sm" value="12.50"'
        in page
    )
    assert "Ask for approval" in page  # no tolerance set: a second approver
    response = client.post(url, {"action": "write_off", "amount": "13.00", "reason": "fees"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "not 13.00 to write off" in body
    assert 'value="13.00"' in body
    assert 'value="fees"' in body
    response = client.post(url, {"action": "write_off", "amount": "ten", "reason": "fees"})
    assert "Give the amount as a number" in response.content.decode()
    response = client.post(url, {"action": "write_off", "amount": "12.50", "reason": ""})
    assert "a reason is required" in response.content.decode()
    item.refresh_from_db()
    assert item.state == "open"


def test_a_write_off_asked_for_is_approved_from_the_page_by_someone_else(
    client, fin, make_user, issued_invoice
):
    invoice = issued_invoice()
    item = partial_item(invoice, invoice.total - 80)
    url = reverse("billing:ar-item", args=[item.pk])
    response = client.post(url, {"action": "write_off", "amount": "80", "reason": "goodwill"})
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "A second Finance user approves it" in page
    assert 'data-testid="ar-approve"' not in page
    assert client.post(url, {"action": "approve"}).status_code == 400  # refused on the server
    client.force_login(make_user("Finance", username="fin_b"))
    page = client.get(url).content.decode()
    assert 'data-testid="ar-approve"' in page
    assert "goodwill" in page
    assert client.post(url, {"action": "approve"}).status_code == 302
    invoice.refresh_from_db()
    assert invoice.state == "paid"


def test_finance_sets_a_tolerance_and_a_bad_one_is_refused_with_a_message(client, fin):
    url = reverse("billing:ar-tolerances")
    response = client.post(url, {"currency": "JPY", "amount": "1000"})
    assert response.status_code == 302
    assert WriteOffTolerance.objects.get(currency="JPY").amount == 1000
    response = client.post(url, {"currency": "JPY", "amount": "10.5"})
    assert response.status_code == 400
    assert "JPY amounts have at most 0 decimals" in response.content.decode()
    response = client.post(url, {"currency": "XXX", "amount": "1"})
    assert response.status_code == 400
    assert WriteOffTolerance.objects.get(currency="JPY").amount == 1000
    assert "1,000 JPY" in client.get(url).content.decode()


def test_allocate_refund_credit_and_chase_from_the_page(client, fin, issued_invoice, mailoutbox):
    invoice = issued_invoice()
    held = held_item(Decimal("300.00"), invoice.currency)
    url = reverse("billing:ar-item", args=[held.pk])
    page = client.get(url).content.decode()
    assert f'<option value="{invoice.number}">' in page  # the customer's open invoice offered
    response = client.post(url, {"action": "allocate", "invoice": "DD-NOPE", "amount": "100"})
    assert "No invoice is numbered &#x27;DD-NOPE&#x27;" in response.content.decode()
    post = {"action": "allocate", "invoice": invoice.number, "amount": "100", "note": ""}
    assert client.post(url, post).status_code == 302
    post = {"action": "refund", "amount": "200.00", "reason": "overpaid", "reference": "TRX-1"}
    assert client.post(url, post).status_code == 302
    held.refresh_from_db()
    assert (held.state, held.resolution) == ("resolved", "refunded")

    partial = partial_item(invoice, Decimal(100))
    url = reverse("billing:ar-item", args=[partial.pk])
    mailoutbox.clear()
    assert client.post(url, {"action": "chase"}).status_code == 302
    assert len(mailoutbox) == 1
    response = client.post(url, {"action": "chase"})
    assert "next reminder from" in response.content.decode()
    post = {"action": "credit_note", "amount": str(invoice.total - 200), "reason": "settled"}
    assert client.post(url, post).status_code == 302
    invoice.refresh_from_db()
    assert invoice.state == "paid"
    assert client.post(url, {"action": "bogus"}).status_code == 400
