from django import template

from contracts.selectors import deal_contract_versions

register = template.Library()


@register.inclusion_tag("contracts/_deal_versions.html", takes_context=True)
def contract_versions(context, deal):
    """The deal page's contract card (one query), for those who may read contracts."""
    user = context["request"].user
    visible = user.has_perm("contracts.view_contractversion")
    return {
        "versions": deal_contract_versions(deal_id=deal.pk) if visible else [],
        "visible": visible,
    }
