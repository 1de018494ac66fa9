"""The exception inbox page, its navigation count, and its three small actions: assign to
me, hand back, and the daily digest on or off."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from dealdesk.views import list_queries, redirect_back
from inbox import selectors, services
from inbox.forms import WHO_CHOICES, DigestForm, InboxFilterForm, ItemForm
from inbox.models import USE_INBOX_PERM


@require_GET
@permission_required(USE_INBOX_PERM, raise_exception=True)
def inbox_list(request: HttpRequest) -> HttpResponse:
    sources = selectors.sources_for(request.user)
    form = InboxFilterForm(request.GET, sources=sources, user=request.user)
    filters = form.filters()
    now = timezone.now()
    page, rows = selectors.inbox_page(
        user=request.user, filters=filters, now=now, page_number=request.GET.get("page")
    )
    counts = selectors.kind_counts(user=request.user, filters=filters, now=now)
    query, _ = list_queries(request)
    kind_query = request.GET.copy()
    for name in ("kind", "page"):
        kind_query.pop(name, None)
    return render(
        request,
        "inbox/list.html",
        {
            "form": form,
            "filters": filters,
            "who_choices": WHO_CHOICES,
            "page": page,
            "rows": rows,
            "now": now,
            "counts": [(kind, sources[kind].label, n) for kind, n in counts.items()],
            "query": query,
            "kind_query": kind_query.urlencode(),
            "digest_wanted": services.digest_wanted(request.user),
            "next": request.get_full_path(),
        },
    )


@require_GET
@permission_required(USE_INBOX_PERM, raise_exception=True)
def nav_count(request: HttpRequest) -> HttpResponse:
    """The navigation's badge, fetched by the page after it loads (no page pays for it)."""
    return render(
        request,
        "inbox/_nav_count.html",
        {"waiting_count": selectors.request_waiting_count(request)},
    )


def _item(request: HttpRequest) -> tuple[str, str]:
    form = ItemForm(request.POST)
    if not form.is_valid():
        raise Http404("no such inbox item")
    return form.cleaned_data["kind"], form.cleaned_data["key"]


@require_POST
@permission_required(USE_INBOX_PERM, raise_exception=True)
def assign(request: HttpRequest) -> HttpResponse:
    kind, key = _item(request)
    try:
        services.inbox_assign(kind=kind, key=key, actor=request.user)
    except services.NotWaiting as exc:
        # Resolved meanwhile, or never the person's to see: not found either way.
        raise Http404(str(exc)) from exc
    messages.success(request, "Assigned to you.")
    return redirect_back(request, reverse("inbox:list"))


@require_POST
@permission_required(USE_INBOX_PERM, raise_exception=True)
def unassign(request: HttpRequest) -> HttpResponse:
    kind, key = _item(request)
    try:
        services.inbox_unassign(kind=kind, key=key, actor=request.user)
    except services.NotWaiting as exc:
        raise Http404(str(exc)) from exc
    messages.success(request, "Handed back: it is unassigned again.")
    return redirect_back(request, reverse("inbox:list"))


@require_POST
@permission_required(USE_INBOX_PERM, raise_exception=True)
def digest_preference(request: HttpRequest) -> HttpResponse:
    form = DigestForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose on or off.")
    else:
        wanted = form.cleaned_data["digest"]
        services.inbox_digest_set(user=request.user, wanted=wanted)
        messages.success(
            request, "Daily digest on." if wanted else "Daily digest off: no more e-mails."
        )
    return redirect_back(request, reverse("inbox:list"))
