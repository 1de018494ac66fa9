"""Every write to billing records and invoices.

Deal:signed ─▶ billing_start: the canonical order from the EXECUTED contract, the readiness
    checks, the order created in the ledger and read back; no difference → Deal:billing,
    anything else → a billing exception for Finance (nothing invoiced). Billing that starts
    at go-live waits, the deal signed, for its date (billing/go_live.py)
Deal:billing ─▶ invoices_issue_for_deal: every invoice due is numbered and issued; the
    first one → Deal:invoiced. Later invoices are issued by the daily beat. With
    BILLING_FIRST_INVOICE_REVIEW the first one waits for Finance's invoice_release.
"""

import dataclasses
import hashlib
import json
from datetime import date

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.actions import Action
from audit.services import audit_record, record_change
from billing.canonical_order import CanonicalOrder, OrderMismatch, canonical_order, order_to_json
from billing.diff import diff_records
from billing.invoice_review import held_for_release
from billing.ledger.base import ledger_for
from billing.models import BillingRecord, Invoice, InvoiceSequence, InvoiceState, RecordState
from billing.readiness import readiness_problems
from contracts.esign.models import R, SignatureRequest
from contracts.models import ContractState
from contracts.selectors import current_version
from dealdesk import services as deal_services
from dealdesk.models import PIPELINE_PERM, Deal, DealState

MANAGE_PERM = "billing.manage_billing"


def require_finance(actor: AbstractBaseUser, what: str) -> None:
    """Finance's own work (the AR queue, payments, bank imports, releasing invoices): anyone
    else is refused, told what they may not do. `what` completes "may not …"."""
    if not actor.has_perm(MANAGE_PERM):
        raise PermissionDenied(f"{actor} may not {what}: that is Finance's")


def billing_start(*, deal_id: int, actor: AbstractBaseUser) -> BillingRecord | None:
    """Bill a signed deal's executed contract (pipeline on Deal:signed; `bill_deal` again
    after Finance fixed an exception). Idempotent: a record already in billing is returned."""
    record = _open_record(deal_id, actor)
    if record is None or record.state != RecordState.PENDING:
        return record
    try:
        order = canonical_order(
            record.version.typed_snapshot, signed_on=record.signed_on, go_live_on=record.go_live_on
        )
    except OrderMismatch as exc:
        return _stop(record, actor, list(exc.differences))
    _store_order(record, order)
    if problems := readiness_problems(order):
        return _stop(record, actor, problems)
    if order.billing_start.mode == "on_go_live" and order.go_live_on is None:
        # Nothing goes to the ledger before go-live: the record waits (pending, the deal
        # signed) for billing.go_live.billing_go_live_set, which starts it again with the date.
        return record
    ledger = ledger_for(record)
    # The ledger's own transactions (Stripe: vendor calls, retried under idempotency keys).
    ids = ledger.create(record, order, actor=actor)
    differences = diff_records(ledger.expected(order), ledger.read_back(record, ids))
    if differences:
        return _stop(
            record,
            actor,
            ["the billing system's record differs from the contract"],
            diff=[dataclasses.asdict(d) for d in differences],
        )
    with transaction.atomic():
        record = BillingRecord.objects.select_for_update().get(pk=record.pk)
        if record.state != RecordState.PENDING:
            return record
        record.external_ids = ids
        record.checked_at = timezone.now()
        record.created()
        record_change(
            record,
            actor=actor,
            action=Action.BILLING_RECORD_CREATED,
            after={"state": record.state},
            data={"external_ids": ids, "order_sha256": record.order_sha256, "diff": []},
        )
        deal_services.deal_start_billing(
            deal_id=record.deal_id, actor=actor, reason="billing record matches the contract"
        )
    return record


def _open_record(deal_id: int, actor: AbstractBaseUser) -> BillingRecord | None:
    with transaction.atomic():
        deal = Deal.objects.select_for_update().get(pk=deal_id)
        version = current_version(deal)
        if deal.state != DealState.SIGNED or version is None:
            return None
        if version.state != ContractState.EXECUTED:
            return None
        record = BillingRecord.objects.filter(version=version).first()
        if record is not None:
            return record
        signed = (
            SignatureRequest.objects.filter(version=version, state=R.COMPLETED)
            .values_list("finished_at", flat=True)
            .first()
        )
        record = BillingRecord(
            deal=deal,
            version=version,
            backend=settings.BILLING_BACKEND,
            signed_on=timezone.localdate(signed) if signed else timezone.localdate(),
        )
        record_change(
            record,
            actor=actor,
            action=Action.BILLING_RECORD_OPENED,
            after={"state": record.state, "backend": record.backend},
            data={"version": version.number, "signed_on": record.signed_on.isoformat()},
        )
    return record


def _store_order(record: BillingRecord, order: CanonicalOrder) -> None:
    """The order as evidence on the record (the same order each run: written once)."""
    data = order_to_json(order)
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
    if record.order_sha256 != digest:
        BillingRecord.objects.filter(pk=record.pk).update(order=data, order_sha256=digest)
        record.order, record.order_sha256 = data, digest


def _stop(
    record: BillingRecord,
    actor: AbstractBaseUser,
    problems: list[str],
    *,
    diff: list[dict] | None = None,
) -> BillingRecord:
    with transaction.atomic():
        record = BillingRecord.objects.select_for_update().get(pk=record.pk)
        if record.state != RecordState.PENDING:
            return record
        record.checked_at = timezone.now()
        record.stopped(problems=problems, diff=diff)
        record_change(
            record,
            actor=actor,
            action=Action.BILLING_RECORD_STOPPED,
            after={"state": record.state},
            data={"problems": problems, "diff": diff or []},
            reason="; ".join(problems)[:2000],
        )
    return record


def billing_retry(*, deal_id: int, actor: AbstractBaseUser) -> BillingRecord | None:
    """Finance fixed what stopped a deal's billing: check and create it again (Finance, or
    `manage.py bill_deal` acting as the pipeline)."""
    if not (actor.has_perm(MANAGE_PERM) or actor.has_perm(PIPELINE_PERM)):
        raise PermissionDenied(f"{actor} may not bill deals")
    with transaction.atomic():
        record = (
            BillingRecord.objects.select_for_update()
            .filter(deal_id=deal_id, state=RecordState.EXCEPTION)
            .first()
        )
        if record is not None:
            record.retried()
            record_change(
                record,
                actor=actor,
                action=Action.BILLING_RECORD_RETRIED,
                before={"state": RecordState.EXCEPTION},
                after={"state": record.state},
            )
    return billing_start(deal_id=deal_id, actor=actor)


# --- invoices -----------------------------------------------------------------------------


def invoices_issue_due(*, actor: AbstractBaseUser, today: date | None = None) -> int:
    """Issue every drafted invoice whose day has come (the daily beat, and each deal as it
    enters billing)."""
    today = today or timezone.localdate()
    due = Invoice.objects.filter(
        state=InvoiceState.DRAFT, record__state=RecordState.CREATED, issue_on__lte=today
    ).order_by("issue_on", "pk")
    return sum(
        invoice_issue(invoice_id=pk, actor=actor, today=today) is not None
        for pk in due.values_list("pk", flat=True)
    )


def invoices_issue_for_deal(*, deal_id: int, actor: AbstractBaseUser) -> int:
    today = timezone.localdate()
    due = Invoice.objects.filter(
        deal_id=deal_id, state=InvoiceState.DRAFT, issue_on__lte=today
    ).values_list("pk", flat=True)
    return sum(invoice_issue(invoice_id=pk, actor=actor, today=today) is not None for pk in due)


def invoice_issue(*, invoice_id: int, actor: AbstractBaseUser, today: date) -> Invoice | None:
    """Issue one invoice whose day has come, unless it is a first invoice held for Finance's
    review (BILLING_FIRST_INVOICE_REVIEW: invoice_release issues it)."""
    with transaction.atomic():
        invoice = _locked_invoice(invoice_id)
        if not _issuable(invoice, today) or held_for_release(invoice):
            return None
        return _issue(invoice, actor)


class InvoiceNotHeld(Exception):
    """The invoice is not a first invoice waiting for Finance's release (the message says
    why)."""


def invoice_release(*, invoice_id: int, actor: AbstractBaseUser) -> Invoice:
    """Finance releases a first invoice held for review: numbered and issued as usual (the
    deal → invoiced)."""
    require_finance(actor, "release invoices")
    today = timezone.localdate()
    with transaction.atomic():
        invoice = _locked_invoice(invoice_id)
        if not held_for_release(invoice):
            raise InvoiceNotHeld(f"{invoice} is not a first invoice awaiting release")
        if not _issuable(invoice, today):
            raise InvoiceNotHeld(f"{invoice} cannot be issued today (it is due {invoice.issue_on})")
        audit_record(
            actor=actor,
            obj=invoice,
            action=Action.INVOICE_RELEASED,
            data={"total": str(invoice.total), "currency": invoice.currency},
        )
        return _issue(invoice, actor)


def _locked_invoice(invoice_id: int) -> Invoice:
    return Invoice.objects.select_for_update().select_related("record").get(pk=invoice_id)


def _issuable(invoice: Invoice, today: date) -> bool:
    """A draft of a record in billing whose issue day has come (kept in step with
    billing.invoice_review.invoices_awaiting_release)."""
    return (
        invoice.state == InvoiceState.DRAFT
        and invoice.record.state == RecordState.CREATED
        and invoice.issue_on is not None
        and invoice.issue_on <= today
    )


def _issue(invoice: Invoice, actor: AbstractBaseUser) -> Invoice:
    """Number and issue a locked invoice: its number is the next of its legal entity and year,
    taken under a row lock in the same transaction, so numbers have no gaps and no twins."""
    number = next_document_number(invoice.legal_entity, invoice.issue_on.year)
    invoice.issue(number=number, at=timezone.now())
    record_change(
        invoice,
        actor=actor,
        action=Action.INVOICE_ISSUED,
        after={"state": invoice.state, "number": number},
        data={
            "total": str(invoice.total),
            "currency": invoice.currency,
            "due_on": invoice.due_on.isoformat() if invoice.due_on else None,
        },
    )
    deal = Deal.objects.select_for_update().get(pk=invoice.deal_id)
    if invoice.plan_index == 1 and deal.state == DealState.BILLING:
        deal_services.deal_mark_invoiced(
            deal_id=deal.pk, actor=actor, reason=f"first invoice {number} issued"
        )
    return invoice


def next_document_number(entity: str, year: int) -> str:
    """The next number of a gapless series (invoices: "DD", credit notes: "DD-CN") for the
    year, taken under the series' row lock: call inside the issuing transaction."""
    for _ in range(2):
        sequence = (
            InvoiceSequence.objects.select_for_update()
            .filter(legal_entity=entity, year=year)
            .first()
        )
        if sequence is not None:
            break
        try:
            with transaction.atomic():  # the year's first invoice: another may create it too
                InvoiceSequence.objects.create(legal_entity=entity, year=year)
        except IntegrityError:
            continue
    else:
        raise RuntimeError(f"no invoice sequence for {entity} {year}")
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return f"{entity}-{year}-{sequence.last_number:06d}"
