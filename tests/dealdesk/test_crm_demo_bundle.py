"""The shipped demo CRM bundle (file backend) syncs onto seed_demo's company, once."""

import json

from django.core.management import call_command

from dealdesk.crm.models import QuarantinedRecord
from dealdesk.models import Deal, Product
from tests.dealdesk.crm_records import row_counts


def test_the_demo_bundle_syncs_onto_the_demo_company_and_a_second_run_changes_nothing(
    db, capsys, django_capture_on_commit_callbacks, settings
):
    assert settings.CRM_BACKEND == "file"
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo")
        call_command("sync_crm")
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["status"] == "succeeded"
    counts = summary["counts"]
    # The seeded accounts and catalog match the bundle: nothing to change there.
    assert counts["Account"] == {**counts["Account"], "created": 0, "updated": 0, "unchanged": 12}
    assert counts["Product2"] == {**counts["Product2"], "created": 1, "updated": 0}
    assert counts["Opportunity"]["created"] == 5
    assert counts["Opportunity"]["skipped"] == 2  # one lost, one still open
    assert Deal.objects.count() == 45

    new = Deal.objects.filter(crm_id__in=[f"006DEMO{n:05d}" for n in range(41, 46)])
    assert {d.owner.username for d in new} == {"sam.sales", "alex.sales"}
    # The whole flow runs (eager Celery): priced, classified, contract drafted, in review;
    # the one on standard paper needs no approval: approved at once, it goes for signature.
    drafted = new.filter(state__in=["in_review", "out_for_signature"])
    assert drafted.count() == 4
    assert new.get(crm_id="006DEMO00041").state == "out_for_signature"
    assert all(deal.contract_versions.exists() for deal in drafted)
    # A product first seen in the CRM is incomplete until Finance fills it in.
    assert not Product.objects.get(sku="AI-ASSIST").is_billing_complete
    assert new.get(crm_id="006DEMO00045").state == "manual_review"

    reasons = " | ".join(QuarantinedRecord.objects.values_list("reason", flat=True))
    for expected in (
        "unknown account 001A999999",
        "unparseable date: Contract_Start_Date__c = '01/03/2027'",
        "quantity must be > 0",
        "missing price",
        "currency mismatch: PLAT-GROWTH is priced in USD, the deal in EUR",
        "unknown SKU LEGACY-HOSTING",
        "unparseable term: Contract_Term_Months__c = 'two years'",
    ):
        assert expected in reasons

    before = row_counts()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo")
        call_command("sync_crm")
    assert row_counts() == before
