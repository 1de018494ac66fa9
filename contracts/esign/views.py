"""The customer's signing page (local backend): no login, the one-time link is the key.

The page shows the exact approved PDF (page images, so it needs no plug-in and no script),
its SHA-256, the consent to sign electronically, a typed name and an optional drawn
signature. It is a plain HTML form: JavaScript only adds the drawing pad. A link that no
longer works (used, expired, withdrawn, forged) says which, and offers nothing.
"""

import io
import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from contracts.esign import services
from contracts.esign.copies import copy_token, document_for_copy
from contracts.esign.models import SignatureRequest, Signer
from contracts.esign.page_images import InvalidPdf, PageNotFound, page_count, page_png
from contracts.esign.signature_image import clean_drawn_signature
from contracts.esign.tokens import LinkRefused, signer_for_token
from contracts.esign.wording import consent_text, words_for
from contracts.selectors import DocumentTampered, verified_document

log = logging.getLogger(__name__)

REFUSED_STATUS = {"invalid": 404, "not_yet": 409}
# Why a link opens nothing (contracts.esign.tokens.LinkRefused) → what the signer reads.
REFUSALS = {
    "invalid": "link_invalid",
    "signed": "already_signed",
    "declined": "already_declined",
    "expired": "link_expired",
    "voided": "request_voided",
    "not_yet": "not_your_turn",
}
# A field the services refused (SignatureError's message) → what the signer reads.
FIELD_ERRORS = {
    "consent": "consent_missing",
    "typed_name": "typed_name_missing",
    "decline_reason": "decline_reason_missing",
}


def _private(response: HttpResponse) -> HttpResponse:
    """The URL carries the signer's secret: never cached, never sent to another site as a
    referrer ("same-origin": our own forms keep their Origin, which the CSRF check reads)."""
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _client(request: HttpRequest) -> tuple[str | None, str]:
    return request.META.get("REMOTE_ADDR") or None, request.META.get("HTTP_USER_AGENT", "")[:500]


def _refused(request: HttpRequest, refusal: LinkRefused) -> HttpResponse:
    signer = refusal.signer
    words = words_for(signer.language if signer else "en")
    response = render(
        request,
        "esign/sign_refused.html",
        {"words": words, "why": refusal.why, "message": getattr(words, REFUSALS[refusal.why])},
        status=REFUSED_STATUS.get(refusal.why, 410),
    )
    return _private(response)


def _approved_pdf(signer: Signer) -> bytes:
    try:
        return verified_document(version=signer.request.version, kind="pdf", actor=None)
    except DocumentTampered:
        log.error("signing page: the approved PDF of %s changed on disk", signer.request)
        raise Http404("document unavailable") from None


def _page(
    request: HttpRequest, signer: Signer, token: str, *, errors=None, values=None, status=200
):
    words = words_for(signer.language)
    pdf = _approved_pdf(signer)
    context = {
        "words": words,
        "signer": signer,
        "token": token,
        "deal": signer.request.deal,
        "account": signer.request.deal.account,
        "provider": settings.CONTRACT_PROVIDER["name"],
        "document_sha256": signer.request.document_sha256,
        "pages": range(1, page_count(pdf) + 1),
        "consent_text": consent_text(signer.language),
        "errors": errors or {},
        "values": values or {},
    }
    return _private(render(request, "esign/sign.html", context, status=status))


@never_cache
@login_not_required
@require_http_methods(["GET", "POST"])
def sign(request: HttpRequest, token: str) -> HttpResponse:
    ip, user_agent = _client(request)
    if request.method == "GET":
        try:
            signer = services.signer_viewed(token=token, ip=ip, user_agent=user_agent)
        except LinkRefused as refusal:
            return _refused(request, refusal)
        return _page(request, signer, token)
    values = {
        "typed_name": request.POST.get("typed_name", "")[:255],
        # Drawn again by the pad after a form error; cleaned before it is ever stored.
        "drawn_signature": request.POST.get("drawn_signature", "")[:300_000],
    }
    errors: dict[str, str] = {}
    try:
        signer = signer_for_token(token, now=timezone.now())
    except LinkRefused as refusal:
        return _refused(request, refusal)
    words = words_for(signer.language)
    try:
        drawn = clean_drawn_signature(request.POST.get("drawn_signature", ""))
    except ValueError:
        drawn = None
        errors["drawn_signature"] = words.drawing_refused
        values["drawn_signature"] = ""
    if not errors:
        try:
            signer = services.signer_sign(
                token=token,
                typed_name=values["typed_name"],
                consented=request.POST.get("consent") == "yes",
                drawn_signature=drawn,
                ip=ip,
                user_agent=user_agent,
            )
        except LinkRefused as refusal:
            return _refused(request, refusal)
        except services.SignatureError as exc:
            errors[str(exc)] = getattr(words, FIELD_ERRORS[str(exc)])
    if errors:
        return _page(request, signer, token, errors=errors, values=values, status=400)
    return _private(
        render(
            request,
            "esign/sign_done.html",
            {
                "words": words,
                "heading": words.signed_heading,
                # Without a broker the pipeline completed the request before this answer.
                "message": (
                    words.signed_complete
                    if SignatureRequest.objects.filter(
                        pk=signer.request_id, state="completed"
                    ).exists()
                    else words.signed_thanks
                ),
                "copy_token": copy_token(signer),
            },
        )
    )


@never_cache
@login_not_required
@require_POST
def decline(request: HttpRequest, token: str) -> HttpResponse:
    ip, user_agent = _client(request)
    try:
        signer = signer_for_token(token, now=timezone.now())
    except LinkRefused as refusal:
        return _refused(request, refusal)
    words = words_for(signer.language)
    reason = request.POST.get("reason", "")[: services.REASON_LIMIT]
    try:
        signer = services.signer_decline(token=token, reason=reason, ip=ip, user_agent=user_agent)
    except LinkRefused as refusal:
        return _refused(request, refusal)
    except services.SignatureError:
        return _page(
            request,
            signer,
            token,
            errors={"decline_reason": words.decline_reason_missing},
            status=400,
        )
    return _private(
        render(
            request,
            "esign/sign_done.html",
            {"words": words, "heading": words.declined_heading, "message": words.declined_done},
        )
    )


@never_cache
@login_not_required
def page_image(request: HttpRequest, token: str, number: int) -> HttpResponse:
    try:
        signer = signer_for_token(token, now=timezone.now())
    except LinkRefused:
        raise Http404("no such page") from None
    try:
        png = page_png(_approved_pdf(signer), number)
    except (PageNotFound, InvalidPdf):
        raise Http404("no such page") from None
    return _private(HttpResponse(png, content_type="image/png"))


@never_cache
@login_not_required
def document(request: HttpRequest, token: str) -> HttpResponse:
    """The exact PDF being signed, for the signer to keep or print."""
    try:
        signer = signer_for_token(token, now=timezone.now())
    except LinkRefused as refusal:
        return _refused(request, refusal)
    return _pdf_response(_approved_pdf(signer), f"{signer.request.deal.crm_id}-contract.pdf")


@never_cache
@login_not_required
def signed_copy(request: HttpRequest, token: str) -> HttpResponse:
    """A signer's own copy: the executed PDF once everyone signed, the signed document before."""
    found = document_for_copy(token)
    if found is None:
        raise Http404("no such copy")
    data, filename = found
    return _pdf_response(data, filename)


def _pdf_response(data: bytes, filename: str) -> HttpResponse:
    response = FileResponse(
        io.BytesIO(data), as_attachment=True, filename=filename, content_type="application/pdf"
    )
    return _private(response)
