"""My approvals (the queue) and deciding a request in place, from the queue or the deal page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from approvals import selectors
from approvals.models import DECIDE_PERM, ApprovalRequest
from approvals.services import ApprovalError, approval_request_decide

PAGE_SIZE = 25


@login_required
def my_approvals(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.approval_queue(user=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "approvals/queue.html", {"page": page})


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
