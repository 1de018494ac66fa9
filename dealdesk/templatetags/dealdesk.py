import datetime
import json
from decimal import Decimal

from django import template
from django.utils import timezone
from django.utils.html import format_html

from dealdesk.models import DealState
from dealdesk.pricing import PricingError, minor_unit

register = template.Library()


@register.filter
def money(amount: Decimal | None, currency: str = "") -> str:
    """1234567.5, "USD" → "1,234,567.50 USD"; shown at the currency's minor unit."""
    if amount is None:
        return "—"
    try:
        places = minor_unit(currency) if currency else 2
    except PricingError:
        places = 2
    text = f"{amount:,.{places}f}"
    return f"{text} {currency}" if currency else text


@register.simple_tag(takes_context=True)
def sort_header(context, key: str, label: str, numeric: bool = False):
    """A column header that sorts by `key`, toggling direction, keeping the other filters."""
    current = context["sort"]
    descending = current == key
    target = f"-{key}" if descending else key
    arrow = {key: " ▲", f"-{key}": " ▼"}.get(current, "")
    base = context["sort_query"]
    href = f"?{base}&sort={target}" if base else f"?sort={target}"
    css = "num" if numeric else ""
    return format_html('<th class="{}"><a href="{}">{}{}</a></th>', css, href, label, arrow)


@register.filter
def get(mapping: dict, key: str):
    return mapping.get(key) if mapping else None


_STATE_LABELS = dict(DealState.choices)


@register.filter
def state_label(state: str) -> str:
    # Model.get_state_display() rebuilds its choices dict on every call; a list page calls
    # it once a row.
    return _STATE_LABELS.get(state, state)


_ISO_FORMATS = {"minutes": "%Y-%m-%d %H:%M", "seconds": "%Y-%m-%d %H:%M:%S"}


@register.filter
def iso(value: datetime.date | None, precision: str = "minutes") -> str:
    """A date as 2026-11-23; a datetime in the current time zone as 2026-11-23 14:05
    (precision "seconds" adds them). Django's `date` filter costs a list page of 50 rows
    several milliseconds; this is a strftime."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.strftime(_ISO_FORMATS[precision])
    return value.isoformat()


@register.filter
def person(user) -> str:
    """A user as people know them: full name, else username; "—" for nobody."""
    if user is None:
        return "—"
    return user.get_full_name() or user.get_username()


@register.filter
def run_total(run, key: str) -> int:
    """A CRM sync run's count summed over its objects."""
    return run.total(key)


@register.filter
def pretty_json(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)
