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


def _signed_with(body: bytes, header: str, secret: str) -> bool:
    """Whether `secret` signed this body, whatever the signature's age."""
    try:
        stripe.WebhookSignature.verify_header(body, header, secret, tolerance=None)
    except stripe.SignatureVerificationError:
        return False
    return True


class StripeWebhooks:
    handler = "billing.tasks.stripe_event_handle"

    def verify(self, request: HttpRequest) -> VerifiedEvent:
        secrets = [secret for secret in settings.STRIPE_WEBHOOK_SECRET if secret.strip()]
        if not secrets:  # with no secret nothing can be verified: refuse every delivery
            raise InvalidWebhook("no Stripe webhook signing secret is configured")
        header = request.headers.get(SIGNATURE_HEADER, "")
        if not header:
            raise InvalidWebhook(f"no {SIGNATURE_HEADER} header")
        body = request.body
        verified = False
        for secret in secrets:
            try:
                stripe.Webhook.construct_event(body, header, secret, tolerance=TOLERANCE_SECONDS)
            except stripe.SignatureVerificationError:
                continue
            except ValueError:  # signed, but not UTF-8 JSON (UnicodeDecodeError included)
                raise InvalidWebhook("body is not a JSON event") from None
            except AttributeError:  # signed JSON that is not an object (a list, a number)
                raise InvalidWebhook("body is not a JSON object") from None
            verified = True
            break
        if not verified:
            # Tell a replay from a forgery: the same check without the age limit.
            if any(_signed_with(body, header, secret) for secret in secrets):
                raise InvalidWebhook(
                    f"signature is older than {TOLERANCE_SECONDS} s: refused as a replay"
                )
            raise InvalidWebhook("signature does not match the body with any configured secret")
        # The body as Stripe sent it: the SDK's objects turn decimal strings into Decimal,
        # which a JSON column cannot store.
        payload = json.loads(body)
        event_id, event_type = payload.get("id"), payload.get("type")
        if not isinstance(event_id, str) or not event_id:
            raise InvalidWebhook("event has no id")
        if not isinstance(event_type, str) or not event_type:
            raise InvalidWebhook("event has no type")
        return VerifiedEvent(event_id=event_id, type=event_type, payload=payload)
