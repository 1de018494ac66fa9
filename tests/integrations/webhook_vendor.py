"""A webhook vendor of our own for testing the inbox: HMAC-SHA256 of the raw body in a
header (as DocuSign Connect and Stripe sign theirs), and a handler that records its effect."""

import hashlib
import hmac
import json
import threading

from celery import shared_task

from dealdesk.integrations.webhooks import InvalidWebhook, VerifiedEvent

SECRET = b"inbox-test-secret"
HEADER = "X-Test-Signature"
EFFECTS: list[str] = []
_lock = threading.Lock()


def sign(body: bytes) -> str:
    return hmac.new(SECRET, body, hashlib.sha256).hexdigest()


class TestVendor:
    handler = "tests.integrations.webhook_vendor.handle"

    def verify(self, request) -> VerifiedEvent:
        if not hmac.compare_digest(request.headers.get(HEADER, ""), sign(request.body)):
            raise InvalidWebhook("signature does not match the body")
        data = json.loads(request.body)
        return VerifiedEvent(event_id=data["id"], type=data["type"], payload=data)


@shared_task(name="tests.webhook_handle")
def handle(event_pk: int) -> None:
    from dealdesk.integrations.models import WebhookEvent

    event = WebhookEvent.objects.get(pk=event_pk)
    with _lock:
        EFFECTS.append(event.event_id)
