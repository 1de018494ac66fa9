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


class BatchVendor(TestVendor):
    """The same vendor with a batch handler, as Stripe's: queued first attempts handled
    together (dealdesk/integrations/webhooks.py `_work_off`)."""

    batch_handler = "tests.integrations.webhook_vendor.handle_many"


BATCHES: list[int] = []  # the size of each batch handled
# Run inside the next batch: what arrives while a worker works the queue off.
DURING_BATCH: list = []


def handle_many(event_pks: list[int]) -> dict:
    from dealdesk.integrations.models import WebhookEvent

    BATCHES.append(len(event_pks))
    while DURING_BATCH:
        DURING_BATCH.pop(0)()
    ids = WebhookEvent.objects.filter(pk__in=event_pks).order_by("pk")
    with _lock:
        EFFECTS.extend(ids.values_list("event_id", flat=True))
    return {}
