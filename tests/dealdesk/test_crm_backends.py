"""The CRM backends' own behaviour: SOQL, the file bundle, settings, the nightly schedule."""

from datetime import UTC, datetime

import pytest
from celery.schedules import crontab
from django.conf import settings

from dealdesk.crm import CRMError, CRMQuery, crm_backend
from dealdesk.crm.file import FileBackend
from dealdesk.crm.mapping import fields_for
from dealdesk.crm.salesforce import soql


def test_soql_asks_from_the_watermark_for_listed_ids_in_a_stable_order():
    query = CRMQuery(
        "OpportunityLineItem",
        ["Id", "Quantity"],
        since=datetime(2026, 11, 1, 8, 55, tzinfo=UTC),
        ids=["006A", "006'B"],
        id_field="OpportunityId",
    )
    assert soql(query) == (
        "SELECT Id, Quantity FROM OpportunityLineItem WHERE SystemModstamp >= "
        "2026-11-01T08:55:00Z AND OpportunityId IN ('006A','006\\'B') "
        "ORDER BY SystemModstamp, Id"
    )


def test_custom_field_names_come_from_settings(settings):
    settings.CRM_FIELDS = {**settings.CRM_FIELDS, "term_months": "Term__c", "currency": ""}
    fields = fields_for("Opportunity")
    assert "Term__c" in fields
    assert "Contract_Term_Months__c" not in fields
    assert "CurrencyIsoCode" not in fields  # a single-currency org has no such field
    assert fields[-2:] == ["IsDeleted", "SystemModstamp"]


def test_the_file_backend_pages_by_modstamp_and_ids(tmp_path):
    path = tmp_path / "bundle.json"
    path.write_text(
        '{"Account": [{"Id": "2", "SystemModstamp": "2026-11-02T00:00:00.000+0000"},'
        ' {"Id": "1", "SystemModstamp": "2026-11-01T00:00:00.000+0000"}]}'
    )
    backend = FileBackend(path)
    assert [r["Id"] for p in backend.pages(CRMQuery("Account", ["Id"])) for r in p] == ["1", "2"]
    since = datetime(2026, 11, 1, 12, tzinfo=UTC)
    assert [
        r["Id"] for p in backend.pages(CRMQuery("Account", ["Id"], since=since)) for r in p
    ] == ["2"]
    assert list(backend.pages(CRMQuery("Product2", ["Id"]))) == []


def test_the_file_backend_hands_on_records_it_cannot_order_or_match(tmp_path):
    # The sync quarantines them with their reasons; the backend must not stop at them.
    path = tmp_path / "bundle.json"
    path.write_text(
        '{"OpportunityLineItem": [{"Id": "b", "OpportunityId": "006", "SystemModstamp": "soon"},'
        ' {"Id": 7, "OpportunityId": ["006"], "SystemModstamp": 1764576000},'
        ' {"Id": "a", "OpportunityId": "006", "SystemModstamp": "2026-11-02T00:00:00.000+0000"}]}'
    )
    backend = FileBackend(path)
    since = datetime(2026, 11, 1, 12, tzinfo=UTC)
    query = CRMQuery("OpportunityLineItem", ["Id"], since=since)
    assert sorted(str(r["Id"]) for p in backend.pages(query) for r in p) == ["7", "a", "b"]
    query = CRMQuery("OpportunityLineItem", ["Id"], ids=["006"], id_field="OpportunityId")
    assert sorted(r["Id"] for p in backend.pages(query) for r in p) == ["a", "b"]


@pytest.mark.parametrize(
    ("content", "message"), [(None, "does not exist"), ("{", "not valid JSON")]
)
def test_a_broken_bundle_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "bundle.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(CRMError, match=message):
        list(FileBackend(path).pages(CRMQuery("Account", ["Id"])))


def test_the_backend_is_chosen_by_setting(settings):
    settings.CRM_BACKEND = "file"
    assert isinstance(crm_backend(), FileBackend)
    settings.CRM_BACKEND = "hubspot"
    with pytest.raises(CRMError, match="unknown CRM_BACKEND 'hubspot'"):
        crm_backend()


def test_the_nightly_sync_runs_at_two_in_the_company_time_zone():
    entry = settings.CELERY_BEAT_SCHEDULE["crm-sync-nightly"]
    assert entry["task"] == "dealdesk.crm_sync"
    assert entry["schedule"] == crontab(hour=2, minute=0)
    assert settings.CELERY_TIMEZONE == settings.TIME_ZONE
