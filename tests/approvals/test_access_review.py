"""The access review for Auditors: users × groups × last login × last approval decision."""

import csv
import io

import pytest
from django.urls import reverse

from approvals.models import ApprovalRequest
from approvals.services import approval_request_decide
from tests.approvals.test_flow import NET_90


@pytest.fixture
def auditor(make_user):
    return make_user("Auditor", username="ana", is_staff=True)


def test_only_auditors_open_the_access_review(client, make_user, auditor):
    url = reverse("access-review")
    for role in ("Finance", "Deal Desk", "Executive"):
        client.force_login(make_user(role, is_staff=True))
        assert client.get(url).status_code == 403
    client.force_login(auditor)
    assert client.get(url).status_code == 200


def test_it_shows_each_users_groups_and_last_approval_decision_with_its_deal(
    client, auditor, make_user, won_deal, django_capture_on_commit_callbacks
):
    deal = won_deal(notes=NET_90)
    fran = make_user("Finance", "CFO", username="fran")
    make_user("Legal", username="lee")
    with django_capture_on_commit_callbacks(execute=True):
        approval_request_decide(
            request_id=ApprovalRequest.objects.get(deal=deal).pk, actor=fran, approve=True
        )
    client.force_login(auditor)
    page = client.get(reverse("access-review")).content.decode()
    row = page.split('data-testid="user-fran"')[1].split("</tr>")[0]
    assert "CFO" in row
    assert "Finance" in row
    assert reverse("deal-detail", args=[deal.pk]) in row
    lee = page.split('data-testid="user-lee"')[1].split("</tr>")[0]
    assert "none" in lee  # never decided anything

    exported = client.get(
        reverse("access-review"), {"group": fran.groups.get(name="CFO").pk, "format": "csv"}
    )
    content = b"".join(exported.streaming_content).decode("utf-8-sig")  # Excel's BOM first
    rows = list(csv.DictReader(io.StringIO(content)))
    assert [r["username"] for r in rows] == ["fran"]
    assert rows[0]["groups"] == "CFO; Finance"
    assert rows[0]["last_decision_deal_id"] == str(deal.pk)
    assert rows[0]["last_decision_at"]


def test_filters_narrow_the_users(client, auditor, make_user):
    make_user("Finance", username="fran")
    make_user("Finance", username="gone", is_active=False)
    client.force_login(auditor)
    page = client.get(reverse("access-review"), {"q": "fr"}).content.decode()
    assert 'data-testid="user-fran"' in page
    assert 'data-testid="user-gone"' not in page
    page = client.get(reverse("access-review"), {"active": "no"}).content.decode()
    assert 'data-testid="user-gone"' in page
    assert 'data-testid="user-fran"' not in page


@pytest.mark.parametrize("users", [3, 30])
def test_the_access_review_query_count_is_bounded(
    client, auditor, make_user, users, django_assert_max_num_queries
):
    for n in range(users):
        make_user("Finance", "Executive", username=f"user-{users}-{n}")
    client.force_login(auditor)
    with django_assert_max_num_queries(10):
        assert client.get(reverse("access-review")).status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(reverse("access-review"), {"format": "csv"}).status_code == 200
