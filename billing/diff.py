"""Field by field: the canonical order against what a billing system holds, as JSON records.

`diff_records` walks two nested dicts/lists and names every difference by its path, the way
a person finds the field: `currency`, `billing_entity.tax_id`, `lines[3].quantity`. A key or
list item on one side only is `missing` (expected, not there) or `extra` (there, not
expected); values of different shapes are `changed`, whole.

Decimal fields (by default the order's, `ORDER_DECIMAL_FIELDS`: amounts, quantities, unit
amounts, percentages) compare by exact value, so "10.50" equals "10.5" but "10.505" does not
equal "10.50". For money that is comparing minor units, with nothing rounded away: a billing
system holding a fraction of a cent more is a difference. Every other value compares as it
is, type included ("30" is not 30).
"""

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from billing.canonical_order import ORDER_DECIMAL_FIELDS
from dealdesk.pricing import minor_unit

__all__ = [
    "CHANGED",
    "EXTRA",
    "MISSING",
    "Difference",
    "diff_records",
    "from_minor_units",
    "minor_units",
]

CHANGED = "changed"
MISSING = "missing"  # expected, absent from the actual record
EXTRA = "extra"  # in the actual record, not expected


@dataclass(frozen=True)
class Difference:
    path: str  # e.g. "lines[3].quantity"
    expected: Any  # None when `extra`
    actual: Any  # None when `missing`
    kind: str  # CHANGED | MISSING | EXTRA


def diff_records(
    expected: Mapping[str, Any],
    actual: Mapping[str, Any],
    *,
    decimal_fields: Collection[str] = ORDER_DECIMAL_FIELDS,
) -> list[Difference]:
    """Every difference between two JSON records, in the expected record's order; [] when
    they agree."""
    found: list[Difference] = []
    _diff(expected, actual, "", "", decimal_fields, found)
    return found


def _diff(
    expected: Any,
    actual: Any,
    path: str,
    field: str,
    decimal_fields: Collection[str],
    found: list[Difference],
) -> None:
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        for key, value in expected.items():
            where = f"{path}.{key}" if path else str(key)
            if key in actual:
                _diff(value, actual[key], where, key, decimal_fields, found)
            else:
                found.append(Difference(where, value, None, MISSING))
        found += [
            Difference(f"{path}.{key}" if path else str(key), None, value, EXTRA)
            for key, value in actual.items()
            if key not in expected
        ]
    elif isinstance(expected, list) and isinstance(actual, list):
        for index, (item, other) in enumerate(zip(expected, actual, strict=False)):
            _diff(item, other, f"{path}[{index}]", field, decimal_fields, found)
        found += [
            Difference(f"{path}[{index}]", item, None, MISSING)
            for index, item in enumerate(expected)
            if index >= len(actual)
        ]
        found += [
            Difference(f"{path}[{index}]", None, item, EXTRA)
            for index, item in enumerate(actual)
            if index >= len(expected)
        ]
    elif not _same(expected, actual, decimal=field in decimal_fields):
        found.append(Difference(path, expected, actual, CHANGED))


def _same(expected: Any, actual: Any, *, decimal: bool) -> bool:
    if decimal:
        expected_value, actual_value = _decimal(expected), _decimal(actual)
        if expected_value is not None and actual_value is not None:
            return expected_value == actual_value
    # bool is an int and 1 == 1.0: the type must match too.
    return type(expected) is type(actual) and expected == actual


def _decimal(value: Any) -> Decimal | None:
    """A finite Decimal from JSON text or a whole number; None for anything else (a float
    near money is a bug: it compares by type, and differs)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def minor_units(amount: Decimal, currency: str) -> int:
    """`amount` as a whole number of the currency's minor unit (cents; yen as they are; fils
    for KWD and BHD). Exact: an amount finer than the minor unit is refused, not rounded."""
    if type(amount) is not Decimal or not amount.is_finite():
        raise ValueError(f"an amount is a finite Decimal, got {amount!r}")
    units = amount.scaleb(minor_unit(currency))
    if units != units.to_integral_value():
        raise ValueError(f"{amount} {currency} is not a whole number of minor units")
    return int(units)


def from_minor_units(units: int, currency: str) -> Decimal:
    """A whole number of minor units as the amount, with the currency's decimals:
    1050 USD → Decimal("10.50"), 1050 JPY → Decimal("1050"), 1050 KWD → Decimal("1.050")."""
    if isinstance(units, bool) or not isinstance(units, int):
        raise ValueError(f"minor units are a whole number, got {units!r}")
    return Decimal(units).scaleb(-minor_unit(currency))
