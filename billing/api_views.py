"""The product tells us a customer went live: POST /billing/api/deals/<deal_id>/go-live/ with
`{"go_live_on": "YYYY-MM-DD"}` and `Authorization: Bearer <token>` (one of
BILLING_GO_LIVE_TOKENS; none configured: every call is refused). Answers 200 with the billing
record's state, 400 for a body or date we cannot take, 401 without a valid token, 404 for an
unknown deal, 409 when the deal cannot take the date (a different one is already set...)."""

import datetime as dt
import hmac
import json
import re

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing import go_live
from dealdesk.models import Deal
from dealdesk.services import pipeline_user

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # ASCII digits only, unlike \d


# No session and no cookie: a bearer token authenticates each call, so there is no CSRF to
# defend against here (and no other billing view is exempt).
@csrf_exempt
@login_not_required
@require_POST
def go_live_post(request: HttpRequest, deal_id: int) -> JsonResponse:
    if not _token_valid(request.headers.get("Authorization", "")):
        response = JsonResponse({"error": "a valid bearer token is required"}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="dealdesk-billing"'
        return response
    go_live_on = _go_live_on(request.body)
    if go_live_on is None:
        return JsonResponse({"error": 'the body must be {"go_live_on": "YYYY-MM-DD"}'}, status=400)
    try:
        record = go_live.billing_go_live_set(
            deal_id=deal_id, go_live_on=go_live_on, actor=pipeline_user(), source="product"
        )
    except Deal.DoesNotExist:
        return JsonResponse({"error": "no such deal"}, status=404)
    except go_live.GoLiveInvalid as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    except go_live.GoLiveConflict as exc:
        return JsonResponse({"error": str(exc)}, status=409)
    return JsonResponse(
        {
            "deal_id": deal_id,
            "go_live_on": record.go_live_on.isoformat(),
            "billing_state": record.state,
            "deal_state": Deal.objects.values_list("state", flat=True).get(pk=deal_id),
        }
    )


def _token_valid(header: str) -> bool:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    given = token.strip().encode()
    # Every configured token compared in constant time, none skipped: the answer's timing
    # says nothing about how much of a token was right, or which one.
    matches = [hmac.compare_digest(given, t.encode()) for t in settings.BILLING_GO_LIVE_TOKENS if t]
    return any(matches)


def _go_live_on(body: bytes) -> dt.date | None:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        return None
    value = data.get("go_live_on") if isinstance(data, dict) else None
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None
