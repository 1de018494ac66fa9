"""`ContractSnapshot`: a contract version's frozen facts as typed values.

The version stores its snapshot as JSON (`ContractVersion.snapshot`, built by
`contracts.snapshot.deal_snapshot`) and its content hash is taken over that JSON; this module
only reads it. `ContractSnapshot.from_json` parses every shape ever stored and `to_json`
gives the same JSON back, so the hash of a parsed snapshot is the hash approvals were bound
to. Money is `Decimal` beside the currency it is in; dates are `date`.

Apps other than contracts read snapshots only through these types
(`ContractVersion.typed_snapshot`), never by indexing the JSON.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder


def snapshot_hash(snapshot: dict[str, Any]) -> str:
    """SHA-256 over the stored JSON: what a version's `content_hash` and approvals bind to."""
    content = json.dumps(snapshot, sort_keys=True, ensure_ascii=False, cls=DjangoJSONEncoder)
    return hashlib.sha256(content.encode()).hexdigest()


def _decimal(value: Any) -> Decimal:
    # Stored as strings (str(Decimal)), so the exponent, and with it the JSON, round-trips.
    return Decimal(str(value))


@dataclass(frozen=True)
class SnapshotPattern:
    code: str
    name: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SnapshotPattern:
        return cls(code=data["code"], name=data["name"])

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name}


@dataclass(frozen=True)
class SnapshotTemplate:
    """The contract template version the documents were rendered with."""

    id: int
    version: int

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SnapshotTemplate:
        return cls(id=data["id"], version=data["version"])

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "version": self.version}


@dataclass(frozen=True)
class SnapshotAccount:
    crm_id: str
    name: str
    legal_name: str
    address: str  # the billing address, as one text
    tax_id: str
    billing_email: str
    msa_reference: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SnapshotAccount:
        return cls(
            crm_id=data["crm_id"],
            name=data["name"],
            legal_name=data["legal_name"],
            address=data["address"],
            tax_id=data["tax_id"],
            billing_email=data["billing_email"],
            msa_reference=data["msa_reference"],
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "crm_id": self.crm_id,
            "name": self.name,
            "legal_name": self.legal_name,
            "address": self.address,
            "tax_id": self.tax_id,
            "billing_email": self.billing_email,
            "msa_reference": self.msa_reference,
        }


@dataclass(frozen=True)
class SnapshotSigner:
    """The customer's signer: the deal's primary contact role when drafted."""

    name: str
    title: str
    email: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SnapshotSigner:
        return cls(name=data["name"], title=data["title"], email=data["email"])

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "email": self.email}


@dataclass(frozen=True)
class SnapshotDeal:
    """The deal's terms as drafted."""

    id: int
    crm_id: str
    name: str
    currency: str
    start_date: date
    end_date: date  # exclusive: the day after the last day of service
    term_months: int
    billing_frequency: str
    payment_terms: int  # net days
    owner: str  # the owner's username

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SnapshotDeal:
        return cls(
            id=data["id"],
            crm_id=data["crm_id"],
            name=data["name"],
            currency=data["currency"],
            start_date=date.fromisoformat(data["start_date"]),
            end_date=date.fromisoformat(data["end_date"]),
            term_months=data["term_months"],
            billing_frequency=data["billing_frequency"],
            payment_terms=data["payment_terms"],
            owner=data["owner"],
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "crm_id": self.crm_id,
            "name": self.name,
            "currency": self.currency,
            "start_date": self.start_date.isoformat(),
            "end_date": self.end_date.isoformat(),
            "term_months": self.term_months,
            "billing_frequency": self.billing_frequency,
            "payment_terms": self.payment_terms,
            "owner": self.owner,
        }


@dataclass(frozen=True)
class SnapshotLine:
    sku: str
    name: str
    segment: int  # ramp year, from 1
    quantity: Decimal
    currency: str  # the deal's: every price and total of the line is in it
    list_unit_price: Decimal
    discount_pct: Decimal
    net_unit_price: Decimal  # per unit per `interval`
    interval: str
    line_total: Decimal  # Salesforce's TotalPrice: one billing interval's worth
    # The line's charges over the whole term (they add up to TCV). None on versions drafted
    # before order forms showed it: their JSON has no such key.
    term_total: Decimal | None

    @classmethod
    def from_json(cls, data: dict[str, Any], *, currency: str) -> SnapshotLine:
        term_total = data.get("term_total")
        return cls(
            sku=data["sku"],
            name=data["name"],
            segment=data["segment"],
            quantity=_decimal(data["quantity"]),
            currency=currency,
            list_unit_price=_decimal(data["list_unit_price"]),
            discount_pct=_decimal(data["discount_pct"]),
            net_unit_price=_decimal(data["net_unit_price"]),
            interval=data["interval"],
            line_total=_decimal(data["line_total"]),
            term_total=None if term_total is None else _decimal(term_total),
        )

    def to_json(self) -> dict[str, Any]:
        data = {
            "sku": self.sku,
            "name": self.name,
            "segment": self.segment,
            "quantity": str(self.quantity),
            "list_unit_price": str(self.list_unit_price),
            "discount_pct": str(self.discount_pct),
            "net_unit_price": str(self.net_unit_price),
            "interval": self.interval,
            "line_total": str(self.line_total),
        }
        if self.term_total is not None:
            data["term_total"] = str(self.term_total)
        return data


@dataclass(frozen=True)
class SnapshotPeriod:
    """One billing period and what is invoiced for it (in the pricing's currency)."""

    start: date
    end: date  # exclusive
    total: Decimal

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SnapshotPeriod:
        return cls(
            start=date.fromisoformat(data["start"]),
            end=date.fromisoformat(data["end"]),
            total=_decimal(data["total"]),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "total": str(self.total),
        }


@dataclass(frozen=True)
class SnapshotRampSegment:
    """One ramp year and its value (in the pricing's currency)."""

    index: int
    start: date
    end: date  # exclusive
    total: Decimal

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SnapshotRampSegment:
        return cls(
            index=data["index"],
            start=date.fromisoformat(data["start"]),
            end=date.fromisoformat(data["end"]),
            total=_decimal(data["total"]),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "total": str(self.total),
        }


@dataclass(frozen=True)
class SnapshotPricing:
    """The deal's totals as priced when drafted, all in `currency`."""

    currency: str
    tcv: Decimal
    acv: Decimal
    arr: Decimal
    first_year_value: Decimal
    lines_total: Decimal  # sum of the lines' TotalPrice: what Opportunity.Amount should be
    effective_discount_pct: Decimal
    periods: tuple[SnapshotPeriod, ...]
    ramp: tuple[SnapshotRampSegment, ...]

    @classmethod
    def from_json(cls, data: dict[str, Any], *, currency: str) -> SnapshotPricing:
        return cls(
            currency=currency,
            tcv=_decimal(data["tcv"]),
            acv=_decimal(data["acv"]),
            arr=_decimal(data["arr"]),
            first_year_value=_decimal(data["first_year_value"]),
            lines_total=_decimal(data["lines_total"]),
            effective_discount_pct=_decimal(data["effective_discount_pct"]),
            periods=tuple(SnapshotPeriod.from_json(p) for p in data["periods"]),
            ramp=tuple(SnapshotRampSegment.from_json(s) for s in data["ramp"]),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "tcv": str(self.tcv),
            "acv": str(self.acv),
            "arr": str(self.arr),
            "first_year_value": str(self.first_year_value),
            "lines_total": str(self.lines_total),
            "effective_discount_pct": str(self.effective_discount_pct),
            "periods": [p.to_json() for p in self.periods],
            "ramp": [s.to_json() for s in self.ramp],
        }


@dataclass(frozen=True)
class SnapshotClause:
    """One clause as worded into the contract (contracts.snapshot.worded_clause)."""

    type: str
    params: dict[str, Any]  # as the taxonomy defines them (contracts.taxonomy); JSON values
    quote: str  # the exact text of the notes it was extracted from; "" when not extracted
    source: str  # notes | library (a pattern's standard clause) | legal (added or edited)
    title: str
    wording: str
    banned: bool
    needs_legal_review: bool  # the library's flag for the type when the clause was worded

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SnapshotClause:
        return cls(
            type=data["type"],
            params=data["params"],
            quote=data.get("quote", ""),
            source=data["source"],
            title=data["title"],
            wording=data["wording"],
            banned=data["banned"],
            needs_legal_review=data["needs_legal_review"],
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "params": self.params,
            "quote": self.quote,
            "source": self.source,
            "title": self.title,
            "wording": self.wording,
            "banned": self.banned,
            "needs_legal_review": self.needs_legal_review,
        }


@dataclass(frozen=True)
class ContractSnapshot:
    """Every fact a contract version's documents were rendered from."""

    title: str
    reference: str
    pattern: SnapshotPattern
    template: SnapshotTemplate
    account: SnapshotAccount
    signer: SnapshotSigner | None  # None: the deal had no contact role when drafted
    deal: SnapshotDeal
    lines: tuple[SnapshotLine, ...]
    pricing: SnapshotPricing
    notes: str  # the AE notes the clauses were extracted from
    clauses: tuple[SnapshotClause, ...]

    @property
    def currency(self) -> str:
        return self.deal.currency

    @cached_property
    def content_hash(self) -> str:
        """snapshot_hash of the JSON this was read from (to_json gives it back exactly):
        worked out when asked, not on every parse (it is 40 % of one)."""
        return snapshot_hash(self.to_json())

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ContractSnapshot:
        currency = data["deal"]["currency"]
        signer = data.get("signer")
        return cls(
            title=data["title"],
            reference=data["reference"],
            pattern=SnapshotPattern.from_json(data["pattern"]),
            template=SnapshotTemplate.from_json(data["template"]),
            account=SnapshotAccount.from_json(data["account"]),
            signer=SnapshotSigner.from_json(signer) if signer else None,
            deal=SnapshotDeal.from_json(data["deal"]),
            lines=tuple(SnapshotLine.from_json(line, currency=currency) for line in data["lines"]),
            pricing=SnapshotPricing.from_json(data["pricing"], currency=currency),
            notes=data.get("notes", ""),
            clauses=tuple(SnapshotClause.from_json(c) for c in data.get("clauses", [])),
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON this snapshot was read from."""
        return {
            "title": self.title,
            "reference": self.reference,
            "pattern": self.pattern.to_json(),
            "template": self.template.to_json(),
            "account": self.account.to_json(),
            "signer": self.signer.to_json() if self.signer else None,
            "deal": self.deal.to_json(),
            "lines": [line.to_json() for line in self.lines],
            "pricing": self.pricing.to_json(),
            "notes": self.notes,
            "clauses": [clause.to_json() for clause in self.clauses],
        }
