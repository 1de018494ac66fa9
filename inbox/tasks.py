"""Thin Celery wrappers for the daily digest (inbox/digest.py)."""

from datetime import date

from celery import shared_task
from django.utils import timezone

from inbox import digest


@shared_task(name="inbox.send_digest")
def send_digest() -> int:
    """Beat, once a day: one outbox row per recipient (none the second time that day)."""
    return digest.inbox_digest_start(day=timezone.localdate())


@shared_task(name="inbox.send_digest_to_user")
def send_digest_to_user(user_id: int, day: str) -> int:
    return digest.inbox_digest_send(user_id=user_id, day=date.fromisoformat(day))
