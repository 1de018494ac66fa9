"""Stripe's webhook URL: /billing/webhooks/stripe/ (the same inbox as /webhooks/stripe/).

The signature is checked on the raw body with every configured secret
(billing/ledger/stripe_webhooks.py); a verified event is stored once and answered 200 at once,
and handled by `billing.tasks.stripe_event_handle`. Anything else is answered 400 and stored
nowhere.
"""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from dealdesk.integrations.views import receive_webhook


@csrf_exempt
@login_not_required
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    return receive_webhook(request, "stripe")
