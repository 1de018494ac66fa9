"""Clause params in Legal's words: labels, sensible starting values, and what is wrong with a
value ("Months must be a whole number", not pydantic's "Input should be a valid integer")."""

from typing import Any

from pydantic import ValidationError

from contracts.taxonomy import PARAMS, clean_params

LABELS = {
    "net_days": "Net days",
    "interval": "Billing interval",
    "mode": "Billing starts",
    "date": "Date",
    "days": "Days",
    "months": "Months",
    "pct": "Increase %",
    "every_months": "Every (months)",
    "max_increase_pct": "Maximum increase %",
    "enabled": "Renews automatically",
    "notice_days": "Notice (days)",
    "uptime_pct": "Uptime %",
    "credit_pct": "Credit %",
    "multiple_of_fees": "Cap (× annual fees)",
    "po_number": "PO number",
    "method": "Payment method",
    "region": "Region",
    "jurisdiction": "Jurisdiction",
    "summary": "Summary",
}
# Where a clause has no value yet and its type no default: a value Legal would most often
# write (a liability cap of 1 × annual fees is 12 months of fees).
STARTING_VALUES: dict[str, Any] = {
    "net_days": 30,
    "months": 1,
    "every_months": 12,
    "notice_days": 30,
    "days": 30,
    "multiple_of_fees": "1",
    "enabled": True,
}
# The short name an error message starts with ("Cap must be a positive amount").
_SUBJECTS = {"multiple_of_fees": "Cap", "pct": "Increase", "max_increase_pct": "Maximum increase"}


def label(name: str) -> str:
    return LABELS.get(name, name.replace("_", " ").capitalize())


def starting_value(clause_type: str, name: str, defaults: dict[str, Any]) -> Any:
    """The clause type's default for `name`, else the taxonomy's, else a sensible start."""
    if defaults.get(name) is not None:
        return defaults[name]
    field = PARAMS[clause_type].model_fields[name]
    if field.default is not None and not field.is_required():
        return field.default
    return STARTING_VALUES.get(name)


def param_problems(clause_type: str, params: dict[str, Any]) -> list[str]:
    """What is wrong with Legal's params for a clause, in words; empty when they are fine."""
    try:
        clean_params(clause_type, params)
    except ValidationError as exc:
        return worded_problems(exc)
    return []


def worded_problems(exc: ValidationError) -> list[str]:
    """Each of pydantic's complaints about clause params, in Legal's words."""
    return [_worded(error) for error in exc.errors()]


def _worded(error: dict) -> str:
    name = str(error["loc"][0]) if error["loc"] else ""
    subject = _SUBJECTS.get(name) or (label(name) if name else "This clause")
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "missing" or (kind.endswith("_type") and error.get("input") is None):
        return f"{subject} is required"
    if kind in ("int_parsing", "int_from_float", "int_type"):
        return f"{subject} must be a whole number"
    if kind in ("decimal_parsing", "decimal_type", "float_parsing"):
        return f"{subject} must be a number"
    if kind == "greater_than" and str(ctx.get("gt")) == "0":
        return f"{subject} must be a positive amount"
    if kind == "greater_than":
        return f"{subject} must be more than {ctx['gt']}"
    if kind == "greater_than_equal":
        return f"{subject} must be at least {ctx['ge']}"
    if kind in ("less_than_equal", "less_than"):
        return f"{subject} must be at most {ctx.get('le', ctx.get('lt'))}"
    if kind in ("decimal_max_places", "decimal_max_digits"):
        return f"{subject} has too many digits"
    if kind == "string_too_short":
        return f"{subject} is required"
    if kind == "string_too_long":
        return f"{subject} must be at most {ctx['max_length']} characters"
    if kind == "literal_error":
        return f"{subject} must be one of: {ctx['expected']}"
    if kind in ("bool_parsing", "bool_type"):
        return f"{subject} must be yes or no"
    if kind in ("date_parsing", "date_from_datetime_parsing", "date_type"):
        return f"{subject} must be a date (YYYY-MM-DD)"
    if kind == "extra_forbidden":
        return f"{subject} is not a setting of this clause"
    # A rule across params (billing start: "a fixed_date billing start needs a date").
    return str(error["msg"]).removeprefix("Value error, ")
