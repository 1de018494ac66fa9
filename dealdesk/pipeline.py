"""The whole flow in one table: (model, state it just entered) → the task that comes next.

Apps never call each other's next step. A service moves an object through a django-fsm
transition; the listener below looks the new state up here and writes an outbox row in the
same transaction (dealdesk/integrations/outbox.py): the step commits with the state change
or not at all, is relayed to a worker after commit, and is sent again by the sweep if that
relay never happens. Every task checks the state it expects, so a step runs at least once
and takes effect once. Later capabilities add their rows here.

    CRM sync ─▶ Deal:new ─▶ classify + price ─▶ Deal:drafting (or manual_review)
    Deal:drafting ─▶ draft the contract (extract clauses, render) ─▶ Deal:in_review
    Deal:manual_review, Deal:changes_requested ─▶ Deal Desk told (bell + e-mail)
    Deal:changes_requested ─(a person redrafts)─▶ Deal:drafting ─▶ a new contract version
    Deal:cancelled ─▶ its live contract version is voided, its open approvals superseded
    Deal:in_review ─▶ gates + policy ─▶ approval requests, step by step (or changes_requested)
    ApprovalRequest:approved/rejected, ContractVersion:approved/superseded ─▶ re-evaluate:
        next step opens, or the deal is approved (all granted, contract approved or needing
        no legal review), or it goes back (a rejection); a new version supersedes requests
    Deal:approved ─▶ a signature request for the approved PDF ─▶ Deal:out_for_signature
        (or a draft request saying why it cannot go out, for Deal Desk)
    SignatureRequest:sent ─▶ the backend asks the first signers; Signer:notified ─▶ their
        e-mail; Signer:signed ─▶ the next signers, or (all signed) the executed PDF is stored,
        ContractVersion:executed, Deal:signed. A decline sends the deal back with the reason;
        a void or expiry returns it to approved, where it waits for Deal Desk's Resend
    SignatureRequest:completed ─▶ each signer mailed their copy, the owner told
    Deal:signed ─▶ the canonical order from the executed contract, readiness checks, created
        in the ledger and read back: equal ─▶ Deal:billing, else a billing exception
    Deal:billing ─▶ the invoices due are numbered and issued; the first ─▶ Deal:invoiced
    Invoice:issued ─▶ its PDF drawn, stored with its hash and mailed to the billing contact
    Deal:cancelled ─▶ its open signature request is voided; SignatureRequest:voided ─▶ the
        vendor's envelope is voided too
"""

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.db import models
from django_fsm.signals import post_transition

from dealdesk.integrations.outbox import outbox_enqueue, outbox_enqueue_many

# A row's value is one task, or several run side by side (each its own outbox message).
NEXT_STEP: dict[tuple[str, str], str | tuple[str, ...]] = {
    ("dealdesk.deal", "new"): "dealdesk.tasks.deal_classify_and_price",
    ("dealdesk.deal", "drafting"): "contracts.tasks.contract_draft",
    ("dealdesk.deal", "cancelled"): (
        "contracts.tasks.contract_void_for_cancelled_deal",
        "contracts.esign.tasks.signature_void_for_cancelled_deal",
    ),
    # A deal that stops for a person: Deal Desk is told (bell and e-mail).
    ("dealdesk.deal", "manual_review"): "dealdesk.tasks.deal_notify_deal_desk",
    ("dealdesk.deal", "changes_requested"): "dealdesk.tasks.deal_notify_deal_desk",
    ("dealdesk.deal", "in_review"): "approvals.tasks.evaluate_deal",
    ("approvals.approvalrequest", "approved"): "approvals.tasks.evaluate_after_decision",
    ("approvals.approvalrequest", "rejected"): "approvals.tasks.evaluate_after_decision",
    ("contracts.contractversion", "approved"): "approvals.tasks.evaluate_after_contract",
    ("contracts.contractversion", "superseded"): "approvals.tasks.evaluate_after_contract",
    ("contracts.contractversion", "voided"): "approvals.tasks.evaluate_after_contract",
    ("dealdesk.deal", "approved"): "contracts.esign.tasks.signature_send",
    ("esign.signaturerequest", "sent"): "contracts.esign.tasks.signature_deliver",
    ("esign.signaturerequest", "voided"): "contracts.esign.tasks.signature_vendor_void",
    ("esign.signaturerequest", "completed"): "contracts.esign.tasks.signature_completed_notify",
    ("esign.signer", "notified"): "contracts.esign.tasks.signer_email",
    ("esign.signer", "signed"): "contracts.esign.tasks.signature_advance",
    ("dealdesk.deal", "signed"): "billing.tasks.billing_start",
    ("dealdesk.deal", "billing"): "billing.tasks.invoices_issue_for_deal",
    ("billing.invoice", "issued"): "billing.tasks.invoice_deliver",
}


_hold = threading.local()


@contextmanager
def held() -> Iterator[None]:
    """Write no steps inside this block: seed_demo walks its deals through the steps itself,
    so each demo deal stops at the state it is meant to show."""
    _hold.active = True
    try:
        yield
    finally:
        _hold.active = False


def is_held() -> bool:
    return getattr(_hold, "active", False)


def next_steps(model_label: str, state: str) -> tuple[str, ...]:
    steps = NEXT_STEP.get((model_label, state), ())
    return (steps,) if isinstance(steps, str) else steps


def next_step(model_label: str, state: str) -> str | None:
    """The one step after `state` (a row naming several is asked through next_steps)."""
    steps = next_steps(model_label, state)
    return steps[0] if steps else None


def schedule_next(instance: models.Model, state: str) -> None:
    """Write the steps that follow `instance` entering `state`, in the current transaction."""
    if is_held():
        return
    for task_path in next_steps(instance._meta.label_lower, state):
        outbox_enqueue(task=task_path, args=[instance.pk], obj=instance, state=state)


def deal_created(deal: models.Model) -> None:
    """A deal is born in `new` without a transition, so creation enters the table here."""
    schedule_next(deal, deal.state)


def deals_created(deals: Sequence[models.Model]) -> None:
    """deal_created for many new deals (the CRM sync's pages): one insert of their steps."""
    if not deals or is_held():
        return
    for task_path in next_steps(deals[0]._meta.label_lower, deals[0].state):
        outbox_enqueue_many(
            task=task_path, items=[([deal.pk], deal) for deal in deals], state=deals[0].state
        )


def _on_transition(sender, instance, name, source, target, **kwargs) -> None:
    schedule_next(instance, target)


post_transition.connect(_on_transition, dispatch_uid="dealdesk.pipeline")
