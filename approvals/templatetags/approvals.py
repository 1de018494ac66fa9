from django import template
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from approvals.gates import CUSTOMER_VERIFIED, PRICING_TIER, TERMS_COMPLIANCE
from approvals.selectors import (
    deal_requests,
    decider_missing,
    decision_refusals,
    groups_acting_for,
    latest_gate_run,
    reapproval_changes,
)
from contracts.selectors import current_version
from dealdesk.forms import REASON_MAX_LENGTH
from dealdesk.models import MANAGE_PERM
from dealdesk.owner_views import OwnerForm
from dealdesk.roles import owner_unmapped

register = template.Library()


@register.inclusion_tag("approvals/_panel.html", takes_context=True)
def approvals_panel(context, deal):
    """The deal page's approvals card: gate results and the requests, decidable in place."""
    user = context["request"].user
    visible = user.has_perm("approvals.view_approvalrequest")
    version = current_version(deal) if visible else None
    requests = deal_requests(deal_id=deal.pk) if visible else []
    acting_for = groups_acting_for(user) if visible else set()
    pending = [request for request in requests if request.state == "pending"]
    refusals = decision_refusals(
        user=user,
        requests=[request for request in pending if request.group_id in acting_for],
        acting_group_ids=acting_for,
    )
    for request in pending:
        # The re-approval view: what changed since this group last granted the deal.
        request.changes = reapproval_changes(request)
        # Said to everyone when nobody may decide it (the one Legal user edited the terms);
        # else to this user when they may not, instead of buttons the server would refuse.
        request.refusal = decider_missing(request) or refusals.get(request.pk, "")
    unmapped = owner_unmapped(deal) if visible else ""
    return {
        "visible": visible,
        "deal": deal,
        "owner_unmapped": unmapped,
        "owner_form": OwnerForm() if unmapped and user.has_perm(MANAGE_PERM) else None,
        "gate_run": latest_gate_run(version) if version else None,
        "requests": requests,
        "acting_for": acting_for,
        "next": context["request"].get_full_path(),
    }


# Tags rather than includes: My approvals shows both on each of its 25 rows, where an
# include with its csrf_token and url tags costs the page several milliseconds.
@register.simple_tag
def gate_list(gates: list[dict]) -> str:
    """A gate run's results. A failed or noteworthy gate shows its reasons; a gate that
    passed as usual is a tick and its name, its reasons one click away, so a row stays one
    line (My approvals shows 25 rows)."""
    items = format_html_join("", "{}", ((_gate_item(gate),) for gate in gates))
    return format_html(
        '<ul class="gate-list list-unstyled small mb-0" data-testid="gates">{}</ul>', items
    )


# How many notes a gate that passed gives as a matter of course (pricing_tier: the highest
# discount and who must approve it); any more (a line below floor, a banned clause Legal
# excepted) is worth reading without a click.
_USUAL_NOTES = {PRICING_TIER: 2}


def _gate_item(gate: dict) -> str:
    reasons = "; ".join(gate["reasons"])
    if not gate["passed"]:
        return format_html(
            '<li data-gate="failed"><span class="badge text-bg-danger">✗ {}</span> {}</li>',
            gate["gate"],
            reasons,
        )
    if len(gate["reasons"]) > _USUAL_NOTES.get(gate["gate"], 1):
        return format_html(
            '<li data-gate="noteworthy"><span class="badge text-bg-warning">✓ {}</span> {}</li>',
            gate["gate"],
            reasons,
        )
    return format_html(
        '<li class="gate-passed" data-gate="passed"><details><summary class="text-success"'
        ' title="{}">✓ {}</summary>{}: {}</details></li>',
        gate["gate"],
        _SHORT_NAMES.get(gate["gate"], gate["gate"]),
        gate["gate"],
        reasons,
    )


# A passed gate's name in a row, short enough for four of them on one line of the queue.
_SHORT_NAMES = {CUSTOMER_VERIFIED: "customer", PRICING_TIER: "pricing", TERMS_COMPLIANCE: "terms"}


_DECISION_FORM = (
    '<form method="post" action="{url}" hx-post="{url}" hx-target="closest .approval-decision"'
    ' hx-swap="outerHTML" class="decision-form d-flex gap-1 align-items-start">'
    '<input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">'
    '<input type="hidden" name="next" value="{next}">'
    '<input type="hidden" name="shown_on" value="{shown_on}">'
    # Wide enough to write a sentence in (the cell's width, 30 characters at least).
    '<textarea name="reason" rows="2" maxlength="{max_length}" class="decision-reason'
    ' form-control form-control-sm flex-grow-1" placeholder="Reason (required to reject)"'
    ' aria-label="Reason" data-testid="reason-{pk}"></textarea>'
    '<button class="btn btn-sm btn-success" name="decision" value="approve"'
    ' data-testid="approve-{pk}">Approve</button>'
    '<button class="btn btn-sm btn-outline-danger" name="decision" value="reject"'
    ' data-testid="reject-{pk}">Reject</button></form>'
)


@register.simple_tag(takes_context=True)
def decision_form(context, request_, next_url: str, shown_on: str = "") -> str:
    """Approve, or reject with a reason, one open request; htmx posts it in place, and
    `shown_on` (queue, deal) says which page's counts and badges the answer refreshes."""
    return format_html(
        _DECISION_FORM,
        url=reverse("approval-decide", args=[request_.pk]),
        csrf=context.get("csrf_token", ""),
        next=next_url or "",
        shown_on=shown_on or "",
        max_length=REASON_MAX_LENGTH,
        pk=request_.pk,
    )


@register.filter
def request_state_label(request_) -> str:
    """What happened to a request, not only its state: one superseded before anyone decided
    it was never approved (only pending and approved requests can be superseded)."""
    if request_.state == "superseded":
        return "Superseded after approval" if request_.decided_at else "Superseded before decision"
    return request_.get_state_display()
