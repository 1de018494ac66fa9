"""The auditors' audit log page: events in words with their deal, filters, CSV, permission."""

import csv
import datetime
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.actions import Action
from audit.services import audit_record
from dealdesk import services
from tests.dealdesk.factories import DealFactory

pytestmark = pytest.mark.django_db
URL = reverse("audit-log")


@pytest.fixture
def auditor(make_user):
    return make_user("Auditor", username="ada", first_name="Ada", last_name="Audit")


@pytest.fixture
def desk(make_user):
    return make_user("Deal Desk", username="dana", first_name="Dana", last_name="Desk")


@pytest.fixture
def story(desk):
    """Two deals: one cancelled by Dana, one sent to manual review, plus a formula reason."""
    acme = DealFactory(name="Acme renewal", crm_id="006A")
    globex = DealFactory(name="Globex expansion", crm_id="006G")
    services.deal_cancel(deal_id=acme.pk, actor=desk, reason="duplicate of 006X")
    services.deal_send_to_manual_review(deal_id=globex.pk, actor=desk, reason="=HYPERLINK(1)")
    return acme, globex


def _rows(response) -> list[list[str]]:
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(content)))


def test_people_without_the_audit_permission_get_403(client, make_user):
    for role in ("Sales", "Legal"):
        client.force_login(make_user(role))
        assert client.get(URL).status_code == 403
        assert client.get(URL, {"format": "csv"}).status_code == 403


def test_the_log_shows_events_in_words_with_their_deal_linked(client, auditor, story):
    acme, _ = story
    client.force_login(auditor)
    page = client.get(URL).content.decode()
    assert "Deal cancelled" in page
    assert "Dana Desk (Deal Desk)" in page
    assert f'href="{reverse("deal-detail", args=[acme.pk])}">Acme renewal</a>' in page
    assert "“duplicate of 006X”" in page
    assert "State: New → Cancelled" in page
    # Code names only in option values, never in what a person reads.
    assert "deal.cancelled" not in re.sub(r"<[^>]+>", " ", page)
    # Auditors find it in the navigation, pointing at this page.
    assert f'href="{URL}"' in page


def test_filters_by_deal_actor_action_and_date(client, auditor, desk, story):
    acme, _ = story
    client.force_login(auditor)

    def seqs(**params) -> list[str]:
        return [row[0] for row in _rows(client.get(URL, {**params, "format": "csv"}))[1:]]

    everything = seqs()
    assert len(everything) == 2
    by_name = seqs(deal="globex")
    assert len(by_name) == 1
    assert seqs(deal=str(acme.pk)) == seqs(deal="006A") != by_name
    assert seqs(actor=str(desk.pk)) == everything
    assert seqs(actor="system") == []
    assert seqs(action=Action.DEAL_CANCELLED.value) == seqs(deal="acme")
    today = timezone.localdate()
    assert seqs(since=today.isoformat(), until=today.isoformat()) == everything
    assert seqs(until=(today - datetime.timedelta(days=1)).isoformat()) == []


def test_the_deal_filter_finds_events_of_the_deals_parts(client, auditor, story):
    """An event about an object with a `deal` key (here CRM drift) counts as the deal's."""
    from dealdesk.crm.models import CrmDrift

    acme, _ = story
    drift = CrmDrift.objects.create(deal=acme, changes=[])
    audit_record(actor=None, obj=drift, action=Action.CRM_DRIFT_DETECTED, after={"changes": []})
    client.force_login(auditor)
    rows = _rows(client.get(URL, {"deal": "Acme", "format": "csv"}))
    assert [row[3] for row in rows[1:]] == ["CRM change waiting for a decision", "Deal cancelled"]
    assert rows[1][2] == "System"
    assert rows[1][5] == "Acme renewal"


def test_the_csv_is_in_words_and_cannot_run_formulas(client, auditor, story):
    client.force_login(auditor)
    response = client.get(URL, {"format": "csv"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "audit-log.csv" in response["Content-Disposition"]
    header, *rows = _rows(response)
    assert header == [
        "Seq",
        "Time",
        "Actor",
        "Action",
        "Details",
        "Deal",
        "Deal id",
        "Object",
        "Reason",
    ]
    newest = rows[0]
    assert newest[2] == "Dana Desk (Deal Desk)"
    assert newest[3] == "Sent to manual review"
    assert newest[5] == "Globex expansion"
    assert newest[8] == "'=HYPERLINK(1)"


def test_bad_filters_are_said_not_crashed(client, auditor, story):
    client.force_login(auditor)
    response = client.get(URL, {"since": "2026-12-31", "until": "2026-01-01", "action": "x.y"})
    assert response.status_code == 200
    assert "The start date is after the end date." in response.content.decode()


def test_a_page_costs_the_same_queries_however_many_deals(
    client, auditor, desk, django_assert_max_num_queries
):
    client.force_login(auditor)
    for i in range(3):
        services.deal_cancel(deal_id=DealFactory().pk, actor=desk, reason=f"r{i}")
    with django_assert_max_num_queries(14):
        client.get(URL)
    for i in range(30):
        services.deal_cancel(deal_id=DealFactory().pk, actor=desk, reason=f"more {i}")
    with django_assert_max_num_queries(14):
        page = client.get(URL).content.decode()
    assert len(re.findall(r'data-testid="event-\d', page)) == 33
