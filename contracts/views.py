"""Legal review pages: the queue, one version with its notes and clauses, diffs, documents.

Everyone with the view permission reads; only Legal (contracts.review_contract) acts, and
every action goes through contracts.services, which checks again.
"""

import io

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.html import format_html
from django.views.decorators.http import require_POST
from django_fsm import TransitionNotAllowed

from contracts import selectors, services
from contracts.forms import param_fields, params_from_post
from contracts.models import REVIEW_PERM, ClauseType, ContractState, ContractVersion
from dealdesk.forms import OptionalReasonForm, first_error
from dealdesk.roles import SegregationOfDutiesError
from dealdesk.views import list_queries

PAGE_SIZE = 50
VIEW_PERM = "contracts.view_contractversion"
QUEUE_STATES = [
    ("legal_review", "Waiting for legal"),
    *[(s, label) for s, label in ContractState.choices if s != "legal_review"],
    ("", "All"),
]


@permission_required(VIEW_PERM, raise_exception=True)
def review_queue(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "legal_review")
    sort = request.GET.get("sort", "")
    versions = selectors.contract_queue(
        user=request.user, state=state, q=request.GET.get("q", "").strip(), sort=sort
    )
    page = Paginator(versions, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "contracts/queue.html",
        {
            "page": page,
            "query": list_queries(request)[0],
            "state": state,
            "states": QUEUE_STATES,
            "q": request.GET.get("q", ""),
            "sort": sort,
        },
    )


def _can_review(request: HttpRequest, version: ContractVersion) -> bool:
    return (
        request.user.has_perm(REVIEW_PERM)
        and version.state in (ContractState.DRAFT, ContractState.LEGAL_REVIEW)
        and version.deal.state == "in_review"
    )


@permission_required(VIEW_PERM, raise_exception=True)
def version_detail(request: HttpRequest, pk: int) -> HttpResponse:
    version = selectors.contract_get(user=request.user, pk=pk)
    accepted = set(version.decisions.values_list("clause_index", flat=True))
    clauses = [
        {
            **clause,
            "index": i,
            "accepted": i in accepted,
            "fields": param_fields(clause["type"], clause["params"]),
        }
        for i, clause in enumerate(version.clauses)
    ]
    return render(
        request,
        "contracts/review.html",
        {
            "version": version,
            "deal": version.deal,
            "clauses": clauses,
            "segments": selectors.highlighted_notes(
                version.snapshot.get("notes", ""), version.clauses
            ),
            "versions": selectors.deal_contract_versions(deal_id=version.deal_id),
            "can_review": _can_review(request, version),
            "library": ClauseType.objects.exclude(banned=True).order_by("position"),
        },
    )


@permission_required(VIEW_PERM, raise_exception=True)
def version_document(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    if kind not in ("pdf", "docx"):
        raise Http404(kind)
    version = selectors.contract_get(user=request.user, pk=pk)
    try:
        content = selectors.verified_document(version=version, kind=kind, actor=request.user)
    except selectors.DocumentTampered as exc:
        response = render(
            request,
            "contracts/document_tampered.html",
            {"version": version, "error": str(exc)},
            status=409,
        )
    else:
        filename = f"{version.deal.crm_id}-v{version.number}.{kind}"
        # The PDF shows inline in the review page's frame; the DOCX is a download for edits.
        response = FileResponse(
            io.BytesIO(content), as_attachment=kind == "docx", filename=filename
        )
    if kind == "pdf":
        response["X-Frame-Options"] = "SAMEORIGIN"
    return response


@permission_required(VIEW_PERM, raise_exception=True)
def version_diff(request: HttpRequest, pk: int) -> HttpResponse:
    new = selectors.contract_get(user=request.user, pk=pk)
    against = request.GET.get("against", "")
    against = int(against) if against.isdigit() else new.supersedes_id
    if against is None:
        messages.info(request, "This is the first version: nothing to compare with.")
        return redirect("contract-version", pk=new.pk)
    old = get_object_or_404(ContractVersion, pk=against, deal_id=new.deal_id)
    return render(
        request,
        "contracts/diff.html",
        {
            "old": old,
            "new": new,
            "deal": new.deal,
            "changes": selectors.clause_changes(old.clauses, new.clauses),
            "text_diff": selectors.text_diff(old, new),
        },
    )


# What a review service refuses with a message for the reviewer (not a 403 or a 500).
REFUSALS = (services.ContractReviewError, TransitionNotAllowed, SegregationOfDutiesError)


def _act(request: HttpRequest, version: ContractVersion, action) -> HttpResponse:
    """Run one review service and show the version it leaves (a new one after an edit)."""
    try:
        result = action()
    except REFUSALS as exc:
        messages.error(request, str(exc))
        result = version
    return redirect("contract-version", pk=result.pk)


@require_POST
@permission_required(REVIEW_PERM, raise_exception=True)
def clause_action(request: HttpRequest, pk: int, index: int, action: str) -> HttpResponse:
    version = selectors.contract_get(user=request.user, pk=pk)
    form = OptionalReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect("contract-version", pk=version.pk)
    reason = form.cleaned_data["reason"].strip()
    if action == "accept":
        try:
            services.contract_clause_accept(
                version_id=version.pk, clause_index=index, actor=request.user
            )
        except REFUSALS as exc:
            # htmx swaps 2xx answers only: the refusal takes the button's place.
            return HttpResponse(format_html('<span class="text-danger small">{}</span>', exc))
        return render(request, "contracts/_accepted.html", {"index": index})
    if action == "edit":
        clause_type = version.clauses[index]["type"] if index < len(version.clauses) else "other"
        params = params_from_post(clause_type, request.POST)
        return _act(
            request,
            version,
            lambda: services.contract_clause_edit(
                version_id=version.pk,
                clause_index=index,
                params=params,
                actor=request.user,
                reason=reason or "params edited",
            ),
        )
    if action == "reject":
        # Removing a clause is not undone by a click: the page confirms, and the service
        # refuses it without a reason.
        return _act(
            request,
            version,
            lambda: services.contract_clause_reject(
                version_id=version.pk, clause_index=index, actor=request.user, reason=reason
            ),
        )
    raise PermissionDenied(f"{action} is not a clause action")


@require_POST
@permission_required(REVIEW_PERM, raise_exception=True)
def version_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    version = selectors.contract_get(user=request.user, pk=pk)
    form = OptionalReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect("contract-version", pk=version.pk)
    reason = form.cleaned_data["reason"]
    if action == "add":
        clause_type = request.POST.get("clause_type", "")
        if clause_type not in {c.code for c in ClauseType.objects.all()}:
            messages.error(request, "Pick a clause from the library.")
            return redirect("contract-version", pk=version.pk)
        params = params_from_post(clause_type, request.POST)
        return _act(
            request,
            version,
            lambda: services.contract_clause_add(
                version_id=version.pk,
                clause_type=clause_type,
                params=params,
                actor=request.user,
                reason=reason or "added from the library",
            ),
        )
    if action == "approve":
        return _act(
            request,
            version,
            lambda: services.contract_approve(
                version_id=version.pk, actor=request.user, note=reason
            ),
        )
    if action == "request-changes":
        if not reason:
            messages.error(request, "Say why: a reason is required to request changes.")
            return redirect("contract-version", pk=version.pk)
        return _act(
            request,
            version,
            lambda: services.contract_request_changes(
                version_id=version.pk, actor=request.user, reason=reason
            ),
        )
    raise PermissionDenied(f"{action} is not a contract action")


@permission_required(VIEW_PERM, raise_exception=True)
def library_params(request: HttpRequest) -> HttpResponse:
    """htmx: the param inputs of the clause type picked in the add-clause form."""
    clause_type = get_object_or_404(ClauseType, code=request.GET.get("clause_type", ""))
    return render(
        request,
        "contracts/_param_inputs.html",
        {"fields": param_fields(clause_type.code, {}, clause_type.default_params)},
    )
