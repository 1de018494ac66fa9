"""Who holds a deal now (the deal list's "waiting on" column and its CSV export).

Read from the deal's state; a deal in review is held by its open approval step and by Legal
while its contract version is in legal review. The core may not import the apps above it
(docs/architecture.md), so their rows are reached through Deal's reverse relations.
"""

from collections import defaultdict
from collections.abc import Sequence

from dealdesk.models import Deal, DealState

# Says what the app knows: after approval nothing is automated yet, so a person moves the
# deal on (e-signature and billing are planned, docs/architecture.md).
HOLDER_BY_STATE = {
    DealState.NEW: "Dealdesk (pricing)",
    DealState.DRAFTING: "Dealdesk (drafting)",
    DealState.MANUAL_REVIEW: "Deal Desk",
    DealState.CHANGES_REQUESTED: "Deal Desk",
    DealState.APPROVED: "Deal Desk (send for signature)",
    DealState.OUT_FOR_SIGNATURE: "Customer (signature)",
    DealState.SIGNED: "Finance (set up billing)",
    DealState.BILLING: "Finance (first invoice)",
    DealState.INVOICED: "Customer (payment)",
}
# Paid and cancelled deals wait on nobody.
NOBODY = "—"
# In review with no open request and no legal review: the pipeline's approval check is due
# (it runs after every decision) or has not run yet.
EVALUATING = "Dealdesk (approval check)"
# The states of approvals.models.RequestState and contracts.models.ContractState read here.
_PENDING_REQUEST = "pending"
_LEGAL_REVIEW = "legal_review"


def waiting_on(deals: Sequence[Deal]) -> dict[int, str]:
    """deal id → who the deal waits on, for a page of deals: at most two queries, and none
    when no deal on the page is in review."""
    in_review = [deal.pk for deal in deals if deal.state == DealState.IN_REVIEW]
    holders = _review_holders(in_review) if in_review else {}
    return {
        deal.pk: holders.get(deal.pk, EVALUATING)
        if deal.state == DealState.IN_REVIEW
        else HOLDER_BY_STATE.get(deal.state, NOBODY)
        for deal in deals
    }


def _review_holders(deal_ids: list[int]) -> dict[int, str]:
    """The groups of each deal's lowest open approval step (later steps open only after it),
    and Legal where the contract version awaits legal review."""
    approval_request = Deal.approval_requests.rel.related_model
    contract_version = Deal.contract_versions.rel.related_model
    open_steps: dict[int, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    for deal_id, step, group in approval_request.objects.filter(
        deal_id__in=deal_ids, state=_PENDING_REQUEST
    ).values_list("deal_id", "step", "group__name"):
        open_steps[deal_id][step].add(group)
    in_legal_review = set(
        contract_version.objects.filter(deal_id__in=deal_ids, state=_LEGAL_REVIEW).values_list(
            "deal_id", flat=True
        )
    )
    holders = {}
    for deal_id in deal_ids:
        parts = []
        if steps := open_steps.get(deal_id):
            step = min(steps)
            parts.append(f"{', '.join(sorted(steps[step]))} (approval step {step})")
        if deal_id in in_legal_review:
            parts.append("Legal (contract review)")
        if parts:
            holders[deal_id] = "; ".join(parts)
    return holders
