"""The inbox page: who may open it, its filters and paging, "Assign to me" (audited), the
navigation's badge, and a fixed number of queries however many rows wait."""

from functools import partial

import pytest
from django.urls import reverse

from audit.actions import Action
from audit.models import AuditEvent
from dealdesk.roles import navigation_for
from inbox.models import InboxAssignment
from inbox.selectors import PAGE_SIZE
from inbox.services import inbox_assign
from tests.concurrency import at_once, raised
from tests.inbox import factories as f

pytestmark = pytest.mark.django_db
URL = reverse("inbox:list")


def _page(client, **params) -> str:
    response = client.get(URL, params)
    assert response.status_code == 200
    return response.content.decode()


def test_anonymous_people_are_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", ["Sales", "Legal", "Auditor"])
def test_roles_that_own_no_stopped_work_have_no_inbox(client, make_user, role):
    user = make_user(role)
    client.force_login(user)
    assert client.get(URL).status_code == 403
    assert client.get(reverse("inbox:nav-count")).status_code == 403
    assert "Inbox" not in [label for label, _ in navigation_for(user)]


def test_finance_sees_its_rows_and_not_the_crm_quarantine(client, make_user):
    item = f.ar_item(since=f.ago(2))
    hidden = f.quarantined(since=f.ago(5), reason="Bad Opportunity stage")
    finance = make_user("Finance")
    client.force_login(finance)
    page = _page(client)
    assert f'data-testid="inbox-row-ar_item-{item.pk}"' in page
    assert "Bad Opportunity stage" not in page
    assert f"inbox-row-crm_quarantine-{hidden.pk}" not in page
    assert "Inbox" in [label for label, _ in navigation_for(finance)]
    # A kind it may not see, asked for by name, is ignored rather than shown.
    assert "Bad Opportunity stage" not in _page(client, kind="crm_quarantine")


def test_filters_kind_group_and_breached(client, make_user, settings):
    settings.INBOX_SLA_HOURS = {"ar_item": 72, "billing_exception": 24}
    young = f.ar_item(since=f.ago(2))
    late = f.billing_exception(since=f.ago(30))
    client.force_login(make_user("Finance"))
    page = _page(client, kind="ar_item")
    assert f"inbox-row-ar_item-{young.pk}" in page
    assert f"inbox-row-billing_exception-{late.pk}" not in page
    page = _page(client, breached="1")
    assert f"inbox-row-billing_exception-{late.pk}" in page
    assert f"inbox-row-ar_item-{young.pk}" not in page
    assert 'data-testid="inbox-empty"' in _page(client, group="Finance", kind="dead_step")
    # A group it does not act for is no filter it can choose: dropped, everything shown.
    assert f"inbox-row-ar_item-{young.pk}" in _page(client, group="Deal Desk")
    # Hostile values are dropped, not errors.
    assert f"inbox-row-ar_item-{young.pk}" in _page(client, kind="x' OR 1=1", who="<script>")


def test_assign_to_me_then_mine_and_unassigned(client, make_user):
    first, second = f.ar_item(since=f.ago(3)), f.ar_item(since=f.ago(2))
    ann = make_user("Finance", first_name="Ann", last_name="Lee")
    client.force_login(ann)
    response = client.post(
        reverse("inbox:assign"), {"kind": "ar_item", "key": first.pk, "next": URL + "?who=mine"}
    )
    assert response.status_code == 302
    assert response["Location"] == URL + "?who=mine"
    assignment = InboxAssignment.objects.get()
    assert (assignment.kind, assignment.object_key, assignment.user) == (
        "ar_item",
        str(first.pk),
        ann,
    )
    event = AuditEvent.objects.get(action=Action.INBOX_ASSIGNED)
    assert event.actor_id == ann.pk
    assert event.data["key"] == str(first.pk)
    assert assignment.history.count() == 1
    mine = _page(client, who="mine")
    assert f"inbox-row-ar_item-{first.pk}" in mine
    assert f"inbox-row-ar_item-{second.pk}" not in mine
    assert "Ann Lee" in mine
    unassigned = _page(client, who="unassigned")
    assert f"inbox-row-ar_item-{first.pk}" not in unassigned
    assert f"inbox-row-ar_item-{second.pk}" in unassigned
    # Pressing it twice changes nothing.
    client.post(reverse("inbox:assign"), {"kind": "ar_item", "key": first.pk})
    assert AuditEvent.objects.filter(action=Action.INBOX_ASSIGNED).count() == 1

    client.post(reverse("inbox:unassign"), {"kind": "ar_item", "key": first.pk})
    assert not InboxAssignment.objects.exists()
    assert AuditEvent.objects.filter(action=Action.INBOX_UNASSIGNED, actor_id=ann.pk).exists()


def test_taking_over_an_item_is_audited_with_who_held_it(client, make_user):
    item = f.ar_item(since=f.ago(3))
    ann, bob = make_user("Finance", username="ann"), make_user("Finance", username="bob")
    for person in (ann, bob):
        client.force_login(person)
        client.post(reverse("inbox:assign"), {"kind": "ar_item", "key": item.pk})
    assert InboxAssignment.objects.get().user == bob
    last = AuditEvent.objects.filter(action=Action.INBOX_ASSIGNED).order_by("-seq").first()
    assert (last.before, last.after) == ({"user": "ann"}, {"user": "bob"})


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_people_assigning_at_once_end_with_one_holder_and_no_error(make_user):
    item = f.ar_item(since=f.ago(3))
    people = [make_user("Finance", username=name) for name in ("ann", "bob")]
    outcomes = at_once(
        *(partial(inbox_assign, kind="ar_item", key=str(item.pk), actor=p) for p in people)
    )
    assert raised(outcomes) == []
    holder = InboxAssignment.objects.get().user
    events = AuditEvent.objects.filter(action=Action.INBOX_ASSIGNED).order_by("seq")
    assert [e.after["user"] for e in events][-1] == holder.username
    assert events.count() == 2


def test_an_assignment_from_an_earlier_stop_does_not_count(client, make_user):
    deal = f.deal_in("manual_review", since=f.ago(10))
    InboxAssignment.objects.create(
        kind="manual_review",
        object_key=str(deal.pk),
        user=make_user("Deal Desk"),
        assigned_at=f.ago(20),
    )
    client.force_login(make_user("Deal Desk"))
    assert f"inbox-row-manual_review-{deal.pk}" in _page(client, who="unassigned")


@pytest.mark.parametrize(
    ("kind", "key"),
    [("crm_quarantine", None), ("ar_item", "999999"), ("no_such_kind", "1"), ("ar_item", "1 OR 1")],
)
def test_assigning_what_you_cannot_see_is_not_found(client, make_user, kind, key):
    record = f.quarantined(since=f.ago(1))
    client.force_login(make_user("Finance"))
    response = client.post(reverse("inbox:assign"), {"kind": kind, "key": key or record.pk})
    assert response.status_code == 404
    assert not InboxAssignment.objects.exists()
    assert not AuditEvent.objects.filter(action=Action.INBOX_ASSIGNED).exists()


def test_handing_back_someone_elses_item_is_refused(client, make_user):
    item = f.ar_item(since=f.ago(3))
    InboxAssignment.objects.create(kind="ar_item", object_key=str(item.pk), user=make_user())
    client.force_login(make_user("Finance"))
    response = client.post(reverse("inbox:unassign"), {"kind": "ar_item", "key": item.pk})
    assert response.status_code == 404
    assert InboxAssignment.objects.exists()


def test_the_nav_badge_counts_what_waits_for_the_users_groups(client, make_user):
    f.ar_item(since=f.ago(1))
    f.billing_exception(since=f.ago(1))
    f.deal_in("manual_review", since=f.ago(1))
    client.force_login(make_user("Finance"))
    badge = client.get(reverse("inbox:nav-count")).content.decode()
    assert 'data-testid="nav-inbox-count"' in badge
    assert ">2</span>" in badge
    # Every page asks for it lazily: the page itself pays no query for it.
    deals = client.get(reverse("deal-list")).content.decode()
    assert 'hx-get="/inbox/count/"' in deals


def test_the_nav_badge_is_one_count_query(client, make_user, django_assert_num_queries):
    for _ in range(5):
        f.ar_item(since=f.ago(1))
        f.billing_exception(since=f.ago(1))
    user = make_user("Finance")
    client.force_login(user)
    client.get(reverse("inbox:nav-count"))  # warm the session and permission caches
    # session, user, its permissions (2), the one UNION count
    with django_assert_num_queries(5):
        client.get(reverse("inbox:nav-count"))


def _many_of_each(n: int) -> None:
    for i in range(n):
        since = f.ago(100 + i)
        f.deal_in("manual_review", since=since)
        f.deal_in("changes_requested", since=since)
        f.signature_request(state="declined", since=since, deal_state="changes_requested")
        f.quarantined(since=since)
        f.drift(since=since)
        f.billing_exception(since=since)
        f.ar_item(since=since)
        f.dead_step(since=since)
        f.dead_event(since=since)


def test_the_list_page_takes_a_fixed_number_of_queries(
    client, make_user, django_assert_max_num_queries
):
    admin = make_user(is_superuser=True, is_staff=True)
    client.force_login(admin)
    _many_of_each(2)
    with django_assert_max_num_queries(40) as few:
        _page(client)
    baseline = len(few.captured_queries)
    _many_of_each(6)  # 72 rows: more than a page, every kind on it
    with django_assert_max_num_queries(baseline):
        page = _page(client)
    assert page.count('class="row g-2 mx-0 px-2 py-2 border-bottom small inbox-row') == PAGE_SIZE
    assert 'rel="next"' in page
