from django import template

from billing.models import BillingRecord

register = template.Library()


@register.inclusion_tag("billing/_deal_panel.html", takes_context=True)
def billing_panel(context, deal):
    """The deal page's Billing card: the newest record, what stopped it, its invoices."""
    user = context["request"].user
    record = (
        BillingRecord.objects.filter(deal=deal)
        .select_related("version")
        .prefetch_related("invoices")
        .order_by("-pk")
        .first()
        if user.has_perm("billing.view_billingrecord")
        else None
    )
    return {
        "deal": deal,
        "record": record,
        "invoices": list(record.invoices.all()) if record else [],
        "can_retry": record is not None
        and record.state == "exception"
        and user.has_perm("billing.manage_billing"),
        "csrf_token": context.get("csrf_token"),
    }
