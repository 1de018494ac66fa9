"""The field-by-field diff of the canonical order against a billing system's read-back, and
amounts in minor units."""

import copy
from decimal import Decimal

import pytest

from billing.canonical_order import order_to_json
from billing.diff import (
    CHANGED,
    EXTRA,
    MISSING,
    Difference,
    diff_records,
    from_minor_units,
    minor_units,
)
from dealdesk.pricing import PricingError
from tests.billing.snapshots import ONBOARDING, SEATS, order_of


@pytest.fixture
def expected() -> dict:
    # Quarterly seats for a year and an onboarding fee: 2 lines, 4 invoices.
    return order_to_json(order_of(lines=[SEATS, ONBOARDING]))


@pytest.fixture
def actual(expected) -> dict:
    return copy.deepcopy(expected)


def test_an_identical_record_has_no_difference(expected, actual):
    assert diff_records(expected, actual) == []


def test_a_changed_quantity_is_named_by_its_path(expected, actual):
    actual["lines"][0]["quantity"] = "11"
    actual["invoices"][2]["lines"][0]["quantity"] = "11"

    assert diff_records(expected, actual) == [
        Difference("lines[0].quantity", "10.0000", "11", CHANGED),
        Difference("invoices[2].lines[0].quantity", "10.0000", "11", CHANGED),
    ]


def test_decimal_fields_compare_by_value_to_the_last_digit(expected, actual):
    actual["lines"][0]["quantity"] = "10"  # "10.0000": the same quantity
    actual["lines"][0]["net_unit_amount"] = "39.375"  # "39.375000000000"
    actual["invoices"][0]["total"] = "5681.250"
    actual["tcv"] = "9225.001"  # a tenth of a cent more is not the same money

    assert diff_records(expected, actual) == [Difference("tcv", "9225.00", "9225.001", CHANGED)]


def test_a_float_or_a_number_as_text_is_a_difference(expected, actual):
    actual["invoices"][1]["total"] = 1181.25  # JSON number: a float near money
    actual["payment_terms"] = "30"  # text where a number is expected
    actual["lines"][0]["sku"] = "SKU-seats "
    actual["contract_version"] = 2.0  # equal in Python, not the same JSON
    actual["purchase_order_required"] = 0

    assert diff_records(expected, actual) == [
        Difference("contract_version", 2, 2.0, CHANGED),
        Difference("payment_terms", 30, "30", CHANGED),
        Difference("purchase_order_required", False, 0, CHANGED),
        Difference("lines[0].sku", "SKU-seats", "SKU-seats ", CHANGED),
        Difference("invoices[1].total", "1181.25", 1181.25, CHANGED),
    ]


def test_text_that_looks_like_a_number_is_compared_as_text(expected, actual):
    expected["lines"][0]["sku"] = "0010"
    actual["lines"][0]["sku"] = "10"

    assert diff_records(expected, actual) == [
        Difference("lines[0].sku", "0010", "10", CHANGED),
    ]


def test_a_missing_line_is_reported_whole(expected, actual):
    onboarding = actual["lines"].pop()

    assert diff_records(expected, actual) == [Difference("lines[1]", onboarding, None, MISSING)]


def test_an_extra_invoice_line_is_reported(expected, actual):
    extra = {**actual["invoices"][1]["lines"][0], "amount": "0.01"}
    actual["invoices"][1]["lines"].append(extra)

    assert diff_records(expected, actual) == [
        Difference("invoices[1].lines[1]", None, extra, EXTRA),
    ]


def test_missing_and_extra_keys_are_reported(expected, actual):
    del actual["po_number"]
    actual["billing_entity"]["vat_id"] = "DE123"

    assert diff_records(expected, actual) == [
        Difference("billing_entity.vat_id", None, "DE123", EXTRA),
        Difference("po_number", "", None, MISSING),
    ]


def test_a_null_is_a_value_not_a_missing_key(expected, actual):
    actual["go_live_on"] = "2026-03-01"
    del actual["uplift"]  # null in the order

    assert diff_records(expected, actual) == [
        Difference("go_live_on", None, "2026-03-01", CHANGED),
        Difference("uplift", None, None, MISSING),
    ]


def test_a_currency_change_is_reported_everywhere_it_is_written(expected, actual):
    actual["currency"] = "EUR"
    for invoice in actual["invoices"]:
        invoice["currency"] = "EUR"

    differences = diff_records(expected, actual)

    assert differences[0] == Difference("currency", "USD", "EUR", CHANGED)
    assert [d.path for d in differences[1:]] == [f"invoices[{i}].currency" for i in range(4)]


def test_values_of_different_shapes_are_changed_whole(expected, actual):
    actual["lines"] = {"0": expected["lines"][0]}
    actual["ramp"] = None

    assert diff_records(expected, actual) == [
        Difference("lines", expected["lines"], actual["lines"], CHANGED),
        Difference("ramp", expected["ramp"], None, CHANGED),
    ]


def test_decimal_fields_can_be_named_for_another_record():
    assert diff_records({"fee": "1.0"}, {"fee": "1"}) == [Difference("fee", "1.0", "1", CHANGED)]
    assert diff_records({"fee": "1.0"}, {"fee": "1"}, decimal_fields={"fee"}) == []
    # Not a number on either side: compared as text.
    assert diff_records({"fee": "n/a"}, {"fee": "N/A"}, decimal_fields={"fee"}) == [
        Difference("fee", "n/a", "N/A", CHANGED)
    ]
    assert diff_records({"fee": "NaN"}, {"fee": "NaN"}, decimal_fields={"fee"}) == []


# --- minor units ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "units"),
    [
        ("10.50", "USD", 1050),
        ("10.5", "EUR", 1050),
        ("0.01", "USD", 1),
        ("1050", "JPY", 1050),
        ("1.050", "KWD", 1050),
        ("0.001", "BHD", 1),
        ("-3.20", "USD", -320),
        ("123456789012345.678", "KWD", 123456789012345678),
    ],
)
def test_minor_units_are_exact_both_ways(amount, currency, units):
    assert minor_units(Decimal(amount), currency) == units
    back = from_minor_units(units, currency)
    assert back == Decimal(amount)
    assert -back.as_tuple().exponent == {"JPY": 0, "KWD": 3, "BHD": 3}.get(currency, 2)


def test_from_minor_units_writes_the_currency_decimals():
    assert str(from_minor_units(1050, "USD")) == "10.50"
    assert str(from_minor_units(1050, "JPY")) == "1050"
    assert str(from_minor_units(1050, "KWD")) == "1.050"
    assert str(from_minor_units(0, "BHD")) == "0.000"


@pytest.mark.parametrize(
    ("amount", "currency"),
    [("10.505", "USD"), ("10.5", "JPY"), ("0.0001", "KWD"), ("0.0005", "BHD")],
)
def test_an_amount_finer_than_the_minor_unit_is_refused_not_rounded(amount, currency):
    with pytest.raises(ValueError, match="not a whole number of minor units"):
        minor_units(Decimal(amount), currency)


@pytest.mark.parametrize("amount", [10.5, 10, "10.50", Decimal("NaN"), Decimal("Infinity")])
def test_minor_units_take_finite_decimals_only(amount):
    with pytest.raises(ValueError, match="finite Decimal"):
        minor_units(amount, "USD")


@pytest.mark.parametrize("units", [10.0, "1050", True, Decimal(1050)])
def test_from_minor_units_takes_whole_numbers_only(units):
    with pytest.raises(ValueError, match="whole number"):
        from_minor_units(units, "USD")


def test_an_unknown_currency_is_refused():
    with pytest.raises(PricingError, match="unknown currency"):
        minor_units(Decimal("1.00"), "XXX")
    with pytest.raises(PricingError, match="unknown currency"):
        from_minor_units(100, "EURO")
