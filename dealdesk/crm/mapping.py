"""CRM records → Dealdesk field values, or the precise reasons a record cannot be imported.

Pure functions: no queries. The sync looks up accounts, owners and products per page and
passes them in; `query_fields` asks the backend for the org's schema once per run.
"""

import hashlib
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings

from dealdesk.crm.base import CRMBackend, CRMError
from dealdesk.crm.file import parse_modstamp
from dealdesk.models import (
    Account,
    BillingFrequency,
    Contact,
    Currency,
    Deal,
    DealContact,
    DealLine,
    Product,
)

OBJECT_FIELDS = {
    "Account": [
        "Id",
        "Name",
        "BillingStreet",
        "BillingCity",
        "BillingState",
        "BillingPostalCode",
        "BillingCountry",
        "NumberOfEmployees",
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
# Salesforce's NumberOfEmployees is an 8-digit number.
MAX_EMPLOYEES = 99_999_999
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


# Ids the sync reads from each object's records, and whether one may be empty; a record's
# own Id is always required.
REFERENCES = {
    "Opportunity": {"AccountId": False, "OwnerId": True},
    "OpportunityLineItem": {"OpportunityId": True},
    "OpportunityContactRole": {"OpportunityId": True, "ContactId": False},
}
# Flags the sync branches on, and whether null reads as false (an export may leave one out);
# a won flag must be said.
BOOLEANS = {
    "Opportunity": {"IsWon": False},
    "Product2": {"IsActive": True},
    "OpportunityContactRole": {"IsPrimary": True},
}
DUPLICATE = "duplicate id in one batch"


def is_crm_id(value, ids: re.Pattern[str]) -> bool:
    """`value` is an id as the CRM hands them out (`CRMBackend.ids`)."""
    return isinstance(value, str) and ids.fullmatch(value) is not None


def quarantine_key(crm_id, ids: re.Pattern[str]) -> str:
    """The key a record is quarantined under: its id, or for an id the CRM never hands out
    (a path, a number, any length) a digest that fits the column and matches no real id."""
    if is_crm_id(crm_id, ids):
        return crm_id
    return "#" + hashlib.sha256(repr(crm_id).encode()).hexdigest()[:17]


def storable(value):
    """A record as a JSON column on PostgreSQL takes it: NaN and Infinity (valid in the
    payload, refused by jsonb) as text, NUL characters (refused in any text) replaced."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v) for v in value]
    return value


@dataclass
class Rejected:
    """Records quarantined before mapping: under `key`, with `raw` to keep (one record, or
    every copy of a duplicate id) and `records` copies counted."""

    key: str
    raw: dict | list
    reasons: list[str]
    records: int = 1
    opportunity_id: str = ""  # a line's or contact role's deal, when it names a valid one


@dataclass
class Screened:
    good: list[dict] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    newest: datetime | None = None  # the newest SystemModstamp that parsed


def _envelope(
    record: dict,
    ids: re.Pattern[str],
    references: tuple[tuple[str, bool], ...],
    flags: tuple[tuple[str, bool], ...],
    reasons: list[str],
) -> datetime | None:
    """What the sync relies on before mapping (ids, stamp, flags); the record's stamp.
    Runs for every record fetched: plain comparisons, no objects built for a good one."""
    fullmatch = ids.fullmatch
    crm_id = record.get("Id")
    if type(crm_id) is not str or fullmatch(crm_id) is None:
        reasons.append(f"invalid id: Id = {crm_id!r:.80}")
    for name, required in references:
        value = record.get(name)
        if (required or value not in (None, "")) and (
            type(value) is not str or fullmatch(value) is None
        ):
            reasons.append(f"invalid id: {name} = {value!r:.80}")
    for name, null_is_false in flags:
        value = record.get(name)
        if value is not True and value is not False and not (null_is_false and value is None):
            reasons.append(f"{name} = {value!r:.80} is not a boolean")
    try:
        return parse_modstamp(record.get("SystemModstamp"))
    except ValueError:
        reasons.append(f"unparseable SystemModstamp: {record.get('SystemModstamp')!r:.80}")
        return None


def screen(object_name: str, records: list[dict], ids: re.Pattern[str]) -> Screened:
    """Split one batch into records fit to map and those quarantined before mapping: a
    malformed id, stamp or flag, and every copy of an id that comes twice (which copy is the
    CRM's truth cannot be told, so neither is taken)."""
    screened = Screened()
    copies: dict[str, list[dict]] = defaultdict(list)
    references = tuple(REFERENCES.get(object_name, {}).items())
    flags = (("IsDeleted", True), *BOOLEANS.get(object_name, {}).items())
    for record in records:
        reasons: list[str] = []
        if not isinstance(record, dict):
            screened.rejected.append(
                Rejected(quarantine_key(record, ids), record, ["not a record"])
            )
            continue
        stamp = _envelope(record, ids, references, flags, reasons)
        if stamp is not None:
            screened.newest = max(screened.newest or stamp, stamp)
        opportunity_id = record.get("OpportunityId")
        if reasons:
            screened.rejected.append(
                Rejected(
                    quarantine_key(record.get("Id"), ids),
                    record,
                    reasons,
                    opportunity_id=opportunity_id if is_crm_id(opportunity_id, ids) else "",
                )
            )
        else:
            copies[record["Id"]].append(record)
    for crm_id, same in copies.items():
        if len(same) == 1:
            screened.good.append(same[0])
        else:
            screened.rejected.append(
                Rejected(
                    crm_id,
                    same,
                    [DUPLICATE],
                    records=len(same),
                    opportunity_id=same[0].get("OpportunityId") or "",
                )
            )
    return screened


def _text(record: dict, name: str, max_length: int, out: Mapped, *, required=False) -> str:
    value = record.get(name)
    if value is None:
        value = ""
    if not isinstance(value, str):
        # A number or a list where text belongs is a broken record, not text to print.
        out.reasons.append(f"not text: {name} = {value!r:.80}")
        return ""
    if "\x00" in value:  # PostgreSQL refuses it in any text column
        out.reasons.append(f"NUL character in {name}")
    if required and not value.strip():
        out.reasons.append(f"missing {name}")
    if len(value) > max_length:
        out.reasons.append(f"oversize text: {name} has {len(value)} characters (max {max_length})")
    return value


def _column(model, name: str):
    return model._meta.get_field(name)


def _max(model, name: str) -> int:
    return _column(model, name).max_length


def _date(record: dict, name: str, out: Mapped, *, required=False) -> date | None:
    value = record.get(name)
    if value in (None, ""):
        if required:
            out.reasons.append(f"missing {name}")
        return None
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return date.fromisoformat(value)
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


def _number(record: dict, name: str, column, out: Mapped) -> Decimal | None:
    """A CRM number as `column` (a DecimalField) holds it exactly; None when it is missing.
    NaN, Infinity and text are reasons, and so is a number the column would round or cannot
    hold: a quantity is never silently rounded to fit."""
    value = record.get(name)
    if value is None:
        return None
    number = _decimal(value)
    if number is None:
        out.reasons.append(f"not a number: {name} = {value!r:.80}")
        return None
    whole_digits = column.max_digits - column.decimal_places
    if abs(number) >= Decimal(10) ** whole_digits:
        out.reasons.append(
            f"{name} = {value!r:.80} is beyond the column (at most {whole_digits} digits "
            "before the point)"
        )
        return None
    if number != number.quantize(Decimal(1).scaleb(-column.decimal_places)):
        out.reasons.append(
            f"{name} = {value!r:.80} has more than {column.decimal_places} decimal places: "
            "it would be rounded"
        )
        return None
    return number


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
    employees = record.get("NumberOfEmployees")
    out.values["employees"] = (
        None if employees in (None, "") else _whole(employees, 0, MAX_EMPLOYEES)
    )
    if employees not in (None, "") and out.values["employees"] is None:
        out.reasons.append(f"not an employee count: NumberOfEmployees = {employees!r:.80}")
    return out


def account_currency(record: dict) -> str:
    currency = record.get(settings.CRM_FIELDS["currency"] or "-")
    return currency if isinstance(currency, str) and currency in CURRENCIES else Currency.USD


def map_product(record: dict) -> Mapped:
    out = Mapped()
    out.values["sku"] = _text(record, "ProductCode", _max(Product, "sku"), out, required=True)
    out.values["name"] = _text(record, "Name", _max(Product, "name"), out, required=True)
    out.values["active"] = record.get("IsActive") is True  # a boolean or null: see BOOLEANS
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
    if not isinstance(currency, str) or currency not in CURRENCIES:
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
    v["crm_amount"] = _number(record, "Amount", _column(Deal, "crm_amount"), out)
    return out


def map_line(record: dict, *, products: dict[str, Product], currency: str) -> Mapped:
    """One OpportunityLineItem of a deal in `currency`; `products` by SKU."""
    out = Mapped()
    v = out.values
    sku = _text(record, "ProductCode", _max(Product, "sku"), out)
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
        out.reasons.append(f"quantity must be > 0 (got {record.get('Quantity')!r:.80})")
    else:
        quantity = _number(record, "Quantity", _column(DealLine, "quantity"), out)
    v["quantity"] = quantity
    # UnitPrice is the sales price per unit per billing interval; Discount applies on top.
    reasons = len(out.reasons)
    v["list_unit_price"] = _number(record, "UnitPrice", _column(DealLine, "list_unit_price"), out)
    if len(out.reasons) == reasons and (v["list_unit_price"] is None or v["list_unit_price"] < 0):
        out.reasons.append(f"missing price: UnitPrice = {record.get('UnitPrice')!r:.80}")
    discount = record.get("Discount")
    v["discount_pct"] = _decimal(discount)
    if discount is None:
        v["discount_pct"] = Decimal(0)
    elif v["discount_pct"] is None or not 0 <= v["discount_pct"] <= 100:
        out.reasons.append(f"unparseable term: Discount = {discount!r:.80} (0-100 %)")
    else:
        v["discount_pct"] = _number(record, "Discount", _column(DealLine, "discount_pct"), out)
    segment_field = settings.CRM_FIELDS["segment_index"]
    segment = record.get(segment_field)
    v["segment_index"] = 1 if segment is None else _whole(segment, 1, 50)
    if v["segment_index"] is None:
        out.reasons.append(f"unparseable term: {segment_field} = {segment!r}")
    return out


def map_contact_role(record: dict) -> Mapped:
    """An OpportunityContactRole with a ContactId, as a deal keeps it: the contact's CRM id,
    name and e-mail (the nested Contact), the role and whether it is the primary one."""
    out = Mapped()
    person = record.get("Contact") or {}
    if not isinstance(person, dict):
        out.reasons.append(f"not a record: Contact = {person!r:.80}")
        person = {}
    contact = {f"Contact.{k}": v for k, v in person.items()}
    name = _text(contact, "Contact.Name", _max(Contact, "name"), out)
    out.values = {
        "contact": record["ContactId"],
        "name": name or record["ContactId"],
        "email": _text(contact, "Contact.Email", _max(Contact, "email"), out),
        "role": _text(record, "Role", _max(DealContact, "role"), out),
        "is_primary": record.get("IsPrimary") is True,  # a boolean or null: see BOOLEANS
    }
    return out
