"""Telling people that something waits for them: a row under the bell in the navigation and
one e-mail carrying the deal's name, amount and a link.

Senders are tasks run from outbox rows (approvals/tasks.py, dealdesk/tasks.py), so a step
may run twice: the
bell's rows are unique per person and key, and the mail is sent once per key
(`dealdesk.integrations.mail.send_notification`).
"""

from collections.abc import Iterable, Sequence

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme

from audit.actions import Action, action_names
from audit.selectors import audit_events_for
from dealdesk.integrations.mail import send_notification
from dealdesk.models import Deal, DealState, Notification
from dealdesk.roles import Role, role_members
from dealdesk.templatetags.dealdesk import money

TEXT_LIMIT = Notification._meta.get_field("text").max_length


def notify(
    *,
    recipients: Iterable[AbstractBaseUser],
    deal: Deal,
    kind: Notification.Kind,
    key: str,
    subject: str,
    headline: str,
    details: Sequence[str] = (),
) -> int:
    """Tell each recipient about `deal`: a bell row each (once per key) and one e-mail (once
    per key); returns how many mails were sent (0 when this key was sent before)."""
    people = list(recipients)
    path = reverse("deal-detail", args=[deal.pk])
    # Rows first: a mail server that is down fails this step after them, and the retry
    # finds them written (ignore_conflicts on the unique key) and sends only the mail.
    Notification.objects.bulk_create(
        [
            Notification(
                recipient=person,
                deal=deal,
                kind=kind,
                key=key,
                text=headline[:TEXT_LIMIT],
                url=path,
            )
            for person in people
        ],
        ignore_conflicts=True,
    )
    return send_notification(
        subject=subject,
        body=mail_body(deal=deal, headline=headline, details=details, path=path),
        recipients=[person.email for person in people if person.email],
        key=key,
    )


# A deal waiting for Deal Desk: the state it entered → the action that put it there, whose
# audit event keys the notification (once each time the deal enters the state).
_WAITS_FOR_DESK = {
    DealState.MANUAL_REVIEW: [Action.DEAL_SENT_TO_MANUAL_REVIEW],
    DealState.CHANGES_REQUESTED: [Action.DEAL_CHANGES_REQUESTED, Action.DEAL_SIGNATURE_DECLINED],
}


def deal_notify_deal_desk(*, deal_id: int) -> int:
    """Tell Deal Desk that a deal waits for them (manual review, changes requested), with the
    reason it stopped. Nothing when the deal has moved on before this step ran."""
    deal = Deal.objects.select_related("account").get(pk=deal_id)
    actions = _WAITS_FOR_DESK.get(deal.state)
    if actions is None:
        return 0
    entered = (
        audit_events_for(obj=deal)
        .filter(action__in=[name for action in actions for name in action_names(action)])
        .values_list("seq", flat=True)
        .order_by("-seq")
        .first()
    )
    state = deal.get_state_display()
    return notify(
        recipients=role_members(Role.DEAL_DESK),
        deal=deal,
        kind=Notification.Kind.DEAL_WAITS_FOR_DESK,
        key=f"deal-{deal.pk}-{deal.state}-{entered}",
        subject=f"{state}: {deal.name}",
        headline=f"{deal.name} waits for Deal Desk: {state.lower()}",
        details=[deal.state_reason] if deal.state_reason else [],
    )


def mail_body(*, deal: Deal, headline: str, details: Sequence[str], path: str) -> str:
    """What every notification mail says: what happened, then which deal, how much, where."""
    # TCV once priced; until then the CRM's amount is all there is.
    amount, label = (deal.tcv, "TCV") if deal.tcv is not None else (deal.crm_amount, "CRM amount")
    return "\n".join(
        [
            headline,
            *details,
            "",
            f"Deal: {deal.name} ({deal.account.legal_name})",
            f"Amount: {money(amount, deal.currency)} ({label})",
            f"Open: {absolute_url(path)}",
        ]
    )


def absolute_url(path: str) -> str:
    """A link for an e-mail: a task has no request to build it from, so SITE_URL says where."""
    return f"{settings.SITE_URL}{path}"


def notifications_for(*, user: AbstractBaseUser) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).select_related("deal")


def notification_open(*, user: AbstractBaseUser, notification_id: int) -> str:
    """Mark one of the user's notifications read; returns where it leads (a path of ours).
    Someone else's notification is not found (DoesNotExist), never opened."""
    notification = Notification.objects.get(pk=notification_id, recipient=user)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return same_site_path(notification.url)


def notifications_mark_all_read(*, user: AbstractBaseUser) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def notifications_settle(*, key: str) -> int:
    """Whatever was sent under `key` waits for nobody any more (a request someone decided):
    it leaves every bell unread count."""
    return Notification.objects.filter(key=key, read_at__isnull=True).update(read_at=timezone.now())


def same_site_path(url: str) -> str:
    """`url` if it is a path on this site, else the deal list: a stored link must never send
    a person elsewhere (`//evil.example`, `https://...`, `javascript:`)."""
    if url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts=set()):
        return url
    return reverse("deal-list")


class Bell:
    """The navigation's unread count, counted only when a page shows it (an htmx fragment
    rendered with the same context never asks), and once per page."""

    def __init__(self, user: AbstractBaseUser) -> None:
        self.user = user

    @cached_property
    def unread(self) -> int:
        return Notification.objects.filter(recipient=self.user, read_at__isnull=True).count()
