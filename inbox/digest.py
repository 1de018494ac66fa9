"""The daily digest: one e-mail per person (plain text and HTML) listing, per group they act
for, what waits oldest first. Beat starts it once a day (`inbox.send_digest`); it writes one
outbox row per person, so each mail is retried with backoff like any other (a mail server
that is down delays it) and is sent once per person and day (its idempotency key)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from dealdesk.integrations.mail import send_notification
from dealdesk.integrations.outbox import outbox_enqueue_many
from inbox.models import USE_INBOX_PERM, InboxDigestRun
from inbox.selectors import InboxFilters, InboxRow, inbox_page, sources_for

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

SEND_TASK = "inbox.tasks.send_digest_to_user"
# Per group; the rest is a count and the link to the inbox.
ROWS_PER_GROUP = 20


@dataclass(frozen=True)
class DigestSection:
    group: str
    count: int
    rows: list[InboxRow]

    @property
    def more(self) -> int:
        return self.count - len(self.rows)


def digest_recipients() -> list[int]:
    """Active people with an e-mail address who may open the inbox and did not opt out."""
    app_label, codename = USE_INBOX_PERM.split(".")
    perm = Q(content_type__app_label=app_label, codename=codename)
    holds = (
        Q(is_superuser=True)
        | Q(groups__permissions__in=_permissions(perm))
        | Q(user_permissions__in=_permissions(perm))
    )
    return list(
        get_user_model()
        .objects.filter(holds, is_active=True)
        .exclude(email="")
        .exclude(inbox_preference__digest=False)
        .values_list("pk", flat=True)
        .distinct()
        .order_by("pk")
    )


def _permissions(which: Q):
    from django.contrib.auth.models import Permission

    return Permission.objects.filter(which)


def inbox_digest_start(*, day: date) -> int:
    """Once per day: an outbox row per recipient; returns how many (0 when it ran already)."""
    try:
        with transaction.atomic():
            run = InboxDigestRun.objects.create(day=day)
            recipients = digest_recipients()
            outbox_enqueue_many(
                task=SEND_TASK, items=[((pk, day.isoformat()), None) for pk in recipients]
            )
            run.recipients = len(recipients)
            run.save(update_fields=["recipients"])
    except IntegrityError:  # the day's run exists: someone sent it already
        return 0
    return len(recipients)


def digest_sections(*, user: AbstractBaseUser, now: datetime) -> list[DigestSection]:
    """What waits for each group `user` acts for, oldest first; groups with nothing left out."""
    groups = dict.fromkeys(g for s in sources_for(user).values() for g in s.groups(user))
    sections = []
    for group in groups:
        page, rows = inbox_page(
            user=user, filters=InboxFilters(group=group), now=now, per_page=ROWS_PER_GROUP
        )
        if page.paginator.count:
            sections.append(DigestSection(group=group, count=page.paginator.count, rows=rows))
    return sections


def inbox_digest_send(*, user_id: int, day: date) -> int:
    """Mail one person their digest for `day`; 0 when nothing waits, they opted out since,
    or it was sent already."""
    from inbox.services import digest_wanted

    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email or not digest_wanted(user):
        return 0
    sections = digest_sections(user=user, now=timezone.now())
    if not sections:
        return 0
    total = sum(section.count for section in sections)
    context = {
        "user": user,
        "day": day,
        "sections": sections,
        "total": total,
        "site_url": settings.SITE_URL,
        "inbox_url": settings.SITE_URL + reverse("inbox:list"),
    }
    return send_notification(
        subject=f"{total} item{'s' if total != 1 else ''} waiting in your inbox ({day:%Y-%m-%d})",
        body=render_to_string("inbox/digest.txt", context),
        html_body=render_to_string("inbox/digest.html", context),
        recipients=[user.email],
        key=f"inbox-digest-{user.pk}-{day.isoformat()}",
    )
