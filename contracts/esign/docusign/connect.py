"""DocuSign Connect, the webhook: each event's HMAC checked on the raw body before anything
else is read, and its age checked so an old delivery cannot be replayed.

DocuSign signs a body with each HMAC key the Connect configuration holds, in
X-DocuSign-Signature-1, -2, ... (base64 of HMAC-SHA256); we accept a body when any of those
headers matches any key in DOCUSIGN_CONNECT_HMAC_KEYS, so keys rotate without a gap.
"""

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from dealdesk.integrations.webhooks import InvalidWebhook, VerifiedEvent

SIGNATURE_HEADER = "X-DocuSign-Signature-{}"
MAX_SIGNATURE_HEADERS = 100  # DocuSign allows a handful of keys; this only bounds the loop
# Clocks drift: an event stamped a little ahead of ours is genuine, one far ahead is forged.
FUTURE_TOLERANCE = timedelta(minutes=5)


def connect_signature(body: bytes, key: str) -> str:
    """The value DocuSign puts in X-DocuSign-Signature-N for this body and HMAC key."""
    digest = hmac.new(key.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _signatures(request: HttpRequest) -> list[str]:
    found = []
    for n in range(1, MAX_SIGNATURE_HEADERS + 1):
        value = request.headers.get(SIGNATURE_HEADER.format(n))
        if value is None:
            break
        found.append(value.strip())
    return found


def _generated_at(value: object) -> datetime:
    if not isinstance(value, str):
        raise InvalidWebhook("generatedDateTime is missing")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidWebhook(f"generatedDateTime {value[:40]!r} is not a time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # DocuSign speaks UTC


class DocusignConnect:
    handler = "contracts.esign.tasks.docusign_event_handle"

    def verify(self, request: HttpRequest) -> VerifiedEvent:
        keys = [key for key in settings.DOCUSIGN_CONNECT_HMAC_KEYS if key]
        if not keys:  # with no key every body would "verify": refuse them all instead
            raise InvalidWebhook("no DocuSign Connect HMAC key is configured")
        signatures = _signatures(request)
        if not signatures:
            raise InvalidWebhook("no X-DocuSign-Signature-1 header")
        body = request.body
        expected = [connect_signature(body, key).encode() for key in keys]
        # compare_digest for every pair, no early exit: the time taken says nothing.
        matches = [
            hmac.compare_digest(sig.encode(), want) for sig in signatures for want in expected
        ]
        if not any(matches):
            raise InvalidWebhook("signature does not match the body")

        try:
            payload = json.loads(body)
        except ValueError:  # UnicodeDecodeError included
            raise InvalidWebhook("body is not JSON") from None
        if not isinstance(payload, dict):
            raise InvalidWebhook("body is not a JSON object")
        event = payload.get("event")
        data = payload.get("data")
        if not isinstance(event, str) or not event:
            raise InvalidWebhook("no event name")
        if not isinstance(data, dict) or not isinstance(data.get("envelopeId"), str):
            raise InvalidWebhook("no data.envelopeId")

        age = timezone.now() - _generated_at(payload.get("generatedDateTime"))
        if age > timedelta(seconds=settings.DOCUSIGN_CONNECT_MAX_AGE_SECONDS):
            raise InvalidWebhook(f"event is stale (generated {age} ago): refused as a replay")
        if age < -FUTURE_TOLERANCE:
            raise InvalidWebhook("event is generated in the future: refused")

        # The body's own hash: DocuSign's retries of one delivery are byte-identical, so the
        # inbox's unique (vendor, event id) keeps them to one row.
        return VerifiedEvent(event_id=hashlib.sha256(body).hexdigest(), type=event, payload=payload)
