"""The CRM sync page (runs, quarantine, drift) and its actions: sync now, accept, dismiss."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_fsm import TransitionNotAllowed

from dealdesk import services
from dealdesk.crm import selectors as crm_selectors
from dealdesk.crm import services as crm_services
from dealdesk.crm import tasks
from dealdesk.crm.mapping import OBJECT_FIELDS
from dealdesk.crm.models import CrmDrift, SyncRun
from dealdesk.forms import OptionalReasonForm, first_error
from dealdesk.views import list_queries, redirect_back

PAGE_SIZE = 25
TABS = {"runs": "Runs", "quarantine": "Quarantine", "drift": "Drift"}


@permission_required("dealdesk.view_syncrun", raise_exception=True)
def crm_sync_page(request: HttpRequest) -> HttpResponse:
    tab = request.GET.get("tab") if request.GET.get("tab") in TABS else "runs"
    sort = request.GET.get("sort", "")
    filters = {
        "status": request.GET.get("status", ""),
        "object": request.GET.get("object", ""),
        "q": request.GET.get("q", "")[:100],
        "resolved": request.GET.get("resolved") == "1",
    }
    if tab == "runs":
        rows, sort = crm_selectors.sync_runs(status=filters["status"], sort=sort)
    elif tab == "quarantine":
        rows, sort = crm_selectors.quarantined_records(
            object_name=filters["object"], resolved=filters["resolved"], q=filters["q"], sort=sort
        )
    else:
        rows, sort = crm_selectors.crm_drifts(status=filters["status"] or "open", sort=sort)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query, sort_query = list_queries(request)
    return render(
        request,
        "crm/sync.html",
        {
            "tab": tab,
            "tabs": TABS,
            "page": page,
            "sort": sort,
            "filters": filters,
            "query": query,
            "sort_query": sort_query,
            "last_run": crm_selectors.last_sync_run(),
            "unmapped_owners": crm_selectors.unmapped_crm_owners(),
            "run_statuses": SyncRun.Status.choices,
            "drift_statuses": CrmDrift.Status.choices,
            "objects": list(OBJECT_FIELDS),
            "can_sync": request.user.has_perm("dealdesk.run_crm_sync"),
            "can_decide": request.user.has_perm("dealdesk.decide_crm_drift"),
        },
    )


@require_POST
@permission_required("dealdesk.run_crm_sync", raise_exception=True)
def crm_sync_now(request: HttpRequest) -> HttpResponse:
    # After commit, like every enqueue; without a broker the run happens right here.
    user_id = request.user.pk
    transaction.on_commit(lambda: tasks.crm_sync.delay(triggered_by_id=user_id))
    messages.success(request, "CRM sync started; its run appears below.")
    return redirect("crm-sync")


@require_POST
def crm_drift_decide(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    form = OptionalReasonForm(request.POST)
    back = redirect_back(request, reverse("crm-sync") + "?tab=drift")
    if not form.is_valid():
        messages.error(request, first_error(form))
        return back
    reason = form.cleaned_data["reason"]
    try:
        if decision == "accept":
            crm_services.crm_drift_accept(drift_id=pk, actor=request.user, reason=reason)
            messages.success(request, "CRM change accepted: the deal is back in drafting.")
        elif decision == "dismiss":
            crm_services.crm_drift_dismiss(drift_id=pk, actor=request.user, reason=reason)
            messages.success(request, "CRM change dismissed.")
        else:
            raise PermissionDenied(f"{decision} is not a drift decision")
    except (TransitionNotAllowed, services.ReasonRequired) as exc:
        messages.error(request, str(exc))
    return back
