"""The pricing engine: a deal's terms and lines in, its billing schedule and figures out.

Pure functions over `Decimal`; no ORM, no Django. Money is rounded in one place only,
`round_money`, and only at invoice-line level (a `Charge`): every total is a sum of rounded
charges, so what we quote is exactly what the invoices add up to.

Time is counted in service months from the service anchor (the start date, or the first
calendar boundary after it when billing is aligned to the calendar). Month m is
[add_months(anchor, m), add_months(anchor, m + 1)); ramp segments are 12-month blocks of
them; periods are runs of them; only a calendar-alignment stub is counted in days.

Pricing clauses of the contract are terms of the engine, not adjustments made after it:
- a free period ("first 2 months free") is the term's first `free_months` service months,
  inside the term, not added to it: a 12-month term with 2 free months bills 10 months and
  ends when it would have. Recurring charges in those months are zero (the periods are still
  shown, at zero); one-time fees are still billed. List value is not reduced, so the free
  months count in the effective discount like any other concession. A calendar stub before
  the service anchor is outside the term's month count and is billed as usual.
- an uplift compounds `uplift_pct` every `uplift_every_months` months from the anchor;
- a price lock holds prices for its first `price_lock_months` months: uplift dates inside
  the lock are skipped, not caught up, so the first uplift is at the first uplift date at or
  after the lock ends.
A billing period with no charge at all (after the first invoice of a one-time-only deal) is
not an invoice and is left out of the schedule.
"""

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, localcontext

__all__ = [
    "CURRENCY_CODES",
    "Charge",
    "DealTerms",
    "LineInput",
    "Period",
    "PricingError",
    "PricingResult",
    "RampSegment",
    "add_months",
    "discount_pct_of",
    "last_day",
    "minor_unit",
    "net_unit_price",
    "price_deal",
    "prorate",
    "round_money",
]


class PricingError(ValueError):
    """Input the engine cannot price; the message names the line key when a line is at fault."""


# ISO 4217 exponents of the active codes. Anything not listed is refused rather than
# guessed: a wrong exponent mis-bills by a factor of 10 or 100.
_ZERO_DECIMALS = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE_DECIMALS = "BHD IQD JOD KWD LYD OMR TND"
_FOUR_DECIMALS = "CLF UYW"
_TWO_DECIMALS = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN "
    "BWP BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB "
    "EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS "
    "KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN "
    "MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD "
    "SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS "
    "UAH USD USN UZS VED VES WST XCD XCG YER ZAR ZMW ZWG"
)
_MINOR_UNITS: dict[str, int] = {
    code: exponent
    for codes, exponent in (
        (_ZERO_DECIMALS, 0),
        (_TWO_DECIMALS, 2),
        (_THREE_DECIMALS, 3),
        (_FOUR_DECIMALS, 4),
    )
    for code in codes.split()
}
CURRENCY_CODES = frozenset(_MINOR_UNITS)
_QUANTUM: dict[str, Decimal] = {code: Decimal(1).scaleb(-e) for code, e in _MINOR_UNITS.items()}

_RECURRING_KINDS = frozenset({"subscription", "usage"})
_ONE_TIME = "one_time"
_INTERVAL_MONTHS = {"month": 1, "quarter": 3, "year": 12}
_PERIOD_MONTHS = {"monthly": 1, "quarterly": 3, "semiannual": 6, "annual": 12}
_UPFRONT = "upfront"
_SEGMENT_MONTHS = 12
_PERCENT_QUANTUM = Decimal("0.01")
_DISCOUNT_QUANTUM = Decimal("0.0001")
# price_deal works at 60 digits whatever the caller's context: products of quantity (4 dp),
# unit price (6 dp) and compounded uplift factors stay exact, so "exact" values are exact
# and the only rounding of money is round_money's.
_WORKING_CONTEXT = Context(prec=60, rounding=ROUND_HALF_EVEN)
_DISPLAY_CONTEXT = Context(prec=28, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True)
class LineInput:
    key: str
    kind: str  # "subscription" | "one_time" | "usage" (a committed volume per interval)
    billing_interval: str  # what the unit price is per: "month" | "quarter" | "year" | "one_time"
    quantity: Decimal
    list_unit_price: Decimal
    net_unit_price: Decimal
    segment_index: int = 1  # ramp year the line's price applies to (1-based)


@dataclass(frozen=True, slots=True)
class DealTerms:
    currency: str
    start_date: date
    term_months: int
    billing_frequency: str  # "monthly" | "quarterly" | "semiannual" | "annual" | "upfront"
    uplift_pct: Decimal = Decimal(0)
    uplift_every_months: int = 12
    align_to_calendar: bool = False
    free_months: int = 0  # the term's first service months, billed at zero (a free period)
    price_lock_months: int = 0  # no uplift takes effect in the term's first months


@dataclass(frozen=True, slots=True)
class Charge:
    line_key: str
    amount: Decimal  # rounded to the currency's minor unit


@dataclass(frozen=True, slots=True)
class Period:
    index: int  # 0-based; the calendar stub, when there is one, is 0
    start: date
    end: date  # exclusive
    charges: tuple[Charge, ...]
    total: Decimal  # sum of the rounded charges
    prorated: bool  # True only for the calendar-alignment stub
    free_months: int  # service months of this period inside the free period

    @property
    def last_day(self) -> date:
        """The period's last day of service, as contracts and invoices write it."""
        return last_day(self.end)


@dataclass(frozen=True, slots=True)
class RampSegment:
    index: int  # 1-based
    start: date
    end: date  # exclusive
    monthly_recurring: Decimal  # run-rate at the segment's start before uplift, unrounded
    total: Decimal  # sum of the rounded charges of the lines of this segment

    @property
    def last_day(self) -> date:
        return last_day(self.end)


@dataclass(frozen=True, slots=True)
class PricingResult:
    currency: str
    line_totals: dict[str, Decimal]  # Salesforce's TotalPrice: one billing interval's worth
    # A recurring line's year at its own price (before uplift and free months): line_totals
    # times the intervals in a year, rounded once. One-time lines have none.
    line_year_values: dict[str, Decimal]
    # Each line's rounded charges over the whole term, after free months and uplift: what an
    # order form shows as the line's total; they add up to TCV.
    term_totals: dict[str, Decimal]
    periods: tuple[Period, ...]
    ramp: tuple[RampSegment, ...]
    tcv: Decimal
    list_tcv: Decimal
    acv: Decimal
    arr: Decimal
    exit_arr: Decimal
    first_year_value: Decimal
    effective_discount_pct: Decimal
    service_end: date  # exclusive

    @property
    def service_last_day(self) -> date:
        return last_day(self.service_end)

    @property
    def lines_total(self) -> Decimal:
        """Sum of line_totals: what the CRM's Opportunity.Amount should be."""
        return sum(self.line_totals.values(), _zero(self.currency))


def minor_unit(currency: str) -> int:
    """ISO 4217 exponent of `currency` (2 for USD, 0 for JPY, 3 for KWD)."""
    try:
        return _MINOR_UNITS[currency]
    except (KeyError, TypeError):
        raise PricingError(f"unknown currency {currency!r}") from None


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round half up to the currency's minor unit: the one place money is rounded."""
    try:
        quantum = _QUANTUM[currency]
    except (KeyError, TypeError):
        raise PricingError(f"unknown currency {currency!r}") from None
    return amount.quantize(quantum, ROUND_HALF_UP)


def net_unit_price(list_unit_price: Decimal, discount_pct: Decimal) -> Decimal:
    """list * (1 - discount/100), unrounded (unit prices keep their precision)."""
    list_unit_price = _decimal(list_unit_price, "list_unit_price")
    discount_pct = _decimal(discount_pct, "discount_pct")
    if list_unit_price < 0:
        raise PricingError(f"list_unit_price {list_unit_price} is negative")
    if not 0 <= discount_pct <= 100:
        raise PricingError(f"discount {discount_pct}% is outside 0..100")
    return list_unit_price * (1 - discount_pct / 100)


def discount_pct_of(list_unit_price: Decimal, net_unit_price: Decimal) -> Decimal:
    """Effective discount of net vs list in percent, to 0.0001; 0 when list is 0.

    Negative when net is above list (a markup): that is reported, not refused.
    """
    list_unit_price = _decimal(list_unit_price, "list_unit_price")
    net_unit_price = _decimal(net_unit_price, "net_unit_price")
    if list_unit_price == 0:
        return Decimal(0).quantize(_DISCOUNT_QUANTUM)
    return ((1 - net_unit_price / list_unit_price) * 100).quantize(
        _DISCOUNT_QUANTUM, rounding=ROUND_HALF_UP
    )


def prorate(amount: Decimal, period_start: date, period_end: date, service_start: date) -> Decimal:
    """The share of `amount` for [service_start, period_end), by days, unrounded.

    period_end is exclusive. Service from period_start or earlier gets the full amount;
    service starting at or after period_end gets nothing.
    """
    total_days = (period_end - period_start).days
    if total_days <= 0:
        raise PricingError(f"empty period {period_start}..{period_end}")
    if service_start <= period_start:
        return amount
    served_days = max(0, (period_end - service_start).days)
    # Multiply before dividing so a whole-cent result stays exact.
    return amount * served_days / total_days


def last_day(end: date) -> date:
    """The last day of a span whose `end` is exclusive (the engine's) : what people read."""
    return end - timedelta(days=1)


def add_months(d: date, months: int) -> date:
    """`d` moved by whole months, clamped to the month's end (Jan 31 + 1 -> Feb 28/29)."""
    year, month_index = divmod(d.month - 1 + months, 12)
    year += d.year
    month = month_index + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


@dataclass(slots=True)  # not frozen: private, and frozen __init__ is slow for 500 lines
class _Line:
    """A validated LineInput with its amounts per interval precomputed."""

    key: str
    recurring: bool
    interval_months: int  # 0 for one-time lines
    segment: int
    net_base: Decimal  # quantity * net unit price: one interval's (or the one-time) exact value
    list_base: Decimal


def price_deal(terms: DealTerms, lines: Sequence[LineInput]) -> PricingResult:
    """Price a deal: its billing periods and charges, ramp segments and headline figures."""
    currency, term, period_len, every, uplift = _validate_terms(terms)
    with localcontext(_WORKING_CONTEXT):
        return _price(
            terms, _validate_lines(lines, term), currency, term, period_len, every, uplift
        )


def _price(
    terms: DealTerms,
    checked: list[_Line],
    currency: str,
    term: int,
    period_len: int,
    every: int,
    uplift: Decimal,
) -> PricingResult:
    zero = _zero(currency)

    # Where service starts, and the calendar stub before it, if any.
    anchor = terms.start_date
    stub: tuple[date, date] | None = None
    if terms.align_to_calendar and terms.billing_frequency != _UPFRONT:
        boundary = _next_calendar_boundary(terms.start_date, period_len)
        if boundary is not None:
            stub = (add_months(boundary, -period_len), boundary)
            anchor = boundary
    service_end = add_months(anchor, term)
    offset = 1 if stub else 0

    # Full periods as [first, end) service months; the last may be short.
    spans = [(first, min(first + period_len, term)) for first in range(0, term, period_len)]
    bounds: list[tuple[date, date]] = [(terms.start_date, anchor)] if stub else []
    bounds += [(add_months(anchor, first), add_months(anchor, end)) for first, end in spans]
    charges: list[list[Charge]] = [[] for _ in bounds]

    recurring_segments = [line.segment for line in checked if line.recurring]
    last_recurring_segment = max(recurring_segments, default=1)
    segment_count = max((line.segment for line in checked), default=1)

    factors = _uplift_factors(uplift, every, term)
    free = terms.free_months
    # Uplift dates inside the price lock are skipped (not caught up later): month m is
    # uplifted by the uplift dates from the lock's end up to m.
    locked_uplifts = (terms.price_lock_months - 1) // every if terms.price_lock_months else 0

    def factor(month: int) -> Decimal:
        return factors[max(0, month // every - locked_uplifts)]

    def weight(first: int, end: int, billed_from: int = free) -> Decimal:
        """Sum of the uplift factors of service months first..end-1 from `billed_from` on
        (the free months weigh nothing), by exponent run."""
        total = Decimal(0)
        month = max(first, billed_from)
        while month < end:
            run_end = min(end, (month // every + 1) * every)
            total += factor(month) * (run_end - month)
            month = run_end
        return total

    # Per recurring segment: (period index, uplift-weighted months) of every period it
    # touches, and the weight of its months in the first year. Each line then costs
    # one multiply per period it is billed in, whatever the uplift.
    segment_slots: dict[int, list[tuple[int, Decimal]]] = {}
    segment_weight: dict[int, Decimal] = {}
    first_year_weight: dict[int, Decimal] = {}
    for segment in range(1, last_recurring_segment + 1):
        seg_first = (segment - 1) * _SEGMENT_MONTHS
        # The last segment holds to the end of term.
        seg_end = term if segment == last_recurring_segment else segment * _SEGMENT_MONTHS
        segment_slots[segment] = [
            (position + offset, weight(max(first, seg_first), min(end, seg_end)))
            for position, (first, end) in enumerate(spans)
            if max(first, seg_first) < min(end, seg_end)
        ]
        # At list price nothing is free: a free period counts as a concession.
        segment_weight[segment] = weight(seg_first, seg_end, billed_from=0)
        first_year_weight[segment] = weight(seg_first, min(seg_end, _SEGMENT_MONTHS))

    exact_net_total = Decimal(0)
    exact_list_total = Decimal(0)
    list_tcv = zero
    first_year_value = zero
    segment_totals = dict.fromkeys(range(1, segment_count + 1), zero)
    line_totals: dict[str, Decimal] = {}
    line_year_values: dict[str, Decimal] = {}
    term_totals: dict[str, Decimal] = {}
    # Per interval length, the sum of net_base per segment: run-rates, ARR, exit ARR.
    run_rate_bases: dict[tuple[int, int], Decimal] = {}

    for line in checked:
        line_totals[line.key] = round_money(line.net_base, currency)
        if not line.recurring:
            # One-time: in full, in the period holding its segment's first month.
            if line.segment == 1:
                position = 0
            else:
                position = (line.segment - 1) * _SEGMENT_MONTHS // period_len + offset
            amount = round_money(line.net_base, currency)
            charges[position].append(Charge(line.key, amount))
            exact_net_total += line.net_base
            exact_list_total += line.list_base
            list_tcv += round_money(line.list_base, currency)
            segment_totals[line.segment] += amount
            term_totals[line.key] = amount
            if position == 0 or spans[position - offset][0] < _SEGMENT_MONTHS:
                first_year_value += amount
            continue

        months = line.interval_months
        line_year_values[line.key] = round_money(
            line.net_base * (_SEGMENT_MONTHS // months), currency
        )
        key = (line.segment, months)
        run_rate_bases[key] = run_rate_bases.get(key, Decimal(0)) + line.net_base
        # Exact values are kept in "intervals" (numerators over `months`) and divided
        # only when rounding, so a value that is exactly half a cent is seen as such.
        exact = Decimal(0)
        exact_list = Decimal(0)
        billed = zero
        if stub and line.segment == 1:
            # Daily share of a full period, at segment-1 price, before any uplift.
            exact = prorate(line.net_base * period_len, stub[0], stub[1], terms.start_date)
            exact_list = prorate(line.list_base * period_len, stub[0], stub[1], terms.start_date)
            billed = round_money(exact / months, currency)
            charges[0].append(Charge(line.key, billed))
        first_year_exact = exact + line.net_base * first_year_weight[line.segment]

        # Cumulative rounding: each charge is round(exact so far) - round(exact before),
        # so the line's charges add up to round(its exact term value) with no drift.
        # A line bills the same one or two amounts over and over (83.33, 83.34, 83.33):
        # reusing its last two immutable Charges saves a third of a 500-line ramp's time.
        net_base = line.net_base
        recent: list[Charge] = []
        for position, month_weight in segment_slots[line.segment]:
            exact += net_base * month_weight
            cumulative = round_money(exact if months == 1 else exact / months, currency)
            amount = cumulative - billed
            for charge in recent:
                if charge.amount == amount:
                    break
            else:
                charge = Charge(line.key, amount)
                recent = [charge, *recent[:1]]
            charges[position].append(charge)
            billed = cumulative

        exact_list += line.list_base * segment_weight[line.segment]
        exact_net_total += exact / months
        exact_list_total += exact_list / months
        # Same schedule at list price: by cumulative rounding its charges sum to this.
        list_tcv += round_money(exact_list / months, currency)
        segment_totals[line.segment] += billed
        term_totals[line.key] = billed  # by cumulative rounding, the sum of its charges
        first_year_value += round_money(first_year_exact / months, currency)

    if exact_list_total == 0:
        effective_discount_pct = Decimal(0).quantize(_PERCENT_QUANTUM)
    else:
        effective_discount_pct = ((1 - exact_net_total / exact_list_total) * 100).quantize(
            _PERCENT_QUANTUM, rounding=ROUND_HALF_UP
        )

    def annual_run_rate(segment: int) -> Decimal:
        # 12 / interval months is a whole number (12, 4, 1): no division needed.
        return sum(
            (
                base * (_SEGMENT_MONTHS // months)
                for (seg, months), base in run_rate_bases.items()
                if seg == segment
            ),
            Decimal(0),
        )

    arr = round_money(annual_run_rate(1), currency)
    exit_arr = round_money(annual_run_rate(last_recurring_segment) * factor(term - 1), currency)

    # Free service months per period: the stub has none, full periods count theirs.
    free_in = [0] * offset + [max(0, min(end, free) - first) for first, end in spans]
    # A period nothing is charged in is not an invoice: left out, the rest numbered on.
    invoiced = [
        (start, end, period_charges, free_months, bool(stub) and position == 0)
        for position, ((start, end), period_charges, free_months) in enumerate(
            zip(bounds, charges, free_in, strict=True)
        )
        if period_charges
    ]
    periods = tuple(
        Period(
            index=index,
            start=start,
            end=end,
            charges=tuple(period_charges),
            total=sum((charge.amount for charge in period_charges), zero),
            prorated=prorated,
            free_months=free_months,
        )
        for index, (start, end, period_charges, free_months, prorated) in enumerate(invoiced)
    )
    tcv = sum((period.total for period in periods), zero)

    ramp = tuple(
        RampSegment(
            index=segment,
            start=terms.start_date
            if segment == 1
            else add_months(anchor, (segment - 1) * _SEGMENT_MONTHS),
            end=service_end
            if segment == segment_count
            else add_months(anchor, segment * _SEGMENT_MONTHS),
            # Unrounded, but shown at ordinary precision rather than the working one.
            monthly_recurring=_DISPLAY_CONTEXT.plus(
                sum(
                    (
                        base / months
                        for (seg, months), base in run_rate_bases.items()
                        if seg == min(segment, last_recurring_segment)
                    ),
                    Decimal(0),
                )
            ),
            total=segment_totals[segment],
        )
        for segment in range(1, segment_count + 1)
    )

    return PricingResult(
        currency=currency,
        line_totals=line_totals,
        line_year_values=line_year_values,
        term_totals=term_totals,
        periods=periods,
        ramp=ramp,
        tcv=tcv,
        list_tcv=list_tcv,
        acv=round_money(tcv * 12 / term, currency),
        arr=arr,
        exit_arr=exit_arr,
        first_year_value=first_year_value,
        effective_discount_pct=effective_discount_pct,
        service_end=service_end,
    )


def _zero(currency: str) -> Decimal:
    return round_money(Decimal(0), currency)


def _decimal(value: object, what: str, key: str | None = None) -> Decimal:
    """`value` as a finite Decimal; ints are accepted, floats never (they are not money)."""
    if type(value) is not Decimal:
        if isinstance(value, bool) or not isinstance(value, Decimal | int):
            where = f"line {key!r}: " if key is not None else ""
            raise PricingError(f"{where}{what} must be a Decimal, got {type(value).__name__}")
        value = Decimal(value)
    if not value.is_finite():
        where = f"line {key!r}: " if key is not None else ""
        raise PricingError(f"{where}{what} must be finite, got {value}")
    return value


def _validate_terms(terms: DealTerms) -> tuple[str, int, int, int, Decimal]:
    """(currency, term months, period months, uplift every months, uplift pct) or raise."""
    minor_unit(terms.currency)
    start = terms.start_date
    if isinstance(start, datetime) or not isinstance(start, date):
        raise PricingError(f"start_date must be a date, got {type(start).__name__}")
    term = terms.term_months
    if isinstance(term, bool) or not isinstance(term, int) or term <= 0:
        raise PricingError(f"term_months must be a whole number above 0, got {term!r}")
    frequency = terms.billing_frequency
    if frequency == _UPFRONT:
        period_len = term
    elif frequency in _PERIOD_MONTHS:
        period_len = _PERIOD_MONTHS[frequency]
    else:
        raise PricingError(f"unknown billing frequency {frequency!r}")
    every = terms.uplift_every_months
    if isinstance(every, bool) or not isinstance(every, int) or every <= 0:
        raise PricingError(f"uplift_every_months must be a whole number above 0, got {every!r}")
    uplift = _decimal(terms.uplift_pct, "uplift_pct")
    if uplift < 0:
        raise PricingError(f"uplift_pct {uplift} is negative")
    for name in ("free_months", "price_lock_months"):
        months = getattr(terms, name)
        if isinstance(months, bool) or not isinstance(months, int) or months < 0:
            raise PricingError(f"{name} must be a whole number of 0 or more, got {months!r}")
    if terms.free_months > term:
        raise PricingError(
            f"a free period of {terms.free_months} months is longer than the {term}-month term"
        )
    return terms.currency, term, period_len, every, uplift


def _validate_lines(lines: Sequence[LineInput], term: int) -> list[_Line]:
    # A line in a segment that starts after the term would never be billed: refuse it
    # rather than drop its money silently.
    segments_in_term = -(-term // _SEGMENT_MONTHS)
    checked: list[_Line] = []
    seen: set[str] = set()
    for line in lines:
        key = line.key
        if not isinstance(key, str) or not key:
            raise PricingError(f"line key must be a non-empty string, got {key!r}")
        if key in seen:
            raise PricingError(f"line {key!r}: duplicate line key")
        seen.add(key)
        if line.kind in _RECURRING_KINDS:
            if line.billing_interval not in _INTERVAL_MONTHS:
                raise PricingError(
                    f"line {key!r}: unknown billing interval {line.billing_interval!r} "
                    f"for a {line.kind} line (month, quarter or year)"
                )
            months = _INTERVAL_MONTHS[line.billing_interval]
        elif line.kind == _ONE_TIME:
            if line.billing_interval != _ONE_TIME:
                raise PricingError(
                    f"line {key!r}: a one_time line has billing interval 'one_time', "
                    f"got {line.billing_interval!r}"
                )
            months = 0
        else:
            raise PricingError(f"line {key!r}: unknown kind {line.kind!r}")
        quantity = _decimal(line.quantity, "quantity", key)
        list_price = _decimal(line.list_unit_price, "list_unit_price", key)
        net_price = _decimal(line.net_unit_price, "net_unit_price", key)
        if quantity < 0:
            raise PricingError(f"line {key!r}: quantity {quantity} is negative")
        if list_price < 0:
            raise PricingError(f"line {key!r}: list_unit_price {list_price} is negative")
        if net_price < 0:
            raise PricingError(
                f"line {key!r}: net_unit_price {net_price} is negative (discount above 100%)"
            )
        segment = line.segment_index
        if isinstance(segment, bool) or not isinstance(segment, int) or segment < 1:
            raise PricingError(f"line {key!r}: segment_index must be 1 or more, got {segment!r}")
        if segment > segments_in_term:
            raise PricingError(
                f"line {key!r}: segment {segment} starts after the {term}-month term ends"
            )
        checked.append(
            _Line(
                key=key,
                recurring=months > 0,
                interval_months=months,
                segment=segment,
                net_base=quantity * net_price,
                list_base=quantity * list_price,
            )
        )
    return checked


def _uplift_factors(uplift_pct: Decimal, every: int, term: int) -> list[Decimal]:
    """Compounded uplift factor per exponent 0..(term - 1) // every."""
    step = 1 + uplift_pct / 100
    factors = [Decimal(1)]
    for _ in range((term - 1) // every):
        factors.append(factors[-1] * step)
    return factors


def _next_calendar_boundary(start: date, period_months: int) -> date | None:
    """The first calendar boundary of the frequency after `start`; None if start is on one.

    Boundaries are the 1st of the months where (month - 1) is a multiple of the period
    length: every month, Jan/Apr/Jul/Oct, Jan/Jul, or Jan.
    """
    months_into_period = (start.month - 1) % period_months
    if start.day == 1 and months_into_period == 0:
        return None
    return add_months(start.replace(day=1), period_months - months_into_period)
