from django import template

from billing import selectors

register = template.Library()


@register.inclusion_tag("billing/_deal_panel.html", takes_context=True)
def billing_panel(context, deal):
    """The deal page's Billing card: the newest record, what stopped it, its invoices, the
    payments allocated to them, the open AR items (five queries, whatever the deal holds)."""
    user = context["request"].user
    billing = (
        selectors.deal_billing(deal_id=deal.pk)
        if user.has_perm("billing.view_billingrecord")
        else selectors.DealBilling(record=None, invoices=[], allocations=[], open_ar_items=[])
    )
    record = billing.record
    return {
        "deal": deal,
        "record": record,
        "invoices": billing.invoices,
        "allocations": billing.allocations,
        "open_ar_items": billing.open_ar_items,
        "can_retry": record is not None
        and record.state == "exception"
        and user.has_perm("billing.manage_billing"),
        "sees_finance_pages": user.has_perm("billing.view_invoice"),
        # Whom billing/ar_views.py lets open an AR item.
        "sees_ar_items": user.has_perm("billing.manage_billing")
        or user.has_perm("billing.view_aritem"),
        "csrf_token": context.get("csrf_token"),
    }


# The tab a billing page belongs to, by the start of its URL name ("import-detail" → imports).
_TAB_OF_URL_NAME = {
    "exception": "exceptions",
    "invoices": "invoices",
    "payment": "payments",
    "import": "imports",
    "ar": "ar",
    "dead-letter": "dead-letters",
}


@register.simple_tag(takes_context=True)
def finance_tabs(context) -> dict:
    """The Finance tab bar's state (templates/billing/_tabs.html): the counts of work waiting
    and the tab of the page being shown, found from its URL name so no view has to say it."""
    match = context["request"].resolver_match
    url_name = match.url_name if match and match.namespace == "billing" else ""
    active = next(
        (
            tab
            for prefix, tab in _TAB_OF_URL_NAME.items()
            if url_name == prefix or url_name.startswith(f"{prefix}-") or url_name == f"{prefix}s"
        ),
        "",
    )
    return {"counts": selectors.finance_tab_counts(), "active": active}
