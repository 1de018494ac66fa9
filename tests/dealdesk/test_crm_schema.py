"""The Salesforce backend checks the org's schema before its first query (describe API), through
the real simple-salesforce client against the local fake: missing fields stop the run with
nothing written, and a single-currency org needs no setting."""

import pytest

from dealdesk.crm import CRMError
from dealdesk.crm.models import SyncRun
from dealdesk.crm.salesforce import SalesforceBackend
from dealdesk.crm.services import crm_sync_user
from dealdesk.crm.sync import OBJECTS, crm_sync
from dealdesk.integrations.models import IntegrationCall
from dealdesk.models import Account, Deal
from tests.dealdesk.crm_records import row_counts

pytestmark = pytest.mark.django_db


def sync(capture) -> SyncRun:
    with capture(execute=True):
        return crm_sync()


def _describes(fake) -> list[str]:
    return [p for p in fake.requests if "/describe" in p]


def test_an_org_missing_configured_fields_stops_the_sync_before_writing_anything(
    fake_salesforce, catalog, django_capture_on_commit_callbacks, settings
):
    fake_salesforce.drop_field("Opportunity", "Contract_Term_Months__c")
    fake_salesforce.drop_field("OpportunityLineItem", "Segment_Index__c")
    settings.CRM_FIELDS = {**settings.CRM_FIELDS, "billing_frequency": "Billing_Cycle__c"}
    crm_sync_user()  # the run's own user exists already: everything else must stay as it is
    before = row_counts()

    run = sync(django_capture_on_commit_callbacks)

    assert run.status == SyncRun.Status.FAILED
    [error] = run.errors
    for field in (
        "Opportunity.Contract_Term_Months__c",
        "Opportunity.Billing_Cycle__c",
        "OpportunityLineItem.Segment_Index__c",
    ):
        assert field in error
    assert "Account." not in error  # only what is missing is named
    assert row_counts() == before  # no deal, account, watermark, quarantine, history, audit
    assert not Deal.objects.exists()
    # Nothing was queried: the schema check came first.
    assert fake_salesforce.requests == _describes(fake_salesforce)


def test_a_custom_currency_field_missing_in_a_multi_currency_org_is_named(
    fake_salesforce, catalog, django_capture_on_commit_callbacks, settings
):
    settings.CRM_FIELDS = {**settings.CRM_FIELDS, "currency": "Deal_Currency__c"}
    run = sync(django_capture_on_commit_callbacks)
    assert run.status == SyncRun.Status.FAILED
    for name in ("Account", "Opportunity", "OpportunityLineItem"):
        assert f"{name}.Deal_Currency__c" in run.errors[0]
    assert not Account.objects.exists()


def test_a_single_currency_org_syncs_with_no_extra_setting(
    fake_salesforce, catalog, django_capture_on_commit_callbacks, settings
):
    assert settings.CRM_FIELDS["currency"] == "CurrencyIsoCode"  # as configured by default
    fake_salesforce.make_single_currency()

    run = sync(django_capture_on_commit_callbacks)

    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert Deal.objects.count() == 2
    assert set(Deal.objects.values_list("currency", flat=True)) == {"USD"}
    assert set(Account.objects.values_list("currency", flat=True)) == {"USD"}
    assert not any("CurrencyIsoCode" in p for p in fake_salesforce.requests)


def test_the_org_is_described_once_per_run_not_per_page(
    fake_salesforce, catalog, django_capture_on_commit_callbacks
):
    fake_salesforce.page_size = 1
    run = sync(django_capture_on_commit_callbacks)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    described = [p.split("/sobjects/")[1].split("/")[0] for p in _describes(fake_salesforce)]
    assert sorted(described) == sorted(
        ["Account", "Product2", "Opportunity", "OpportunityLineItem", "OpportunityContactRole"]
    )


@pytest.mark.parametrize("status", [429, 503])
def test_a_busy_answer_is_retryable_and_carries_its_retry_after(fake_salesforce, settings, status):
    settings.CRM_SYNC_RETRIES = 0
    fake_salesforce.failures = [status]
    fake_salesforce.failure_headers = {"Retry-After": "7"}
    with pytest.raises(CRMError) as caught:
        SalesforceBackend().describe("Account")
    assert (caught.value.retryable, caught.value.retry_after) == (True, 7.0)


def test_each_describe_is_logged_as_a_vendor_call(
    fake_salesforce, catalog, django_capture_on_commit_callbacks
):
    sync(django_capture_on_commit_callbacks)
    calls = IntegrationCall.objects.filter(vendor="salesforce")
    assert sorted(calls.values_list("operation", flat=True)) == sorted(
        f"describe {name}" for name in OBJECTS
    )
    assert set(calls.values_list("status", flat=True)) == {"succeeded"}
