"""The one webhook endpoint: POST /webhooks/<vendor>/ (no login, no CSRF: the vendor's
signature on the raw body is the authentication)."""

import logging

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from dealdesk.integrations.webhooks import InvalidWebhook, webhook_receive, webhook_vendor

log = logging.getLogger(__name__)


@csrf_exempt
@login_not_required
@require_POST
def webhook(request: HttpRequest, vendor: str) -> HttpResponse:
    return receive_webhook(request, vendor)


def receive_webhook(
    request: HttpRequest, vendor: str, *, refused_status: int = 400
) -> HttpResponse:
    """Verify, store once, answer at once; a vendor's own URL may answer a refusal with the
    status its documentation names (DocuSign Connect: 401)."""
    receiver = webhook_vendor(vendor)
    if receiver is None:
        return JsonResponse({"error": f"unknown webhook vendor {vendor!r}"}, status=404)
    try:
        event = receiver.verify(request)
    except InvalidWebhook as exc:
        # Refused and logged, never stored: an unverified body is not evidence of anything.
        log.warning("webhook %s refused from %s: %s", vendor, request.META.get("REMOTE_ADDR"), exc)
        return JsonResponse({"error": str(exc)}, status=refused_status)
    row, created = webhook_receive(vendor=vendor, event=event)
    return JsonResponse({"id": row.event_id, "duplicate": not created}, status=200)
