"""The daily digest: one mail per person (text and HTML) with what waits for their groups,
oldest first; none when nothing waits or they opted out; once per day however often it runs."""

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from audit.actions import Action
from audit.models import AuditEvent
from dealdesk.integrations.models import OutboxMessage
from inbox import tasks
from inbox.models import InboxPreference
from tests.inbox import factories as f

pytestmark = pytest.mark.django_db


def _run(capture) -> int:
    with capture(execute=True):
        return tasks.send_digest()


def _mails() -> dict[str, object]:
    return {message.to[0]: message for message in mail.outbox}


def test_each_person_gets_their_groups_items_oldest_first(
    make_user, django_capture_on_commit_callbacks
):
    finance = make_user("Finance", username="fin")
    desk = make_user("Deal Desk", username="desk")
    make_user("Legal", username="legal")
    make_user("Finance", username="noemail", email="")
    young = f.ar_item(since=f.ago(2))
    old = f.billing_exception(since=f.ago(40), problem="no billing contact on the account")
    review = f.deal_in("manual_review", since=f.ago(5), reason="no pattern fits")

    assert _run(django_capture_on_commit_callbacks) == 2  # fin and desk; not legal, not noemail
    mails = _mails()
    assert set(mails) == {finance.email, desk.email}
    text = mails[finance.email].body
    assert "2 items wait for your groups" in text
    assert "Finance: 2" in text
    assert text.index("no billing contact") < text.index("matched no invoice")
    assert "SLA 24 h breached" in text
    assert settings.SITE_URL + reverse("billing:exception", args=[old.pk]) in text
    assert settings.SITE_URL + reverse("billing:ar-item", args=[young.pk]) in text
    assert review.name not in text
    html, mimetype = mails[finance.email].alternatives[0]
    assert mimetype == "text/html"
    assert f'href="{settings.SITE_URL}{reverse("billing:exception", args=[old.pk])}"' in html
    desk_text = mails[desk.email].body
    assert "Deal Desk: 1" in desk_text
    assert "no pattern fits" in desk_text
    assert "Finance" not in desk_text.split("Deal Desk: 1")[1].split("Open the inbox")[0]
    assert mails[desk.email].subject == "[Dealdesk] 1 item waiting in your inbox " + (
        f"({timezone.localdate():%Y-%m-%d})"
    )


def test_nothing_waiting_sends_nothing(make_user, django_capture_on_commit_callbacks):
    make_user("Finance")
    f.deal_in("manual_review", since=f.ago(5))  # Deal Desk's, and nobody is in Deal Desk
    _run(django_capture_on_commit_callbacks)
    assert mail.outbox == []


def test_running_twice_the_same_day_sends_once(make_user, django_capture_on_commit_callbacks):
    make_user("Finance")
    f.ar_item(since=f.ago(2))
    assert _run(django_capture_on_commit_callbacks) == 1
    assert _run(django_capture_on_commit_callbacks) == 0
    assert len(mail.outbox) == 1
    assert OutboxMessage.objects.filter(task="inbox.tasks.send_digest_to_user").count() == 1
    # A step run again (its worker died after sending) sends nothing either.
    message = OutboxMessage.objects.get(task="inbox.tasks.send_digest_to_user")
    assert tasks.send_digest_to_user(*message.args) == 0
    assert len(mail.outbox) == 1


def test_opting_out_on_the_inbox_page_stops_the_digest_and_is_audited(
    client, make_user, django_capture_on_commit_callbacks
):
    ann, bob = make_user("Finance", username="ann"), make_user("Finance", username="bob")
    f.ar_item(since=f.ago(2))
    client.force_login(ann)
    response = client.post(reverse("inbox:digest"), {"digest": "off"})
    assert response.status_code == 302
    assert 'data-testid="digest-state">Daily digest e-mail: <strong>off' in (
        client.get(reverse("inbox:list")).content.decode()
    )
    event = AuditEvent.objects.get(action=Action.INBOX_DIGEST_OPTED_OUT)
    assert (event.actor_id, event.after) == (ann.pk, {"digest": False})
    _run(django_capture_on_commit_callbacks)
    assert [m.to for m in mail.outbox] == [[bob.email]]

    client.post(reverse("inbox:digest"), {"digest": "on"})
    assert InboxPreference.objects.get(user=ann).digest is True
    assert AuditEvent.objects.filter(action=Action.INBOX_DIGEST_OPTED_IN).count() == 1
    # Hostile input changes nothing.
    client.post(reverse("inbox:digest"), {"digest": "maybe"})
    assert InboxPreference.objects.get(user=ann).digest is True


def test_the_beat_schedule_runs_the_digest_daily():
    entry = settings.CELERY_BEAT_SCHEDULE["inbox-digest-daily"]
    assert entry["task"] == "inbox.send_digest"
    assert entry["schedule"].hour == {7}
