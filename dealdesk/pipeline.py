"""The whole flow in one table: (model, state it just entered) → the task that comes next.

Apps never call each other's next step. A service moves an object through a django-fsm
transition; the listener below looks the new state up here and enqueues the next task once
the transaction commits (never before: the task must see the committed state, and a rolled
back transition must start nothing). Later capabilities add their rows here.

    CRM sync ─▶ Deal:new ─▶ classify + price ─▶ Deal:drafting (or manual_review)
    Deal:drafting ─▶ draft the contract (extract clauses, render) ─▶ Deal:in_review
    Deal:changes_requested ─(a person redrafts)─▶ Deal:drafting ─▶ a new contract version
    Deal:cancelled ─▶ its live contract version is voided
    Deal:in_review ─▶ gates + policy ─▶ approval requests, step by step (or changes_requested)
    ApprovalRequest:approved/rejected, ContractVersion:approved/superseded ─▶ re-evaluate:
        next step opens, or the deal is approved (all granted, contract approved or needing
        no legal review), or it goes back (a rejection); a new version supersedes requests
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import models, transaction
from django.utils.module_loading import import_string
from django_fsm.signals import post_transition

NEXT_STEP: dict[tuple[str, str], str] = {
    ("dealdesk.deal", "new"): "dealdesk.tasks.deal_classify_and_price",
    ("dealdesk.deal", "drafting"): "contracts.tasks.contract_draft",
    ("dealdesk.deal", "cancelled"): "contracts.tasks.contract_void_for_cancelled_deal",
    ("dealdesk.deal", "in_review"): "approvals.tasks.evaluate_deal",
    ("approvals.approvalrequest", "approved"): "approvals.tasks.evaluate_after_decision",
    ("approvals.approvalrequest", "rejected"): "approvals.tasks.evaluate_after_decision",
    ("contracts.contractversion", "approved"): "approvals.tasks.evaluate_after_contract",
    ("contracts.contractversion", "superseded"): "approvals.tasks.evaluate_after_contract",
}


_hold = threading.local()


@contextmanager
def held() -> Iterator[None]:
    """Enqueue nothing inside this block: seed_demo walks its deals through the steps itself,
    so each demo deal stops at the state it is meant to show."""
    _hold.active = True
    try:
        yield
    finally:
        _hold.active = False


def next_step(model_label: str, state: str) -> str | None:
    return NEXT_STEP.get((model_label, state))


def schedule_next(instance: models.Model, state: str) -> None:
    """Enqueue the task that follows `instance` entering `state`, after commit."""
    task_path = next_step(instance._meta.label_lower, state)
    if task_path is None or getattr(_hold, "active", False):
        return
    task = import_string(task_path)
    pk = instance.pk
    transaction.on_commit(lambda: task.delay(pk))


def deal_created(deal: models.Model) -> None:
    """A deal is born in `new` without a transition, so creation enters the table here."""
    schedule_next(deal, deal.state)


# Bulk creation (the CRM sync's pages) sends the next steps in chunks: one message per
# CHUNK deals rather than one each; a worker runs the chunk's steps one after another.
CHUNK = 100


def deals_created(deals: list[models.Model]) -> None:
    """deal_created for many new deals, enqueued in chunks after commit."""
    if not deals:
        return
    task_path = next_step(deals[0]._meta.label_lower, deals[0].state)
    if task_path is None:
        return
    task = import_string(task_path)
    pks = [(deal.pk,) for deal in deals]
    transaction.on_commit(lambda: task.chunks(pks, CHUNK).apply_async())


def _on_transition(sender, instance, name, source, target, **kwargs) -> None:
    schedule_next(instance, target)


post_transition.connect(_on_transition, dispatch_uid="dealdesk.pipeline")
