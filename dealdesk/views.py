"""Deal pages: the list the deal desk lives in, and one deal with its pricing and timeline."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_fsm import TransitionNotAllowed, can_proceed

from dealdesk import selectors, services
from dealdesk.forms import DealFilterForm, ReasonForm, ResumeForm, first_error
from dealdesk.models import Deal
from dealdesk.paging import CappedPaginator
from dealdesk.pricing import PricingError
from dealdesk.roles import Role, sees_all_deals

PAGE_SIZE = 50
# The deal list counts up to this many matches ("10,000+ deals"), see CappedPaginator.
COUNT_CAP = 10_000
# Actions a person may take from the deal page: transition name → button label.
PAGE_ACTIONS = {
    "send_to_manual_review": "Send to manual review",
    "redraft": "Re-draft",
    "cancel": "Cancel deal",
}


def deal_list(request: HttpRequest) -> HttpResponse:
    owners = []
    if sees_all_deals(request.user):
        owners = list(
            get_user_model()
            .objects.filter(groups__name=Role.SALES)
            .order_by("username")
            .values_list("username", flat=True)
        )
    form = DealFilterForm(request.GET or None, owners=owners)
    filters = form.cleaned_data if form.is_valid() else {}
    deals = selectors.deal_list(
        user=request.user,
        **{k: v for k, v in filters.items() if v},
    )
    # Deferred join: page through ids alone (an index walk, however deep the page), then
    # load the page's 50 deals with their joins, instead of joining every skipped row.
    page = CappedPaginator(
        deals.values_list("pk", flat=True), PAGE_SIZE, count_cap=COUNT_CAP
    ).get_page(request.GET.get("page"))
    rows = selectors.deals_in_order(ids=list(page))
    query, sort_query = list_queries(request)
    return render(
        request,
        "deals/list.html",
        {
            "form": form,
            # Plain strings for the template: BoundField.value() per <option> is costly.
            "selected": {
                name: filters.get(name) or "" for name in ("q", "state", "pattern", "owner")
            },
            "page": page,
            "deals": rows,
            "sort": filters.get("sort") or selectors.DEFAULT_DEAL_SORT,
            "query": query,
            "sort_query": sort_query,
            "show_owner_filter": bool(owners),
        },
    )


def list_queries(request: HttpRequest) -> tuple[str, str]:
    """A list page's query string without its page (for pager links) and also without its
    sort (for sort links)."""
    query = request.GET.copy()
    query.pop("page", None)
    sort_query = query.copy()
    sort_query.pop("sort", None)
    return query.urlencode(), sort_query.urlencode()


def safe_next_url(request: HttpRequest, fallback: str) -> str:
    """The page the request names in `next` if it is one of ours, else `fallback`. `next`
    comes from the request: anything off-site (`https://evil.example`, `//evil.example`,
    `javascript:`) would make our domain an open redirect."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def redirect_back(request: HttpRequest, fallback: str) -> HttpResponseRedirect:
    """After a POST: back to the page that sent it (see safe_next_url). Not `redirect()`:
    it would read a bare word in `next` as a URL name to reverse (a 500 when it is none)."""
    return HttpResponseRedirect(safe_next_url(request, fallback))


def deal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    deal = selectors.deal_get(user=request.user, pk=pk)
    lines = selectors.deal_lines(deal=deal)
    pricing, pricing_error = None, ""
    try:
        pricing = selectors.deal_pricing(deal, lines) if lines else None
    except PricingError as exc:
        pricing_error = str(exc)
    product_of = {str(line.pk): line.product for line in lines}
    actions = [
        (name, label)
        for name, label in PAGE_ACTIONS.items()
        if request.user.has_perm("dealdesk.manage_deal") and _can(deal, name)
    ]
    return render(
        request,
        "deals/detail.html",
        {
            "deal": deal,
            "lines": lines,
            "pricing": pricing,
            "pricing_error": pricing_error,
            "product_of": product_of,
            "timeline": selectors.deal_timeline(deal=deal),
            "actions": actions,
            "can_resume": request.user.has_perm("dealdesk.manage_deal")
            and deal.state == "manual_review",
            "resume_form": ResumeForm(initial={"pattern": deal.pattern}),
            "open_drifts": deal.crm_drifts.filter(status="open"),
            "can_decide_drift": request.user.has_perm("dealdesk.decide_crm_drift"),
        },
    )


def _can(deal: Deal, transition: str) -> bool:
    return can_proceed(getattr(deal, transition), check_conditions=False)


@require_POST
@permission_required("dealdesk.manage_deal", raise_exception=True)
def deal_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    deal = selectors.deal_get(user=request.user, pk=pk)
    form = ResumeForm(request.POST) if action == "resume" else ReasonForm(request.POST)
    if action not in PAGE_ACTIONS and action != "resume":
        raise PermissionDenied(f"{action} is not an action of this page")
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect(deal_detail, pk=deal.pk)
    try:
        if action == "resume":
            services.deal_resume(
                deal_id=deal.pk,
                actor=request.user,
                pattern_code=form.cleaned_data["pattern"].code,
                reason=form.cleaned_data["reason"],
            )
        else:
            services.PERSON_ACTIONS[action](
                deal_id=deal.pk, actor=request.user, reason=form.cleaned_data["reason"]
            )
    except (TransitionNotAllowed, services.ReasonRequired) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{deal.name}: {PAGE_ACTIONS.get(action, 'resumed')}.")
    return redirect(deal_detail, pk=deal.pk)
