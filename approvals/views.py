"""My approvals (the queue) and deciding a request in place, from the queue or the deal page."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from approvals import selectors
from approvals.forms import (
    DEAL_PAGE,
    QUEUE_PAGE,
    BatchApproveForm,
    DecisionForm,
    DelegationForm,
    QueueFilterForm,
)
from approvals.models import DECIDE_PERM, ApprovalDelegation, ApprovalRequest, R
from approvals.services import (
    ApprovalError,
    approval_delegation_create,
    approval_delegation_revoke,
    approval_request_decide,
    approval_requests_approve,
)
from dealdesk.forms import first_error
from dealdesk.middleware import DATABASE_BUSY, is_database_locked
from dealdesk.paging import CappedPaginator
from dealdesk.views import list_queries, redirect_back, safe_next_url

PAGE_SIZE = 25
# Counted up to this many ("10,000+ open requests"), see CappedPaginator.
COUNT_CAP = 10_000
FILTERS = ("group", "q", "min_tcv")


@login_required
def my_approvals(request: HttpRequest) -> HttpResponse:
    groups = selectors.acting_groups(request.user)
    queue = _queue(request.user, request.GET, groups)
    page = queue["paginator"].get_page(request.GET.get("page"))
    rows = selectors.queue_rows(ids=list(page), decider=request.user)
    facts = selectors.DeciderFacts(
        acting_group_ids=frozenset(groups),
        suspect_request_ids=frozenset(row.pk for row in rows if row.decider_suspect),
    )
    refusals = selectors.decision_refusals(user=request.user, requests=rows, facts=facts)
    for row in rows:
        row.refusal = refusals.get(row.pk, "")
    query, sort_query = list_queries(request)
    return render(
        request,
        "approvals/queue.html",
        {
            **queue,
            "page": page,
            "rows": rows,
            "query": query,
            "sort_query": sort_query,
            "batch_form": BatchApproveForm(),
            **_delegations(request),
        },
    )


def _queue(user, params: QueryDict, groups: dict[int, str]) -> dict:
    """The queue as `params` (a query string) filter and sort it, paged by id."""
    form = QueueFilterForm(params, groups=groups)
    filters = form.filters()
    requests, sort = selectors.approval_queue(user=user, groups=groups, **filters)
    return {
        "form": form,
        "selected": {name: filters.get(name, "") for name in FILTERS},
        "sort": sort,
        "filtered": any(name in filters for name in FILTERS),
        # Deferred join, as the deal list: page through ids alone (an index walk however
        # deep the page), then load the page's rows with their joins.
        "paginator": CappedPaginator(
            requests.values_list("pk", flat=True), PAGE_SIZE, count_cap=COUNT_CAP
        ),
    }


def _delegations(request: HttpRequest) -> dict:
    given, received = selectors.delegations_of(user=request.user)
    return {"delegations_given": given, "delegations_received": received}


@login_required
def nav_count(request: HttpRequest) -> HttpResponse:
    """The navigation's count of open requests, fetched by the page after it loads (so no
    page pays for it) and sent again, out of band, with every decision taken in place."""
    return render(request, "approvals/_nav_count.html", _nav_count(request))


def _nav_count(request: HttpRequest) -> dict:
    return {"open_count": selectors.open_request_count(user=request.user)}


@require_POST
@permission_required(DECIDE_PERM, raise_exception=True)
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    approval_request = get_object_or_404(ApprovalRequest, pk=pk)
    form = DecisionForm(request.POST)
    error = ""
    try:
        if not form.is_valid():
            raise ApprovalError(first_error(form))
        approval_request = approval_request_decide(
            request_id=pk,
            actor=request.user,
            approve=form.cleaned_data["decision"] == "approve",
            reason=form.cleaned_data["reason"],
        )
    except (ApprovalError, PermissionDenied) as exc:
        # Refusals are answered in place (htmx swaps 2xx only): the person sees why,
        # nothing changed.
        error = str(exc)
    except OperationalError as exc:
        # SQLite: another decision held the write lock past the timeout. Nothing was saved.
        if not is_database_locked(exc):
            raise
        error = DATABASE_BUSY
    if request.headers.get("HX-Request"):
        return _decided_in_place(request, approval_request, error, form)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"{approval_request.get_state_display()}: {approval_request}")
    return redirect_back(request, reverse("my-approvals"))


def _decided_in_place(
    request: HttpRequest, approval_request: ApprovalRequest, error: str, form: DecisionForm
) -> HttpResponse:
    """The request's decision cell, and, out of band, what the decision changed elsewhere on
    the page: the navigation's count, and the queue's count or the deal's state badge."""
    approval_request.refresh_from_db()
    if approval_request.state == R.PENDING:
        refusals = selectors.decision_refusals(user=request.user, requests=[approval_request])
        approval_request.refusal = refusals.get(approval_request.pk, "")
    shown_on = form.cleaned_data.get("shown_on") if form.is_valid() else ""
    context = {
        "request_": approval_request,
        "error": error,
        "shown_on": shown_on,
        "next": safe_next_url(request, reverse("my-approvals")),
        **_nav_count(request),
    }
    if shown_on == QUEUE_PAGE:
        # The count the page shows is of its own filters, which its URL (`next`) carries.
        params = QueryDict(urlsplit(context["next"]).query)
        groups = selectors.acting_groups(request.user)
        context.update(_queue(request.user, params, groups))
    elif shown_on == DEAL_PAGE:
        context["deal"] = approval_request.deal  # read again: the decision may have moved it
    return render(request, "approvals/_decided.html", context)


@require_POST
@permission_required(DECIDE_PERM, raise_exception=True)
def approve_selected(request: HttpRequest) -> HttpResponse:
    """My approvals' "Approve selected": each request decided on its own, every outcome said."""
    form = BatchApproveForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect_back(request, reverse("my-approvals"))
    outcomes = approval_requests_approve(
        request_ids=form.cleaned_data["ids"],
        actor=request.user,
        reason=form.cleaned_data["reason"],
    )
    approved = [outcome.label for outcome in outcomes if not outcome.error]
    if approved:
        messages.success(request, f"Approved {len(approved)}: " + "; ".join(approved))
    for outcome in outcomes:
        if outcome.error:
            messages.error(request, f"Not approved: {outcome.label}: {outcome.error}")
    return redirect_back(request, reverse("my-approvals"))


@login_required
def delegation_create(request: HttpRequest) -> HttpResponse:
    """The person away hands on one of their groups' authority (the service checks it all)."""
    form = DelegationForm(request.POST or None, delegator=request.user)
    if form.is_valid():
        try:
            approval_delegation_create(
                **form.cleaned_data, delegator=request.user, actor=request.user
            )
            messages.success(request, "Delegation recorded.")
            return redirect("my-approvals")
        except (ApprovalError, PermissionDenied) as exc:
            form.add_error(None, str(exc))
    return render(
        request,
        "approvals/delegation_form.html",
        {"form": form, "max_days": settings.APPROVAL_DELEGATION_MAX_DAYS},
    )


@require_POST
@login_required
def delegation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        approval_delegation_revoke(delegation_id=pk, actor=request.user)
        messages.success(request, "Delegation revoked.")
    except ApprovalDelegation.DoesNotExist:
        raise Http404("no such delegation") from None
    except (ApprovalError, PermissionDenied) as exc:
        messages.error(request, str(exc))
    return redirect("my-approvals")
