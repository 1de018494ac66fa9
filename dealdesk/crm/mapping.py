"""CRM records → Dealdesk field values, or the precise reasons a record cannot be imported.

Pure functions: no queries. The sync looks up accounts, owners and products per page and
passes them in; `query_fields` asks the backend for the org's schema once per run.
"""

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.conf import settings

from dealdesk.crm.base import CRMBackend, CRMError
from dealdesk.models import Account, BillingFrequency, Contact, Currency, Deal, DealContact, Product

OBJECT_FIELDS = {
    "Account": [
        "Id",
        "Name",
        "BillingStreet",
        "BillingCity",
        "BillingState",
        "BillingPostalCode",
        "BillingCountry",
    ],
    "Product2": ["Id", "ProductCode", "Name", "IsActive"],
    "Opportunity": [
        "Id",
        "Name",
        "AccountId",
        "OwnerId",
        "StageName",
        "IsWon",
        "CloseDate",
        "Amount",
    ],
    "OpportunityLineItem": [
        "Id",
        "OpportunityId",
        "Product2Id",
        "ProductCode",
        "Quantity",
        "UnitPrice",
        "ListPrice",
        "Discount",
        "TotalPrice",
        "ServiceDate",
    ],
    "OpportunityContactRole": [
        "Id",
        "OpportunityId",
        "ContactId",
        "Role",
        "IsPrimary",
        "Contact.Name",
        "Contact.Email",
    ],
}
ACCOUNT_FIELDS = {
    "Name": "name",
    "BillingStreet": "billing_street",
    "BillingCity": "billing_city",
    "BillingState": "billing_state",
    "BillingPostalCode": "billing_postal_code",
    "BillingCountry": "billing_country",
}
# Dealdesk fields the CRM owns on a deal; anything else (pattern, pricing) is Dealdesk's.
DEAL_FIELDS = [
    "name",
    "account_id",
    "owner_id",
    "currency",
    "close_date",
    "start_date",
    "term_months",
    "billing_frequency",
    "payment_terms",
    "ae_notes",
    "crm_amount",
]
# A set built once: Choices.values builds a new list from the enum on every access.
CURRENCIES = frozenset(Currency.values)
LINE_FIELDS = ["product_id", "segment_index", "quantity", "list_unit_price", "discount_pct"]
FREQUENCIES = {
    "monthly": BillingFrequency.MONTHLY,
    "quarterly": BillingFrequency.QUARTERLY,
    "semiannual": BillingFrequency.SEMIANNUAL,
    "semi-annual": BillingFrequency.SEMIANNUAL,
    "semi-annually": BillingFrequency.SEMIANNUAL,
    "annual": BillingFrequency.ANNUAL,
    "annually": BillingFrequency.ANNUAL,
    "yearly": BillingFrequency.ANNUAL,
    "upfront": BillingFrequency.UPFRONT,
    "up front": BillingFrequency.UPFRONT,
}


# The objects a record's currency is read from, when the org has currencies at all.
CURRENCY_OBJECTS = ("Account", "Opportunity", "OpportunityLineItem")
# Salesforce adds this field to every object when an org turns multi-currency on.
MULTI_CURRENCY_FIELD = "CurrencyIsoCode"


def fields_for(object_name: str, *, multi_currency: bool = True) -> list[str]:
    """The SOQL field list, with the org's custom field names from settings; the currency
    field only for a multi-currency org, and only when one is configured."""
    names = settings.CRM_FIELDS
    extra = {
        "Opportunity": [
            names["notes"],
            names["contract_start"],
            names["term_months"],
            names["billing_frequency"],
            names["payment_terms"],
        ],
        "OpportunityLineItem": [names["segment_index"]],
    }.get(object_name, [])
    if multi_currency and names["currency"] and object_name in CURRENCY_OBJECTS:
        extra.append(names["currency"])
    return [*OBJECT_FIELDS[object_name], *extra, "IsDeleted", "SystemModstamp"]


def query_fields(backend: CRMBackend) -> dict[str, list[str]]:
    """Each object's field list for this org, checked against its schema before the first query.

    An org without CurrencyIsoCode on Opportunity is single-currency: no currency field is
    asked for (configured or not) and each deal takes its account's currency. Any other
    field the sync asks for must exist: a missing one would fail the run half-way, so every
    missing field is named at once, before anything is written. A backend that cannot
    describe its objects (the file bundle) gets the configured lists.
    """
    opportunity = backend.describe("Opportunity")
    multi_currency = opportunity is None or MULTI_CURRENCY_FIELD in opportunity
    fields = {name: fields_for(name, multi_currency=multi_currency) for name in OBJECT_FIELDS}
    missing = []
    for name, wanted in fields.items():
        known = backend.describe(name)
        if known is not None:
            # `Contact.Name`: the relationship is the object's; its target's fields are
            # standard ones every org has.
            missing += [f"{name}.{f}" for f in wanted if f.split(".")[0] not in known]
    if missing:
        raise CRMError(
            f"fields the sync needs are missing in the CRM: {', '.join(missing)} (create "
            "them in the org, or set the CRM_FIELD_* settings to the org's own names); "
            "nothing was synced"
        )
    return fields


@dataclass
class Mapped:
    values: dict = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)


def _text(record: dict, name: str, max_length: int, out: Mapped, *, required=False) -> str:
    value = record.get(name) or ""
    if not isinstance(value, str):
        value = str(value)
    if required and not value.strip():
        out.reasons.append(f"missing {name}")
    if len(value) > max_length:
        out.reasons.append(f"oversize text: {name} has {len(value)} characters (max {max_length})")
    return value


def _max(model, name: str) -> int:
    return model._meta.get_field(name).max_length


def _date(record: dict, name: str, out: Mapped, *, required=False) -> date | None:
    value = record.get(name)
    if value in (None, ""):
        if required:
            out.reasons.append(f"missing {name}")
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        out.reasons.append(f"unparseable date: {name} = {value!r}")
        return None


def _decimal(value) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _whole(value, low: int, high: int) -> int | None:
    """A whole number in [low, high] from a number, "24" or "Net 30"; None otherwise."""
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(?:net\s*)?(\d+(?:\.0+)?)\s*(?:days?|months?)?\s*", value, re.I)
        value = match.group(1) if match else None
    number = _decimal(value)
    if number is None or number != number.to_integral_value() or not low <= number <= high:
        return None
    return int(number)


def map_account(record: dict) -> Mapped:
    out = Mapped()
    for crm_name, name in ACCOUNT_FIELDS.items():
        out.values[name] = _text(
            record, crm_name, _max(Account, name), out, required=crm_name == "Name"
        )
    return out


def account_currency(record: dict) -> str:
    currency = record.get(settings.CRM_FIELDS["currency"] or "-")
    return currency if currency in CURRENCIES else Currency.USD


def map_product(record: dict) -> Mapped:
    out = Mapped()
    out.values["sku"] = _text(record, "ProductCode", _max(Product, "sku"), out, required=True)
    out.values["name"] = _text(record, "Name", _max(Product, "name"), out, required=True)
    out.values["active"] = bool(record.get("IsActive"))
    return out


def map_opportunity(
    record: dict, *, account_ids: dict[str, tuple[int, str]], owner_ids: dict[str, int]
) -> Mapped:
    """`account_ids`: CRM id → (pk, currency); `owner_ids`: Salesforce user id → user pk."""
    names = settings.CRM_FIELDS
    out = Mapped()
    v = out.values
    v["name"] = _text(record, "Name", _max(Deal, "name"), out, required=True)
    account = account_ids.get(record.get("AccountId") or "")
    if account is None:
        out.reasons.append(f"unknown account {record.get('AccountId') or '(none)'}")
    v["account_id"] = account[0] if account else None
    v["owner_id"] = owner_ids.get(record.get("OwnerId") or "")
    currency = record.get(names["currency"]) if names["currency"] else None
    if currency is None:
        currency = account[1] if account else Currency.USD
    if currency not in CURRENCIES:
        out.reasons.append(f"currency mismatch: {currency!r} is not a currency Dealdesk bills in")
    v["currency"] = currency
    v["close_date"] = _date(record, "CloseDate", out)
    v["start_date"] = _date(record, names["contract_start"], out, required=True)
    term = record.get(names["term_months"])
    v["term_months"] = _whole(term, 1, 120)
    if v["term_months"] is None:
        out.reasons.append(f"unparseable term: {names['term_months']} = {term!r} (1-120 months)")
    frequency = record.get(names["billing_frequency"])
    v["billing_frequency"] = (
        FREQUENCIES.get(str(frequency).strip().lower()) if frequency else BillingFrequency.ANNUAL
    )
    if v["billing_frequency"] is None:
        out.reasons.append(f"unparseable term: {names['billing_frequency']} = {frequency!r}")
    terms = record.get(names["payment_terms"])
    v["payment_terms"] = 30 if terms in (None, "") else _whole(terms, 0, 365)
    if v["payment_terms"] is None:
        out.reasons.append(f"unparseable term: {names['payment_terms']} = {terms!r}")
    v["ae_notes"] = _text(record, names["notes"], settings.CRM_MAX_NOTES_LENGTH, out)
    v["crm_amount"] = _decimal(record.get("Amount"))
    return out


def map_line(record: dict, *, products: dict[str, Product], currency: str) -> Mapped:
    """One OpportunityLineItem of a deal in `currency`; `products` by SKU."""
    out = Mapped()
    v = out.values
    sku = record.get("ProductCode") or ""
    product = products.get(sku)
    if product is None:
        out.reasons.append(f"unknown SKU {sku or '(none)'}")
    elif not product.active:
        out.reasons.append(f"inactive SKU {sku}")
    elif product.currency != currency:
        out.reasons.append(
            f"currency mismatch: {sku} is priced in {product.currency}, the deal in {currency}"
        )
    v["product_id"] = product.pk if product else None
    quantity = _decimal(record.get("Quantity"))
    if quantity is None or quantity <= 0:
        out.reasons.append(f"quantity must be > 0 (got {record.get('Quantity')!r})")
    v["quantity"] = quantity
    # UnitPrice is the sales price per unit per billing interval; Discount applies on top.
    v["list_unit_price"] = _decimal(record.get("UnitPrice"))
    if v["list_unit_price"] is None or v["list_unit_price"] < 0:
        out.reasons.append(f"missing price: UnitPrice = {record.get('UnitPrice')!r}")
    discount = record.get("Discount")
    v["discount_pct"] = Decimal(0) if discount is None else _decimal(discount)
    if v["discount_pct"] is None or not 0 <= v["discount_pct"] <= 100:
        out.reasons.append(f"unparseable term: Discount = {discount!r} (0-100 %)")
    segment_field = settings.CRM_FIELDS["segment_index"]
    segment = record.get(segment_field)
    v["segment_index"] = 1 if segment is None else _whole(segment, 1, 50)
    if v["segment_index"] is None:
        out.reasons.append(f"unparseable term: {segment_field} = {segment!r}")
    return out


def map_contact_role(record: dict) -> dict:
    """An OpportunityContactRole with a ContactId, as a deal keeps it: the contact's CRM id,
    name and e-mail (the nested Contact), the role and whether it is the primary one."""
    person = record.get("Contact") or {}
    return {
        "contact": record["ContactId"],
        "name": (person.get("Name") or record["ContactId"])[: _max(Contact, "name")],
        "email": (person.get("Email") or "")[: _max(Contact, "email")],
        "role": (record.get("Role") or "")[: _max(DealContact, "role")],
        "is_primary": bool(record.get("IsPrimary")),
    }
