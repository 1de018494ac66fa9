"""My approvals (the queue) and deciding a request in place, from the queue or the deal page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from approvals import selectors
from approvals.forms import QueueFilterForm
from approvals.models import DECIDE_PERM, ApprovalRequest
from approvals.services import ApprovalError, approval_request_decide
from dealdesk.paging import CappedPaginator
from dealdesk.views import list_queries

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
        },
    )


@require_POST
@permission_required(DECIDE_PERM, raise_exception=True)
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    approval_request = get_object_or_404(ApprovalRequest, pk=pk)
    approve = request.POST.get("decision") == "approve"
    error = ""
    try:
        approval_request = approval_request_decide(
            request_id=pk,
            actor=request.user,
            approve=approve,
            reason=request.POST.get("reason", ""),
        )
    except (ApprovalError, PermissionDenied) as exc:
        # Refusals are answered in place (htmx swaps 2xx only): the person sees why,
        # nothing changed.
        error = str(exc)
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
    return redirect(request.POST.get("next") or "my-approvals")
