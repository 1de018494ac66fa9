"""My approvals (the queue) and deciding a request in place, from the queue or the deal page."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from approvals import selectors
from approvals.forms import DecisionForm, DelegationForm, QueueFilterForm
from approvals.models import DECIDE_PERM, ApprovalRequest
from approvals.services import (
    ApprovalError,
    approval_delegation_create,
    approval_delegation_revoke,
    approval_request_decide,
)
from dealdesk.forms import first_error
from dealdesk.middleware import DATABASE_BUSY, is_database_locked
from dealdesk.paging import CappedPaginator
from dealdesk.views import list_queries, redirect_back

PAGE_SIZE = 25
# Counted up to this many ("10,000+ open requests"), see CappedPaginator.
COUNT_CAP = 10_000
FILTERS = ("group", "q", "min_tcv")


@login_required
def my_approvals(request: HttpRequest) -> HttpResponse:
    groups = selectors.acting_groups(request.user)
    form = QueueFilterForm(request.GET, groups=groups)
    filters = form.filters()
    requests, sort = selectors.approval_queue(user=request.user, groups=groups, **filters)
    # Deferred join, as the deal list: page through ids alone (an index walk however deep
    # the page), then load the page's rows with their joins.
    page = CappedPaginator(
        requests.values_list("pk", flat=True), PAGE_SIZE, count_cap=COUNT_CAP
    ).get_page(request.GET.get("page"))
    query, sort_query = list_queries(request)
    return render(
        request,
        "approvals/queue.html",
        {
            "form": form,
            "selected": {name: filters.get(name, "") for name in FILTERS},
            "page": page,
            "rows": selectors.queue_rows(ids=list(page)),
            "sort": sort,
            "query": query,
            "sort_query": sort_query,
            "filtered": any(name in filters for name in FILTERS),
            **_delegations(request),
        },
    )


def _delegations(request: HttpRequest) -> dict:
    given, received = selectors.delegations_of(user=request.user)
    return {"delegations_given": given, "delegations_received": received}


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
        approval_request.refresh_from_db()
        return render(
            request,
            "approvals/_decision.html",
            {"request_": approval_request, "error": error},
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"{approval_request.get_state_display()}: {approval_request}")
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
    except (ApprovalError, PermissionDenied) as exc:
        messages.error(request, str(exc))
    return redirect("my-approvals")
