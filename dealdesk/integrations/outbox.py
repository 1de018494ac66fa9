"""The transactional outbox: how a pipeline step is made durable.

1. The service's transaction writes an `OutboxMessage` beside the transition it makes
   (`outbox_enqueue`): the step is committed with the state change or not at all.
2. Right after commit, the relay hands the message to Celery (`relay`). If the broker is down
   or the process dies first, nothing is lost: the row is still pending.
3. Every minute Celery beat runs `outbox_sweep`, which sends every message that is due: never
   sent, sent but not picked up within the grace period, due for a retry, or claimed by a
   worker that died (its lease ended).
4. The worker claims the row, runs the task, and marks it done; a failure is retried with
   backoff or dead-lettered (integrations/delivery.py).

A step therefore runs at least once; every step task checks the state it expects and does
nothing otherwise, so it takes effect once.
"""

from collections.abc import Iterable, Sequence
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import models, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from audit.actions import Action
from dealdesk.integrations import broker, delivery
from dealdesk.integrations.models import OutboxMessage

# Messages per broker message: a sync's thousands of new deals go out as a few hundred sends.
CHUNK = 100
RETRY_PERM = "integrations.retry_outboxmessage"


def outbox_enqueue(
    *, task: str, args: Sequence = (), obj: models.Model | None = None, state: str = ""
) -> OutboxMessage:
    """Write a step in the caller's transaction; it is relayed once that commits."""
    return outbox_enqueue_many(task=task, items=[(args, obj)], state=state)[0]


def outbox_enqueue_many(
    *, task: str, items: Iterable[tuple[Sequence, models.Model | None]], state: str = ""
) -> list[OutboxMessage]:
    """outbox_enqueue for many objects at once (one insert): each item is (args, obj)."""
    # The relay sends these right after commit; until the grace period ends the sweep
    # leaves them alone, after it assumes the relay never happened and sends them itself.
    first_try = timezone.now() + _grace()
    messages = [
        OutboxMessage(
            task=task,
            args=list(args),
            object_type=obj._meta.label_lower if obj is not None else "",
            object_id=str(obj.pk) if obj is not None else "",
            state=state,
            next_attempt_at=first_try,
        )
        for args, obj in items
    ]
    if not messages:
        return []
    messages = OutboxMessage.objects.bulk_create(messages)
    if messages[0].pk is None:  # a database that returns no ids from a bulk insert
        raise RuntimeError("outbox: the database returned no ids for new messages")
    ids = [message.pk for message in messages]
    transaction.on_commit(lambda: relay(ids))
    return messages


def relay(ids: list[int]) -> int:
    """Hand messages to the broker; returns how many were sent. A broker error is logged
    and the rows stay pending for the sweep: a committed step never depends on the broker."""
    from dealdesk.integrations.tasks import outbox_deliver

    sent = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        if broker.publish(outbox_deliver, (chunk,)):  # else the broker is down: the sweep will
            sent += len(chunk)
    return sent


def outbox_sweep(*, limit: int = 10_000) -> int:
    """Send every due message (beat, every minute); returns how many were sent."""
    ids = list(
        delivery.due(OutboxMessage).order_by("next_attempt_at").values_list("pk", flat=True)[:limit]
    )
    if not ids:
        return 0
    delivery.release(OutboxMessage, ids, grace_seconds=_grace().total_seconds())
    return relay(ids)


def outbox_deliver_many(ids: Iterable[int]) -> None:
    """Worker side: run each message in turn (a chunk is sent as one broker message)."""
    for message_id in ids:
        outbox_deliver_one(message_id)


def outbox_deliver_one(message_id: int) -> bool:
    """Claim, run and settle one message; False when it did not run or failed."""
    message = delivery.claim(OutboxMessage, message_id)
    if message is None:
        return False
    task = import_string(message.task)
    return delivery.run_claimed(
        message,
        lambda: task(*message.args),  # a Celery task called directly runs here, in-process
        error_field="last_error",
        done_field="done_at",
        describe=f"outbox message {message.pk} ({message.task})",
        dead_action=Action.OUTBOX_MESSAGE_DEAD_LETTERED,
    )


def outbox_retry(*, message_id: int, actor: AbstractBaseUser, reason: str = "") -> OutboxMessage:
    """A person sends a dead-lettered step again (the admin's Retry); audited."""
    return delivery.retry_dead_letter(
        OutboxMessage,
        message_id,
        actor=actor,
        reason=reason,
        permission=RETRY_PERM,
        action=Action.OUTBOX_MESSAGE_RETRIED,
        relay=lambda pk: relay([pk]),
    )


def _grace() -> timedelta:
    return timedelta(seconds=settings.OUTBOX_RELAY_GRACE_SECONDS)
