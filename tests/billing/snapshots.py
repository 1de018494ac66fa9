"""Contract snapshots for the billing tests, without a database: `contract_snapshot` prices a
contract with the engine and assembles its ContractSnapshot the way
contracts.snapshot.deal_snapshot writes one (tests/billing/test_canonical_order.py checks it
against a real one)."""

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from billing.canonical_order import CanonicalOrder, canonical_order
from contracts.snapshot_types import ContractSnapshot
from contracts.taxonomy import decimal_text
from dealdesk.pricing import DealTerms, LineInput, price_deal

# 10 seats at 39.375 a month (45.00 less 12.5 %): 393.75 a month, 4,725.00 a year.
SEATS = LineInput(
    key="seats",
    kind="subscription",
    billing_interval="month",
    quantity=Decimal("10.0000"),
    list_unit_price=Decimal("45.000000"),
    net_unit_price=Decimal("39.375000000000"),
)
ONBOARDING = LineInput(
    key="onboarding",
    kind="one_time",
    billing_interval="one_time",
    quantity=Decimal("1.0000"),
    list_unit_price=Decimal("5000.000000"),
    net_unit_price=Decimal("4500.000000000000"),
)
TERMS = DealTerms(
    currency="USD",
    start_date=date(2026, 1, 1),
    term_months=12,
    billing_frequency="quarterly",
)
SIGNED_ON = date(2025, 12, 15)


def clause(type_: str, **params: Any) -> dict[str, Any]:
    """A clause as contracts.snapshot.worded_clause stores it."""
    return {
        "type": type_,
        "params": params,
        "quote": "",
        "source": "notes",
        "title": type_.replace("_", " ").capitalize(),
        "wording": "",
        "banned": False,
        "needs_legal_review": False,
    }


def contract_snapshot(
    terms: DealTerms,
    lines: Sequence[LineInput],
    *,
    clauses: Sequence[dict[str, Any]] = (),
    payment_terms: int = 30,
) -> ContractSnapshot:
    """The snapshot of a contract with these terms and lines, priced by the engine, its
    pricing terms written as the clauses they come from (a calendar alignment shows only in
    its service end, as in a real snapshot)."""
    pricing_clauses = []
    if terms.free_months:
        pricing_clauses.append(clause("free_period", months=terms.free_months))
    if terms.uplift_pct:
        pricing_clauses.append(
            clause(
                "price_uplift",
                pct=decimal_text(terms.uplift_pct),
                every_months=terms.uplift_every_months,
            )
        )
    if terms.price_lock_months:
        pricing_clauses.append(clause("price_lock", months=terms.price_lock_months))
    priced = price_deal(terms, lines)
    return ContractSnapshot.from_json(
        {
            "title": "Order Form",
            "reference": "006T00000000001-2",
            "pattern": {"code": "custom_terms", "name": "Custom terms"},
            "template": {"id": 3, "version": 1},
            "account": {
                "crm_id": "001T00000000001",
                "name": "Acme",
                "legal_name": "Acme Logistics, Inc.",
                "address": "1 Main St\nSpringfield, IL 62701\nUS",
                "tax_id": "US-12-3456789",
                "billing_email": "ap@acme.test",
                "msa_reference": "",
            },
            "signer": None,
            "deal": {
                "id": 7,
                "crm_id": "006T00000000001",
                "name": "Acme — New business",
                "currency": terms.currency,
                "start_date": terms.start_date.isoformat(),
                "end_date": priced.service_end.isoformat(),
                "term_months": terms.term_months,
                "billing_frequency": terms.billing_frequency,
                "payment_terms": payment_terms,
                "owner": "sam.sales",
            },
            "lines": [
                {
                    "sku": f"SKU-{line.key}",
                    "name": f"Product {line.key}",
                    "segment": line.segment_index,
                    "quantity": str(line.quantity),
                    "list_unit_price": str(line.list_unit_price),
                    "discount_pct": "0",
                    "net_unit_price": str(line.net_unit_price),
                    "interval": line.billing_interval,
                    "line_total": str(priced.line_totals[line.key]),
                    "term_total": str(priced.term_totals[line.key]),
                }
                for line in lines
            ],
            "pricing": {
                "tcv": str(priced.tcv),
                "acv": str(priced.acv),
                "arr": str(priced.arr),
                "first_year_value": str(priced.first_year_value),
                "lines_total": str(priced.lines_total),
                "effective_discount_pct": str(priced.effective_discount_pct),
                "periods": [
                    {"start": p.start.isoformat(), "end": p.end.isoformat(), "total": str(p.total)}
                    for p in priced.periods
                ],
                "ramp": [
                    {
                        "index": s.index,
                        "start": s.start.isoformat(),
                        "end": s.end.isoformat(),
                        "total": str(s.total),
                    }
                    for s in priced.ramp
                ],
            },
            "notes": "",
            "clauses": [*pricing_clauses, *clauses],
        }
    )


def order_of(
    terms: DealTerms = TERMS,
    lines: Sequence[LineInput] = (SEATS,),
    *,
    signed_on: date = SIGNED_ON,
    go_live_on: date | None = None,
    **snapshot: Any,
) -> CanonicalOrder:
    return canonical_order(
        contract_snapshot(terms, lines, **snapshot), signed_on=signed_on, go_live_on=go_live_on
    )
