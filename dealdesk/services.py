"""Every write to the deal domain. Each public function is one transaction.

A state change always runs the same way (STYLE.md): lock the row, check the state, check the
actor's permission, transition, save with history user and reason, write the audit event.
What happens next is not decided here: dealdesk/pipeline.py enqueues it after commit.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Permission
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed, can_proceed

from audit.services import audit_record, audit_record_many
from dealdesk import pipeline
from dealdesk.bulk import bulk_insert_with_history
from dealdesk.models import (
    Account,
    Contact,
    Deal,
    DealContact,
    DealLine,
    DealPattern,
    DealState,
    Product,
)
from dealdesk.patterns import DealFacts, LineFacts, classify
from dealdesk.pricing import PricingError, PricingResult, net_unit_price
from dealdesk.selectors import deal_pricing

# Transitions a person starts must say why; the reason lands in history and the audit log.
REASON_REQUIRED = {"cancel", "request_changes", "send_to_manual_review", "redraft", "resume"}
# Only these may be asked for by name; the rest have services with extra steps.
GENERIC_TRANSITIONS = {
    "start_drafting",
    "submit_for_review",
    "approve",
    "request_changes",
    "redraft",
    "send_for_signature",
    "mark_signed",
    "start_billing",
    "mark_invoiced",
    "mark_paid",
    "send_to_manual_review",
    "cancel",
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
                "action": "deal.created",
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


def store_pricing(deal: Deal, result: PricingResult) -> None:
    deal.lines_total = result.lines_total
    deal.tcv = result.tcv
    deal.acv = result.acv
    deal.arr = result.arr
    deal.first_year_value = result.first_year_value
    deal.effective_discount_pct = result.effective_discount_pct
    deal.priced_at = timezone.now()


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
        return _transition(deal, actor, "send_to_manual_review", f"cannot be priced: {exc}")
    store_pricing(deal, result)
    classification = classify(
        DealFacts(
            term_months=deal.term_months,
            ae_notes=deal.ae_notes,
            account_has_msa=bool(deal.account.msa_reference),
            lines=[LineFacts(ln.product.sku, ln.product.kind, ln.segment_index) for ln in lines],
        )
    )
    if classification.code:
        deal.pattern = DealPattern.objects.get(code=classification.code)
    deal._history_user, deal._change_reason = actor, f"classified: {classification.reason}"
    deal.save()
    audit_record(
        actor=actor,
        obj=deal,
        action="deal.classified",
        after={
            "pattern": classification.code,
            "reason": classification.reason,
            "tcv": result.tcv,
            "currency": result.currency,
        },
    )
    if classification.code is None:
        return _transition(
            deal, actor, "send_to_manual_review", f"fits no pattern: {classification.reason}"
        )
    return _transition(deal, actor, "start_drafting", classification.reason)


@transaction.atomic
def deal_transition(
    *, deal_id: int, actor: AbstractBaseUser, transition: str, reason: str = ""
) -> Deal:
    """Move a deal along one of its plain transitions (see GENERIC_TRANSITIONS)."""
    if transition not in GENERIC_TRANSITIONS:
        raise ValueError(f"unknown deal transition {transition!r}")
    return _transition(_locked(deal_id), actor, transition, reason)


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
    deal._history_user, deal._change_reason = actor, reason
    deal.save()
    audit_record(
        actor=actor,
        obj=deal,
        action="deal.pattern_set",
        before={"pattern": previous},
        after={"pattern": pattern_code},
        reason=reason,
    )
    return _transition(deal, actor, "resume", reason)


def _locked(deal_id: int) -> Deal:
    # The row lock makes two people (or a person and the pipeline) acting on the same deal
    # take turns; ConcurrentTransitionMixin then refuses a save from a stale state.
    return Deal.objects.select_for_update().select_related("account").get(pk=deal_id)


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
    deal._history_user, deal._change_reason = actor, reason or name.replace("_", " ")
    deal.save()
    audit_record(
        actor=actor,
        obj=deal,
        action=f"deal.{name}",
        before=before,
        after={"state": deal.state},
        reason=reason,
    )
    return deal
