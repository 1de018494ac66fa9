"""The clause taxonomy (docs/design.md, "Clause taxonomy") as Pydantic models.

One definition serves three readers: the validator every extraction backend's output goes
through, the JSON schema the LLM is held to, and the review page's parameter forms.
Decimals are written back as plain strings ("99.95", "10"): JSON numbers would turn them
into floats somewhere downstream.
"""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, create_model, model_validator


def decimal_text(value: Decimal) -> str:
    """10 → "10", 99.950 → "99.95": no exponent, no trailing zeros."""
    return format(value.normalize(), "f")


Pct = Annotated[
    Decimal,
    Field(ge=0, le=100, max_digits=9, decimal_places=4),
    PlainSerializer(decimal_text, return_type=str),
]
Multiple = Annotated[
    Decimal,
    Field(gt=0, le=1000, max_digits=9, decimal_places=4),
    PlainSerializer(decimal_text, return_type=str),
]
Days = Annotated[int, Field(ge=0, le=3650)]
Months = Annotated[int, Field(ge=1, le=120)]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PaymentTerms(Params):
    net_days: Annotated[int, Field(ge=0, le=365)]


class BillingFrequency(Params):
    interval: Literal["monthly", "quarterly", "semiannual", "annual", "upfront"]


class BillingStart(Params):
    mode: Literal["on_signature", "fixed_date", "days_after_signature", "on_go_live"]
    date: dt.date | None = None
    days: Days | None = None

    @model_validator(mode="after")
    def _mode_has_its_value(self) -> "BillingStart":
        if self.mode == "fixed_date" and self.date is None:
            raise ValueError("a fixed_date billing start needs a date")
        if self.mode == "days_after_signature" and self.days is None:
            raise ValueError("a days_after_signature billing start needs days")
        return self


class FreePeriod(Params):
    months: Annotated[int, Field(ge=1, le=24)]


class PriceUplift(Params):
    pct: Pct
    every_months: Months = 12


class RenewalPriceCap(Params):
    max_increase_pct: Pct


class PriceLock(Params):
    months: Months


class AutoRenewal(Params):
    enabled: bool
    notice_days: Days | None = None


class TerminationForConvenience(Params):
    notice_days: Days


class SlaCredit(Params):
    uptime_pct: Pct
    credit_pct: Pct


class LiabilityCap(Params):
    multiple_of_fees: Multiple


class PurchaseOrderRequired(Params):
    po_number: Annotated[str, Field(min_length=1, max_length=60)] | None = None


class PaymentMethod(Params):
    method: Literal["ach", "wire", "card", "check"]


class DataResidency(Params):
    region: ShortText


class GoverningLaw(Params):
    jurisdiction: ShortText


class PilotOptOut(Params):
    days: Annotated[int, Field(ge=1, le=365)]


class NoParams(Params):
    pass


class Other(Params):
    summary: Annotated[str, Field(min_length=1, max_length=500)]


# type → its params model, in the taxonomy's order.
PARAMS: dict[str, type[Params]] = {
    "payment_terms": PaymentTerms,
    "billing_frequency": BillingFrequency,
    "billing_start": BillingStart,
    "free_period": FreePeriod,
    "price_uplift": PriceUplift,
    "renewal_price_cap": RenewalPriceCap,
    "price_lock": PriceLock,
    "auto_renewal": AutoRenewal,
    "termination_for_convenience": TerminationForConvenience,
    "sla_credit": SlaCredit,
    "liability_cap": LiabilityCap,
    "purchase_order_required": PurchaseOrderRequired,
    "payment_method": PaymentMethod,
    "data_residency": DataResidency,
    "governing_law": GoverningLaw,
    "pilot_opt_out": PilotOptOut,
    "most_favored_nation": NoParams,
    "unlimited_liability": NoParams,
    "exclusivity": NoParams,
    "other": Other,
}
OTHER = "other"
BANNED_BY_DEFAULT = frozenset({"most_favored_nation", "unlimited_liability", "exclusivity"})


def clean_params(clause_type: str, params: dict[str, Any]) -> dict[str, Any]:
    """Params checked against the taxonomy, as JSON (raises pydantic.ValidationError)."""
    return PARAMS[clause_type].model_validate(params).model_dump(mode="json")


def _clause_model(clause_type: str, params: type[Params]) -> type[BaseModel]:
    name = "".join(part.title() for part in clause_type.split("_")) + "Clause"
    return create_model(
        name,
        __config__=ConfigDict(extra="forbid"),
        type=(Literal[clause_type], ...),
        params=(params, ...),
        quote=(str, Field(description="The exact words of the notes this clause comes from.")),
    )


_CLAUSE_MODELS = tuple(_clause_model(name, model) for name, model in PARAMS.items())


# What an LLM is asked to return: the clauses found in the notes, nothing else.
ExtractedClauses = create_model(
    "ExtractedClauses",
    __config__=ConfigDict(extra="forbid"),
    clauses=(list[Annotated[Union[_CLAUSE_MODELS], Field(discriminator="type")]], ...),  # noqa: UP007
)
