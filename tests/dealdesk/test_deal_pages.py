"""The deal list and detail pages: who sees what, filters, sorting, bounded queries."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent
from dealdesk import services
from dealdesk.selectors import deal_timeline
from tests.dealdesk.factories import DealFactory, DealLineFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sales(make_user):
    return make_user("Sales", username="sam")


def test_anonymous_users_are_sent_to_login(client):
    deal = DealFactory()
    for url in (reverse("deal-list"), reverse("deal-detail", args=[deal.pk]), "/admin/"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/login/" in response["Location"]


def test_sales_sees_only_its_own_deals(client, sales):
    mine = DealFactory(owner=sales, name="Mine")
    theirs = DealFactory(name="Theirs")
    client.force_login(sales)
    page = client.get(reverse("deal-list")).content.decode()
    assert "Mine" in page
    assert "Theirs" not in page
    assert client.get(reverse("deal-detail", args=[mine.pk])).status_code == 200
    assert client.get(reverse("deal-detail", args=[theirs.pk])).status_code == 404


@pytest.mark.parametrize("role", ["Deal Desk", "Legal", "Finance", "Executive", "Auditor"])
def test_other_roles_see_every_deal(client, make_user, role):
    DealFactory(name="Alpha deal")
    DealFactory(name="Beta deal")
    client.force_login(make_user(role))
    page = client.get(reverse("deal-list")).content.decode()
    assert "Alpha deal" in page
    assert "Beta deal" in page


def test_the_auditor_can_change_nothing(client, make_user):
    deal = DealFactory()
    client.force_login(make_user("Auditor", is_staff=True))
    response = client.post(reverse("deal-action", args=[deal.pk, "cancel"]), {"reason": "x"})
    assert response.status_code == 403
    deal.refresh_from_db()
    assert deal.state == "new"
    assert not AuditEvent.objects.exists()
    assert client.get("/admin/dealdesk/deal/").status_code == 200
    product = ProductFactory()
    change_url = f"/admin/dealdesk/product/{product.pk}/change/"
    assert client.get(change_url).status_code == 200  # view-only
    assert client.post(change_url, {"sku": "CHANGED"}).status_code == 403
    assert client.post("/admin/dealdesk/product/add/", {"sku": "X"}).status_code == 403
    product.refresh_from_db()
    assert product.sku != "CHANGED"


def test_deal_desk_cancels_a_deal_from_its_page_with_a_reason(client, desk_user):
    deal = DealFactory()
    client.force_login(desk_user)
    url = reverse("deal-action", args=[deal.pk, "cancel"])
    client.post(url, {"reason": ""})
    deal.refresh_from_db()
    assert deal.state == "new", "no reason, no cancellation"
    client.post(url, {"reason": "customer withdrew"})
    deal.refresh_from_db()
    assert deal.state == "new", "not confirmed, no cancellation"
    response = client.post(url, {"reason": "customer withdrew", "confirm": "1"}, follow=True)
    deal.refresh_from_db()
    assert deal.state == "cancelled"
    assert "customer withdrew" in response.content.decode()


def test_an_action_the_state_does_not_allow_shows_why(client, desk_user):
    deal = DealFactory()
    client.force_login(desk_user)
    response = client.post(
        reverse("deal-action", args=[deal.pk, "redraft"]), {"reason": "x"}, follow=True
    )
    assert "it cannot redraft" in response.content.decode()


def test_the_detail_page_shows_lines_pricing_schedule_and_timeline(client, desk_user):
    deal = DealFactory(term_months=12, billing_frequency="quarterly")
    DealLineFactory(deal=deal, product__sku="PLAT-X", product__list_price=Decimal("12000"))
    services.deal_cancel(deal_id=deal.pk, actor=desk_user, reason="duplicate of 006X")
    client.force_login(desk_user)
    page = client.get(reverse("deal-detail", args=[deal.pk])).content.decode()
    assert "PLAT-X" in page
    assert "12,000.00 USD" in page  # TCV
    assert page.count("3,000.00 USD") == 4  # four quarterly invoices
    assert "Deal cancelled" in page  # the action in words, not its code name
    assert "deal.cancelled" not in page
    assert "duplicate of 006X" in page


def test_the_detail_page_names_a_product_finance_has_not_set_up(client, desk_user):
    deal = DealFactory()
    DealLineFactory(
        deal=deal, product__sku="NEW-SKU", product__kind="", product__billing_interval=""
    )
    client.force_login(desk_user)
    page = client.get(reverse("deal-detail", args=[deal.pk])).content.decode()
    assert "Cannot price this deal: product NEW-SKU" in page
    assert "not set up for billing" in page


def test_list_filters_search_and_sort(client, desk_user):
    owner = UserFactory(username="alex", roles=["Sales"])
    DealFactory(name="Zeta renewal", owner=owner)
    DealFactory(name="Alpha expansion", account__name="Northwind")
    client.force_login(desk_user)
    url = reverse("deal-list")
    assert "Zeta" not in client.get(url, {"q": "northwind"}).content.decode()
    assert "Alpha" in client.get(url, {"q": "northwind"}).content.decode()
    assert "Alpha" not in client.get(url, {"owner": "alex"}).content.decode()
    page = client.get(url, {"state": "cancelled"}).content.decode()
    assert "Zeta" not in page
    assert '<option value="cancelled" selected>Cancelled</option>' in page  # the filter stays
    page = client.get(url, {"sort": "name"}).content.decode()
    assert page.index("Alpha") < page.index("Zeta")
    page = client.get(url, {"sort": "-name"}).content.decode()
    assert page.index("Zeta") < page.index("Alpha")
    assert client.get(url, {"sort": "password"}).status_code == 200


def _list_queries(client, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("deal-list"), params)
    assert response.status_code == 200
    return len(queries)


def test_the_deal_list_query_count_does_not_grow_with_deals(client, desk_user):
    DealFactory.create_batch(5)
    client.force_login(desk_user)
    with_5 = _list_queries(client)
    DealFactory.create_batch(195)
    with_200 = _list_queries(client)
    assert with_200 == with_5
    assert with_5 <= 12
    assert _list_queries(client, page=3, sort="account", state="new") == with_5


def test_the_deal_page_query_count_does_not_grow_with_lines(client, desk_user):
    deal = DealFactory()
    DealLineFactory(deal=deal)
    client.force_login(desk_user)
    url = reverse("deal-detail", args=[deal.pk])
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    DealLineFactory.create_batch(20, deal=deal)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(one)


def test_the_timeline_shows_a_transition_once_with_what_its_save_changed(desk_user):
    deal = DealFactory()
    services.deal_send_to_manual_review(deal_id=deal.pk, actor=desk_user, reason="co-term")
    services.deal_cancel(deal_id=deal.pk, actor=desk_user, reason="lost")
    timeline = deal_timeline(deal=deal)
    # Each transition's history row is folded into its audit event; the factory's own
    # creation (no audit event) stays a history entry.
    assert [(e.kind, e.title) for e in timeline] == [
        ("event", "Deal cancelled"),
        ("event", "Sent to manual review"),
        ("change", "Deal record created"),
    ]
    assert timeline[0].detail == "lost"
    assert ("state", "manual_review", "cancelled") in timeline[0].changes
    assert [c[0] for c in timeline[0].changes].count("state") == 1


def test_the_timeline_names_related_objects_instead_of_ids(client, desk_user, pipeline_user):
    deal = DealFactory()
    DealLineFactory(deal=deal)
    services.deal_classify_and_price(deal_id=deal.pk, actor=pipeline_user)
    client.force_login(desk_user)
    page = client.get(reverse("deal-detail", args=[deal.pk])).content.decode()
    assert "→ Simple single product" in page
    assert "Deal classified" in page


def test_deal_desk_resumes_a_deal_from_manual_review_with_a_pattern(client, desk_user):
    deal = DealFactory()
    services.deal_send_to_manual_review(deal_id=deal.pk, actor=desk_user, reason="co-term")
    client.force_login(desk_user)
    page = client.get(reverse("deal-detail", args=[deal.pk])).content.decode()
    assert "Resume drafting" in page
    response = client.post(
        reverse("deal-action", args=[deal.pk, "resume"]),
        {"pattern": "multi_product", "reason": "checked the co-term by hand"},
        follow=True,
    )
    deal.refresh_from_db()
    assert deal.state == "drafting"
    assert deal.pattern.code == "multi_product"
    assert "checked the co-term by hand" in response.content.decode()


def test_an_unknown_action_is_refused(client, desk_user):
    deal = DealFactory()
    client.force_login(desk_user)
    response = client.post(reverse("deal-action", args=[deal.pk, "mark_paid"]), {"reason": "x"})
    assert response.status_code == 403
    deal.refresh_from_db()
    assert deal.state == "new"


def test_past_the_count_cap_the_list_says_so_and_pages_to_the_cap(client, desk_user, monkeypatch):
    monkeypatch.setattr("dealdesk.views.COUNT_CAP", 120)
    DealFactory.create_batch(130)
    client.force_login(desk_user)
    page = client.get(reverse("deal-list")).content.decode()
    assert "120+ deals" in page
    assert "Page 1 of 3" in page
    last = client.get(reverse("deal-list"), {"page": 3})
    assert last.context["page"].number == 3
    assert not last.context["page"].has_next()
    exact = client.get(reverse("deal-list"), {"state": "new", "q": "nothing-matches"})
    assert "0 deals" in exact.content.decode()


def test_list_rows_escape_what_the_crm_sent(client, desk_user):
    DealFactory(name='<script>alert("x")</script> & Co', account__name="Smith & <Sons>")
    client.force_login(desk_user)
    page = client.get(reverse("deal-list")).content.decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in page
    assert "Smith &amp; &lt;Sons&gt;" in page
