from django import template

from contracts.esign.desk_views import panel_context

register = template.Library()


@register.inclusion_tag("esign/desk/_panel.html", takes_context=True)
def signature_panel(context, deal):
    """The deal page's Signature card; the same template its polling fetches."""
    return panel_context(context["request"], deal)
