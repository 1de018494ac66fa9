"""Every write to the deal domain. Each public function is one transaction.

A state change always runs the same way (docs/conventions.md): lock the row, check the state, check the
actor's permission, transition, save with history user and reason, write the audit event.
What happens next is not decided here: dealdesk/pipeline.py enqueues it after commit.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Permission
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed, can_proceed

from audit.actions import Action
from audit.services import audit_record, audit_record_many, record_change
from dealdesk import pipeline
from dealdesk.bulk import bulk_insert_with_history
from dealdesk.drafting import drafting_progress
from dealdesk.integrations import delivery
from dealdesk.integrations.models import DeliveryStatus, OutboxMessage
from dealdesk.integrations.outbox import outbox_enqueue, relay
from dealdesk.models import (
    MANAGE_PERM,
    Account,
    Contact,
    Deal,
    DealContact,
    DealLine,
    DealPattern,
    DealState,
    DealTermsEdit,
    Product,
)
from dealdesk.patterns import DealFacts, LineFacts, classify
from dealdesk.pricing import PricingError, PricingResult, net_unit_price
from dealdesk.selectors import deal_pricing

# Transitions a person starts must say why; the reason lands in history and the audit log.
REASON_REQUIRED = {
    "cancel",
    "request_changes",
    "send_to_manual_review",
    "redraft",
    "resume",
    "return_from_signature",
    "signature_declined",
}
# The audit action each transition writes.
TRANSITION_ACTIONS: dict[str, Action] = {
    "start_drafting": Action.DEAL_DRAFTING_STARTED,
    "submit_for_review": Action.DEAL_SUBMITTED_FOR_REVIEW,
    "approve": Action.DEAL_APPROVED,
    "request_changes": Action.DEAL_CHANGES_REQUESTED,
    "redraft": Action.DEAL_REDRAFTED,
    "send_to_manual_review": Action.DEAL_SENT_TO_MANUAL_REVIEW,
    "resume": Action.DEAL_RESUMED,
    "cancel": Action.DEAL_CANCELLED,
    "send_for_signature": Action.DEAL_SENT_FOR_SIGNATURE,
    "mark_signed": Action.DEAL_SIGNED,
    "return_from_signature": Action.DEAL_RETURNED_FROM_SIGNATURE,
    "signature_declined": Action.DEAL_SIGNATURE_DECLINED,
    "start_billing": Action.DEAL_BILLING_STARTED,
    "mark_invoiced": Action.DEAL_INVOICED,
    "mark_paid": Action.DEAL_PAID,
}


class ReasonRequired(ValueError):
    pass


@dataclass(frozen=True)
class LineSpec:
    product: Product
    quantity: Decimal
    discount_pct: Decimal = Decimal(0)
    segment_index: int = 1
    list_unit_price: Decimal | None = None  # defaults to the catalog list price
    crm_id: str | None = None


@dataclass(frozen=True)
class ContactSpec:
    contact: Contact
    role: str = ""
    is_primary: bool = False
    crm_id: str | None = None  # the CRM's OpportunityContactRole id


@dataclass(frozen=True)
class DealSpec:
    crm_id: str
    name: str
    account: Account
    owner: AbstractBaseUser
    start_date: date
    term_months: int
    currency: str = "USD"
    billing_frequency: str = "annual"
    payment_terms: int = 30
    ae_notes: str = ""
    close_date: date | None = None
    crm_amount: Decimal | None = None
    lines: Sequence[LineSpec] = field(default_factory=tuple)
    contacts: Sequence[ContactSpec] = field(default_factory=tuple)


def pipeline_user() -> AbstractBaseUser:
    """The named service user the pipeline acts as, so history and audit say who moved a deal."""
    return service_user(
        username=settings.PIPELINE_USERNAME,
        first_name="Pipeline",
        permissions=["run_pipeline", "manage_deal", "request_deal_changes"],
    )


def service_user(*, username: str, first_name: str, permissions: list[str]) -> AbstractBaseUser:
    """A machine user (pipeline, CRM sync) with the dealdesk permissions it acts with.

    It cannot log in (unusable password) but must stay active: Django grants no permission
    to inactive users.
    """
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=username,
        defaults={"first_name": first_name, "last_name": "(service)", "is_active": True},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        user.user_permissions.add(
            *Permission.objects.filter(content_type__app_label="dealdesk", codename__in=permissions)
        )
    return user


@transaction.atomic
def deal_create(*, spec: DealSpec, actor: AbstractBaseUser) -> Deal:
    """A won deal enters Dealdesk in state `new`; the pipeline classifies and prices it."""
    return deals_create(specs=[spec], actor=actor)[0]


@transaction.atomic
def deals_create(*, specs: Sequence[DealSpec], actor: AbstractBaseUser) -> list[Deal]:
    """deal_create for many deals at once (the CRM sync's pages): bulk inserts with history.

    Each deal still gets its own audit event and its own pipeline step after commit.
    """
    deals = [
        Deal(
            crm_id=spec.crm_id,
            name=spec.name,
            account=spec.account,
            owner=spec.owner,
            currency=spec.currency,
            start_date=spec.start_date,
            term_months=spec.term_months,
            billing_frequency=spec.billing_frequency,
            payment_terms=spec.payment_terms,
            ae_notes=spec.ae_notes,
            close_date=spec.close_date,
            crm_amount=spec.crm_amount,
        )
        for spec in specs
    ]
    bulk_insert_with_history(deals, user=actor, reason="created")
    lines, contacts = [], []
    for deal, spec in zip(deals, specs, strict=True):
        lines += [_new_line(deal, line) for line in spec.lines]
        contacts += [
            DealContact(
                deal=deal, contact=r.contact, role=r.role, is_primary=r.is_primary, crm_id=r.crm_id
            )
            for r in spec.contacts
        ]
    bulk_insert_with_history(lines, user=actor, reason="created")
    bulk_insert_with_history(contacts, user=actor, reason="created")
    audit_record_many(
        events=[
            {
                "actor": actor,
                "obj": deal,
                "action": Action.DEAL_CREATED,
                "after": {"state": deal.state, "crm_id": deal.crm_id, "lines": len(spec.lines)},
            }
            for deal, spec in zip(deals, specs, strict=True)
        ]
    )
    if len(deals) == 1:
        pipeline.deal_created(deals[0])
    else:
        pipeline.deals_created(deals)
    return deals


def _new_line(deal: Deal, line: LineSpec) -> DealLine:
    list_price = line.product.list_price if line.list_unit_price is None else line.list_unit_price
    if list_price is None:
        raise PricingError(f"product {line.product.sku} has no list price")
    return DealLine(
        deal=deal,
        crm_id=line.crm_id,
        product=line.product,
        segment_index=line.segment_index,
        quantity=line.quantity,
        list_unit_price=list_price,
        discount_pct=line.discount_pct,
        net_unit_price=net_unit_price(list_price, line.discount_pct),
    )


# The totals a deal stores for the list, the queue and the gates (store_pricing).
PRICED_FIELDS = ("lines_total", "tcv", "acv", "arr", "first_year_value", "effective_discount_pct")


def store_pricing(deal: Deal, result: PricingResult) -> None:
    deal.lines_total = result.lines_total
    deal.tcv = result.tcv
    deal.acv = result.acv
    deal.arr = result.arr
    deal.first_year_value = result.first_year_value
    deal.effective_discount_pct = result.effective_discount_pct
    deal.priced_at = timezone.now()


@transaction.atomic
def deal_store_contract_totals(
    *, deal_id: int, actor: AbstractBaseUser, totals: Mapping[str, Decimal], reason: str
) -> Deal:
    """Store the totals (PRICED_FIELDS) the deal's new contract version was priced at:
    classification priced the deal before any clause existed, and a free period, uplift or
    price lock in the contract changes what the list, the approval queue and the gates must
    show. The contract's own figures, not a second pricing of them. Audited (before and
    after) only when a figure changes."""
    deal = _locked(deal_id)
    changed = [name for name in PRICED_FIELDS if getattr(deal, name) != totals[name]]
    if not changed:
        return deal
    before = {name: getattr(deal, name) for name in changed}
    for name in changed:
        setattr(deal, name, totals[name])
    deal.priced_at = timezone.now()
    record_change(
        deal,
        actor=actor,
        action=Action.DEAL_REPRICED,
        before=before,
        after={name: totals[name] for name in changed},
        reason=reason,
    )
    return deal


@transaction.atomic
def deal_classify_and_price(*, deal_id: int, actor: AbstractBaseUser) -> Deal:
    """Pipeline step for a new deal: price it, find its pattern, start drafting.

    Idempotent: a deal that has left `new` has been handled and is returned as it is.
    A deal that cannot be priced or fits no pattern goes to manual review with the reason.
    """
    deal = _locked(deal_id)
    if deal.state != DealState.NEW:
        return deal
    lines = list(deal.lines.select_related("product"))
    try:
        result = deal_pricing(deal, lines)
    except PricingError as exc:
        return deal_send_to_manual_review(
            deal_id=deal.pk, actor=actor, reason=f"cannot be priced: {exc}"
        )
    store_pricing(deal, result)
    classification = classify(
        DealFacts(
            term_months=deal.term_months,
            ae_notes=deal.ae_notes,
            account_has_msa=bool(deal.account.msa_reference),
            lines=[LineFacts(ln.product.sku, ln.product.kind, ln.segment_index) for ln in lines],
            payment_terms=deal.payment_terms,
            billing_frequency=deal.billing_frequency,
            currency=deal.currency,
            start_date=deal.start_date,
        )
    )
    if classification.code:
        deal.pattern = DealPattern.objects.get(code=classification.code)
    record_change(
        deal,
        actor=actor,
        action=Action.DEAL_CLASSIFIED,
        history_reason=f"classified: {classification.reason}",
        after={
            "pattern": classification.code,
            "reason": classification.reason,
            "tcv": result.tcv,
            "currency": result.currency,
        },
    )
    if classification.code is None:
        return deal_send_to_manual_review(
            deal_id=deal.pk, actor=actor, reason=f"fits no pattern: {classification.reason}"
        )
    return deal_start_drafting(deal_id=deal.pk, actor=actor, reason=classification.reason)


class DealTransitionService(Protocol):
    def __call__(self, *, deal_id: int, actor: AbstractBaseUser, reason: str = "") -> Deal: ...


def _named_transition(name: str, doc: str) -> DealTransitionService:
    """A service moving a deal along its plain transition `name` (no other step needed)."""

    @transaction.atomic
    def service(*, deal_id: int, actor: AbstractBaseUser, reason: str = "") -> Deal:
        return _transition(_locked(deal_id), actor, name, reason)

    service.__name__ = service.__qualname__ = f"deal_{name}"
    service.__doc__ = doc
    return service


deal_start_drafting = _named_transition(
    "start_drafting", "The pipeline: a priced deal with a pattern goes to contract drafting."
)
deal_submit_for_review = _named_transition(
    "submit_for_review", "The pipeline: a contract is drafted and the deal goes to review."
)
deal_approve = _named_transition(
    "approve", "Approvals: every gate passed and every approval granted."
)
deal_request_changes = _named_transition(
    "request_changes", "Approvals or Legal send the deal back to Deal Desk, saying why."
)
deal_redraft = _named_transition(
    "redraft", "Deal Desk has the changes made: a new contract version will be drafted."
)
deal_send_to_manual_review = _named_transition(
    "send_to_manual_review", "The pipeline or Deal Desk: a person must decide this deal."
)
deal_cancel = _named_transition(
    "cancel", "Deal Desk (or the CRM withdrawing the deal): the deal will not go ahead."
)

deal_send_for_signature = _named_transition(
    "send_for_signature", "E-signature: the approved contract went to its signers."
)
deal_mark_signed = _named_transition(
    "mark_signed", "E-signature: every party signed; the executed contract is stored."
)
deal_return_from_signature = _named_transition(
    "return_from_signature", "E-signature: the request was voided or expired; send it again."
)
deal_signature_declined = _named_transition(
    "signature_declined", "E-signature: a signer declined, saying why; Deal Desk takes it."
)
deal_start_billing = _named_transition(
    "start_billing", "Billing: the executed contract is in the billing system, read back equal."
)
deal_mark_invoiced = _named_transition(
    "mark_invoiced", "Billing: the deal's first invoice is issued."
)
deal_mark_paid = _named_transition("mark_paid", "Cash: the deal's first invoice is paid in full.")

# What a person may do to a deal from its page, by the action's name in the URL.
PERSON_ACTIONS: dict[str, DealTransitionService] = {
    "redraft": deal_redraft,
    "send_to_manual_review": deal_send_to_manual_review,
    "cancel": deal_cancel,
}


@transaction.atomic
def deal_record_terms_edit(*, deal_id: int, actor: AbstractBaseUser, reason: str) -> Deal:
    """Whoever changes a deal's priced lines or clauses is remembered, every one of them, so
    none can approve it (dealdesk/roles.py, segregation of duties). Recorded in history."""
    deal = _locked(deal_id)
    deal.terms_edited_by = actor
    deal._history_user, deal._change_reason = actor, reason
    deal.save()
    edit = DealTermsEdit(deal=deal, editor=actor, what=reason[:255])
    edit._history_user, edit._change_reason = actor, reason
    edit.save()
    return deal


@transaction.atomic
def deal_assign_owner(
    *, deal_id: int, owner: AbstractBaseUser, actor: AbstractBaseUser, reason: str
) -> Deal:
    """Deal Desk names a deal's owner, above all one whose CRM owner maps to no user (until
    then nobody may decide on it: dealdesk/roles.py)."""
    deal = _locked(deal_id)
    if not actor.has_perm(MANAGE_PERM):
        raise PermissionDenied(f"{actor} may not assign deal owners")
    if not reason.strip():
        raise ReasonRequired("a reason is required to assign a deal's owner")
    service_users = (settings.CRM_SYNC_USERNAME, settings.PIPELINE_USERNAME)
    if not owner.is_active or owner.get_username() in service_users:
        raise ValueError(f"{owner} is not a person who can own a deal")
    before = {"owner": deal.owner.get_username()}
    deal.owner = owner
    record_change(
        deal,
        actor=actor,
        action=Action.DEAL_OWNER_ASSIGNED,
        before=before,
        after={"owner": owner.get_username()},
        reason=reason,
    )
    return deal


@transaction.atomic
def deal_resume(*, deal_id: int, actor: AbstractBaseUser, pattern_code: str, reason: str) -> Deal:
    """A person decided a deal in manual review: give it a pattern and resume drafting."""
    deal = _locked(deal_id)
    _check_transition(deal, actor, "resume", reason, check_conditions=False)
    # A deal sent here because it could not be priced resumes only once it can be (Finance
    # has set up its product), with its totals stored: the list, queue and gates read them.
    try:
        store_pricing(deal, deal_pricing(deal, list(deal.lines.select_related("product"))))
    except PricingError as exc:
        raise TransitionNotAllowed(f"deal {deal.pk} cannot resume: {exc}") from exc
    previous = deal.pattern.code if deal.pattern_id else None
    deal.pattern = DealPattern.objects.get(code=pattern_code)
    record_change(
        deal,
        actor=actor,
        action=Action.DEAL_PATTERN_SET,
        before={"pattern": previous},
        after={"pattern": pattern_code},
        reason=reason,
    )
    return _transition(deal, actor, "resume", reason)


@transaction.atomic
def deal_retry_drafting(*, deal_id: int, actor: AbstractBaseUser, reason: str = "") -> Deal:
    """Deal Desk sends a stuck drafting step again from the deal page: a dead letter is
    retried (attempts start over), anything else gets a fresh step. The step checks the deal
    is still drafting under a row lock, so an old one that runs late changes nothing."""
    deal = _locked(deal_id)
    if not actor.has_perm(MANAGE_PERM):
        raise PermissionDenied(f"{actor} may not retry drafting deal {deal.pk}")
    progress = drafting_progress(deal)
    if progress is None:
        raise TransitionNotAllowed(
            f"deal {deal.pk} is {deal.get_state_display().lower()}: it is not drafting",
            object=deal,
        )
    if not progress.can_retry:
        raise TransitionNotAllowed(
            f"deal {deal.pk} is still drafting normally ({progress.summary}): try again later",
            object=deal,
        )
    reason = reason.strip() or "drafting retried from the deal page"
    step = progress.step
    if step is not None and step.status == DeliveryStatus.DEAD:
        # The admin's dead-letter retry, allowed here to whoever manages deals.
        step = delivery.retry_dead_letter(
            OutboxMessage,
            step.pk,
            actor=actor,
            reason=reason,
            permission=MANAGE_PERM,
            action=Action.OUTBOX_MESSAGE_RETRIED,
            relay=lambda pk: relay([pk]),
        )
    else:
        step = outbox_enqueue(
            task=pipeline.next_step(Deal._meta.label_lower, DealState.DRAFTING),
            args=[deal.pk],
            obj=deal,
            state=DealState.DRAFTING,
        )
    audit_record(
        actor=actor,
        obj=deal,
        action=Action.DEAL_DRAFTING_RETRIED,
        data={"step": step.pk, "was": progress.summary},
        reason=reason,
    )
    return deal


def _locked(deal_id: int) -> Deal:
    # The row lock makes two people (or a person and the pipeline) acting on the same deal
    # take turns; ConcurrentTransitionMixin then refuses a save from a stale state.
    return Deal.objects.select_for_update(of=("self",)).select_related("account").get(pk=deal_id)


def _check_transition(
    deal: Deal, actor: AbstractBaseUser, name: str, reason: str, *, check_conditions: bool = True
) -> None:
    method = getattr(deal, name)
    if not can_proceed(method, check_conditions=False):
        raise TransitionNotAllowed(
            f"deal {deal.pk} is {deal.get_state_display().lower()}: "
            f"it cannot {name.replace('_', ' ')}",
            object=deal,
        )
    if check_conditions and not can_proceed(method):
        raise TransitionNotAllowed(
            f"deal {deal.pk} cannot {name.replace('_', ' ')}: it has no pattern", object=deal
        )
    # has_transition_perm() also evaluates conditions; ask the transition itself so that
    # "may this person?" is answered even before a condition (a pattern) is met.
    if not method._django_fsm.get_transition(deal.state).has_perm(deal, actor):
        raise PermissionDenied(f"{actor} may not {name.replace('_', ' ')} deal {deal.pk}")
    if name in REASON_REQUIRED and not reason.strip():
        raise ReasonRequired(f"a reason is required to {name.replace('_', ' ')} a deal")


def _transition(deal: Deal, actor: AbstractBaseUser, name: str, reason: str) -> Deal:
    _check_transition(deal, actor, name, reason)
    before = {"state": deal.state}
    getattr(deal, name)(reason=reason)
    record_change(
        deal,
        actor=actor,
        action=TRANSITION_ACTIONS[name],
        before=before,
        after={"state": deal.state},
        reason=reason,
        history_reason=reason or name.replace("_", " "),
    )
    return deal
