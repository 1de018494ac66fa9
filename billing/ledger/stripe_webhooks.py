"""Stripe's webhook: the `Stripe-Signature` checked on the raw body with every configured
signing secret (several during a rotation, any one passes), at most 300 s old, before the
body is read as an event.
"""

import json

import stripe
from django.conf import settings
from django.http import HttpRequest

from dealdesk.integrations.webhooks import InvalidWebhook, VerifiedEvent

SIGNATURE_HEADER = "Stripe-Signature"
# Stripe's own default: an older signature is refused as a replay of a captured delivery.
TOLERANCE_SECONDS = 300


def _signed_with(body: bytes, header: str, secret: str, tolerance: int | None) -> bool:
    """Whether `secret` signed this body, at most `tolerance` seconds ago (None: any age)."""
    try:
        stripe.WebhookSignature.verify_header(body, header, secret, tolerance=tolerance)
    except stripe.SignatureVerificationError:
        return False
    return True


class StripeWebhooks:
    handler = "billing.tasks.stripe_event_handle"
    # Queued events are handled together: one fetch per object for all its news.
    batch_handler = "billing.tasks.stripe_events_handle"

    def verify(self, request: HttpRequest) -> VerifiedEvent:
        secrets = [secret for secret in settings.STRIPE_WEBHOOK_SECRET if secret.strip()]
        if not secrets:  # with no secret nothing can be verified: refuse every delivery
            raise InvalidWebhook("no Stripe webhook signing secret is configured")
        header = request.headers.get(SIGNATURE_HEADER, "")
        if not header:
            raise InvalidWebhook(f"no {SIGNATURE_HEADER} header")
        body = request.body
        try:
            verified = any(
                _signed_with(body, header, secret, TOLERANCE_SECONDS) for secret in secrets
            )
        except UnicodeDecodeError:  # Stripe signs text: such a body is no event of theirs
            raise InvalidWebhook("body is not a JSON event") from None
        if not verified:
            # Tell a replay from a forgery: the same check without the age limit.
            if any(_signed_with(body, header, secret, None) for secret in secrets):
                raise InvalidWebhook(
                    f"signature is older than {TOLERANCE_SECONDS} s: refused as a replay"
                )
            raise InvalidWebhook("signature does not match the body with any configured secret")
        # The body as Stripe sent it, read once as plain JSON: the SDK's event objects would
        # cost more than the rest of the delivery, and turn decimal strings into Decimal,
        # which a JSON column cannot store.
        try:
            payload = json.loads(body)
        except ValueError:
            raise InvalidWebhook("body is not a JSON event") from None
        if not isinstance(payload, dict):
            raise InvalidWebhook("body is not a JSON object")
        event_id, event_type = payload.get("id"), payload.get("type")
        if not isinstance(event_id, str) or not event_id:
            raise InvalidWebhook("event has no id")
        if not isinstance(event_type, str) or not event_type:
            raise InvalidWebhook("event has no type")
        return VerifiedEvent(event_id=event_id, type=event_type, payload=payload)
