"""The CRM sync page, Sync now, and drift decisions from the pages."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_fsm import TransitionNotAllowed

from audit.models import AuditEvent
from dealdesk.crm.models import CrmDrift, QuarantinedRecord, SyncRun
from dealdesk.crm.services import crm_drift_accept, crm_drift_dismiss
from dealdesk.models import Deal
from tests.dealdesk.crm_records import small_org
from tests.dealdesk.factories import DealFactory, ProductFactory

pytestmark = pytest.mark.django_db


def _fill(n: int) -> None:
    """n more runs, quarantined records and open drifts."""
    start = QuarantinedRecord.objects.count()
    for i in range(start, start + n):
        SyncRun.objects.create(
            status="succeeded", counts={"Account": {"fetched": i, "created": 1}}, errors=[]
        )
        QuarantinedRecord.objects.create(
            object_name="Opportunity", crm_id=f"006Q{i:011d}", reason="unknown account", raw={}
        )
        deal = DealFactory(state="in_review")
        CrmDrift.objects.create(
            deal=deal, changes=[{"what": "term months", "old": "12", "new": "24"}]
        )


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx)


@pytest.mark.parametrize("tab", ["runs", "quarantine", "drift"])
def test_each_tab_costs_the_same_queries_at_any_size(client, desk_user, tab):
    client.force_login(desk_user)
    url = reverse("crm-sync") + f"?tab={tab}"
    _fill(3)
    small = _queries(client, url)
    _fill(40)  # more than a page
    assert _queries(client, url) == small
    assert _queries(client, url + "&page=2&sort=-status") <= small + 1


def test_filters_sort_and_raw_record(client, desk_user):
    QuarantinedRecord.objects.create(
        object_name="OpportunityLineItem",
        crm_id="00kBAD",
        reason="unknown SKU NOPE",
        raw={"Id": "00kBAD", "ProductCode": "NOPE"},
    )
    QuarantinedRecord.objects.create(
        object_name="Account", crm_id="001BAD", reason="missing Name", raw={"Id": "001BAD"}
    )
    client.force_login(desk_user)
    page = client.get(
        reverse("crm-sync"),
        {"tab": "quarantine", "object": "OpportunityLineItem", "sort": "crm_id"},
    ).content.decode()
    assert "unknown SKU NOPE" in page
    assert "&quot;ProductCode&quot;: &quot;NOPE&quot;" in page  # the raw record, escaped
    assert "001BAD" not in page


def test_sales_cannot_open_the_page_and_auditors_only_read(client, make_user):
    client.force_login(make_user("Sales"))
    assert client.get(reverse("crm-sync")).status_code == 403
    auditor = make_user("Auditor", is_staff=True)
    client.force_login(auditor)
    page = client.get(reverse("crm-sync")).content.decode()
    assert "Sync now" not in page
    assert client.post(reverse("crm-sync-now")).status_code == 403
    assert not SyncRun.objects.exists()


@pytest.fixture
def crm_bundle(tmp_path, settings):
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(small_org()))
    settings.CRM_FILE = str(path)
    return path


def test_sync_now_runs_a_sync_for_the_deal_desk(
    client, desk_user, crm_bundle, django_capture_on_commit_callbacks
):
    ProductFactory(sku="PLAT")
    ProductFactory(sku="SEAT")
    client.force_login(desk_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("crm-sync-now"))
    assert response.status_code == 302
    run = SyncRun.objects.get()
    assert (run.status, run.triggered_by) == ("succeeded", desk_user)
    assert Deal.objects.count() == 2
    page = client.get(reverse("crm-sync")).content.decode()
    assert f"#{run.pk}" in page
    assert "mapped to no Dealdesk user" in page


def test_a_limited_run_is_shown(client, desk_user):
    SyncRun.objects.create(status="limited", errors=["Salesforce API request limit exceeded"])
    client.force_login(desk_user)
    page = client.get(reverse("crm-sync")).content.decode()
    assert "API request limit is spent" in page


def test_drift_is_shown_on_the_deal_and_decided_there(client, desk_user):
    deal = DealFactory(state="in_review")
    drift = CrmDrift.objects.create(
        deal=deal,
        changes=[{"what": "term months", "old": "12", "new": "24"}],
        proposal={"fields": {"term_months": 24}, "lines": {}, "withdrawn": ""},
    )
    client.force_login(desk_user)
    page = client.get(reverse("deal-detail", args=[deal.pk])).content.decode()
    assert "The CRM changed this deal after it left drafting" in page
    url = reverse("crm-drift-decide", args=[drift.pk, "dismiss"])
    client.post(url, {"reason": ""})
    drift.refresh_from_db()
    assert drift.status == "open"  # a dismissal needs a reason
    assert not AuditEvent.objects.filter(action="crm_drift.dismissed").exists()
    client.post(url, {"reason": "contract is right", "next": f"/deals/{deal.pk}/"})
    drift.refresh_from_db()
    assert (drift.status, drift.decision_reason) == ("dismissed", "contract is right")
    assert (
        "The CRM changed" not in client.get(reverse("deal-detail", args=[deal.pk])).content.decode()
    )


def test_accepting_drift_from_the_page_redrafts_the_deal(client, desk_user):
    deal = DealFactory(state="approved")
    drift = CrmDrift.objects.create(
        deal=deal, proposal={"fields": {"term_months": 24}, "lines": {}, "withdrawn": ""}
    )
    client.force_login(desk_user)
    client.post(reverse("crm-drift-decide", args=[drift.pk, "accept"]), {"reason": ""})
    deal.refresh_from_db()
    assert (deal.state, deal.term_months) == ("drafting", 24)


def test_drift_on_a_signed_deal_cannot_be_accepted(client, desk_user):
    deal = DealFactory(state="signed")
    drift = CrmDrift.objects.create(
        deal=deal, proposal={"fields": {"term_months": 24}, "lines": {}, "withdrawn": ""}
    )
    client.force_login(desk_user)
    response = client.post(
        reverse("crm-drift-decide", args=[drift.pk, "accept"]), {"reason": "x"}, follow=True
    )
    assert "cannot be re-drafted" in response.content.decode()
    deal.refresh_from_db()
    drift.refresh_from_db()
    assert (deal.state, deal.term_months, drift.status) == ("signed", 12, "open")


def test_a_decided_drift_is_decided_once_and_its_status_moves_only_by_transition(desk_user):
    drift = CrmDrift.objects.create(
        deal=DealFactory(state="in_review"),
        proposal={"fields": {"term_months": 24}, "lines": {}, "withdrawn": ""},
    )
    with pytest.raises(AttributeError):
        drift.status = CrmDrift.Status.DISMISSED  # protected: only accept/dismiss move it
    crm_drift_dismiss(drift_id=drift.pk, actor=desk_user, reason="contract is right")
    with pytest.raises(TransitionNotAllowed, match="already dismissed"):
        crm_drift_accept(drift_id=drift.pk, actor=desk_user)
    drift.refresh_from_db()
    assert (drift.status, drift.decided_by, drift.deal.state) == (
        "dismissed",
        desk_user,
        "in_review",
    )
    event = AuditEvent.objects.get(action="crm_drift.dismissed")
    assert (event.actor_username, event.reason, event.before) == (
        "desk",
        "contract is right",
        {"status": "open"},
    )
    assert drift.history.first().history_user == desk_user
    assert not AuditEvent.objects.filter(action="crm_drift.accepted").exists()


def test_the_quarantine_tab_shows_why_a_record_that_broke_runs_waits(
    client, desk_user, fake_salesforce, catalog, django_capture_on_commit_callbacks
):
    from dealdesk.crm.sync import crm_sync
    from tests.dealdesk.crm_records import opportunity

    fake_salesforce.put(
        "Opportunity", opportunity("006000000000001", "001000000000001", IsWon="false")
    )
    fake_salesforce.records["Opportunity"].append(
        opportunity("006000000000002", "001000000000002", Amount=float("nan"))
    )
    with django_capture_on_commit_callbacks(execute=True):
        crm_sync()
    client.force_login(desk_user)
    page = client.get(reverse("crm-sync"), {"tab": "quarantine"}).content.decode()
    assert "IsWon = &#x27;false&#x27; is not a boolean" in page
    assert "duplicate id in one batch" in page
    assert "&quot;Amount&quot;: &quot;nan&quot;" in page  # the raw copies, NaN kept as text
