"""The append-only, hash-chained audit log, and history for Django's own User and Group.

Write events only through `audit.services.audit_record`; it owns the chain head lock.
"""

import simple_history
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class AppendOnlyError(Exception):
    """An attempt to change or delete an audit event."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("audit events are append-only: update() is refused")

    def delete(self):
        raise AppendOnlyError("audit events are append-only: delete() is refused")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError("audit events are append-only: bulk_update() is refused")

    # bulk_create() stays: it only appends (the benchmark builds a valid chain with it).


# No django-simple-history here: the log is its own history, and it never changes.
class AuditEvent(models.Model):
    seq = models.PositiveBigIntegerField(unique=True, help_text="Gap-free from 1.")
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        # PROTECT is Django's (users are deactivated, never deleted, while audited). No
        # database constraint: its check locks the actor's user row (FOR KEY SHARE) on every
        # append, a fifth of an append's time, and the username is stored with the event.
        on_delete=models.PROTECT,
        db_constraint=False,
        related_name="+",
        help_text="Empty for the system.",
    )
    # Denormalised so the hash never depends on a join (and survives a username change).
    actor_username = models.CharField(max_length=150)
    action = models.CharField(max_length=100, help_text='For example "deal.cancelled".')
    object_type = models.CharField(
        max_length=100, blank=True, help_text='The model\'s label, e.g. "dealdesk.deal".'
    )
    object_id = models.CharField(max_length=255, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    data = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    reason = models.TextField(blank=True)
    # Unique (see Meta): a second child of the same parent would be a fork of the chain.
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]
        # Nobody may add, change or delete events by permission: only "view" exists.
        default_permissions = ("view",)
        indexes = [
            models.Index(fields=["object_type", "object_id", "seq"], name="audit_event_object_idx")
        ]
        # Constraints rather than unique=True: on PostgreSQL that adds a second, LIKE-pattern
        # index per hash column, which every append pays for and no query uses.
        constraints = [
            models.CheckConstraint(condition=models.Q(seq__gte=1), name="audit_event_seq_gte_1"),
            models.UniqueConstraint(fields=["prev_hash"], name="audit_event_prev_hash_unique"),
            models.UniqueConstraint(fields=["hash"], name="audit_event_hash_unique"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(f"audit event #{self.seq} is append-only: save() is refused")
        # Insert only: with a pk set, Django would otherwise try an UPDATE first.
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"audit event #{self.seq} is append-only: delete() is refused")


class AuditChainHead(models.Model):
    """One row (pk=1): the last event's seq and hash, and the lock that serialises writers.

    Every writer first locks this row, inside its transaction (an UPDATE ... RETURNING in
    `audit.services`, which locks exactly like `select_for_update()`). On PostgreSQL under
    READ COMMITTED a second writer blocks on the row lock until the first commits, then
    re-evaluates its SET expressions on the committed row and chains onto the new head: the
    chain cannot fork (and the unique prev_hash would refuse a fork anyway). The row also
    lets verification notice a deleted tail, which a chain alone cannot; an anchor
    (audit.anchors) catches a tail deleted together with the head rewound.

    On PostgreSQL a trigger lets the row change only as an append moves it (migration 0006).
    """

    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)
    # The hash before last_hash: lets one UPDATE ... RETURNING hand the new event both its
    # prev_hash and its hash (RETURNING sees only new values).
    last_prev_hash = models.CharField(max_length=64, default="0" * 64)
    # Events from this seq on are HMAC-keyed; those before it, plain SHA-256 (audit.chain).
    # The seal is an HMAC of the seq, so moving the cut-over without the key is caught.
    hmac_from_seq = models.PositiveBigIntegerField(default=1)
    hmac_from_seal = models.CharField(max_length=64, blank=True)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"audit chain head #{self.last_seq}"


# Every change to a user or a group gets a history row (who, when, what). The password hash
# is left out: old hashes kept forever would only be material for offline cracking.
# Group membership (a many-to-many) is not tracked here: a service that changes it records an
# audit event instead.
simple_history.register(User, app="audit", excluded_fields=["password"])
simple_history.register(Group, app="audit")
