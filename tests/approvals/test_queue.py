"""My approvals: filters, sorting, capped paging and the query count with filters on."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from approvals import views
from approvals.models import ApprovalRequest
from dealdesk.models import Deal
from tests.approvals.test_flow import NET_90
from tests.approvals.test_pages import more_requests

# name → (TCV, effective discount %), oldest first.
DEALS = {
    "Alpha": (Decimal(100_000), Decimal(5)),
    "Bravo": (Decimal(300_000), Decimal(25)),
    "Charlie": (Decimal(200_000), Decimal(15)),
}


def extra_request(of: ApprovalRequest, group: str, step: int) -> ApprovalRequest:
    return ApprovalRequest.objects.create(
        deal=of.deal,
        contract_version=of.contract_version,
        content_hash=of.content_hash,
        step=step,
        group=Group.objects.get(name=group),
        rule_names=["r"],
        reasons=["why"],
    )


@pytest.fixture
def queue(won_deal):
    """Finance requests on Alpha, Bravo and Charlie, an Executive request on Bravo (newest)
    and a Legal request on Alpha; known TCVs, discounts and ages."""
    rows = {}
    for name, (tcv, discount) in DEALS.items():
        request_ = ApprovalRequest.objects.get(deal=won_deal(notes=NET_90, name=name))
        Deal.objects.filter(pk=request_.deal_id).update(tcv=tcv, effective_discount_pct=discount)
        rows[name] = request_
    rows["Bravo exec"] = extra_request(rows["Bravo"], "Executive", 2)
    rows["Alpha legal"] = extra_request(rows["Alpha"], "Legal", 1)
    start = timezone.now() - timedelta(days=10)
    for hours, request_ in enumerate(rows.values()):
        ApprovalRequest.objects.filter(pk=request_.pk).update(
            created_at=start + timedelta(hours=hours)
        )
    return rows


@pytest.fixture
def approver(client, make_user):
    user = make_user("Finance", "Executive")
    client.force_login(user)
    return user


def shown(client, **params) -> list[str]:
    page = client.get(reverse("my-approvals"), params)
    assert page.status_code == 200
    return [
        f"{r.deal.name}{' exec' if r.group.name == 'Executive' else ''}"
        for r in page.context["rows"]
    ]


def test_oldest_first_by_default_and_only_the_users_groups(client, approver, queue):
    assert shown(client) == ["Alpha", "Bravo", "Charlie", "Bravo exec"]
    assert shown(client, sort="-requested") == ["Bravo exec", "Charlie", "Bravo", "Alpha"]


def test_sorting_by_tcv_and_discount_both_ways_breaks_ties_on_pk(client, approver, queue):
    # Bravo's two requests share the deal's TCV and discount: pk decides, in the same direction.
    assert shown(client, sort="tcv") == ["Alpha", "Charlie", "Bravo", "Bravo exec"]
    assert shown(client, sort="-tcv") == ["Bravo exec", "Bravo", "Charlie", "Alpha"]
    assert shown(client, sort="discount") == ["Alpha", "Charlie", "Bravo", "Bravo exec"]
    assert shown(client, sort="-discount") == ["Bravo exec", "Bravo", "Charlie", "Alpha"]


def test_a_sort_outside_the_whitelist_falls_back_to_oldest_first(client, approver, queue):
    assert shown(client, sort="deal__owner__password") == [
        "Alpha",
        "Bravo",
        "Charlie",
        "Bravo exec",
    ]


def test_filter_by_one_of_the_users_groups(client, approver, queue):
    executive = Group.objects.get(name="Executive")
    assert shown(client, group=executive.pk) == ["Bravo exec"]
    page = client.get(reverse("my-approvals"), {"group": executive.pk}).content.decode()
    assert f'<option value="{executive.pk}" selected>Executive</option>' in page


def test_a_group_the_user_is_not_in_is_ignored(client, approver, queue):
    legal = Group.objects.get(name="Legal")
    page = client.get(reverse("my-approvals"), {"group": legal.pk, "q": "Alpha"})
    # The other filters still apply; Legal's request on Alpha never shows.
    assert [r.pk for r in page.context["rows"]] == [queue["Alpha"].pk]
    assert f'value="{legal.pk}"' not in page.content.decode()  # not offered either


def test_search_by_deal_name_account_name_and_crm_id(client, approver, queue):
    assert shown(client, q="bravo") == ["Bravo", "Bravo exec"]
    charlie = queue["Charlie"].deal
    assert shown(client, q=charlie.crm_id) == ["Charlie"]
    assert shown(client, q=charlie.crm_id[:-1]) == []  # a CRM id matches exactly
    assert shown(client, q=queue["Alpha"].deal.account.name) == ["Alpha"]


def test_minimum_tcv_and_a_bad_number_is_ignored(client, approver, queue):
    assert shown(client, min_tcv="200000") == ["Bravo", "Charlie", "Bravo exec"]
    assert shown(client, min_tcv="200000", sort="-tcv") == ["Bravo exec", "Bravo", "Charlie"]
    assert shown(client, min_tcv="lots") == ["Alpha", "Bravo", "Charlie", "Bravo exec"]


def test_filters_and_sort_survive_paging_and_sorting(client, approver, queue, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    page = client.get(reverse("my-approvals"), {"q": "bravo", "sort": "-tcv"})
    body = page.content.decode()
    assert "?q=bravo&amp;sort=-tcv&amp;page=2" in body  # the pager keeps filters and sort
    assert "?q=bravo&amp;sort=tcv" in body  # the TCV header toggles, keeping the search
    assert 'name="q" value="bravo"' in body
    assert 'name="sort" value="-tcv"' in body  # the filter form keeps the sort
    page = client.get(reverse("my-approvals"), {"q": "bravo", "sort": "-tcv", "page": 2})
    assert [r.pk for r in page.context["rows"]] == [queue["Bravo"].pk]


def test_the_count_is_capped(client, approver, queue, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    monkeypatch.setattr(views, "COUNT_CAP", 2)
    page = client.get(reverse("my-approvals"))
    assert page.context["page"].paginator.is_capped
    assert "2+ open requests" in page.content.decode()
    assert page.context["page"].paginator.num_pages == 2
    # Past the cap, the last counted page.
    page = client.get(reverse("my-approvals"), {"page": 4})
    assert page.context["page"].number == 2
    monkeypatch.setattr(views, "COUNT_CAP", 4)
    page = client.get(reverse("my-approvals"))
    assert not page.context["page"].paginator.is_capped
    assert "4 open requests" in page.content.decode()


def test_queries_stay_bounded_with_filters_on(
    client, approver, queue, django_assert_max_num_queries
):
    executive = Group.objects.get(name="Executive")
    filters = {"group": executive.pk, "q": "bravo", "min_tcv": "1000", "sort": "-discount"}
    with django_assert_max_num_queries(12):
        page = client.get(reverse("my-approvals"), filters)
    assert len(page.context["rows"]) == 1
    more_requests(ApprovalRequest.objects.get(pk=queue["Bravo exec"].pk), 40)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("my-approvals"), filters)
    assert len(page.context["rows"]) == 25
    assert page.context["page"].paginator.count == 41
