"""Sending a notification e-mail as a vendor call: logged, and an SMTP failure is a
retryable IntegrationError, so the outbox tries again later with backoff."""

import smtplib
from collections.abc import Sequence

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from dealdesk.integrations.calls import vendor_call
from dealdesk.integrations.errors import IntegrationError
from dealdesk.integrations.models import IntegrationCall


def send_notification(
    *,
    subject: str,
    body: str,
    recipients: list[str],
    key: str = "",
    attachments: Sequence[tuple[str, bytes, str]] = (),
    html_body: str = "",
) -> int:
    """Send once per `key`: a step run again (its worker died after sending) sends nothing.
    `attachments`: (file name, content, MIME type) each, e.g. an invoice's PDF; `html_body`,
    when given, goes beside the plain text as its HTML alternative."""
    if not recipients:
        return 0
    sent = IntegrationCall.objects.filter(
        vendor="smtp", idempotency_key=key, status=IntegrationCall.Status.SUCCEEDED
    )
    if key and sent.exists():
        return 0
    with vendor_call("smtp", "send_mail", idempotency_key=key):
        try:
            message = EmailMultiAlternatives(
                f"[Dealdesk] {subject}", body, settings.DEFAULT_FROM_EMAIL, recipients
            )
            if html_body:
                message.attach_alternative(html_body, "text/html")
            for name, content, mimetype in attachments:
                message.attach(name, content, mimetype)
            return message.send()
        except (smtplib.SMTPException, OSError) as exc:
            # A relay down or refusing for now; a rejected address would not pass next time
            # either, but a person sees it in the dead letters after the last attempt.
            raise IntegrationError(f"mail not sent: {exc}", retryable=True) from exc
