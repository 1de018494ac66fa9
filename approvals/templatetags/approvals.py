from django import template

from approvals.selectors import (
    current_version,
    deal_requests,
    groups_acting_for,
    latest_gate_run,
)

register = template.Library()


@register.inclusion_tag("approvals/_panel.html", takes_context=True)
def approvals_panel(context, deal):
    """The deal page's approvals card: gate results and the requests, decidable in place."""
    user = context["request"].user
    visible = user.has_perm("approvals.view_approvalrequest")
    version = current_version(deal) if visible else None
    return {
        "visible": visible,
        "deal": deal,
        "gate_run": latest_gate_run(version) if version else None,
        "requests": deal_requests(deal_id=deal.pk) if visible else [],
        "acting_for": groups_acting_for(user) if visible else set(),
        "next": context["request"].get_full_path(),
    }
