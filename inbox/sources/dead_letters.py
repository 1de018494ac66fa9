"""Dead letters: pipeline steps and webhook events that stopped retrying (a permanent error
or every attempt spent). Billing's (billing.* steps, Stripe events) are Finance's, retried on
Billing → Dead letters; the rest are the admins', retried in the admin. Admins see them all.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Case, CharField, F, Model, Q, QuerySet, Value, When
from django.urls import reverse

from billing.selectors import BILLING_TASK_PREFIX, STRIPE_VENDOR
from dealdesk.integrations.models import DeliveryStatus, OutboxMessage, WebhookEvent
from dealdesk.roles import Role
from inbox.sources.base import ADMIN, Described, Source
from inbox.sources.billing import MANAGE_BILLING_PERM


class _DeadLetters(Source):
    group = ADMIN
    # The rows that are billing's, Finance's to retry.
    finance_rows: Q

    def since(self):
        # Stamped by the last failed attempt, the one that made it a dead letter.
        return F("updated_at")

    def waiting(self) -> QuerySet:
        return self.model.objects.filter(status=DeliveryStatus.DEAD)

    def _runs_integrations(self, user: AbstractBaseUser) -> bool:
        label = self.model._meta.model_name
        return user.is_staff and user.has_perms(
            [f"integrations.view_{label}", f"integrations.retry_{label}"]
        )

    def visible(self, user: AbstractBaseUser) -> Q | None:
        if self._runs_integrations(user):
            return Q()
        return self.finance_rows if user.has_perm(MANAGE_BILLING_PERM) else None

    def group_of(self):
        return Case(
            When(self.finance_rows, then=Value(Role.FINANCE.value)),
            default=Value(ADMIN),
            output_field=CharField(),
        )

    def groups(self, user: AbstractBaseUser) -> tuple[str, ...]:
        if self._runs_integrations(user):
            return (Role.FINANCE.value, ADMIN)
        return (Role.FINANCE.value,)

    def _link(self, obj: Model, is_billing: bool) -> tuple[str, str]:
        if is_billing:
            return reverse("billing:dead-letters"), "Billing dead letters"
        meta = obj._meta
        return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk]), "Admin"


class DeadSteps(_DeadLetters):
    kind = "dead_step"
    label = "Pipeline step dead-lettered"
    model = OutboxMessage
    finance_rows = Q(task__startswith=BILLING_TASK_PREFIX)

    def describe(self, obj: OutboxMessage) -> Described:
        url, act = self._link(obj, obj.task.startswith(BILLING_TASK_PREFIX))
        about = f"{obj.object_type} {obj.object_id}".strip()
        return Described(
            title=obj.task,
            subtitle=f"{about} · {obj.attempts} attempt(s)" if about else "",
            reason=obj.last_error or "no error recorded",
            url=url,
            act=act,
        )


class DeadEvents(_DeadLetters):
    kind = "dead_event"
    label = "Webhook event dead-lettered"
    model = WebhookEvent
    finance_rows = Q(vendor=STRIPE_VENDOR)

    def describe(self, obj: WebhookEvent) -> Described:
        url, act = self._link(obj, obj.vendor == STRIPE_VENDOR)
        return Described(
            title=f"{obj.vendor} {obj.type}".strip(),
            subtitle=f"{obj.event_id} · {obj.attempts} attempt(s)",
            reason=obj.handler_error or "no error recorded",
            url=url,
            act=act,
        )
