"""DocuSign Connect's URL: /contracts/esign/docusign/webhook/ (named in every envelope).

The webhook inbox does the work (dealdesk/integrations/webhooks.py): the HMAC on the raw body
checked against every configured key, the event stored once, 200 at once, handled by a task.
A forged, unsigned or stale event is answered 401 and logged; nothing is stored.
"""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from dealdesk.integrations.views import receive_webhook


@csrf_exempt
@login_not_required
@require_POST
def docusign_webhook(request: HttpRequest) -> HttpResponse:
    return receive_webhook(request, "docusign", refused_status=401)
