"""The canonical order as Stripe requests, and the billing view both sides are compared in.

Pure functions, no calls: `customer_params`, `product_params`, `schedule_params` build what
`billing.ledger.stripe_ledger` sends; `order_billing_view` is what the contract bills, and
`stripe_billing_view` the same view rebuilt from the objects Stripe holds, so that
`diff_records(order_billing_view(order), stripe_billing_view(...))` is [] exactly when Stripe
will bill the contract.

How the order maps (money exact to the minor unit, whatever the engine did):
- The invoice plan's periods become Subscription Schedule phases (`end_date`, never
  `iterations`). Consecutive periods with the same charge for every line and the same
  length share a phase whose prices recur once a period; any other period is a phase of its
  own. That covers ramps, uplifts and price locks (the charges change on their dates) and
  the engine's cumulative rounding (83.33, 83.34, 83.33: a price × quantity is one amount, so
  a period that differs is its own phase). A calendar stub recurs once in days.
- Free months: a phase whose items cost 0 (not a 100 % coupon: a coupon reads back as a
  discount to be recomputed, a zero price reads back as the zero the contract says). Service
  months the plan bills nothing in (free, or no line running) are such a phase too.
- Upfront is one phase for the term, billed once: up to a year its prices recur once over
  the term (`interval_count` = the term's months); longer than a year (Stripe recurs at
  most yearly) its charges are `add_invoice_items` of that phase, billed on its first
  invoice, its items at 0. Any other period longer than a year would map the same way.
- One-time lines: `add_invoice_items` on the phase of the period the engine bills them in
  (the first for year-1 fees); every period with one is a phase of its own.
- Unit amounts are `unit_amount_decimal` in minor units: the period's charge divided by the
  quantity (for a period without rounding, the negotiated price exactly; never more than 12
  decimals, and checked to give back the charge). A fractional quantity cannot be a Stripe
  quantity: such a line is billed as one lot at the period's charge, its metadata `lot`
  saying how much a lot is.
- Stripe's limits: ≤ 20 items and ≤ 20 `add_invoice_items` a phase. Lines are dealt out
  in order to as many schedules as needed, all on the one customer with the same phases,
  start and terms; a schedule with no recurring line carries one zero item.
- `collection_method=send_invoice`, `days_until_due` = payment terms, the PO number as an
  invoice custom field of every phase; metadata names our deal, contract and record.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from billing.canonical_order import CanonicalOrder, OrderLine
from billing.diff import minor_units
from dealdesk.pricing import add_months

__all__ = [
    "PO_FIELD",
    "Phase",
    "StripeMappingError",
    "billing_phases",
    "customer_params",
    "order_billing_view",
    "product_id",
    "product_params",
    "schedule_params",
    "stripe_billing_view",
    "timestamp",
]

MAX_PHASE_ITEMS = 20  # also the most items a subscription holds
MAX_ADD_INVOICE_ITEMS = 20
MAX_DECIMALS = 12  # of unit_amount_decimal
MAX_CYCLE_MONTHS = 12  # Stripe's longest interval is a year (or 365 days)
MAX_CYCLE_DAYS = 365
PO_FIELD = "PO number"
SEND_INVOICE = "send_invoice"
# The interval of a phase that bills nothing by the cycle (free, or lump sums): the longest,
# so Stripe opens as few zero invoices as it can.
IDLE_CYCLE = ("year", 1)
_UNIT_QUANTUM = Decimal(1).scaleb(-MAX_DECIMALS)
_PLAIN_PRODUCT_ID = re.compile(r"[A-Za-z0-9_-]{1,60}")

Cycle = tuple[str, int]  # Stripe's recurring interval and interval_count


class StripeMappingError(ValueError):
    """The order has an amount Stripe cannot bill exactly; nothing is sent."""


@dataclass(frozen=True)
class Phase:
    start: dt.date
    end: dt.date  # exclusive
    cycle: Cycle  # how often its recurring prices bill
    recurring: Mapping[str, int]  # recurring line key → charge each cycle, minor units (0 too)
    once: Mapping[str, int]  # line key → charged once, on the phase's first invoice


# --- the phases ------------------------------------------------------------------------


def billing_phases(order: CanonicalOrder) -> tuple[Phase, ...]:
    """The order's service term, start to end, as schedule phases (see the module's doc)."""
    recurring_keys = [line.key for line in order.lines if not line.one_time]
    one_time = {line.key for line in order.lines if line.one_time}
    idle = dict.fromkeys(recurring_keys, 0)
    phases: list[Phase] = []
    cursor = order.service_start
    for invoice in order.invoices:
        if invoice.period_start > cursor:  # months billed nothing: their own zero phase
            phases.append(Phase(cursor, invoice.period_start, IDLE_CYCLE, idle, {}))
        charges = {
            line.line_key: minor_units(line.amount, order.currency) for line in invoice.lines
        }
        cycle = _cycle(invoice.period_start, invoice.period_end)
        once = {key: amount for key, amount in charges.items() if key in one_time or not cycle}
        phase = Phase(
            invoice.period_start,
            invoice.period_end,
            cycle or IDLE_CYCLE,
            {**idle, **{key: amount for key, amount in charges.items() if key not in once}},
            once,
        )
        if phases and _continues(phases[-1], phase):
            phases[-1] = dataclasses.replace(phases[-1], end=phase.end)
        else:
            phases.append(phase)
        cursor = invoice.period_end
    if cursor < order.service_end:
        phases.append(Phase(cursor, order.service_end, IDLE_CYCLE, idle, {}))
    return tuple(phases)


def _once_in(line: OrderLine, phases: Sequence[Phase]) -> list[int]:
    """The phases billing `line` once. A one-time line of no charge (the plan leaves it out)
    still goes on the first, at 0: Stripe holds every line of the contract."""
    found = [n for n, phase in enumerate(phases) if line.key in phase.once]
    return found or ([0] if line.one_time else [])


def _cycle(start: dt.date, end: dt.date) -> Cycle | None:
    """The interval that recurs exactly once over [start, end); None when none does."""
    for months in range(1, MAX_CYCLE_MONTHS + 1):
        if add_months(start, months) == end:
            return ("month", months)
    days = (end - start).days
    return ("day", days) if days <= MAX_CYCLE_DAYS else None


def _next(moment: dt.date, cycle: Cycle, count: int = 1) -> dt.date:
    """`count` cycles after `moment`, months counted from it as Stripe does from the phase's
    start (Jan 31 + 1 month = Feb 28)."""
    interval, each = cycle
    if interval == "day":
        return moment + dt.timedelta(days=each * count)
    return add_months(moment, each * count * (12 if interval == "year" else 1))


def _continues(phase: Phase, period: Phase) -> bool:
    """Whether `period` bills as one more cycle of `phase`: same charges, nothing once, and
    on the phase's own cycle boundaries (a month-end start would drift otherwise)."""
    if phase.once or period.once or phase.cycle != period.cycle:
        return False
    if phase.recurring != period.recurring or phase.end != period.start:
        return False
    cycles = 1
    while _next(phase.start, phase.cycle, cycles) < period.start:
        cycles += 1
    return (
        _next(phase.start, phase.cycle, cycles) == period.start
        and _next(phase.start, phase.cycle, cycles + 1) == period.end
    )


# --- amounts -----------------------------------------------------------------------------


def _priced(amount: int, quantity: Decimal) -> tuple[int, Decimal]:
    """(Stripe quantity, unit_amount_decimal) that bill exactly `amount` minor units for
    `quantity`: Stripe bills round-half-up(unit × quantity)."""
    if quantity == 0:
        if amount:
            raise StripeMappingError(f"{amount} minor units for a quantity of 0")
        return 0, Decimal(0)
    if quantity != quantity.to_integral_value():
        return 1, Decimal(amount)  # one lot: Stripe's quantities are whole numbers
    with localcontext() as context:
        context.prec = 60
        unit = (Decimal(amount) / quantity).quantize(_UNIT_QUANTUM)
    if _charge(unit, int(quantity)) != amount:
        raise StripeMappingError(
            f"{amount} minor units for {quantity} cannot be a unit amount of "
            f"{MAX_DECIMALS} decimals"
        )
    return int(quantity), unit


def _charge(unit: Decimal, quantity: int) -> int:
    with localcontext() as context:
        context.prec = 60
        return int((unit * quantity).quantize(Decimal(1), ROUND_HALF_UP))


def _decimal_text(number: Decimal) -> str:
    """A decimal as Stripe writes it: no exponent, no trailing zeros."""
    return format(number.normalize(), "f") if number else "0"


# --- requests ----------------------------------------------------------------------------


def timestamp(day: dt.date) -> int:
    """A date as Stripe's Unix time: its midnight in UTC."""
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


def product_id(sku: str) -> str:
    """Our Product's id for a SKU: fixed, so creating it again finds it (no second one)."""
    if _PLAIN_PRODUCT_ID.fullmatch(sku):
        return f"dd-{sku}"
    return f"dd-{hashlib.sha256(sku.encode()).hexdigest()[:32]}"


def product_params(line: OrderLine) -> dict[str, Any]:
    return {"id": product_id(line.sku), "name": line.name, "metadata": {"sku": line.sku}}


def customer_params(order: CanonicalOrder) -> dict[str, Any]:
    entity = order.billing_entity
    return {
        "name": entity.legal_name,
        "email": entity.billing_email,
        "metadata": {"account": entity.crm_id, "deal": str(order.deal_id)},
    }


def schedule_params(
    order: CanonicalOrder, *, customer: str, products: Mapping[str, str], record_key: str
) -> list[dict[str, Any]]:
    """One create request per schedule (≥ 1), in order; `products` maps SKU → product id."""
    phases = billing_phases(order)
    once_in = {line.key: _once_in(line, phases) for line in order.lines}
    parts = _parts(order.lines, once_in)
    currency = order.currency.lower()
    settings: dict[str, Any] = {"days_until_due": order.payment_terms}
    if order.po_number:
        settings["custom_fields"] = [{"name": PO_FIELD, "value": order.po_number}]
    requests = []
    for number, lines in enumerate(parts, start=1):
        request_phases = []
        for n, phase in enumerate(phases):
            items = [
                _item(line, phase.recurring[line.key], currency, products, phase.cycle)
                for line in lines
                if not line.one_time
            ] or [_carrier(lines[0], currency, products, phase.cycle)]
            extras = [
                _item(line, phase.once.get(line.key, 0), currency, products, None)
                for line in lines
                if n in once_in[line.key]
            ]
            request_phases.append(
                {
                    "items": items,
                    **({"add_invoice_items": extras} if extras else {}),
                    "end_date": timestamp(phase.end),
                    # Phases end on cycle boundaries: nothing to prorate, and nothing may be.
                    "proration_behavior": "none",
                    "collection_method": SEND_INVOICE,
                    "invoice_settings": settings,
                }
            )
        requests.append(
            {
                "customer": customer,
                "start_date": timestamp(phases[0].start),
                "end_behavior": "cancel",  # the contract ends; a renewal is a new contract
                "default_settings": {
                    "collection_method": SEND_INVOICE,
                    "invoice_settings": {"days_until_due": order.payment_terms},
                },
                "metadata": {
                    "deal": str(order.deal_id),
                    "deal_crm_id": order.deal_crm_id,
                    "contract": order.contract_reference,
                    "contract_version": str(order.contract_version),
                    "record": record_key,
                    "part": f"{number}/{len(parts)}",
                },
                "phases": request_phases,
            }
        )
    return requests


def _parts(lines: Sequence[OrderLine], once_in: Mapping[str, list[int]]) -> list[list[OrderLine]]:
    """The lines dealt out in order to schedules within Stripe's per-phase limits."""
    parts: list[list[OrderLine]] = [[]]
    items = 0
    extras: Counter[int] = Counter()
    for line in lines:
        need = Counter(once_in[line.key])
        more_items = 0 if line.one_time else 1
        if parts[-1] and (
            items + more_items > MAX_PHASE_ITEMS
            or any(extras[n] + count > MAX_ADD_INVOICE_ITEMS for n, count in need.items())
        ):
            parts.append([])
            items, extras = 0, Counter()
        parts[-1].append(line)
        items += more_items
        extras.update(need)
    return parts


def _item(
    line: OrderLine,
    amount: int,
    currency: str,
    products: Mapping[str, str],
    cycle: Cycle | None,
) -> dict[str, Any]:
    """A phase item (`cycle`: recurring) or an add_invoice_item (None) billing `amount`."""
    quantity, unit = _priced(amount, line.quantity)
    price: dict[str, Any] = {
        "currency": currency,
        "product": products[line.sku],
        "unit_amount_decimal": _decimal_text(unit),
    }
    if cycle is not None:
        price["recurring"] = {"interval": cycle[0], "interval_count": cycle[1]}
    metadata = {"line": line.key}
    if line.quantity != line.quantity.to_integral_value():
        metadata["lot"] = _decimal_text(line.quantity)  # how much of the line one unit is
    return {"price_data": price, "quantity": quantity, "metadata": metadata}


def _carrier(
    line: OrderLine, currency: str, products: Mapping[str, str], cycle: Cycle
) -> dict[str, Any]:
    """The zero item a schedule of one-time lines needs: a phase has at least one item."""
    return {
        "price_data": {
            "currency": currency,
            "product": products[line.sku],
            "unit_amount_decimal": "0",
            "recurring": {"interval": cycle[0], "interval_count": cycle[1]},
        },
        "quantity": 1,
    }


# --- the billing view --------------------------------------------------------------------


def order_billing_view(order: CanonicalOrder) -> dict[str, Any]:
    """What the contract bills, in the shape `stripe_billing_view` rebuilds from Stripe:
    amounts in minor units, each invoice's lines with Stripe's quantity and unit amount."""
    lines = {line.key: line for line in order.lines}
    return {
        "billing_account": order.billing_entity.crm_id,
        "deal_id": order.deal_id,
        "contract_reference": order.contract_reference,
        "contract_version": order.contract_version,
        "currency": order.currency,
        "payment_terms": order.payment_terms,
        "po_number": order.po_number,
        "lines": [
            {
                "key": line.key,
                "sku": line.sku,
                "quantity": _decimal_text(line.quantity),
                "one_time": line.one_time,
            }
            for line in order.lines
        ],
        "invoices": [
            {
                "period_start": invoice.period_start.isoformat(),
                "period_end": invoice.period_end.isoformat(),
                "lines": [
                    _charge_view(
                        planned.line_key,
                        lines[planned.line_key].quantity,
                        *_priced(
                            minor_units(planned.amount, order.currency),
                            lines[planned.line_key].quantity,
                        ),
                    )
                    for planned in invoice.lines
                ],
            }
            for invoice in order.invoices
        ],
        "pending_invoice_items": [],
    }


def _charge_view(key: str, quantity: Decimal, stripe_quantity: int, unit: Decimal) -> dict:
    return {
        "line_key": key,
        "quantity": _decimal_text(quantity),
        "unit_amount": _decimal_text(unit),
        "amount": _charge(unit, stripe_quantity),
    }


def stripe_billing_view(
    *,
    customer: Mapping[str, Any],
    schedules: Sequence[Mapping[str, Any]],
    skus: Mapping[str, str],
    pending_invoice_items: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The view of what Stripe holds: `schedules` as Stripe answers them with their phases'
    prices expanded, `skus` maps product id → SKU. Each recurring item bills at every cycle
    of its price from its phase's start; add_invoice_items once, for the phase."""
    lines: dict[str, dict[str, Any]] = {}
    periods: dict[tuple[dt.date, dt.date], list[dict[str, Any]]] = {}
    phases = [phase for schedule in schedules for phase in schedule["phases"]]
    for phase in phases:
        start, end = _date(phase["start_date"]), _date(phase["end_date"])
        for item in phase["items"]:
            price = item["price"]
            recurring = price.get("recurring") or {}
            cycle = (recurring.get("interval", "year"), recurring.get("interval_count", 1))
            count = 0
            while (begins := _next(start, cycle, count)) < end:
                ends = min(_next(start, cycle, count + 1), end)
                _bill(item, price, lines, skus, periods.setdefault((begins, ends), []))
                count += 1
        for item in phase.get("add_invoice_items") or ():
            _bill(item, item["price"], lines, skus, periods.setdefault((start, end), []))
    return {
        "billing_account": (customer.get("metadata") or {}).get("account", ""),
        "deal_id": _single(_number(s["metadata"].get("deal")) for s in schedules),
        "contract_reference": _single(s["metadata"].get("contract") for s in schedules),
        "contract_version": _single(
            _number(s["metadata"].get("contract_version")) for s in schedules
        ),
        "currency": _single(_currencies(phases)),
        "payment_terms": _single(
            phase["invoice_settings"].get("days_until_due")
            if phase.get("collection_method") == SEND_INVOICE
            else phase.get("collection_method")
            for phase in phases
        ),
        "po_number": _single(_po_number(phase) for phase in phases),
        "lines": [
            {**line, "quantity": _single(line["quantity"])}
            for _, line in sorted(lines.items(), key=lambda pair: _line_order(pair[0]))
        ],
        "invoices": [
            {
                "period_start": begins.isoformat(),
                "period_end": ends.isoformat(),
                "lines": sorted(charges, key=lambda charge: _line_order(charge["line_key"])),
            }
            for (begins, ends), charges in sorted(periods.items())
            if charges
        ],
        "pending_invoice_items": [
            {
                "line_key": (item.get("metadata") or {}).get("line", ""),
                "description": item.get("description"),
                "amount": item.get("amount"),
            }
            for item in pending_invoice_items
        ],
    }


def _bill(
    item: Mapping[str, Any],
    price: Mapping[str, Any],
    lines: dict[str, dict[str, Any]],
    skus: Mapping[str, str],
    charges: list[dict[str, Any]],
) -> None:
    """One item's line (once) and its charge in a period, when it charges anything."""
    metadata = item.get("metadata") or {}
    key = metadata.get("line")
    quantity = Decimal(item["quantity"]) * Decimal(metadata.get("lot", 1))
    unit = Decimal(price["unit_amount_decimal"])
    if key is not None:
        line = lines.setdefault(
            key,
            {
                "key": key,
                "sku": skus.get(price["product"], price["product"]),
                "quantity": [],
                "one_time": True,
            },
        )
        line["quantity"].append(_decimal_text(quantity))
        line["one_time"] = line["one_time"] and not price.get("recurring")
    if _charge(unit, item["quantity"]):
        charges.append(_charge_view(key or "", quantity, item["quantity"], unit))


def _currencies(phases: Iterable[Mapping[str, Any]]) -> Iterable[str]:
    for phase in phases:
        for item in [*phase["items"], *(phase.get("add_invoice_items") or ())]:
            yield item["price"]["currency"].upper()


def _po_number(phase: Mapping[str, Any]) -> str:
    fields = phase["invoice_settings"].get("custom_fields") or ()
    return next((field["value"] for field in fields if field["name"] == PO_FIELD), "")


def _single(values: Iterable[Any]) -> Any:
    """The one value all agree on; every distinct value, as a list, when they do not."""
    distinct = list(dict.fromkeys(values))
    return distinct[0] if len(distinct) == 1 else distinct


def _number(text: str | None) -> int | str | None:
    return int(text) if text is not None and text.isdigit() else text


def _line_order(key: str) -> tuple[int, str]:
    number = key.rpartition("-")[2]
    return (int(number) if number.isdigit() else 1 << 30, key)


def _date(moment: int) -> dt.date:
    return dt.datetime.fromtimestamp(moment, dt.UTC).date()
