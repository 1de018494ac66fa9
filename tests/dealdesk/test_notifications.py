"""The bell: what waits for a person, written by the tasks that e-mail them, once per key;
the mails carry the deal's name, amount and a link."""

from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from approvals.services import approval_request_decide
from approvals.tasks import notify_request_decided, notify_request_opened
from dealdesk.models import Deal, Notification
from dealdesk.notifications import mail_body, notify
from dealdesk.services import deal_send_to_manual_review
from dealdesk.tasks import deal_notify_deal_desk
from tests.approvals.conftest import approvers, media_root, new_deal, won_deal  # noqa: F401
from tests.approvals.test_pages import request_  # noqa: F401  (Finance's open request)
from tests.dealdesk.factories import DealFactory, UserFactory


@pytest.fixture
def site(settings):
    settings.SITE_URL = "https://dealdesk.example.com"


@pytest.fixture
def second_finance(make_user):
    """A Finance member without an e-mail address: the bell still tells them."""
    return make_user("Finance", username="fin2", email="")


def test_an_opened_request_tells_each_member_of_its_group_once(
    site,
    approvers,  # noqa: F811
    second_finance,
    request_,  # noqa: F811
):
    deal = request_.deal
    rows = Notification.objects.filter(kind="approval_needed")
    assert {n.recipient for n in rows} == {approvers["Finance"], second_finance}
    assert {n.url for n in rows} == {reverse("deal-detail", args=[deal.pk])}
    assert all(n.deal == deal and n.read_at is None for n in rows)
    assert "Finance approval needed" in rows[0].text
    assert deal.name in rows[0].text

    [sent] = [m for m in mail.outbox if m.subject == f"[Dealdesk] approval needed: {deal.name}"]
    assert sent.to == [approvers["Finance"].email]
    assert f"Deal: {deal.name} (Acme Logistics, Inc.)" in sent.body
    assert f"Amount: {deal.tcv:,.2f} USD (TCV)" in sent.body
    assert f"Open: https://dealdesk.example.com/deals/{deal.pk}/" in sent.body
    assert "payment terms net 90" in sent.body  # the request's reasons

    assert notify_request_opened(request_.pk) == 0, "run again: no second mail"
    assert rows.count() == 2, "and no second bell row"


def test_a_decision_tells_deal_desk_with_the_amount_and_a_link(
    site,
    approvers,  # noqa: F811
    request_,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        approval_request_decide(
            request_id=request_.pk, actor=approvers["Finance"], approve=True, reason="fine"
        )
    desk = Notification.objects.get(kind="approval_decided")
    assert desk.recipient == approvers["Deal Desk"]
    assert desk.text == f"{request_.deal.name}: Finance approved"
    decided = [m for m in mail.outbox if "Finance approved" in m.subject]
    assert len(decided) == 1
    assert "https://dealdesk.example.com/deals/" in decided[0].body
    assert "finance: fine" in decided[0].body
    assert notify_request_decided(request_.pk) == 0
    needed = Notification.objects.get(kind="approval_needed", recipient=approvers["Finance"])
    assert needed.read_at is not None, "decided: it waits for Finance no more"
    assert Notification.objects.filter(kind="approval_decided").count() == 1


def test_a_deal_not_priced_yet_shows_its_crm_amount(db):
    deal = DealFactory(currency="EUR", crm_amount=Decimal("1234.5"), tcv=None)
    body = mail_body(deal=deal, headline="x", details=[], path="/deals/1/")
    assert "Amount: 1,234.50 EUR (CRM amount)" in body


@pytest.fixture
def waiting(db):
    """Three notifications for `user` and one for someone else."""
    user, other = UserFactory(), UserFactory()
    deal = DealFactory()
    for n in range(3):
        notify(
            recipients=[user],
            deal=deal,
            kind=Notification.Kind.APPROVAL_NEEDED,
            key=f"k{n}",
            subject="s",
            headline=f"thing {n} waits",
        )
    notify(
        recipients=[other],
        deal=deal,
        kind=Notification.Kind.APPROVAL_NEEDED,
        key="theirs",
        subject="s",
        headline="not yours",
    )
    return user, other


def test_the_bell_counts_unread_in_one_query_whatever_their_number(
    client, waiting, django_assert_max_num_queries
):
    user, _ = waiting
    client.force_login(user)
    page = client.get(reverse("notification-list"))
    body = page.content.decode()
    assert 'data-testid="bell-count">3<' in body
    assert "thing 0 waits" in body
    assert "not yours" not in body
    with django_assert_max_num_queries(20) as three:
        client.get(reverse("deal-list"))
    Notification.objects.create(
        recipient=user,
        deal=Notification.objects.first().deal,
        kind="approval_needed",
        key="k9",
        text="more",
        url="/deals/",
    )
    with django_assert_max_num_queries(20) as four:
        client.get(reverse("deal-list"))
    assert len(four.captured_queries) == len(three.captured_queries)
    counts = [q["sql"] for q in four.captured_queries if "dealdesk_notification" in q["sql"]]
    assert len(counts) == 1


def test_opening_one_marks_it_read_and_goes_to_its_deal(client, waiting):
    user, _ = waiting
    client.force_login(user)
    first = Notification.objects.filter(recipient=user).first()
    response = client.post(reverse("notification-go", args=[first.pk]))
    assert response.status_code == 302
    assert response["Location"] == first.url
    first.refresh_from_db()
    assert first.read_at is not None
    page = client.get(reverse("deal-list")).content.decode()
    assert 'data-testid="bell-count">2<' in page


def test_opening_is_a_post_and_someone_elses_is_not_found(client, waiting):
    user, other = waiting
    client.force_login(user)
    theirs = Notification.objects.get(recipient=other)
    assert client.get(reverse("notification-go", args=[theirs.pk])).status_code == 405
    assert client.post(reverse("notification-go", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.parametrize(
    "stored", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", "deals/1/"]
)
def test_a_link_off_the_site_leads_to_the_deal_list(client, waiting, stored):
    user, _ = waiting
    client.force_login(user)
    notification = Notification.objects.filter(recipient=user).first()
    Notification.objects.filter(pk=notification.pk).update(url=stored)
    response = client.post(reverse("notification-go", args=[notification.pk]))
    assert response["Location"] == reverse("deal-list")


def test_mark_all_read_is_the_users_own(client, waiting):
    user, other = waiting
    client.force_login(user)
    response = client.post(reverse("notifications-read-all"))
    assert response.status_code == 302
    assert not Notification.objects.filter(recipient=user, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=other, read_at__isnull=True).count() == 1
    page = client.get(reverse("notification-list")).content.decode()
    assert 'data-testid="bell-count"' not in page
    assert 'data-testid="read-all"' not in page


def test_nobody_logged_out_sees_notifications(client, waiting):
    assert client.get(reverse("notification-list")).status_code == 302
    assert client.post(reverse("notifications-read-all")).status_code == 302
    assert Notification.objects.filter(read_at__isnull=True).count() == 4


def test_a_deal_that_stops_for_deal_desk_tells_them_once_each_time(
    site, make_user, django_capture_on_commit_callbacks
):
    desk = make_user("Deal Desk", username="desk2")
    deal = DealFactory()
    with django_capture_on_commit_callbacks(execute=True):
        deal_send_to_manual_review(deal_id=deal.pk, actor=desk, reason="needs a person")
    [row] = Notification.objects.filter(kind="deal_waits_for_desk", recipient=desk)
    assert row.text == f"{deal.name} waits for Deal Desk: manual review"
    [sent] = [m for m in mail.outbox if m.subject == f"[Dealdesk] Manual review: {deal.name}"]
    assert "needs a person" in sent.body
    assert f"Open: https://dealdesk.example.com/deals/{deal.pk}/" in sent.body

    assert deal_notify_deal_desk(deal.pk) == 0, "the step again: no second mail"
    assert Notification.objects.filter(kind="deal_waits_for_desk").count() == 1
    # Back in the pipeline (how does not matter here), then stopped again: a new stop.
    Deal.objects.filter(pk=deal.pk).update(state="drafting")
    with django_capture_on_commit_callbacks(execute=True):
        deal_send_to_manual_review(deal_id=deal.pk, actor=desk, reason="stuck again")
    assert Notification.objects.filter(kind="deal_waits_for_desk").count() == 2
