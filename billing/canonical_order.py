"""The canonical order: what an EXECUTED contract version says must be billed, as typed values.

Built from the version's frozen snapshot only, never from the live deal: the deal may have
been edited or re-priced since signature, the contract has not. The snapshot stores each
billing period's total but not each line's charge in it, so its lines and pricing clauses
are priced again with the engine that priced the contract (`dealdesk.pricing.price_deal`),
and the result must equal the stored periods, line term totals, service end and TCV to the
last minor unit. Anything else is refused (`OrderMismatch`): a change to the engine or the
catalog since signature must never silently change an executed contract's invoices.

`order_to_json` is the order as plain JSON (Decimals and dates as strings, fields in the
order declared here): what is stored with the deal as evidence and compared with what the
billing system holds (`billing.diff.diff_records`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pydantic

from billing.invoice_plan import BillingStart, PlannedInvoice, PlannedInvoiceLine, plan_invoices
from contracts.snapshot_types import ContractSnapshot, SnapshotLine, SnapshotPeriod
from contracts.taxonomy import PARAMS
from dealdesk.pricing import (
    DealTerms,
    LineInput,
    Period,
    PricingError,
    PricingResult,
    add_months,
    last_day,
    price_deal,
)
from dealdesk.selectors import pricing_clause_terms

__all__ = [
    "ORDER_DECIMAL_FIELDS",
    "BillingEntity",
    "CanonicalOrder",
    "OrderLine",
    "OrderMismatch",
    "OrderRampSegment",
    "Uplift",
    "canonical_order",
    "order_to_json",
]


class OrderMismatch(ValueError):
    """The executed contract cannot be billed as it stands; `differences` says why, in words.

    Finance sees the differences on a billing exception: nothing is sent to the billing
    system for such a contract.
    """

    def __init__(self, reference: str, differences: Sequence[str]) -> None:
        self.reference = reference
        self.differences = tuple(differences)
        super().__init__(
            f"contract {reference} cannot be billed as signed: " + "; ".join(differences)
        )


@dataclass(frozen=True)
class BillingEntity:
    """Who is invoiced: the account as the contract names it."""

    crm_id: str
    legal_name: str
    address: str  # the billing address, as one text
    tax_id: str
    billing_email: str  # where invoices are sent


@dataclass(frozen=True)
class OrderLine:
    key: str  # "line-<n>", n the line's place in the contract from 1: what invoices point to
    sku: str
    name: str
    segment: int  # ramp year, from 1
    quantity: Decimal
    net_unit_amount: Decimal  # per unit per interval, exact as signed: only charges are rounded
    interval: str  # month | quarter | year | one_time
    one_time: bool
    term_total: Decimal  # the line's charges over the term


@dataclass(frozen=True)
class OrderRampSegment:
    index: int  # ramp year, from 1
    start: dt.date
    end: dt.date  # exclusive
    last_day: dt.date
    total: Decimal


@dataclass(frozen=True)
class Uplift:
    pct: Decimal  # compounded at each date
    every_months: int
    # The service days recurring prices rise on; those inside a price lock are skipped.
    takes_effect_on: tuple[dt.date, ...]


@dataclass(frozen=True)
class CanonicalOrder:
    contract_reference: str
    contract_version: int
    contract_hash: str  # the executed snapshot's content hash: which contract this bills
    deal_id: int
    deal_crm_id: str
    billing_entity: BillingEntity
    currency: str  # every amount of the order is in it
    payment_terms: int  # net days: the payment_terms clause if agreed, else the deal's
    purchase_order_required: bool
    po_number: str  # "" when none was given (or none is required)
    payment_method: str  # ach | wire | card | check, or "" when the contract names none
    billing_frequency: str
    billing_start: BillingStart
    signed_on: dt.date
    go_live_on: dt.date | None
    service_start: dt.date
    service_end: dt.date  # exclusive
    service_last_day: dt.date
    lines: tuple[OrderLine, ...]
    ramp: tuple[OrderRampSegment, ...]
    free_months: int  # the term's first service months, billed at zero
    uplift: Uplift | None
    price_lock_months: int
    tcv: Decimal
    invoices: tuple[PlannedInvoice, ...]


# The billing clauses read here; the pricing ones (free period, uplift, price lock) are read
# by dealdesk.selectors.pricing_clause_terms, as when the contract was priced.
_BILLING_CLAUSE_TYPES = frozenset(
    {
        "payment_terms",
        "billing_frequency",
        "billing_start",
        "purchase_order_required",
        "payment_method",
    }
)
_ON_SIGNATURE = BillingStart(mode="on_signature")


def canonical_order(
    snapshot: ContractSnapshot, *, signed_on: dt.date, go_live_on: dt.date | None = None
) -> CanonicalOrder:
    """What the executed contract `snapshot` bills (raises OrderMismatch when it cannot be
    billed exactly as signed)."""
    deal = snapshot.deal
    clauses = _billing_clauses(snapshot)
    keys = [f"line-{n}" for n in range(1, len(snapshot.lines) + 1)]
    terms, priced = _priced_again(snapshot, keys)
    differences = _differences(snapshot, keys, priced)
    frequency = clauses.get("billing_frequency")
    if frequency is not None and frequency.interval != deal.billing_frequency:
        differences.insert(
            0,
            f"its billing_frequency clause says {frequency.interval} but its schedule is "
            f"{deal.billing_frequency}",
        )
    if differences:
        raise OrderMismatch(snapshot.reference, differences)

    lines = tuple(
        _order_line(key, line, priced.term_totals[key])
        for key, line in zip(keys, snapshot.lines, strict=True)
    )
    terms_clause = clauses.get("payment_terms")
    net_days = terms_clause.net_days if terms_clause else deal.payment_terms
    po = clauses.get("purchase_order_required")
    method = clauses.get("payment_method")
    start = clauses.get("billing_start")
    billing_start = (
        BillingStart(mode=start.mode, date=start.date, days=start.days) if start else _ON_SIGNATURE
    )
    account = snapshot.account
    return CanonicalOrder(
        contract_reference=snapshot.reference,
        contract_version=_version_number(snapshot.reference),
        contract_hash=snapshot.content_hash,
        deal_id=deal.id,
        deal_crm_id=deal.crm_id,
        billing_entity=BillingEntity(
            crm_id=account.crm_id,
            legal_name=account.legal_name,
            address=account.address,
            tax_id=account.tax_id,
            billing_email=account.billing_email,
        ),
        currency=snapshot.currency,
        payment_terms=net_days,
        purchase_order_required=po is not None,
        po_number=(po.po_number or "") if po else "",
        payment_method=method.method if method else "",
        billing_frequency=deal.billing_frequency,
        billing_start=billing_start,
        signed_on=signed_on,
        go_live_on=go_live_on,
        service_start=deal.start_date,
        service_end=deal.end_date,
        service_last_day=last_day(deal.end_date),
        lines=lines,
        ramp=tuple(
            OrderRampSegment(
                index=s.index, start=s.start, end=s.end, last_day=last_day(s.end), total=s.total
            )
            for s in snapshot.pricing.ramp
        ),
        free_months=terms.free_months,
        uplift=_uplift(terms, deal.end_date),
        price_lock_months=terms.price_lock_months,
        tcv=snapshot.pricing.tcv,
        invoices=plan_invoices(
            priced.periods,
            lines={line.key: line for line in lines},
            currency=snapshot.currency,
            billing_start=billing_start,
            signed_on=signed_on,
            go_live_on=go_live_on,
            payment_terms=net_days,
        ),
    )


def order_to_json(order: CanonicalOrder) -> dict[str, Any]:
    """The order as plain JSON: Decimals as their exact digits, dates as ISO text, None as
    null, and every object's keys in the order its fields are declared."""
    return _plain(order)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Decimal):
        return format(value, "f")  # never "1E+2": a billing system reads digits
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _decimal_fields(*classes: type) -> frozenset[str]:
    return frozenset(
        name
        for cls in classes
        for name, hint in typing.get_type_hints(cls).items()
        if hint is Decimal
    )


# The order's JSON keys whose values are Decimals: billing.diff compares them by value.
ORDER_DECIMAL_FIELDS = _decimal_fields(
    CanonicalOrder, OrderLine, OrderRampSegment, Uplift, PlannedInvoice, PlannedInvoiceLine
)


def _billing_clauses(snapshot: ContractSnapshot) -> dict[str, Any]:
    """The contract's billing clauses by type, their params read through the taxonomy."""
    found: dict[str, Any] = {}
    problems = []
    for clause in snapshot.clauses:
        if clause.type not in _BILLING_CLAUSE_TYPES:
            continue
        if clause.type in found:
            # Two payment terms contradict each other: a person decides which one holds.
            problems.append(f"it has two {clause.type} clauses")
            continue
        try:
            found[clause.type] = PARAMS[clause.type].model_validate(clause.params)
        except pydantic.ValidationError as exc:
            errors = ", ".join(
                f"{'.'.join(map(str, e['loc'])) or 'params'}: {e['msg']}" for e in exc.errors()
            )
            problems.append(f"its {clause.type} clause cannot be read ({errors})")
    if problems:
        raise OrderMismatch(snapshot.reference, problems)
    return found


def _version_number(reference: str) -> int:
    # Drafting (deal_snapshot) writes it as "<the deal's CRM id>-<version number>".
    number = reference.rpartition("-")[2]
    if not number.isdigit():
        raise OrderMismatch(reference, ["its reference names no version number"])
    return int(number)


def _priced_again(snapshot: ContractSnapshot, keys: list[str]) -> tuple[DealTerms, PricingResult]:
    """The snapshot's lines and pricing clauses through the engine, as when it was drafted."""
    deal = snapshot.deal
    try:
        terms = DealTerms(
            currency=snapshot.currency,
            start_date=deal.start_date,
            term_months=deal.term_months,
            billing_frequency=deal.billing_frequency,
            # The snapshot stores no calendar-alignment flag, but its service end tells: an
            # aligned term with a stub runs its months from the first calendar boundary.
            align_to_calendar=deal.end_date != add_months(deal.start_date, deal.term_months),
            **pricing_clause_terms((clause.type, clause.params) for clause in snapshot.clauses),
        )
        lines = [_line_input(key, line) for key, line in zip(keys, snapshot.lines, strict=True)]
        return terms, price_deal(terms, lines)
    except PricingError as exc:
        raise OrderMismatch(snapshot.reference, [f"it cannot be priced again: {exc}"]) from exc


def _line_input(key: str, line: SnapshotLine) -> LineInput:
    one_time = line.interval == "one_time"
    return LineInput(
        key=key,
        # The snapshot keeps the interval, not the kind: usage (a committed volume per
        # interval) is priced exactly as a subscription is.
        kind="one_time" if one_time else "subscription",
        billing_interval=line.interval,
        quantity=line.quantity,
        list_unit_price=line.list_unit_price,
        net_unit_price=line.net_unit_price,
        segment_index=line.segment,
    )


def _differences(snapshot: ContractSnapshot, keys: list[str], priced: PricingResult) -> list[str]:
    """Where pricing the contract again disagrees with what it stores, in words."""
    currency = snapshot.currency
    stored = snapshot.pricing
    found = []
    if priced.service_end != snapshot.deal.end_date:
        found.append(
            f"its service ends {snapshot.deal.end_date} but re-priced ends {priced.service_end}"
        )
    if len(priced.periods) != len(stored.periods):
        found.append(
            f"it has {len(stored.periods)} billing periods but re-priced has {len(priced.periods)}"
        )
    for number, (signed, again) in enumerate(
        zip(stored.periods, priced.periods, strict=False), start=1
    ):
        if (signed.start, signed.end, signed.total) != (again.start, again.end, again.total):
            found.append(
                f"period {number} is {_period_words(signed, currency)} "
                f"but re-priced is {_period_words(again, currency)}"
            )
    for key, line in zip(keys, snapshot.lines, strict=True):
        if line.term_total is not None and line.term_total != priced.term_totals[key]:
            found.append(
                f"{key} ({line.sku}) term total is {line.term_total} {currency} "
                f"but re-priced is {priced.term_totals[key]} {currency}"
            )
    if priced.tcv != stored.tcv:
        found.append(f"its TCV is {stored.tcv} {currency} but re-priced is {priced.tcv} {currency}")
    return found


def _period_words(period: SnapshotPeriod | Period, currency: str) -> str:
    return f"{period.start} – {last_day(period.end)} {period.total} {currency}"


def _order_line(key: str, line: SnapshotLine, term_total: Decimal) -> OrderLine:
    return OrderLine(
        key=key,
        sku=line.sku,
        name=line.name,
        segment=line.segment,
        quantity=line.quantity,
        net_unit_amount=line.net_unit_price,
        interval=line.interval,
        one_time=line.interval == "one_time",
        term_total=term_total,
    )


def _uplift(terms: DealTerms, service_end: dt.date) -> Uplift | None:
    if not terms.uplift_pct:
        return None
    # Service months count from the anchor: the start, or after a calendar stub the first
    # boundary, which is a 1st of the month and so exactly `term` months before the end.
    anchor = (
        add_months(service_end, -terms.term_months) if terms.align_to_calendar else terms.start_date
    )
    every = terms.uplift_every_months
    # As dealdesk.pricing holds it: an uplift date inside the price lock is skipped.
    months = range(every, terms.term_months, every)
    return Uplift(
        pct=terms.uplift_pct,
        every_months=every,
        takes_effect_on=tuple(
            add_months(anchor, month) for month in months if month >= terms.price_lock_months
        ),
    )
