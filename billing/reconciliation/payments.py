"""Payments received — from a bank statement, Stripe or Finance's own entry — and reconciled
at once: matched to invoices through billing.settlement, or put in front of Finance with an
AR item saying why. A payment is stored once per (source, its id at the source), so a webhook
delivered twice, a statement imported twice or a form submitted twice adds nothing."""

import re
import secrets
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.actions import Action
from billing.bank_statements.entries import checked_money
from billing.models import Invoice, Payment, PaymentSource, PaymentState
from billing.reconciliation.matching import Decision, Finding, IncomingPayment
from billing.reconciliation.open_invoices import OpenInvoices
from billing.services import MANAGE_PERM, require_finance
from billing.settlement import Books, ar_open, payment_allocate
from dealdesk.models import PIPELINE_PERM

_ENTRY_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")


class PaymentRefused(ValueError):
    """The payment cannot be recorded as given; the message is worded for Finance."""


def payment_receive(
    *,
    source: str,
    external_id: str,
    amount: Decimal,
    currency: str,
    received_on: date,
    actor: AbstractBaseUser,
    payer_name: str = "",
    reference: str = "",
    account_id: int | None = None,
    invoice_id: int | None = None,
    statement_id: int | None = None,
    note: str = "",
) -> tuple[Payment, bool]:
    """Store a payment once and reconcile it. Returns (payment, created); a second call with
    the same (source, external_id) returns the first payment and changes nothing."""
    if not (actor.has_perm(MANAGE_PERM) or actor.has_perm(PIPELINE_PERM)):
        raise PermissionDenied(f"{actor} may not record payments")
    existing = Payment.objects.filter(source=source, external_id=external_id).first()
    if existing is not None:
        return existing, False
    incoming = IncomingPayment(amount, currency, reference, payer_name)
    payment, decision = receive_into(
        OpenInvoices.load([(incoming, account_id, invoice_id)]),
        Payment(
            source=source,
            external_id=external_id,
            amount=amount,
            currency=currency,
            received_on=received_on,
            payer_name=payer_name,
            reference=reference,
            account_id=account_id,
            statement_id=statement_id,
            note=note,
        ),
        actor=actor,
        invoice_id=invoice_id,
    )
    return payment, decision is not None


def receive_into(
    invoices: OpenInvoices,
    payment: Payment,
    *,
    actor: AbstractBaseUser,
    invoice_id: int | None = None,
    action: str = Action.PAYMENT_RECEIVED,
) -> tuple[Payment, Decision | None]:
    """Store an unsaved payment and reconcile it against `invoices`: receive_many's batch
    of one. The decision is None when the payment was already there (stored by a concurrent
    call)."""
    return receive_many(invoices, [(payment, invoice_id)], actor=actor, action=action)[0]


def receive_many(
    invoices: OpenInvoices,
    payments: Sequence[tuple[Payment, int | None]],
    *,
    actor: AbstractBaseUser,
    action: str = Action.PAYMENT_RECEIVED,
) -> list[tuple[Payment, Decision | None]]:
    """Store unsaved payments (each with the invoice id it is for, or None) and reconcile
    them, in order, against `invoices` (a statement import decides its thousands of entries
    against one bulk-loaded OpenInvoices): the rows they change locked in a few queries and
    every change written in bulk (billing.settlement.Books). A payment stored already (by a
    concurrent call) comes back as it is, with no decision."""
    if not payments:
        return []
    decisions = []
    for payment, invoice_id in payments:
        _check(payment)
        incoming = IncomingPayment(
            payment.amount, payment.currency, payment.reference, payment.payer_name
        )
        decision = invoices.decide(incoming, account_id=payment.account_id, invoice_id=invoice_id)
        payment.account_id = invoices.account_for(incoming, payment.account_id) or _only(
            invoice.account_id for invoice in decision.invoices
        )
        # The next payment sees this one's money (one invoice paid twice in a statement).
        invoices.applied(decision)
        decisions.append(decision)
        if _applied_in_full(payment, decision):
            # Born applied: its creation (one history row, one event naming the invoices)
            # is the whole of its story, no transition from received a moment later.
            payment.amount_applied = payment.amount
            Payment._meta.get_field("state").set_state(payment, PaymentState.APPLIED)
    # One transaction for the batch (a savepoint inside the caller's): its rows stay locked
    # until it ends, and a failure writes none of it.
    with transaction.atomic():
        books = Books(actor)
        raced = _store(books, [payment for payment, _ in payments], action)
        booked = [(p, d) for (p, _), d in zip(payments, decisions, strict=True) if p.pk is not None]
        books.lock(Invoice, (i.id for _, d in booked for i in d.invoices))
        books.lock_ar_items(
            keys=(_ar_key(p, f) for p, d in booked for f in d.findings),
            shortfalls_of=(a.invoice.id for _, d in booked for a in d.allocations),
        )
        for payment, decision in booked:
            data = {
                "source": payment.source,
                "external_id": payment.external_id,
                "amount": str(payment.amount),
                "currency": payment.currency,
                "received_on": payment.received_on.isoformat(),
            }
            on_receipt = payment.state == PaymentState.APPLIED
            if on_receipt:
                data["applied_to"] = [
                    {"invoice": a.invoice.number, "amount": str(a.amount)}
                    for a in decision.allocations
                ]
            books.audit(payment, action=action, after={"state": payment.state}, data=data)
            _apply(payment, decision, books, on_receipt=on_receipt)
        books.flush()
    return [
        (payment, decision) if payment.pk is not None else (raced[_key(payment)], None)
        for (payment, _), decision in zip(payments, decisions, strict=True)
    ]


def _key(payment: Payment) -> tuple[str, str]:
    return payment.source, payment.external_id


def _store(books: Books, payments: list[Payment], action: str) -> dict[tuple[str, str], Payment]:
    """Insert the payments; returns those another call stored first, by (source, external
    id). In a savepoint: under a race the loser's insert fails on the unique (source,
    external_id) and the winner's payment is taken instead, inside a statement's commit too."""
    raced: dict[tuple[str, str], Payment] = {}
    while True:
        new = [payment for payment in payments if _key(payment) not in raced]
        try:
            with transaction.atomic():
                books.insert(new, action=action)
            return raced
        except IntegrityError:
            there = {_key(p): p for p in _stored_already(new)}
            if not there:
                raise
            raced.update(there)


def _stored_already(payments: list[Payment]) -> list[Payment]:
    ids: dict[str, list[str]] = defaultdict(list)
    for payment in payments:
        ids[payment.source].append(payment.external_id)
    return [
        found
        for source, external_ids in ids.items()
        for found in Payment.objects.filter(source=source, external_id__in=external_ids)
    ]


def _only(values) -> int | None:
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 else None


def _check(payment: Payment) -> None:
    if payment.source not in PaymentSource.values:
        raise PaymentRefused(f"unknown payment source “{payment.source}”")
    if not isinstance(payment.amount, Decimal) or not payment.amount.is_finite():
        raise PaymentRefused("the amount must be a decimal number")
    if payment.amount <= 0:
        raise PaymentRefused("the amount must be more than zero")
    try:
        payment.amount, payment.currency = checked_money(payment.amount, payment.currency)
    except ValueError as exc:
        raise PaymentRefused(str(exc)) from None


def _applied_in_full(payment: Payment, decision: Decision) -> bool:
    return bool(decision.allocations) and payment.amount == sum(
        allocation.amount for allocation in decision.allocations
    )


def _apply(payment: Payment, decision: Decision, books: Books, *, on_receipt: bool) -> None:
    for allocation in decision.allocations:
        payment_allocate(
            payment.pk,
            allocation.invoice.id,
            allocation.amount,
            actor=books.actor,
            how="matched",
            books=books,
            on_receipt=on_receipt,
        )
    for finding in decision.findings:
        ar_open(
            key=_ar_key(payment, finding),
            reason=finding.reason,
            amount=finding.amount,
            currency=payment.currency,
            detail=f"{payment}: {finding.detail}",
            actor=books.actor,
            invoice=books.get(Invoice, finding.invoice.id) if finding.invoice else None,
            payment=payment,
            books=books,
        )


def _ar_key(payment: Payment, finding: Finding) -> str:
    return f"payment:{payment.pk}:{finding.reason}"


def manual_entry_token() -> str:
    """The one-time token the manual entry form renders: its payment's id, so a form sent
    twice (a double click, a reload) records one payment."""
    return secrets.token_urlsafe(24)


def payment_record_manual(
    *,
    actor: AbstractBaseUser,
    entry_token: str,
    amount: Decimal,
    currency: str,
    received_on: date,
    payer_name: str,
    reference: str,
    account_id: int | None = None,
    invoice_id: int | None = None,
    note: str = "",
) -> Payment:
    """A payment Finance saw arrive (a cheque, a transfer not on an imported statement)."""
    require_finance(actor, "record payments")
    if not _ENTRY_TOKEN.fullmatch(entry_token or ""):
        raise PaymentRefused("the form has expired: open it again")
    if received_on > timezone.localdate():
        raise PaymentRefused("a payment cannot be received in the future")
    external_id = f"entry:{entry_token}"
    existing = Payment.objects.filter(source=PaymentSource.MANUAL, external_id=external_id)
    if found := existing.first():
        return found
    incoming = IncomingPayment(amount, currency, reference, payer_name)
    payment, _ = receive_into(
        OpenInvoices.load([(incoming, account_id, invoice_id)]),
        Payment(
            source=PaymentSource.MANUAL,
            external_id=external_id,
            amount=amount,
            currency=(currency or "").upper(),
            received_on=received_on,
            payer_name=payer_name,
            reference=reference,
            account_id=account_id,
            recorded_by=actor,
            note=note,
        ),
        actor=actor,
        invoice_id=invoice_id,
        action=Action.PAYMENT_RECORDED,
    )
    return payment
