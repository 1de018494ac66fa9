"""The deal list's rows, with who each deal waits on (dealdesk/waiting_on.py)."""

from django import template
from django.urls import reverse
from django.utils.html import format_html_join

from dealdesk.templatetags.dealdesk import iso, money, person, state_label

register = template.Library()

_ROW = (
    '<tr><td><a href="{}">{}</a><div class="text-body-secondary small">{}</div></td>'
    '<td>{}</td><td><span class="badge state state-{}">{}</span></td>'
    '<td class="small" data-testid="waiting-on">{}</td><td>{}</td><td>{}</td>'
    '<td class="text-nowrap">{}</td><td class="num">{} mo</td><td class="num">{}</td>'
    '<td class="text-nowrap text-body-secondary">{}</td></tr>'
)


@register.simple_tag
def deal_list_rows(deals, waiting_on: dict[int, str]) -> str:
    """The rows, escaped by format_html. Built here rather than cell by cell in the
    template: 50 rows are some 700 template variables, a third of the page's server time
    (bench/bench_deal_list.py)."""
    return format_html_join(
        "",
        _ROW,
        (
            (
                reverse("deal-detail", args=[deal.pk]),
                deal.name,
                deal.crm_id,
                deal.account.name,
                deal.state,
                state_label(deal.state),
                waiting_on[deal.pk],
                deal.pattern.name if deal.pattern else "—",
                person(deal.owner),
                iso(deal.start_date),
                deal.term_months,
                money(deal.tcv, deal.currency),
                iso(deal.updated_at),
            )
            for deal in deals
        ),
    )
