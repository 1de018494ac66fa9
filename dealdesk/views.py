"""Deal pages: the list the deal desk lives in, and one deal with its pricing and timeline."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_fsm import TransitionNotAllowed, can_proceed

from dealdesk import selectors, services
from dealdesk.csv_export import csv_download
from dealdesk.deal_export import deal_csv_lines
from dealdesk.drafting import drafting_progress
from dealdesk.forms import (
    CancelDealForm,
    DealFilterForm,
    OptionalReasonForm,
    ReasonForm,
    ResumeForm,
    SavedDealFilterForm,
    first_error,
)
from dealdesk.models import Deal, DealState
from dealdesk.paging import CappedPaginator
from dealdesk.pricing import PricingError
from dealdesk.roles import Role, sees_all_deals
from dealdesk.saved_filters import saved_filter_delete, saved_filter_save, saved_filters_of
from dealdesk.waiting_on import waiting_on

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
    owners = _owner_choices(request.user)
    form = DealFilterForm(request.GET or None, owners=owners)
    deals = _filtered_deals(request, form)
    # Deferred join: page through ids alone (an index walk, however deep the page), then
    # load the page's 50 deals with their joins, instead of joining every skipped row.
    page = CappedPaginator(
        deals.values_list("pk", flat=True), PAGE_SIZE, count_cap=COUNT_CAP
    ).get_page(request.GET.get("page"))
    rows = selectors.deals_in_order(ids=list(page))
    query, sort_query = list_queries(request)
    valid = form.is_bound and form.is_valid()
    states = form.cleaned_data["state"] if valid else request.GET.getlist("state")
    return render(
        request,
        "deals/list.html",
        {
            "form": form,
            # Plain values for the template (BoundField.value() per <option> is costly): as
            # cleaned, or as typed when a filter is refused, so it can be corrected.
            "selected": {
                name: (form.cleaned_data[name] if valid else request.GET.get(name, ""))
                for name in ("q", "pattern", "owner")
            }
            | {"state": states},
            # The listbox shows a few states at a time: name the chosen ones above it.
            "state_summary": ", ".join(
                label for value, label in DealState.choices if value in states
            ),
            "page": page,
            "deals": rows,
            "waiting_on": waiting_on(rows),
            "sort": (valid and form.cleaned_data["sort"]) or selectors.DEFAULT_DEAL_SORT,
            "query": query,
            "sort_query": sort_query,
            "show_owner_filter": bool(owners),
            "saved_filters": saved_filters_of(user=request.user),
        },
    )


def deal_list_export(request: HttpRequest) -> HttpResponse:
    """The deal list as CSV: the same filters and visibility as the page, every match."""
    form = DealFilterForm(request.GET or None, owners=_owner_choices(request.user))
    if form.is_bound and not form.is_valid():
        return HttpResponseBadRequest(
            f"Nothing exported: {first_error(form)}", content_type="text/plain; charset=utf-8"
        )
    return csv_download(deal_csv_lines(_filtered_deals(request, form)), "deals.csv")


def _owner_choices(user: AbstractBaseUser) -> list[str]:
    """Usernames the owner filter offers: Sales people, to those who see every deal."""
    if not sees_all_deals(user):
        return []
    return list(
        get_user_model()
        .objects.filter(groups__name=Role.SALES)
        .order_by("username")
        .values_list("username", flat=True)
    )


def _filtered_deals(request: HttpRequest, form: DealFilterForm) -> QuerySet[Deal]:
    """The deals the list's filters match. A refused filter matches none, not all: the page
    says why, and never passes every deal off as the search's answer."""
    if not form.is_bound:
        return selectors.deal_list(user=request.user)
    if not form.is_valid():
        return Deal.objects.none()
    return selectors.deal_list(user=request.user, **form.selector_filters())


@require_POST
def deal_filter_save(request: HttpRequest) -> HttpResponse:
    form = SavedDealFilterForm(request.POST, owners=_owner_choices(request.user))
    if form.is_valid():
        try:
            saved, created = saved_filter_save(
                user=request.user,
                name=form.cleaned_data["name"],
                query_string=form.cleaned_data["query"],
            )
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
        else:
            messages.success(
                request, f"{'Saved' if created else 'Updated'} the filter “{saved.name}”."
            )
    else:
        messages.error(request, first_error(form))
    # Back to the list as filtered, by the query as cleaned (never as posted).
    back = form.cleaned_data.get("query", "")
    return HttpResponseRedirect(reverse("deal-list") + (f"?{back}" if back else ""))


@require_POST
def deal_filter_delete(request: HttpRequest, pk: int) -> HttpResponse:
    saved = saved_filter_delete(user=request.user, pk=pk)
    messages.success(request, f"Deleted the filter “{saved.name}”.")
    return redirect_back(request, reverse("deal-list"))


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
    manages = request.user.has_perm("dealdesk.manage_deal")
    actions = [
        (name, label) for name, label in PAGE_ACTIONS.items() if manages and _can(deal, name)
    ]
    drafting = drafting_progress(deal)
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
            "can_resume": manages and deal.state == "manual_review",
            "drafting": drafting,
            "can_retry_drafting": manages and drafting is not None and drafting.can_retry,
            "resume_form": ResumeForm(initial={"pattern": deal.pattern}),
            "open_drifts": deal.crm_drifts.filter(status="open"),
            "can_decide_drift": request.user.has_perm("dealdesk.decide_crm_drift"),
        },
    )


def _can(deal: Deal, transition: str) -> bool:
    return can_proceed(getattr(deal, transition), check_conditions=False)


# The form each action posts, when not a plain reason: cancelling is confirmed with a tick.
ACTION_FORMS = {
    "resume": ResumeForm,
    "cancel": CancelDealForm,
    "retry_drafting": OptionalReasonForm,
}


@require_POST
@permission_required("dealdesk.manage_deal", raise_exception=True)
def deal_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    deal = selectors.deal_get(user=request.user, pk=pk)
    if action not in PAGE_ACTIONS and action not in ACTION_FORMS:
        raise PermissionDenied(f"{action} is not an action of this page")
    form = ACTION_FORMS.get(action, ReasonForm)(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect(deal_detail, pk=deal.pk)
    reason = form.cleaned_data["reason"]
    try:
        if action == "resume":
            services.deal_resume(
                deal_id=deal.pk,
                actor=request.user,
                pattern_code=form.cleaned_data["pattern"].code,
                reason=reason,
            )
            done = "resumed"
        elif action == "retry_drafting":
            services.deal_retry_drafting(deal_id=deal.pk, actor=request.user, reason=reason)
            done = "drafting sent again"
        else:
            services.PERSON_ACTIONS[action](deal_id=deal.pk, actor=request.user, reason=reason)
            done = PAGE_ACTIONS[action]
    except (TransitionNotAllowed, services.ReasonRequired) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{deal.name}: {done}.")
    return redirect(deal_detail, pk=deal.pk)
