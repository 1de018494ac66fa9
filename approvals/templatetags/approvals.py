from django import template
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from approvals.selectors import (
    deal_requests,
    groups_acting_for,
    latest_gate_run,
    reapproval_changes,
)
from contracts.selectors import current_version
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
    for request in requests:
        # The re-approval view: what changed since this group last granted the deal.
        request.changes = reapproval_changes(request) if request.state == "pending" else []
    unmapped = owner_unmapped(deal) if visible else ""
    return {
        "visible": visible,
        "deal": deal,
        "owner_unmapped": unmapped,
        "owner_form": OwnerForm() if unmapped and user.has_perm(MANAGE_PERM) else None,
        "gate_run": latest_gate_run(version) if version else None,
        "requests": requests,
        "acting_for": groups_acting_for(user) if visible else set(),
        "next": context["request"].get_full_path(),
    }


# Tags rather than includes: My approvals shows both on each of its 25 rows, where an
# include with its csrf_token and url tags costs the page several milliseconds.
@register.simple_tag
def gate_list(gates: list[dict]) -> str:
    """A gate run's results: each gate's badge and its reasons."""
    items = format_html_join(
        "",
        '<li><span class="badge {}">{}</span> {}</li>',
        (
            (
                "text-bg-success" if gate["passed"] else "text-bg-danger",
                gate["gate"],
                "; ".join(gate["reasons"]),
            )
            for gate in gates
        ),
    )
    return format_html('<ul class="list-unstyled small mb-0" data-testid="gates">{}</ul>', items)


_DECISION_FORM = (
    '<form method="post" action="{url}" hx-post="{url}" hx-target="closest .approval-decision"'
    ' hx-swap="outerHTML" class="d-flex gap-1 align-items-center">'
    '<input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">'
    '<input type="hidden" name="next" value="{next}">'
    '<input type="text" name="reason" class="form-control form-control-sm"'
    ' placeholder="Reason (required to reject)" aria-label="Reason">'
    '<button class="btn btn-sm btn-success" name="decision" value="approve"'
    ' data-testid="approve-{pk}">Approve</button>'
    '<button class="btn btn-sm btn-outline-danger" name="decision" value="reject"'
    ' data-testid="reject-{pk}">Reject</button></form>'
)


@register.simple_tag(takes_context=True)
def decision_form(context, request_, next_url: str) -> str:
    """Approve, or reject with a reason, one open request; htmx posts it in place."""
    return format_html(
        _DECISION_FORM,
        url=reverse("approval-decide", args=[request_.pk]),
        csrf=context.get("csrf_token", ""),
        next=next_url or "",
        pk=request_.pk,
    )
