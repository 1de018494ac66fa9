"""When each invoice of an executed contract is issued, when it is due, and what is on it.

Invoices are issued in advance, one per billing period the contract charges anything in: a
period whose total is zero (all of it inside a free period) is no invoice, and a zero charge
(a line's free months) is no invoice line. The first invoice is issued when the contract's
billing start says (`billing_starts_on`); every later one on its period's start, but never
before billing has started: a go-live that comes months late does not send the invoices of
the months before it ahead of the first one. While the go-live date is not known, no invoice
has an issue date. Due = issued + the payment terms' net days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from dealdesk.pricing import Period

if TYPE_CHECKING:
    from billing.canonical_order import OrderLine

__all__ = [
    "BillingStart",
    "PlannedInvoice",
    "PlannedInvoiceLine",
    "billing_starts_on",
    "plan_invoices",
]


@dataclass(frozen=True)
class BillingStart:
    """The billing_start clause (contracts.taxonomy.BillingStart); `on_signature` without one."""

    mode: str  # on_signature | fixed_date | days_after_signature | on_go_live
    date: dt.date | None = None  # fixed_date's date
    days: int | None = None  # days_after_signature's days


@dataclass(frozen=True)
class PlannedInvoiceLine:
    line_key: str  # the OrderLine it bills
    sku: str
    description: str  # the line's name, as the contract words it
    quantity: Decimal
    amount: Decimal  # the contract's charge for the period, in the invoice's currency


@dataclass(frozen=True)
class PlannedInvoice:
    index: int  # 1 for the first invoice, in issue order
    currency: str
    period_start: dt.date
    period_end: dt.date  # exclusive
    last_day: dt.date  # the period's last day of service, as the invoice prints it
    issue_on: dt.date | None  # None: waits for the go-live date
    due_on: dt.date | None
    lines: tuple[PlannedInvoiceLine, ...]
    total: Decimal


def billing_starts_on(
    start: BillingStart,
    *,
    signed_on: dt.date,
    go_live_on: dt.date | None,
    first_period_start: dt.date,
) -> dt.date | None:
    """The first invoice's issue date; None while an on_go_live start waits for go-live."""
    if start.mode == "on_signature":
        # Signed ahead of the service start: invoiced when service starts, not before.
        return max(signed_on, first_period_start)
    if start.mode == "fixed_date" and start.date is not None:
        return start.date
    if start.mode == "days_after_signature" and start.days is not None:
        return signed_on + dt.timedelta(days=start.days)
    if start.mode == "on_go_live":
        return go_live_on
    raise ValueError(f"billing start {start} cannot be placed")


def plan_invoices(
    periods: Sequence[Period],
    *,
    lines: Mapping[str, OrderLine],
    currency: str,
    billing_start: BillingStart,
    signed_on: dt.date,
    go_live_on: dt.date | None,
    payment_terms: int,
) -> tuple[PlannedInvoice, ...]:
    """The invoices of the contract's priced periods (dealdesk.pricing.Period), in order."""
    billed = [period for period in periods if period.total]
    if not billed:
        return ()
    starts_on = billing_starts_on(
        billing_start,
        signed_on=signed_on,
        go_live_on=go_live_on,
        first_period_start=billed[0].start,
    )
    invoices = []
    for index, period in enumerate(billed, start=1):
        issue_on = None
        if starts_on is not None:
            issue_on = starts_on if index == 1 else max(period.start, starts_on)
        invoices.append(
            PlannedInvoice(
                index=index,
                currency=currency,
                period_start=period.start,
                period_end=period.end,
                last_day=period.last_day,
                issue_on=issue_on,
                due_on=None if issue_on is None else issue_on + dt.timedelta(days=payment_terms),
                lines=tuple(
                    _invoice_line(lines[charge.line_key], charge.amount)
                    for charge in period.charges
                    if charge.amount
                ),
                total=period.total,
            )
        )
    return tuple(invoices)


def _invoice_line(line: OrderLine, amount: Decimal) -> PlannedInvoiceLine:
    return PlannedInvoiceLine(
        line_key=line.key,
        sku=line.sku,
        description=line.name,
        quantity=line.quantity,
        amount=amount,
    )
