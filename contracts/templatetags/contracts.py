from django import template

from contracts.models import ContractState, ContractVersion
from contracts.selectors import deal_contract_versions

register = template.Library()


@register.inclusion_tag("contracts/_deal_versions.html", takes_context=True)
def contract_versions(context, deal):
    """The deal page's contract card (one query), for those who may read contracts."""
    user = context["request"].user
    visible = user.has_perm("contracts.view_contractversion")
    versions = deal_contract_versions(deal_id=deal.pk) if visible else []
    successor = {v.supersedes_id: v.number for v in versions if v.supersedes_id}
    for version in versions:
        version.status_label, version.status_class = version_status(
            version, deal_state=deal.state, successor=successor.get(version.pk)
        )
    return {"versions": versions, "visible": visible}


# Deal states past approval: the contract that got the deal there is the one it signs.
_DEAL_APPROVED = {"approved", "out_for_signature", "signed", "billing", "invoiced", "paid"}


def version_status(
    version: ContractVersion, *, deal_state: str, successor: int | None = None
) -> tuple[str, str]:
    """(what happened to the version, its badge's state class). A draft that needed no legal
    review stays a draft by state, but the deal's approval approved it: say so."""
    state = version.state
    if state == ContractState.DRAFT and not version.review_reasons:
        if deal_state in _DEAL_APPROVED:
            return "Approved (no legal review needed)", "approved"
        return "Draft (no legal review needed)", state
    if state == ContractState.LEGAL_REVIEW:
        return "In legal review", state
    if state == ContractState.APPROVED:
        return "Approved by Legal", state
    if state == ContractState.SUPERSEDED:
        return (f"Superseded by v{successor}" if successor else "Superseded"), state
    return version.get_state_display(), state
