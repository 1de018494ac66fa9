"""The CRM sync through the real simple-salesforce client against a local fake Salesforce."""

import io
import json
import threading
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError, connection
from django.utils import timezone
from psycopg.errors import DeadlockDetected

from audit.models import AuditEvent
from dealdesk import pipeline, services
from dealdesk.crm import crm_backend
from dealdesk.crm.file import FileBackend
from dealdesk.crm.lock import sync_run_release, sync_run_start
from dealdesk.crm.models import CrmDrift, CrmOwner, CrmWatermark, QuarantinedRecord, SyncRun
from dealdesk.crm.sync import crm_sync
from dealdesk.models import Account, Contact, Deal, DealLine, Product
from dealdesk.segments import Segment, segment_q
from tests.dealdesk.crm_records import (
    account,
    contact_role,
    line,
    opportunity,
    row_counts,
    small_org,
)

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture(autouse=True)
def deals_stop_at_drafting(monkeypatch):
    """These tests are about the sync, which may still change a deal in place while it is
    new or drafting: keep eager Celery from drafting its contract (and moving it on to
    in_review) at once. tests/dealdesk/test_crm_demo_bundle.py runs the whole flow."""
    monkeypatch.delitem(pipeline.NEXT_STEP, ("dealdesk.deal", "drafting"))


def sync(capture, **kwargs) -> SyncRun:
    with capture(execute=True):
        run = crm_sync(**kwargs)
    # The CRM sync page reads each object's counts as a split of what was fetched.
    for name, counts in run.counts.items():
        outcomes = ("created", "updated", "unchanged", "quarantined", "deleted", "skipped")
        assert counts["fetched"] == sum(counts[k] for k in outcomes), (name, counts)
    return run


def test_a_full_sync_imports_won_deals_and_their_lines(
    fake_salesforce, catalog, django_capture_on_commit_callbacks, capsys
):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("sync_crm")
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["status"] == "succeeded"
    assert summary["counts"]["Opportunity"] == {
        "seconds": summary["counts"]["Opportunity"]["seconds"],
        "fetched": 3,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "quarantined": 0,
        "deleted": 0,
        "skipped": 1,
    }
    assert summary["counts"]["Account"]["created"] == 2
    assert summary["counts"]["Product2"]["unchanged"] == 3  # as in the catalog already
    assert summary["counts"]["Product2"]["updated"] == 0

    assert Account.objects.get(crm_id="001000000000001").legal_name == "Acme"
    deal = Deal.objects.get(crm_id="006000000000002")
    # The pipeline ran its step (classify + price) through pipeline.py.
    assert deal.state == "drafting"
    assert deal.tcv is not None
    assert sorted(deal.lines.values_list("product__sku", "quantity")) == [
        ("PLAT", Decimal(1)),
        ("SEAT", Decimal(10)),
    ]
    assert deal.history.last().history_user.username == "svc-crm-sync"  # created it
    assert not Deal.objects.filter(crm_id="006000000000003").exists()  # lost
    signer = Deal.objects.get(crm_id="006000000000001").contact_roles.get()
    assert (signer.contact.name, signer.role, signer.is_primary) == ("Ada Signer", "Signer", True)
    assert AuditEvent.objects.filter(action="deal.created").count() == 2
    call_command("verify_audit")  # the bulk-appended events chain like any others
    # Queried through queryAll, so deletions come back too.
    queries = [p for p in fake_salesforce.requests if "/describe" not in p]
    assert queries
    assert all("/queryAll/" in path for path in queries)


def test_a_second_sync_with_no_changes_writes_nothing(
    fake_salesforce, catalog, django_capture_on_commit_callbacks
):
    sync(django_capture_on_commit_callbacks)
    before = row_counts()
    for full in (False, True):
        run = sync(django_capture_on_commit_callbacks, full=full)
        assert run.status == "succeeded"
        assert run.total("created") == run.total("updated") == run.total("deleted") == 0
    assert row_counts() == before  # no row, no history entry, no audit event


def test_an_incremental_sync_asks_from_the_watermark_and_takes_changes(
    fake_salesforce, catalog, django_capture_on_commit_callbacks
):
    sync(django_capture_on_commit_callbacks)
    assert CrmWatermark.objects.get(object_name="Opportunity").modstamp.minute == 0
    fake_salesforce.requests.clear()
    fake_salesforce.put("Account", account("001000000000001", "Acme Renamed", at=60))
    fake_salesforce.put(
        "Opportunity",
        opportunity("006000000000001", "001000000000001", at=60, Contract_Term_Months__c=24),
    )
    fake_salesforce.put(
        "OpportunityLineItem", line("00k000000000001", "006000000000001", "PLAT", quantity=2, at=60)
    )
    fake_salesforce.put("Opportunity", opportunity("006000000000009", "001000000000002", at=60))
    fake_salesforce.put(
        "OpportunityLineItem",
        line("00k000000000009", "006000000000009", "SEAT", quantity=5, price=30.0, at=60),
    )
    history_before = Deal.history.count()

    run = sync(django_capture_on_commit_callbacks)

    # The overlap window: five minutes before the newest stamp already taken in.
    assert any(
        "SystemModstamp+%3E%3D+2026-11-01T08%3A55%3A00Z" in p for p in fake_salesforce.requests
    )
    # Beta again (inside the overlap window), unchanged: nothing written for it.
    assert run.counts["Account"] == {
        **run.counts["Account"],
        "fetched": 2,
        "updated": 1,
        "unchanged": 1,
    }
    assert run.counts["Opportunity"] == {**run.counts["Opportunity"], "created": 1, "updated": 1}
    assert Account.objects.get(crm_id="001000000000001").name == "Acme Renamed"
    assert Account.objects.get(crm_id="001000000000001").legal_name == "Acme"  # Dealdesk's
    deal = Deal.objects.get(crm_id="006000000000001")
    assert deal.state == "drafting"  # not past drafting: changed in place and re-priced
    assert deal.term_months == 24
    assert deal.lines.get().quantity == 2
    assert deal.tcv == Decimal("48000.00")
    assert Deal.objects.get(crm_id="006000000000009").lines.get().quantity == 5
    assert Deal.history.count() > history_before
    assert CrmWatermark.objects.get(object_name="Opportunity").modstamp.hour == 10


def _move(deal: Deal, *names: str) -> None:
    """Put a deal further along by its transitions: signature has no service yet, so this
    test setup calls the model's transitions itself."""
    deal = Deal.objects.get(pk=deal.pk)
    for name in names:
        getattr(deal, name)()
    deal.save()


def test_deleted_opportunities_cancel_before_signature_and_drift_after(
    fake_salesforce, catalog, django_capture_on_commit_callbacks
):
    sync(django_capture_on_commit_callbacks)
    signed = Deal.objects.get(crm_id="006000000000002")
    _move(signed, "submit_for_review", "approve", "send_for_signature", "mark_signed")
    for crm_id in ("006000000000001", "006000000000002"):
        fake_salesforce.put(
            "Opportunity",
            opportunity(crm_id, "001000000000001", at=30, IsDeleted=True),
        )

    run = sync(django_capture_on_commit_callbacks)

    assert run.counts["Opportunity"]["deleted"] == 2
    cancelled = Deal.objects.get(crm_id="006000000000001")
    assert cancelled.state == "cancelled"
    assert cancelled.state_reason == "deleted in the CRM"
    signed.refresh_from_db()
    assert signed.state == "signed"  # never deleted, never rewritten
    drift = CrmDrift.objects.get(deal=signed)
    assert drift.changes == [{"what": "CRM status", "old": "won", "new": "deleted in the CRM"}]
    assert Deal.objects.count() == 2
    # Seen again: nothing more is written.
    before = row_counts()
    sync(django_capture_on_commit_callbacks)
    assert row_counts() == before


def test_a_line_deleted_in_the_crm_leaves_a_drafting_deal(
    fake_salesforce, catalog, django_capture_on_commit_callbacks
):
    sync(django_capture_on_commit_callbacks)
    fake_salesforce.put(
        "OpportunityLineItem",
        line(
            "00k000000000003",
            "006000000000002",
            "SEAT",
            quantity=10,
            price=30.0,
            at=30,
            IsDeleted=True,
        ),
    )
    run = sync(django_capture_on_commit_callbacks)
    assert run.counts["OpportunityLineItem"]["deleted"] == 1
    deal = Deal.objects.get(crm_id="006000000000002")
    assert list(deal.lines.values_list("product__sku", flat=True)) == ["PLAT"]
    assert DealLine.history.filter(history_type="-", crm_id="00k000000000003").exists()


BAD_RECORDS = [
    (
        "unknown account",
        "Opportunity",
        {"AccountId": "001999999999999"},
        "unknown account 001999999999999",
    ),
    ("unknown SKU", "OpportunityLineItem", {"ProductCode": "NOPE"}, "unknown SKU NOPE"),
    ("inactive SKU", "OpportunityLineItem", {"ProductCode": "OLD"}, "inactive SKU OLD"),
    ("quantity zero", "OpportunityLineItem", {"Quantity": 0}, "quantity must be > 0 (got 0)"),
    ("negative quantity", "OpportunityLineItem", {"Quantity": -3}, "quantity must be > 0"),
    ("missing price", "OpportunityLineItem", {"UnitPrice": None}, "missing price"),
    (
        "currency mismatch",
        "Opportunity",
        {"CurrencyIsoCode": "EUR"},
        "currency mismatch: PLAT is priced in USD, the deal in EUR",
    ),
    ("unknown currency", "Opportunity", {"CurrencyIsoCode": "XYZ"}, "currency mismatch: 'XYZ'"),
    (
        "unparseable date",
        "Opportunity",
        {"Contract_Start_Date__c": "31/12/2026"},
        "unparseable date: Contract_Start_Date__c = '31/12/2026'",
    ),
    (
        "unparseable term",
        "Opportunity",
        {"Contract_Term_Months__c": "two years"},
        "unparseable term: Contract_Term_Months__c = 'two years'",
    ),
    ("fractional term", "Opportunity", {"Contract_Term_Months__c": 12.5}, "unparseable term"),
    (
        "oversize text",
        "Opportunity",
        {"Name": "x" * 300},
        "oversize text: Name has 300 characters (max 255)",
    ),
    (
        "oversize notes",
        "Opportunity",
        {"Description": "y" * 40000},
        "oversize text: Description has 40000 characters",
    ),
    # Bad input that failed whole runs (and never moved the watermark) before issue 12.
    ("modstamp not ISO", "Opportunity", {"SystemModstamp": "yesterday"}, "SystemModstamp"),
    ("modstamp empty", "Opportunity", {"SystemModstamp": ""}, "unparseable SystemModstamp: ''"),
    ("modstamp a number", "OpportunityLineItem", {"SystemModstamp": 1764576000}, "SystemModstamp"),
    (
        "modstamp without a zone",
        "Opportunity",
        {"SystemModstamp": "2026-11-01T09:00:00"},
        "unparseable SystemModstamp: '2026-11-01T09:00:00'",
    ),
    ("amount NaN", "Opportunity", {"Amount": float("nan")}, "not a number: Amount = nan"),
    ("amount Infinity", "Opportunity", {"Amount": float("inf")}, "not a number: Amount = inf"),
    ("amount 1e400", "Opportunity", {"Amount": "1e400"}, "Amount = '1e400' is beyond the column"),
    (
        "term 1e400",
        "Opportunity",
        {"Contract_Term_Months__c": "1e400"},
        "unparseable term: Contract_Term_Months__c = '1e400'",
    ),
    (
        "payment terms Infinity",
        "Opportunity",
        {"Payment_Terms__c": float("inf")},
        "unparseable term: Payment_Terms__c = inf",
    ),
    ("quantity NaN", "OpportunityLineItem", {"Quantity": float("nan")}, "quantity must be > 0"),
    (
        "quantity 1e400",
        "OpportunityLineItem",
        {"Quantity": "1e400"},
        "Quantity = '1e400' is beyond the column (at most 10 digits before the point)",
    ),
    ("price Infinity", "OpportunityLineItem", {"UnitPrice": float("inf")}, "not a number"),
    ("price 1e400", "OpportunityLineItem", {"UnitPrice": "1e400"}, "UnitPrice = '1e400' is beyond"),
    ("discount NaN", "OpportunityLineItem", {"Discount": float("nan")}, "Discount = nan"),
    (
        "quantity beyond the column",
        "OpportunityLineItem",
        {"Quantity": 10**10},
        "Quantity = 10000000000 is beyond the column (at most 10 digits before the point)",
    ),
    ("price beyond the column", "OpportunityLineItem", {"UnitPrice": 10**12}, "UnitPrice"),
    (
        "quantity that would be rounded",
        "OpportunityLineItem",
        {"Quantity": 1.23456},
        "Quantity = 1.23456 has more than 4 decimal places: it would be rounded",
    ),
    (
        "price that would be rounded",
        "OpportunityLineItem",
        {"UnitPrice": 12.1234567},
        "UnitPrice = 12.1234567 has more than 6 decimal places",
    ),
    (
        "discount that would be rounded",
        "OpportunityLineItem",
        {"Discount": 12.12345},
        "Discount = 12.12345 has more than 4 decimal places",
    ),
    (
        "amount that would be rounded",
        "Opportunity",
        {"Amount": 12000.0001},
        "Amount = 12000.0001 has more than 3 decimal places",
    ),
    ("account name a number", "Account", {"Name": 12345}, "not text: Name = 12345"),
    ("account name a list", "Account", {"Name": ["Acme"]}, "not text: Name = ['Acme']"),
    ("account name null", "Account", {"Name": None}, "missing Name"),
    ("deal name a dict", "Opportunity", {"Name": {"x": 1}}, "not text: Name = {'x': 1}"),
    ("deal name with NUL", "Opportunity", {"Name": "Acme\x00"}, "NUL character in Name"),
    (
        "contact name a number",
        "OpportunityContactRole",
        {"Contact": {"Name": 42, "Email": "ada@example.com"}},
        "not text: Contact.Name = 42",
    ),
    (
        "contact email a list",
        "OpportunityContactRole",
        {"Contact": {"Name": "Ada", "Email": ["ada@example.com"]}},
        "not text: Contact.Email",
    ),
    ("contact a list", "OpportunityContactRole", {"Contact": ["Ada"]}, "not a record: Contact"),
    (
        "account id of the wrong length",
        "Opportunity",
        {"AccountId": "0010000000000011"},
        "invalid id: AccountId = '0010000000000011'",
    ),
    ("owner id with path characters", "Opportunity", {"OwnerId": "../../etc/passwd"}, "OwnerId"),
    (
        "contact id with a slash",
        "OpportunityContactRole",
        {"ContactId": "003/00000000001"},
        "invalid id: ContactId = '003/00000000001'",
    ),
    ("IsWon the string false", "Opportunity", {"IsWon": "false"}, "IsWon = 'false' is not a"),
    ("IsWon a number", "Opportunity", {"IsWon": 1}, "IsWon = 1 is not a boolean"),
    ("IsWon null", "Opportunity", {"IsWon": None}, "IsWon = None is not a boolean"),
    ("IsDeleted a string", "Opportunity", {"IsDeleted": "false"}, "IsDeleted = 'false' is not"),
    ("IsPrimary a string", "OpportunityContactRole", {"IsPrimary": "yes"}, "IsPrimary = 'yes'"),
]
# The record each case spoils: deal 1, or what deal 1 is made of.
BAD_ID = {
    "Account": "001000000000001",
    "Opportunity": "006000000000001",
    "OpportunityLineItem": "00k000000000001",
    "OpportunityContactRole": "00K000000000001",
}


@pytest.mark.parametrize(
    ("case", "object_name", "fields", "reason"), BAD_RECORDS, ids=[b[0] for b in BAD_RECORDS]
)
def test_a_bad_record_is_quarantined_with_its_reason_and_the_sync_goes_on(
    fake_salesforce, catalog, django_capture_on_commit_callbacks, case, object_name, fields, reason
):
    bad_id = BAD_ID[object_name]
    good = next(r for r in fake_salesforce.records[object_name] if r["Id"] == bad_id)
    fake_salesforce.put(object_name, {**good, **fields})

    run = sync(django_capture_on_commit_callbacks)

    assert run.status == "succeeded"
    entry = QuarantinedRecord.objects.get(object_name=object_name, crm_id=bad_id)
    assert reason in entry.reason
    assert entry.raw["Id"] == bad_id
    assert not Deal.objects.filter(crm_id="006000000000001").exists()  # no half a deal
    assert Deal.objects.filter(crm_id="006000000000002").exists()  # the sync went on
    held = {"OpportunityLineItem": "1 line(s)", "OpportunityContactRole": "1 contact role(s)"}
    if object_name in held:
        assert (
            f"{held[object_name]} quarantined"
            in QuarantinedRecord.objects.get(crm_id="006000000000001").reason
        )
    # Quarantined again for the same reason: nothing is written.
    before = row_counts()
    sync(django_capture_on_commit_callbacks)
    assert row_counts() == before

    # A good version arrives, even without a newer SystemModstamp: the entry clears.
    fake_salesforce.put(object_name, good)
    sync(django_capture_on_commit_callbacks)
    assert not QuarantinedRecord.objects.filter(resolved_at=None).exists()
    assert Deal.objects.get(crm_id="006000000000001").lines.count() == 1


def test_a_malformed_modstamp_is_quarantined_and_the_watermark_advances_on_the_good_ones(
    fake_salesforce, catalog, django_capture_on_commit_callbacks
):
    fake_salesforce.put(
        "Opportunity",
        opportunity("006000000000001", "001000000000001", SystemModstamp="not a time"),
    )
    fake_salesforce.put("Opportunity", opportunity("006000000000002", "001000000000002", at=30))

    run = sync(django_capture_on_commit_callbacks)

    assert run.status == "succeeded"
    assert "not a time" in QuarantinedRecord.objects.get(crm_id="006000000000001").reason
    assert CrmWatermark.objects.get(object_name="Opportunity").modstamp.minute == 30
    assert Deal.objects.filter(crm_id="006000000000002").exists()


BAD_IDS = ["../../etc/passwd", "0060000000000011", "006-0000000000001", "006000000000Ω01", 6]


def test_ids_salesforce_never_sends_are_quarantined_and_never_queried_or_stored(
    fake_salesforce, catalog, django_capture_on_commit_callbacks
):
    for bad_id in BAD_IDS:
        fake_salesforce.records["Opportunity"].append(
            opportunity("006000000000001", "001000000000001") | {"Id": bad_id}
        )
    # A line that names its deal by a list: it belongs to no deal.
    fake_salesforce.put(
        "OpportunityLineItem",
        line("00k000000000005", "006000000000002", "PLAT") | {"OpportunityId": ["x"]},
    )

    run = sync(django_capture_on_commit_callbacks)

    assert run.status == "succeeded"
    assert run.counts["Opportunity"]["quarantined"] == len(BAD_IDS)
    entries = QuarantinedRecord.objects.filter(object_name="Opportunity")
    assert {repr(e.raw["Id"]) for e in entries} == {repr(i) for i in BAD_IDS}
    for entry in entries:
        assert entry.reason.startswith(f"invalid id: Id = {entry.raw['Id']!r}")
        assert entry.crm_id.startswith("#")  # a key no Salesforce id can take
    assert "invalid id: OpportunityId = ['x']" in (
        QuarantinedRecord.objects.get(object_name="OpportunityLineItem").reason
    )
    assert set(Deal.objects.values_list("crm_id", flat=True)) == {
        "006000000000001",
        "006000000000002",
    }
    fake_salesforce.requests.clear()
    before = row_counts()
    sync(django_capture_on_commit_callbacks)
    assert row_counts() == before  # quarantined again for the same reasons: nothing written
    # Salesforce refuses a malformed id in a query (MALFORMED_ID): they are never asked for.
    assert not any("etc" in path or "Id+IN" in path for path in fake_salesforce.requests)


def test_a_bundle_record_with_a_path_for_an_id_is_quarantined_and_the_sync_goes_on(
    tmp_path, catalog, django_capture_on_commit_callbacks
):
    org = small_org()
    org["Account"].append(account("../../etc", "Evil"))
    org["Account"].append(account("001" + "0" * 20, "Too long"))
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(org))

    run = sync(django_capture_on_commit_callbacks, backend=FileBackend(path))

    assert run.status == "succeeded"
    reasons = set(QuarantinedRecord.objects.values_list("reason", flat=True))
    assert reasons == {"invalid id: Id = '../../etc'", f"invalid id: Id = '001{'0' * 20}'"}
    assert Deal.objects.count() == 2


def test_duplicate_ids_in_one_batch_are_each_quarantined_not_last_wins(
    fake_salesforce, catalog, django_capture_on_commit_callbacks
):
    fake_salesforce.records["Opportunity"].append(
        opportunity("006000000000001", "001000000000001", Contract_Term_Months__c=36)
    )
    fake_salesforce.records["OpportunityLineItem"].append(
        line("00k000000000003", "006000000000002", "SEAT", quantity=99, price=30.0)
    )

    run = sync(django_capture_on_commit_callbacks)

    assert run.status == "succeeded"
    assert run.counts["Opportunity"]["quarantined"] == 3  # both copies, and deal 2 (its line)
    twice = QuarantinedRecord.objects.get(object_name="Opportunity", crm_id="006000000000001")
    assert twice.reason == "duplicate id in one batch"
    assert [copy["Contract_Term_Months__c"] for copy in twice.raw] == [12, 36]
    assert "duplicate id in one batch" in (
        QuarantinedRecord.objects.get(crm_id="006000000000002").reason
    )
    assert not Deal.objects.exists()
    before = row_counts()
    sync(django_capture_on_commit_callbacks)
    assert row_counts() == before

    # One copy each again (put replaces every record with that id).
    fake_salesforce.put("Opportunity", opportunity("006000000000001", "001000000000001"))
    fake_salesforce.put(
        "OpportunityLineItem",
        line("00k000000000003", "006000000000002", "SEAT", quantity=10, price=30.0),
    )
    sync(django_capture_on_commit_callbacks)
    assert not QuarantinedRecord.objects.filter(resolved_at=None).exists()
    assert Deal.objects.get(crm_id="006000000000001").term_months == 12


def test_a_product_whose_is_active_is_not_a_boolean_is_quarantined_not_taken_as_true(
    fake_salesforce, catalog, django_capture_on_commit_callbacks
):
    fake_salesforce.put("Product2", {**fake_salesforce.records["Product2"][2], "IsActive": "true"})

    run = sync(django_capture_on_commit_callbacks)

    assert run.counts["Product2"]["quarantined"] == 1
    entry = QuarantinedRecord.objects.get(object_name="Product2")
    assert entry.reason == "IsActive = 'true' is not a boolean"
    assert not Product.objects.get(sku="OLD").active


class DeadlockOnce:
    """The configured CRM, whose first Opportunity page arrives after the database broke a
    lock cycle by aborting this transaction (PostgreSQL's SQLSTATE 40P01)."""

    def __init__(self, backend) -> None:
        self.backend, self.ids, self.lost = backend, backend.ids, False

    def describe(self, object_name):
        return self.backend.describe(object_name)

    def pages(self, query):
        if query.object_name == "Opportunity" and not self.lost:
            self.lost = True
            try:
                raise DeadlockDetected("deadlock detected")
            except DeadlockDetected as cause:
                raise OperationalError("deadlock detected") from cause
        return self.backend.pages(query)


def test_a_sync_that_loses_a_deadlock_runs_again_and_imports_once(
    fake_salesforce, catalog, django_capture_on_commit_callbacks
):
    run = sync(django_capture_on_commit_callbacks, backend=DeadlockOnce(crm_backend()))
    assert run.status == "succeeded"
    assert any("attempt 1 lost a deadlock" in error for error in run.errors)
    assert Deal.objects.count() == Deal.objects.values("crm_id").distinct().count() > 0
    assert run.counts["Opportunity"]["created"] == Deal.objects.count()


def test_a_sync_error_that_is_no_deadlock_is_not_retried(
    fake_salesforce, catalog, django_capture_on_commit_callbacks
):
    class Broken(DeadlockOnce):
        def pages(self, query):
            raise OperationalError("disk I/O error")

    with pytest.raises(OperationalError, match="disk I/O error"):
        sync(django_capture_on_commit_callbacks, backend=Broken(crm_backend()))
    assert SyncRun.objects.get().status == "failed"


def test_the_employee_count_sets_the_segment_and_a_bad_one_is_quarantined(
    fake_salesforce, catalog, django_capture_on_commit_callbacks
):
    first, second = fake_salesforce.records["Account"][:2]
    fake_salesforce.put("Account", {**first, "NumberOfEmployees": 1200})
    fake_salesforce.put("Account", {**second, "NumberOfEmployees": "lots"})

    run = sync(django_capture_on_commit_callbacks)

    account = Account.objects.get(crm_id=first["Id"])
    assert account.employees == 1200
    assert set(
        Deal.objects.filter(segment_q(Segment.MID_MARKET)).values_list("account", flat=True)
    ) == {account.pk}
    assert run.counts["Account"]["quarantined"] == 1
    entry = QuarantinedRecord.objects.get(object_name="Account")
    assert entry.reason == "not an employee count: NumberOfEmployees = 'lots'"


def test_a_deal_past_drafting_is_never_rewritten_its_change_is_drift(
    fake_salesforce, catalog, django_capture_on_commit_callbacks, make_user
):
    sync(django_capture_on_commit_callbacks)
    deal = Deal.objects.get(crm_id="006000000000001")
    _move(deal, "submit_for_review")
    fake_salesforce.put(
        "Opportunity",
        opportunity("006000000000001", "001000000000001", at=30, Contract_Term_Months__c=36),
    )
    fake_salesforce.put(
        "OpportunityLineItem", line("00k000000000001", "006000000000001", "PLAT", quantity=3, at=30)
    )
    history = Deal.history.count()

    run = sync(django_capture_on_commit_callbacks)

    deal.refresh_from_db()
    assert (deal.state, deal.term_months, deal.lines.get().quantity) == ("in_review", 12, 1)
    assert Deal.history.count() == history
    drift = CrmDrift.objects.get(deal=deal, status="open")
    assert {"what": "term months", "old": "12", "new": "36"} in drift.changes
    assert any(c["what"] == "line 00k000000000001" and "× 3" in c["new"] for c in drift.changes)
    assert run.counts["Opportunity"]["updated"] == 1
    assert AuditEvent.objects.filter(action="crm_drift.detected").count() == 2  # deal, then line

    # The same drift seen again writes nothing.
    before = row_counts()
    sync(django_capture_on_commit_callbacks)
    assert row_counts() == before

    from dealdesk.crm.services import crm_drift_accept, crm_drift_dismiss

    desk = make_user("Deal Desk")
    with pytest.raises(services.ReasonRequired):
        crm_drift_dismiss(drift_id=drift.pk, actor=desk, reason=" ")
    with django_capture_on_commit_callbacks(execute=True):
        crm_drift_accept(drift_id=drift.pk, actor=desk, reason="customer extended to 3 years")
    deal.refresh_from_db()
    assert (deal.state, deal.term_months, deal.lines.get().quantity) == ("drafting", 36, 3)
    assert deal.tcv == Decimal("108000.00")
    assert set(
        AuditEvent.objects.filter(object_id=str(deal.pk)).values_list("action", flat=True)
    ) >= {
        "deal.changes_requested",
        "deal.redrafted",
        "deal.crm_changed",
    }
    drift.refresh_from_db()
    assert (drift.status, drift.decided_by) == ("accepted", desk)
    # Accepted: the deal now matches the CRM, so the next sync has nothing to say.
    before = row_counts()
    sync(django_capture_on_commit_callbacks)
    assert row_counts() == before


def test_contact_roles_follow_the_crm_in_place_while_drafting_and_as_drift_after(
    fake_salesforce, catalog, django_capture_on_commit_callbacks, make_user
):
    sync(django_capture_on_commit_callbacks)
    signed = Deal.objects.get(crm_id="006000000000001")
    drafting = Deal.objects.get(crm_id="006000000000002")
    _move(signed, "submit_for_review")
    # The AE names a billing contact on one deal and removes the signer from the other:
    # neither touches the opportunity, only its contact roles.
    fake_salesforce.put(
        "OpportunityContactRole",
        contact_role(
            "00K000000000002",
            "006000000000002",
            "003000000000002",
            "Bo Billing",
            at=30,
            Role="Billing",
            IsPrimary=False,
        ),
    )
    fake_salesforce.put(
        "OpportunityContactRole",
        contact_role("00K000000000001", "006000000000001", "003000000000001", "Ada Signer", at=30)
        | {"IsDeleted": True},
    )

    run = sync(django_capture_on_commit_callbacks)

    assert run.counts["OpportunityContactRole"]["updated"] == 2
    role = drafting.contact_roles.get()
    assert (role.contact.name, role.contact.account, role.role, role.is_primary) == (
        "Bo Billing",
        drafting.account,
        "Billing",
        False,
    )
    assert role.history.latest().history_change_reason == "changed in the CRM"
    # Past drafting the signer stays until the deal desk says so.
    assert signed.contact_roles.get().contact.name == "Ada Signer"
    drift = CrmDrift.objects.get(deal=signed, status="open")
    assert {
        "what": "contact role 00K000000000001",
        "old": "Ada Signer (Signer, primary)",
        "new": "removed",
    } in drift.changes

    before = row_counts()
    sync(django_capture_on_commit_callbacks)
    assert row_counts() == before  # seen again: nothing written

    from dealdesk.crm.services import crm_drift_accept

    with django_capture_on_commit_callbacks(execute=True):
        crm_drift_accept(drift_id=drift.pk, actor=make_user("Deal Desk"), reason="signer left")
    signed.refresh_from_db()
    assert (signed.state, signed.contact_roles.count()) == ("drafting", 0)


def test_a_role_imported_before_its_id_was_kept_is_matched_not_doubled(
    fake_salesforce, catalog, django_capture_on_commit_callbacks
):
    sync(django_capture_on_commit_callbacks)
    deal = Deal.objects.get(crm_id="006000000000001")
    deal.contact_roles.update(crm_id=None)  # as imported by an earlier release
    fake_salesforce.put(
        "OpportunityContactRole",
        contact_role("00K000000000001", "006000000000001", "003000000000001", "Ada Signer", at=30),
    )
    run = sync(django_capture_on_commit_callbacks)
    assert run.counts["OpportunityContactRole"]["unchanged"] == 1
    assert deal.contact_roles.get().crm_id == "00K000000000001"
    assert not CrmDrift.objects.exists()


def test_dismissing_drift_needs_the_permission_and_keeps_the_deal(
    fake_salesforce, catalog, django_capture_on_commit_callbacks, make_user
):
    from django.core.exceptions import PermissionDenied

    from dealdesk.crm.services import crm_drift_dismiss

    sync(django_capture_on_commit_callbacks)
    deal = Deal.objects.get(crm_id="006000000000001")
    _move(deal, "submit_for_review")
    fake_salesforce.put(
        "Opportunity", opportunity("006000000000001", "001000000000001", at=30, Name="Renamed")
    )
    sync(django_capture_on_commit_callbacks)
    drift = CrmDrift.objects.get(deal=deal)
    with pytest.raises(PermissionDenied):
        crm_drift_dismiss(drift_id=drift.pk, actor=make_user("Sales"), reason="no")
    assert not AuditEvent.objects.filter(action="crm_drift.dismissed").exists()
    crm_drift_dismiss(
        drift_id=drift.pk, actor=make_user("Deal Desk"), reason="CRM typo; contract is right"
    )
    drift.refresh_from_db()
    deal.refresh_from_db()
    assert (drift.status, deal.name) == ("dismissed", "Opportunity 006000000000001")
    assert AuditEvent.objects.filter(action="crm_drift.dismissed").count() == 1


def test_an_unmapped_owner_is_listed_and_deals_go_to_the_mapped_user(
    fake_salesforce, catalog, django_capture_on_commit_callbacks, make_user
):
    run = sync(django_capture_on_commit_callbacks)
    assert any("005000000000001 is mapped to no Dealdesk user" in e for e in run.errors)
    assert Deal.objects.get(crm_id="006000000000001").owner.username == "svc-crm-sync"
    owner = CrmOwner.objects.get(salesforce_user_id="005000000000001")
    owner.user = make_user("Sales", username="sam")
    owner.save()
    run = sync(django_capture_on_commit_callbacks)
    assert not run.errors
    assert Deal.objects.get(crm_id="006000000000001").owner.username == "sam"


def test_an_expired_session_logs_in_again_once(
    fake_salesforce, catalog, django_capture_on_commit_callbacks
):
    fake_salesforce.failures = [401]
    run = sync(django_capture_on_commit_callbacks)
    assert run.status == "succeeded"
    assert Deal.objects.count() == 2

    fake_salesforce.session_ids.clear()  # the session is gone for good
    run = sync(django_capture_on_commit_callbacks, full=True)
    assert run.status == "failed"
    assert run.errors == ["Salesforce session expired"]


def test_the_request_limit_stops_the_run_cleanly_and_keeps_the_watermark(
    fake_salesforce, catalog, django_capture_on_commit_callbacks, capsys
):
    fake_salesforce.failures = [403]
    with django_capture_on_commit_callbacks(execute=True):
        call_command("sync_crm")
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["status"] == "limited"
    run = SyncRun.objects.get()
    assert run.errors == ["Salesforce API request limit exceeded"]
    assert not CrmWatermark.objects.exists()
    assert not Account.objects.exists()


def test_server_errors_are_retried_with_backoff(
    fake_salesforce, catalog, django_capture_on_commit_callbacks
):
    fake_salesforce.failures = [503, 503]
    run = sync(django_capture_on_commit_callbacks)
    assert run.status == "succeeded"
    assert Deal.objects.count() == 2


def test_a_run_that_dies_half_way_is_completed_by_the_next(
    fake_salesforce, catalog, django_capture_on_commit_callbacks, settings
):
    fake_salesforce.page_size = 1
    settings.CRM_SYNC_RETRIES = 1
    # Pages of one record: the first opportunity comes (with its lines and contact roles);
    # then Salesforce fails for good on the next page of opportunities.
    fake_salesforce.broken_next_pages = {"Opportunity"}
    run = sync(django_capture_on_commit_callbacks)
    assert run.status == "failed"
    assert Deal.objects.count() == 1  # the first page's deal was committed
    assert not CrmWatermark.objects.filter(object_name="Opportunity").exists()

    fake_salesforce.broken_next_pages.clear()
    run = sync(django_capture_on_commit_callbacks)
    assert run.status == "succeeded"
    assert Deal.objects.count() == 2
    assert DealLine.objects.count() == 3
    assert Contact.objects.count() == 1
    assert run.counts["Opportunity"]["unchanged"] == 1  # done before, not done twice


@contextmanager
def sync_running_elsewhere():
    """A run held open by another thread, on its own database connection (session)."""
    started, finish = threading.Event(), threading.Event()
    holder = {}

    def hold():
        try:
            holder["run"] = sync_run_start(full=False, triggered_by=None)
            started.set()
            finish.wait(30)
            SyncRun.objects.filter(pk=holder["run"].pk).update(status="succeeded")
            sync_run_release()
        finally:
            connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    assert started.wait(30)
    try:
        yield holder["run"]
    finally:
        finish.set()
        thread.join()


@pytest.mark.django_db(transaction=True)
def test_a_second_sync_refuses_to_start_while_one_runs(fake_salesforce):
    with sync_running_elsewhere() as running:
        with pytest.raises(CommandError, match=f"CRM sync #{running.pk} is running"):
            call_command("sync_crm")
        assert SyncRun.objects.count() == 1
        assert not Account.objects.exists()
    # Once it has finished, the next one runs.
    call_command("sync_crm", stdout=io.StringIO())
    assert SyncRun.objects.filter(status="succeeded").count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_run_whose_process_died_is_taken_over_at_once_on_postgresql(fake_salesforce):
    # Marked running, but no session holds the advisory lock: its process is gone.
    dead = SyncRun.objects.create()
    call_command("sync_crm", stdout=io.StringIO())
    dead.refresh_from_db()
    assert dead.status == "abandoned"
    assert SyncRun.objects.filter(status="succeeded").count() == 1
    assert Deal.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_on_sqlite_a_run_marked_running_for_hours_is_taken_over(fake_salesforce, settings):
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL knows at once, by the advisory lock")
    dead = SyncRun.objects.create()
    SyncRun.objects.filter(pk=dead.pk).update(
        started_at=timezone.now() - timedelta(hours=settings.CRM_SYNC_STALE_HOURS + 1)
    )
    call_command("sync_crm", stdout=io.StringIO())
    dead.refresh_from_db()
    assert dead.status == "abandoned"
