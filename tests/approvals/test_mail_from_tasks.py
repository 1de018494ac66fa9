"""Mail is sent by tasks from outbox rows written with the decision: a mail server that is
down delays the mail, never the decision."""

from datetime import timedelta

from django.core import mail
from django.urls import reverse
from django.utils import timezone

from dealdesk.integrations.models import IntegrationCall, OutboxMessage
from dealdesk.integrations.outbox import outbox_sweep
from tests.approvals.test_pages import request_  # noqa: F401  (Finance's open request)


def test_smtp_down_while_finance_approves_keeps_the_approval_and_retries_the_mail(
    client,
    approvers,
    request_,  # noqa: F811
    settings,
    django_capture_on_commit_callbacks,
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens: refused
    settings.EMAIL_TIMEOUT = 2
    client.force_login(approvers["Finance"])
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            reverse("approval-decide", args=[request_.pk]),
            {"decision": "approve", "reason": "within policy"},
            HTTP_HX_REQUEST="true",
        )
    assert answer.status_code == 200
    assert "Approved" in answer.content.decode()
    request_.refresh_from_db()
    assert request_.state == "approved", "the decision stands"
    notice = OutboxMessage.objects.get(task="approvals.tasks.notify_request_decided")
    assert (notice.status, notice.attempts) == ("pending", 1)
    assert "mail not sent" in notice.last_error
    assert notice.next_attempt_at > timezone.now()
    assert IntegrationCall.objects.filter(vendor="smtp", status="failed_retryable").exists()

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # the relay is back
    mail.outbox.clear()
    OutboxMessage.objects.filter(pk=notice.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        outbox_sweep()
    notice.refresh_from_db()
    assert (notice.status, notice.attempts) == ("done", 2)
    decided = [m for m in mail.outbox if "approved" in m.subject]
    assert len(decided) == 1
    assert approvers["Deal Desk"].email in decided[0].to


def test_a_notification_step_run_twice_sends_one_mail(approvers, request_):  # noqa: F811
    from approvals.tasks import notify_request_opened

    needed = [m for m in mail.outbox if m.subject.startswith("[Dealdesk] approval needed")]
    assert len(needed) == 1, "the pipeline sent it when the request opened"
    assert notify_request_opened(request_.pk) == 0, "run again, it finds the mail sent"
    assert len([m for m in mail.outbox if m.subject == needed[0].subject]) == 1
