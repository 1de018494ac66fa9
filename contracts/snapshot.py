"""The frozen facts a contract version is rendered from, built from a deal and its clauses.

`deal_snapshot` writes the JSON a version stores; `contracts.snapshot_types.ContractSnapshot`
reads it back as typed values.
"""

from typing import Any

from contracts.models import ClauseType, ContractTemplate
from contracts.rendering import clause_wording
from contracts.snapshot_types import snapshot_hash
from dealdesk.models import Deal, DealLine
from dealdesk.pricing import PricingResult
from dealdesk.selectors import deal_lines, deal_pricing

__all__ = ["deal_snapshot", "library", "snapshot_hash", "snapshot_repriced", "worded_clause"]


def library() -> dict[str, ClauseType]:
    return {clause_type.code: clause_type for clause_type in ClauseType.objects.all()}


def worded_clause(
    clause: dict[str, Any], clause_types: dict[str, ClauseType], *, source: str
) -> dict[str, Any]:
    """A validated clause with what the documents and the review page need to show it."""
    clause_type = clause_types[clause["type"]]
    return {
        "type": clause["type"],
        "params": clause["params"],
        "quote": clause.get("quote", ""),
        "source": source,
        "title": clause_type.title,
        "wording": clause_wording(clause_type.wording, clause["params"]),
        "banned": clause_type.banned,
        "needs_legal_review": clause_type.needs_legal_review,
    }


def deal_snapshot(
    *, deal: Deal, template: ContractTemplate, clauses: list[dict[str, Any]], number: int
) -> dict[str, Any]:
    lines = deal_lines(deal=deal)
    pricing = _pricing(deal, lines, clauses)
    account = deal.account
    signer = deal.contact_roles.select_related("contact").order_by("-is_primary", "pk").first()
    return {
        "title": template.title,
        "reference": f"{deal.crm_id}-{number}",
        "pattern": {"code": deal.pattern.code, "name": deal.pattern.name},
        "template": {"id": template.pk, "version": template.version},
        "account": {
            "crm_id": account.crm_id,
            "name": account.name,
            "legal_name": account.legal_name,
            "address": account.billing_address,
            "tax_id": account.tax_id,
            "billing_email": account.billing_email,
            "msa_reference": account.msa_reference,
        },
        "signer": {
            "name": signer.contact.name,
            "title": signer.contact.title,
            "email": signer.contact.email,
        }
        if signer
        else None,
        "deal": {
            "id": deal.pk,
            "crm_id": deal.crm_id,
            "name": deal.name,
            "currency": deal.currency,
            "start_date": deal.start_date.isoformat(),
            "end_date": pricing.service_end.isoformat(),
            "term_months": deal.term_months,
            "billing_frequency": deal.billing_frequency,
            "payment_terms": deal.payment_terms,
            "owner": deal.owner.get_username(),
        },
        **_priced_parts(lines, pricing),
        "notes": deal.ae_notes,
        "clauses": clauses,
    }


def snapshot_repriced(
    *, deal: Deal, snapshot: dict[str, Any], clauses: list[dict[str, Any]]
) -> dict[str, Any]:
    """`snapshot` with `clauses` in it, its lines, schedule and totals priced under them: a
    clause edit that adds a free period or changes an uplift changes what is billed."""
    lines = deal_lines(deal=deal)
    return {
        **snapshot,
        **_priced_parts(lines, _pricing(deal, lines, clauses)),
        "clauses": clauses,
    }


def _pricing(deal: Deal, lines: list[DealLine], clauses: list[dict[str, Any]]) -> PricingResult:
    # The contract's own clauses, not the deal's last version's: this one replaces it.
    return deal_pricing(deal, lines, clauses=[(c["type"], c["params"]) for c in clauses])


def _priced_parts(lines: list[DealLine], pricing: PricingResult) -> dict[str, Any]:
    """The snapshot's lines and pricing: every figure the documents and the gates read."""
    return {
        "lines": [
            {
                "sku": line.product.sku,
                "name": line.product.name,
                "segment": line.segment_index,
                "quantity": str(line.quantity),
                "list_unit_price": str(line.list_unit_price),
                "discount_pct": str(line.discount_pct),
                "net_unit_price": str(line.net_unit_price),
                "interval": line.product.billing_interval,
                "line_total": str(pricing.line_totals[str(line.pk)]),
                "term_total": str(pricing.term_totals[str(line.pk)]),
            }
            for line in lines
        ],
        "pricing": {
            "tcv": str(pricing.tcv),
            "acv": str(pricing.acv),
            "arr": str(pricing.arr),
            "first_year_value": str(pricing.first_year_value),
            "lines_total": str(pricing.lines_total),
            "effective_discount_pct": str(pricing.effective_discount_pct),
            "periods": [
                {"start": p.start.isoformat(), "end": p.end.isoformat(), "total": str(p.total)}
                for p in pricing.periods
            ],
            "ramp": [
                {
                    "index": s.index,
                    "start": s.start.isoformat(),
                    "end": s.end.isoformat(),
                    "total": str(s.total),
                }
                for s in pricing.ramp
            ],
        },
    }
