"""The typed contract snapshot, the one current-version query and the one legal-review rule."""

import copy
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from contracts import services
from contracts.models import ContractVersion
from contracts.review_rules import (
    clause_needs_legal_review,
    legal_review_reasons,
    review_clause_types,
)
from contracts.selectors import current_version
from contracts.snapshot_types import ContractSnapshot, SnapshotClause, snapshot_hash
from dealdesk.models import DealPattern
from tests.dealdesk.factories import DealFactory


def _clause(type_="payment_terms", *, source="notes", review=False, banned=False, **params):
    return {
        "type": type_,
        "params": params or {"net_days": 60},
        "quote": "Net 60" if source == "notes" else "",
        "source": source,
        "title": type_.replace("_", " ").capitalize(),
        "wording": "Customer shall pay each invoice within 60 days.",
        "banned": banned,
        "needs_legal_review": review,
    }


# As contracts.snapshot.deal_snapshot writes it today.
SNAPSHOT = {
    "title": "Order Form",
    "reference": "006T00000000001-2",
    "pattern": {"code": "custom_terms", "name": "Custom terms"},
    "template": {"id": 3, "version": 2},
    "account": {
        "crm_id": "001T00000000001",
        "name": "Acme",
        "legal_name": "Acme Logistics, Inc.",
        "address": "1 Main St\nSpringfield, IL 62701\nUS",
        "tax_id": "US-12-3456789",
        "billing_email": "ap@acme.test",
        "msa_reference": "",
    },
    "signer": {"name": "Jordan Signer", "title": "General Counsel", "email": "j@acme.test"},
    "deal": {
        "id": 7,
        "crm_id": "006T00000000001",
        "name": "Acme — New business",
        "currency": "EUR",
        "start_date": "2026-01-01",
        "end_date": "2028-01-01",
        "term_months": 24,
        "billing_frequency": "annual",
        "payment_terms": 30,
        "owner": "sam.sales",
    },
    "lines": [
        {
            "sku": "SEAT-STD",
            "name": "Standard user seat",
            "segment": 2,
            "quantity": "150.0000",
            "list_unit_price": "45.000000",
            "discount_pct": "12.5000",
            "net_unit_price": "39.375000000000",
            "interval": "month",
            "line_total": "5906.25",
            "term_total": "70875.00",
        }
    ],
    "pricing": {
        "tcv": "102375.00",
        "acv": "51187.50",
        "arr": "70875.00",
        "first_year_value": "31500.00",
        "lines_total": "5906.25",
        "effective_discount_pct": "12.50",
        "periods": [{"start": "2026-01-01", "end": "2027-01-01", "total": "31500.00"}],
        "ramp": [{"index": 1, "start": "2026-01-01", "end": "2027-01-01", "total": "31500.00"}],
    },
    "notes": "Net 60, PO required",
    "clauses": [
        _clause(),
        _clause("liability_cap", source="library", review=True, multiple_of_fees="1.5"),
    ],
}


def _legacy() -> dict:
    """As versions drafted before order forms showed each line's term total were stored
    (no `term_total`), for a deal with no contact role (no signer)."""
    legacy = copy.deepcopy(SNAPSHOT)
    for line in legacy["lines"]:
        del line["term_total"]
    legacy["signer"] = None
    return legacy


def test_from_json_reads_every_field_as_its_type():
    snapshot = ContractSnapshot.from_json(SNAPSHOT)
    assert snapshot.pattern.code == "custom_terms"
    assert snapshot.template.version == 2
    assert snapshot.account.legal_name == "Acme Logistics, Inc."
    assert snapshot.signer.email == "j@acme.test"
    assert snapshot.currency == snapshot.deal.currency == "EUR"
    assert snapshot.deal.start_date == date(2026, 1, 1)
    assert snapshot.deal.end_date == date(2028, 1, 1)
    assert snapshot.deal.term_months == 24
    assert snapshot.deal.payment_terms == 30
    (line,) = snapshot.lines
    assert line.segment == 2
    assert line.currency == "EUR"
    assert line.quantity == Decimal(150)
    assert line.net_unit_price == Decimal("39.375")
    assert line.term_total == Decimal("70875.00")
    assert isinstance(line.discount_pct, Decimal)
    assert snapshot.pricing.currency == "EUR"
    assert snapshot.pricing.lines_total == Decimal("5906.25")
    assert snapshot.pricing.tcv == Decimal("102375.00")
    assert snapshot.pricing.periods[0].end == date(2027, 1, 1)
    assert snapshot.pricing.ramp[0].index == 1
    assert snapshot.pricing.ramp[0].total == Decimal("31500.00")
    assert [c.type for c in snapshot.clauses] == ["payment_terms", "liability_cap"]
    assert snapshot.clauses[1].params == {"multiple_of_fees": "1.5"}
    assert snapshot.clauses[1].needs_legal_review is True
    assert snapshot.notes == "Net 60, PO required"


def test_from_json_round_trips_to_the_same_json_and_hash():
    snapshot = ContractSnapshot.from_json(SNAPSHOT)
    assert snapshot.to_json() == SNAPSHOT
    assert snapshot.content_hash == snapshot_hash(SNAPSHOT)
    # Decimals keep their stored digits: "150.0000" is not written back as "150".
    assert snapshot.to_json()["lines"][0]["quantity"] == "150.0000"


def test_a_legacy_snapshot_loads():
    legacy = _legacy()
    snapshot = ContractSnapshot.from_json(legacy)
    assert snapshot.lines[0].term_total is None
    assert snapshot.signer is None
    assert snapshot.to_json() == legacy
    assert snapshot.content_hash == snapshot_hash(legacy)


def test_a_snapshot_is_frozen():
    snapshot = ContractSnapshot.from_json(SNAPSHOT)
    with pytest.raises(AttributeError):
        snapshot.pricing.tcv = Decimal(0)


def test_a_drafted_version_reads_as_stored_once_per_instance(new_deal, django_assert_num_queries):
    deal = new_deal()
    version = ContractVersion.objects.get(deal=deal)
    with django_assert_num_queries(0):
        typed = version.typed_snapshot
        assert version.typed_snapshot is typed
    assert typed.content_hash == version.content_hash
    assert typed.to_json() == version.snapshot
    assert typed.pricing.tcv == deal.tcv
    assert typed.deal.currency == deal.currency
    assert all(line.term_total is not None for line in typed.lines)


# --- current_version -----------------------------------------------------------------------


def _edit(version, legal_user, net_days):
    return services.contract_clause_edit(
        version_id=version.pk,
        clause_index=0,
        params={"net_days": net_days},
        actor=legal_user,
        reason=f"net {net_days}",
    )


def test_current_version_is_the_live_one_not_the_newest(new_deal, legal_user):
    deal, other = new_deal(), new_deal()
    v1 = current_version(deal)
    assert v1.number == 1
    v2 = _edit(v1, legal_user, 45)
    assert current_version(deal) == v2
    v3 = _edit(v2, legal_user, 30)
    assert current_version(deal) == v3
    # v1 and v2 superseded; the newest voided and v2 approved instead (raw states: the
    # services never go back, the query must still not pick by number).
    ContractVersion.objects.filter(pk=v3.pk).update(state="voided")
    ContractVersion.objects.filter(pk=v2.pk).update(state="approved")
    assert current_version(deal) == v2
    assert current_version(other).deal_id == other.pk


def test_no_current_version_once_voided(new_deal):
    deal = new_deal()
    ContractVersion.objects.filter(deal=deal).update(state="voided")
    assert current_version(deal) is None


def test_a_deal_without_versions_has_no_current_version(db):
    assert current_version(DealFactory()) is None


# --- the legal-review rule -----------------------------------------------------------------


def _typed(**kwargs) -> SnapshotClause:
    return SnapshotClause.from_json(_clause(**kwargs))


@pytest.mark.parametrize(
    ("source", "review", "expected"),
    [
        ("notes", True, True),
        ("legal", True, True),  # legal's own edit of such a clause is still non-standard
        ("library", True, False),  # the pattern's standard wording is not an exception
        ("notes", False, False),
    ],
)
def test_clause_needs_legal_review(source, review, expected):
    assert clause_needs_legal_review(_typed(source=source, review=review)) is expected


def test_review_clause_types_of_a_snapshot():
    snapshot = ContractSnapshot.from_json(
        {
            **SNAPSHOT,
            "clauses": [
                _clause("liability_cap", source="library", review=True),
                _clause("sla_credit", review=True),
                _clause("payment_terms"),
            ],
        }
    )
    assert review_clause_types(snapshot) == frozenset({"sla_credit"})


def test_legal_review_reasons():
    plain = DealPattern(code="standard", name="Standard", requires_legal_review=False)
    custom = DealPattern(code="custom_terms", name="Custom terms", requires_legal_review=True)
    assert legal_review_reasons(pattern=plain, clauses=[_typed()]) == []
    assert legal_review_reasons(pattern=None, clauses=[]) == []
    assert legal_review_reasons(pattern=custom, clauses=[]) == [
        "pattern Custom terms requires legal review"
    ]
    banned = _typed(type_="exclusivity", banned=True, review=True)
    assert legal_review_reasons(
        pattern=plain,
        clauses=[banned, _typed(type_="sla_credit", review=True), _typed(source="library")],
        fallback_reason="extraction service down: rules used instead",
        dropped=[{"reason": "ungrounded quote"}, {"reason": "unknown type"}],
    ) == [
        "banned clause: Exclusivity",
        "clause needs legal review: Sla credit",
        "extraction service down: rules used instead",
        "1 extracted clause(s) dropped as ungrounded",
    ]


@pytest.mark.parametrize(
    "notes",
    [
        "Net 60, PO required (PO-4471) on all invoices",  # custom terms: legal reviews
        "Great call with their CFO, competitor is Acme, standard paper",  # no review
    ],
)
def test_drafting_decides_legal_review_by_the_rule(new_deal, notes):
    deal = new_deal(notes=notes)
    version = deal.contract_versions.get()
    reasons = legal_review_reasons(
        pattern=deal.pattern,
        clauses=version.typed_snapshot.clauses,
        dropped=version.dropped_clauses,
    )
    assert version.review_reasons == reasons
    assert (version.state == "legal_review") == bool(reasons)


# --- nobody else reads the JSON --------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
RAW_READ = re.compile(r"snapshot\s*\[|snapshot\.get\(|\.snapshot\b")


def test_only_contracts_reads_the_snapshot_json():
    """Outside contracts, a snapshot is read through ContractVersion.typed_snapshot."""
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("approvals", "billing", "dealdesk", "audit", "templates")
        for path in sorted((ROOT / folder).rglob("*"))
        if path.suffix in {".py", ".html"} and "migrations" not in path.parts
        for number, text in enumerate(path.read_text().splitlines(), start=1)
        if RAW_READ.search(text)
    ]
    assert offenders == []
