"""The product tells us a customer went live: POST /billing/api/deals/<deal_id>/go-live/ with
`{"go_live_on": "YYYY-MM-DD"}` and `Authorization: Bearer <token>` (one of
BILLING_GO_LIVE_TOKENS; none configured: every call is refused). Answers 200 with the billing
record's state, 400 for a body or date we cannot take, 401 without a valid token, 404 for an
unknown deal, 409 when the deal cannot take the date (a different one is already set...).

Each token is configured as `name=secret` (the name says which system posts with it, and is
what the audit event records: never the secret); a bare `secret`, the older form, is still
accepted and named by its place in the list, "token 2"."""

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
_TOKEN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,59}")


# No session and no cookie: a bearer token authenticates each call, so there is no CSRF to
# defend against here (and no other billing view is exempt).
@csrf_exempt
@login_not_required
@require_POST
def go_live_post(request: HttpRequest, deal_id: int) -> JsonResponse:
    token_name = _token_name(request.headers.get("Authorization", ""))
    if token_name is None:
        response = JsonResponse({"error": "a valid bearer token is required"}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="dealdesk-billing"'
        return response
    go_live_on = _go_live_on(request.body)
    if go_live_on is None:
        return JsonResponse({"error": 'the body must be {"go_live_on": "YYYY-MM-DD"}'}, status=400)
    try:
        record = go_live.billing_go_live_set(
            deal_id=deal_id,
            go_live_on=go_live_on,
            actor=pipeline_user(),
            source="product",
            token_name=token_name,
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


def go_live_tokens() -> list[tuple[str, str]]:
    """BILLING_GO_LIVE_TOKENS as (name, secret) pairs; blank entries are no token. An entry is
    `name=secret` when it starts with a name (letters, digits, "_.-") and an "=" followed by
    more than padding; anything else is a bare secret (base64's trailing "=" stays its own)."""
    tokens = []
    for place, entry in enumerate(settings.BILLING_GO_LIVE_TOKENS, 1):
        entry = entry.strip()
        name, equals, secret = entry.partition("=")
        if not (equals and _TOKEN_NAME.fullmatch(name) and secret.strip("=")):
            name, secret = f"token {place}", entry
        if secret:
            tokens.append((name, secret))
    return tokens


def _token_name(header: str) -> str | None:
    """The name of the configured token the header carries, or None."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    given = token.strip().encode()
    # Every configured token compared in constant time, none skipped: the answer's timing
    # says nothing about how much of a token was right, or which one.
    matches = [
        (name, hmac.compare_digest(given, secret.encode())) for name, secret in go_live_tokens()
    ]
    return next((name for name, matched in matches if matched), None)


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
