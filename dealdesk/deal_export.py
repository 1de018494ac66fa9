"""The deal list as CSV: the rows the page's filters match, streamed in chunks."""

from collections.abc import Iterator
from decimal import Decimal

from django.db.models import QuerySet

from dealdesk.csv_export import csv_lines, safe_cell
from dealdesk.models import Deal
from dealdesk.pricing import PricingError, minor_unit
from dealdesk.selectors import deals_in_order
from dealdesk.templatetags.dealdesk import person, state_label
from dealdesk.waiting_on import waiting_on

COLUMNS = [
    "CRM id",
    "Deal",
    "Account",
    "State",
    "Waiting on",
    "Owner",
    "Currency",
    "Amount (TCV)",
    "Close date",
]
# Deals loaded (and their waiting-on read) per round trip: 3 queries a chunk, and a chunk's
# ids stay well inside SQLite's limit on query parameters.
CHUNK_SIZE = 500


def deal_csv_lines(deals: QuerySet[Deal]) -> Iterator[str]:
    """The CSV lines of `deals` (filtered and sorted, e.g. by selectors.deal_list), header
    first. The ids are read in one query when the first row is asked for; the rows follow
    CHUNK_SIZE at a time, so memory and queries stay bounded however many deals match."""
    return csv_lines(COLUMNS, _rows(deals))


def _rows(deals: QuerySet[Deal]) -> Iterator[list[str]]:
    ids = list(deals.values_list("pk", flat=True))
    for start in range(0, len(ids), CHUNK_SIZE):
        rows = deals_in_order(ids=ids[start : start + CHUNK_SIZE])
        holders = waiting_on(rows)
        for deal in rows:
            yield _row(deal, holders[deal.pk])


def _row(deal: Deal, holder: str) -> list[str]:
    text = [
        deal.crm_id,
        deal.name,
        deal.account.name,
        state_label(deal.state),
        holder,
        person(deal.owner),
        deal.currency,
    ]
    return [
        *(safe_cell(cell) for cell in text),
        # Ours, not typed in: a negative amount stays a number.
        _amount(deal.tcv, deal.currency),
        deal.close_date.isoformat() if deal.close_date else "",
    ]


def _amount(amount: Decimal | None, currency: str) -> str:
    """Exact decimal text at the currency's minor unit (pricing stores amounts rounded to
    it), never through a float; blank until the deal is priced."""
    if amount is None:
        return ""
    try:
        return f"{amount:.{minor_unit(currency)}f}"
    except PricingError:
        return f"{amount:f}"
