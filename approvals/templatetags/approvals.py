from django import template

from approvals.selectors import (
    current_version,
    deal_requests,
    groups_acting_for,
    latest_gate_run,
    reapproval_changes,
)

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
    return {
        "visible": visible,
        "deal": deal,
        "gate_run": latest_gate_run(version) if version else None,
        "requests": requests,
        "acting_for": groups_acting_for(user) if visible else set(),
        "next": context["request"].get_full_path(),
    }
