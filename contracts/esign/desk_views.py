"""Deal Desk's signature screens: the deal page's Signature panel (live while out for
signature), its actions, the executed files, and the "Out for signature" list.

Every action is a POST that calls one service and comes back to the page it was sent from
with a message; the services check permissions and segregation of duties again. A refusal
the person can act on is a message, never a 500; acting without the role is a 403.
"""

import io
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from contracts.esign import services
from contracts.esign.forms import PaperUploadForm, SignatureListForm, VoidForm
from contracts.esign.models import (
    OPEN_REQUEST_STATES,
    Backend,
    R,
    SignatureRequest,
    Signer,
)
from contracts.esign.reference_data import MANAGE_REQUESTS_PERM
from contracts.esign.selectors_desk import (
    ASKED,
    EXECUTED_FILES,
    StoredFileTampered,
    deal_latest_request,
    executed_file,
    open_requests,
    waiting_on,
)
from contracts.esign.uploads import UploadRefused
from dealdesk import selectors as deal_selectors
from dealdesk.forms import OptionalReasonForm, ReasonForm, first_error
from dealdesk.models import Deal, DealState
from dealdesk.paging import CappedPaginator
from dealdesk.roles import SegregationOfDutiesError
from dealdesk.views import list_queries, redirect_back

VIEW_PERM = "esign.view_signaturerequest"
# Legal's check of a contract signed on paper (the service asks the same).
CONFIRM_PAPER_PERM = "contracts.review_contract"
PAGE_SIZE = 25
COUNT_CAP = 10_000
# What a person may be told and try again after; anything else is a bug (a 500).
REFUSALS = (
    services.SignatureError,
    SegregationOfDutiesError,
    UploadRefused,
    TransitionNotAllowed,
    ConcurrentTransition,
)


# --- the deal page's panel ----------------------------------------------------------------

# Badge colours of request and signer states: done green, refused red, stopped grey.
STATE_BADGES = {
    "draft": "text-bg-warning",
    "sent": "text-bg-info",
    "completed": "text-bg-success",
    "declined": "text-bg-danger",
    "voided": "text-bg-secondary",
    "expired": "text-bg-secondary",
    "waiting": "text-bg-light border",
    "notified": "text-bg-info",
    "viewed": "text-bg-primary",
    "signed": "text-bg-success",
}


def panel_context(request: HttpRequest, deal: Deal) -> dict:
    """What the Signature panel shows `request.user` about `deal`, and which buttons.

    Shown once the deal has a signature request or is approved, to those who may see
    signature requests. Buttons are offered only where the service would act; it checks again.
    """
    user = request.user
    visible = user.has_perm(VIEW_PERM)
    signature = deal_latest_request(deal_id=deal.pk) if visible else None
    manages = user.has_perm(MANAGE_REQUESTS_PERM)
    is_open = signature is not None and signature.state in OPEN_REQUEST_STATES
    sent = signature is not None and signature.state == R.SENT
    paper_waiting = sent and signature.backend == Backend.PAPER
    # A voided or expired round is sent again as a new request; a blocked draft is retried.
    send_label = "Resend" if signature is not None and not is_open else "Send for signature"
    signers = list(signature.signers.all()) if signature else []
    for signer in signers:
        asked = sent and not paper_waiting and signer.state in ASKED
        signer.can_remind = manages and asked and signature.backend == Backend.LOCAL
        signer.can_copy_link = manages and asked and signature.backend == Backend.LOCAL
    return {
        "visible": visible and (signature is not None or deal.state == DealState.APPROVED),
        "deal": deal,
        "badges": STATE_BADGES,
        "signature": signature,
        "signers": signers,
        # The panel asks again every few seconds while signatures come in.
        "live": sent,
        "can_send": manages and deal.state == DealState.APPROVED and not sent,
        "send_label": send_label,
        "can_void": manages and is_open,
        "can_upload_paper": manages
        and deal.state in (DealState.APPROVED, DealState.OUT_FOR_SIGNATURE)
        and not paper_waiting,
        "can_confirm_paper": paper_waiting and user.has_perm(CONFIRM_PAPER_PERM),
        "next": reverse("deal-detail", args=[deal.pk]),
    }


@require_GET
@permission_required(VIEW_PERM, raise_exception=True)
def deal_panel(request: HttpRequest, deal_id: int) -> HttpResponse:
    """The panel alone, for its own polling; the deal's state badge comes along out of band
    (a last signature signs the deal, a decline sends it back)."""
    deal = deal_selectors.deal_get(user=request.user, pk=deal_id)
    context = panel_context(request, deal) | {"state_badge": True}
    response = render(request, "esign/desk/_panel.html", context)
    if not context["live"]:
        # Only a page whose request was out polls: it has finished since, so the whole page
        # (actions, timeline, contract) is out of date, not only this card.
        response["HX-Refresh"] = "true"
    return response


# --- actions ------------------------------------------------------------------------------


def _act(request: HttpRequest, deal_id: int, action: Callable[[], str]) -> HttpResponse:
    """Run one service call; its outcome as a message, back to the page that asked."""
    try:
        done = action()
    except REFUSALS as exc:
        messages.error(request, _refusal_words(exc))
    else:
        messages.success(request, done)
    return redirect_back(request, reverse("deal-detail", args=[deal_id]))


def _refusal_words(exc: Exception) -> str:
    if isinstance(exc, ConcurrentTransition):
        return "Someone else changed this signature request meanwhile: look again and retry."
    text = str(exc)
    return text[:1].upper() + text[1:]


def _visible_request(request: HttpRequest, pk: int) -> SignatureRequest:
    """The signature request, if its deal is one the user may see (404 otherwise)."""
    signature = get_object_or_404(SignatureRequest, pk=pk)
    deal_selectors.deal_get(user=request.user, pk=signature.deal_id)
    return signature


def _visible_signer(request: HttpRequest, pk: int) -> Signer:
    signer = get_object_or_404(Signer.objects.select_related("request"), pk=pk)
    deal_selectors.deal_get(user=request.user, pk=signer.request.deal_id)
    return signer


def _form_refused(request: HttpRequest, deal_id: int, form) -> HttpResponse:
    messages.error(request, first_error(form))
    return redirect_back(request, reverse("deal-detail", args=[deal_id]))


@require_POST
@permission_required(MANAGE_REQUESTS_PERM, raise_exception=True)
def signature_send(request: HttpRequest, deal_id: int) -> HttpResponse:
    """Send (a draft that was blocked, once fixed) or Resend (after a void or expiry)."""
    deal = deal_selectors.deal_get(user=request.user, pk=deal_id)

    def send() -> str:
        sent = services.signature_send(deal_id=deal.pk, actor=request.user, resend=True)
        if sent is None or sent.state != R.SENT:
            why = sent.blocked_reason if sent else "the deal is no longer approved"
            raise services.SignatureError(f"Not sent: {why}")
        return f"{deal.name}: sent for signature to {sent.signers.count()} signer(s)."

    return _act(request, deal.pk, send)


@require_POST
@permission_required(MANAGE_REQUESTS_PERM, raise_exception=True)
def signature_void(request: HttpRequest, pk: int) -> HttpResponse:
    signature = _visible_request(request, pk)
    form = VoidForm(request.POST)
    if not form.is_valid():
        return _form_refused(request, signature.deal_id, form)

    def void() -> str:
        services.signature_void(
            request_id=signature.pk, actor=request.user, reason=form.cleaned_data["reason"]
        )
        return "Signature request voided: every signing link is withdrawn; Resend sends a new one."

    return _act(request, signature.deal_id, void)


@require_POST
@permission_required(MANAGE_REQUESTS_PERM, raise_exception=True)
def signer_remind(request: HttpRequest, pk: int) -> HttpResponse:
    signer = _visible_signer(request, pk)

    def remind() -> str:
        services.signer_remind(signer_id=signer.pk, actor=request.user)
        return f"{signer.name} is reminded to sign."

    return _act(request, signer.request.deal_id, remind)


@require_POST
@never_cache
@permission_required(MANAGE_REQUESTS_PERM, raise_exception=True)
def signer_link(request: HttpRequest, pk: int) -> HttpResponse:
    """The signer's link, to pass on by hand (the customer lost the e-mail). Shown on a page
    of its own, never in a message: messages travel in a cookie."""
    signer = _visible_signer(request, pk)
    back = redirect_back(request, reverse("deal-detail", args=[signer.request.deal_id]))
    try:
        link = services.signer_link_for_desk(signer_id=signer.pk, actor=request.user)
    except REFUSALS as exc:
        messages.error(request, _refusal_words(exc))
        return back
    return render(
        request,
        "esign/desk/link.html",
        {"signer": signer, "link": link, "back": back["Location"]},
    )


@require_POST
@permission_required(MANAGE_REQUESTS_PERM, raise_exception=True)
def paper_upload(request: HttpRequest, deal_id: int) -> HttpResponse:
    deal = deal_selectors.deal_get(user=request.user, pk=deal_id)
    form = PaperUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _form_refused(request, deal.pk, form)

    def upload() -> str:
        services.signature_paper_upload(
            deal_id=deal.pk,
            actor=request.user,
            pdf=form.cleaned_data["pdf"].read(),
            change_statement=form.cleaned_data["change_statement"],
        )
        return "The contract signed on paper is uploaded: Legal confirms it or sends it back."

    return _act(request, deal.pk, upload)


@require_POST
@permission_required(CONFIRM_PAPER_PERM, raise_exception=True)
def paper_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    signature = _visible_request(request, pk)
    form = OptionalReasonForm(request.POST)
    if not form.is_valid():
        return _form_refused(request, signature.deal_id, form)

    def confirm() -> str:
        services.signature_paper_confirm(
            request_id=signature.pk, actor=request.user, note=form.cleaned_data["reason"]
        )
        return "Confirmed: the contract signed on paper matches the approved terms."

    return _act(request, signature.deal_id, confirm)


@require_POST
@permission_required(CONFIRM_PAPER_PERM, raise_exception=True)
def paper_send_back(request: HttpRequest, pk: int) -> HttpResponse:
    signature = _visible_request(request, pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _form_refused(request, signature.deal_id, form)

    def send_back() -> str:
        services.signature_paper_send_back(
            request_id=signature.pk, actor=request.user, reason=form.cleaned_data["reason"]
        )
        return "Sent back to Deal Desk: the deal is approved again, waiting for a signed copy."

    return _act(request, signature.deal_id, send_back)


# --- the executed files -------------------------------------------------------------------


@require_GET
@permission_required(VIEW_PERM, raise_exception=True)
def executed_download(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """The executed PDF or DocuSign's certificate, checked against its stored SHA-256."""
    if kind not in EXECUTED_FILES:
        raise Http404(kind)
    signature = _visible_request(request, pk)
    try:
        content = executed_file(request=signature, kind=kind, actor=request.user)
    except FileNotFoundError:
        raise Http404(f"no {kind} file") from None
    except StoredFileTampered as exc:
        return render(
            request,
            "esign/desk/file_refused.html",
            {"error": str(exc), "deal_id": signature.deal_id},
            status=409,
        )
    deal = signature.deal
    return FileResponse(
        io.BytesIO(content),
        as_attachment=True,
        filename=f"{deal.crm_id}-v{signature.version.number}-{kind}.pdf",
        content_type="application/pdf",
    )


# --- the "Out for signature" list ---------------------------------------------------------


@require_GET
@permission_required(VIEW_PERM, raise_exception=True)
def signature_list(request: HttpRequest) -> HttpResponse:
    form = SignatureListForm(request.GET or None)
    valid = form.is_bound and form.is_valid()
    if form.is_bound and not valid:
        # A refused filter lists nothing rather than passing everything off as its answer.
        rows, sort = SignatureRequest.objects.none(), ""
    else:
        rows, sort = open_requests(
            user=request.user,
            waiting=form.cleaned_data["waiting"] if valid else "",
            sort=form.cleaned_data["sort"] if valid else "",
        )
    page = CappedPaginator(rows, PAGE_SIZE, count_cap=COUNT_CAP).get_page(request.GET.get("page"))
    manages = request.user.has_perm(MANAGE_REQUESTS_PERM)
    for signature in page:
        signature.waiting = waiting_on(signature)
        signature.asked = [
            s
            for s in signature.signers.all()
            if signature.state == R.SENT and signature.backend != Backend.PAPER and s.state in ASKED
        ]
    query, sort_query = list_queries(request)
    return render(
        request,
        "esign/desk/list.html",
        {
            "form": form,
            "waiting": form.cleaned_data.get("waiting", "") if valid else "",
            "page": page,
            "sort": sort,
            "query": query,
            "sort_query": sort_query,
            "manages": manages,
            "next": request.get_full_path(),
            "local": Backend.LOCAL,
        },
    )
