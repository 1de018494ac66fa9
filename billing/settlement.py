"""Money applied to invoices: the one place where an invoice's paid, credited and written-off
amounts change, so that "nothing left to pay" settles it — and the deal's first invoice moves
the deal to paid with the days from signature to first payment — whichever way the money came
(reconciliation, Finance from the AR queue, the billing system's webhooks).

Every function here runs inside the caller's transaction and locks the rows it changes. Each
takes an optional `books` (a Books batch): a statement import books thousands of payments in
one batch, written in bulk; without it a function is a batch of one, written before it returns.
"""

import functools
import operator
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, models, transaction
from django.utils import timezone

from audit.actions import Action
from audit.bulk import insert_rows, update_rows
from audit.services import audit_record_many
from billing.models import (
    ARItem,
    ARReason,
    ARResolution,
    ARState,
    BillingRecord,
    Invoice,
    InvoiceState,
    Payment,
    PaymentAllocation,
    PaymentState,
)
from dealdesk import services as deal_services
from dealdesk.models import Deal, DealState

ZERO = Decimal(0)
# What a later payment of the rest settles by itself: the invoice's own shortfall (a payment's
# surplus, an unmatched or a doubled payment still needs Finance's decision).
SETTLED_BY_PAYMENT = (ARReason.PARTIAL, ARReason.BANK_FEES, ARReason.PAYMENT_FAILED)


class SettlementError(ValueError):
    """Money that cannot be applied as asked (more than is due, another currency, ...)."""


@dataclass(frozen=True)
class Applied:
    paid: Decimal = ZERO
    credited: Decimal = ZERO
    written_off: Decimal = ZERO


def _require_transaction() -> None:
    # The row locks below hold only until the caller's transaction ends.
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("call inside the service's transaction")


_M = TypeVar("_M", bound=models.Model)
_CHUNK = 2000  # ids per IN (...) query
_SHORTFALL_STATES = (ARState.OPEN, ARState.AWAITING_APPROVAL)


class Books:
    """The unit of work every settlement change goes through: rows locked and loaded once (by
    the batch, or one at a time), each change snapshotted for its history row as it happens,
    and everything written at flush() in bulk — one INSERT per new model, one bulk UPDATE per
    changed model, one INSERT per history table and one audit chain append (one head lock).
    The single-row functions below are a batch of one: the rules are the same code."""

    def __init__(self, actor: AbstractBaseUser):
        self.actor = actor
        self._rows: dict[tuple[type[models.Model], int], models.Model] = {}
        self._loaded: dict[int, tuple] = {}  # id(row) → its values as written, to find changes
        self._new: dict[int, models.Model] = {}  # id(row) → row to insert, in order
        self._changed: dict[int, models.Model] = {}
        # row, its values at the change, reason, type ("+" or "~"), when
        self._history: list[tuple[models.Model, list, str | None, str, datetime]] = []
        self._events: list[tuple[models.Model, dict]] = []
        self._ar_by_key: dict[str, ARItem | None] = {}
        self._shortfalls: dict[int, list[ARItem]] = {}  # invoice id → its shortfall items

    # --- reading, locked ---

    def lock(self, model: type[_M], pks: Iterable[int]) -> dict[int, _M]:
        """The rows, locked (select_for_update) until the transaction ends; each read once."""
        pks = set(pks)
        missing = sorted(pk for pk in pks if (model, pk) not in self._rows)
        if not missing:
            return {pk: self._rows[(model, pk)] for pk in pks}
        for start in range(0, len(missing), _CHUNK):
            rows = model.objects.select_for_update().filter(pk__in=missing[start : start + _CHUNK])
            for row in rows.order_by("pk"):
                self._track(row)
        return {pk: self._rows[(model, pk)] for pk in pks}

    def get(self, model: type[_M], pk: int) -> _M:
        row = self._rows.get((model, pk)) or self.lock(model, [pk]).get(pk)
        if row is None:
            raise model.DoesNotExist(f"{model._meta.label} {pk}")
        return row

    def lock_ar_items(self, *, keys: Iterable[str] = (), shortfalls_of: Iterable[int] = ()) -> None:
        """AR items by key (to open each once) and the open shortfalls of invoices that a
        payment may settle, in one query each."""
        keys = sorted(set(keys) - self._ar_by_key.keys())
        invoice_ids = sorted(set(shortfalls_of) - self._shortfalls.keys())
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            self._ar_by_key.update(dict.fromkeys(chunk))
            for item in ARItem.objects.select_for_update().filter(key__in=chunk).order_by("pk"):
                self._ar_by_key[item.key] = self._track(item)
        for start in range(0, len(invoice_ids), _CHUNK):
            chunk = invoice_ids[start : start + _CHUNK]
            for invoice_id in chunk:
                self._shortfalls[invoice_id] = []
            items = ARItem.objects.select_for_update().filter(
                invoice_id__in=chunk,
                reason__in=SETTLED_BY_PAYMENT,
                state__in=[ARState.OPEN, ARState.AWAITING_APPROVAL],
            )
            for item in items.order_by("pk"):
                self._shortfalls[item.invoice_id].append(self._track(item))

    def ar_item(self, key: str) -> ARItem | None:
        if key not in self._ar_by_key:
            self.lock_ar_items(keys=[key])
        return self._ar_by_key[key]

    def shortfalls(self, invoice_id: int) -> list[ARItem]:
        if invoice_id not in self._shortfalls:
            self.lock_ar_items(shortfalls_of=[invoice_id])
        return [i for i in self._shortfalls[invoice_id] if i.state in _SHORTFALL_STATES]

    def opened(self, item: ARItem) -> None:
        """A new AR item: found by its key, and by its invoice once that is paid in full."""
        self._ar_by_key[item.key] = item
        if item.reason in SETTLED_BY_PAYMENT and item.invoice_id in self._shortfalls:
            self._shortfalls[item.invoice_id].append(item)

    def _track(self, row: _M) -> _M:
        # A row read twice would be two objects: the batch keeps the first (and its changes).
        row = self._rows.setdefault((type(row), row.pk), row)
        if id(row) not in self._loaded:
            self._loaded[id(row)] = _values(row)
        return row

    # --- writing, deferred ---

    def insert(self, rows: Sequence[models.Model], *, action: str) -> None:
        """Insert new rows now (their ids are needed at once: keys, reasons); their history
        rows follow at flush(), their `action` events as audit() queues them. Raises
        IntegrityError before anything is queued."""
        _insert(rows)
        for row in rows:
            self._snapshot(row, _default_reason(action), "+")
            self._track(row)

    def changed(self, row: models.Model, *, reason: str | None) -> None:
        """`row` was created or changed (a transition done, an amount moved): its history
        row is taken now, with the row as it is now."""
        if row.pk is None:
            self._snapshot(row, reason, "~" if id(row) in self._new else "+")
            self._new.setdefault(id(row), row)
        else:
            self._snapshot(row, reason, "~")
            self._changed.setdefault(id(row), self._track(row))

    def record(self, row: models.Model, *, action: str, reason: str = "", **audit) -> None:
        """record_change, batched: the history row as the row is now, and its audit event
        (before/after/data) in the order the changes were made."""
        self.changed(row, reason=reason or _default_reason(action))
        self.audit(row, action=action, reason=reason, **audit)

    def audit(self, row: models.Model, **event) -> None:
        self._events.append((row, event))

    def _snapshot(self, row: models.Model, reason: str | None, kind: str) -> None:
        # The row's values now (a new row's id and created_at are filled in at flush).
        values, at = list(_values(row)), timezone.now()
        updated_at = _column(type(row), "updated_at")
        if updated_at is not None:  # auto_now, as save() would have set it
            values[updated_at] = at
        self._history.append((row, values, reason, kind, at))

    def flush(self) -> None:
        """Write what the batch did: new rows, changed rows, history rows, then the audit
        events (last: the chain head stays locked until the transaction ends)."""
        _require_transaction()
        _insert(list(self._new.values()))
        for row in self._new.values():
            self._track(row)
        now = timezone.now()
        for model, rows in _by_model(self._changed.values()).items():
            fields = _changed_fields(model, rows, self._loaded)
            if fields:
                for row in rows:
                    row.updated_at = now  # auto_now, as save() would set it
                update_rows(model, rows, [*fields, model._meta.get_field("updated_at")])
            for row in rows:
                self._loaded[id(row)] = _values(row)
        history: dict[type, list] = defaultdict(list)
        for row, values, reason, kind, at in self._history:
            model = type(row)
            if values[_column(model, model._meta.pk.attname)] is None:
                # Taken before the insert: the id, created_at, and the ids of related rows
                # that were new then too, are known now.
                for i in _set_on_insert(model):
                    if values[i] is None:
                        values[i] = getattr(row, model._meta.concrete_fields[i].attname)
            history[model].append((values, reason, kind, at))
        for model, snapshots in history.items():
            _insert_history(model, snapshots, self.actor)
        audit_record_many(
            events=[{"actor": self.actor, "obj": row, **event} for row, event in self._events]
        )
        self._new, self._changed, self._history, self._events = {}, {}, [], []


def _insert(rows: list[models.Model]) -> None:
    """New rows, each model in one go, in the order their first rows came (a payment before
    its allocations)."""
    now = timezone.now()
    for model, objs in _by_model(rows).items():
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        for obj in objs:
            obj._prepare_related_fields_for_save(operation_name="bulk_create")
            for name in ("created_at", "updated_at"):  # auto_now(_add), as save() would set
                if hasattr(obj, name) and getattr(obj, name) is None:
                    setattr(obj, name, now)
        values = operator.itemgetter(*(f.attname for f in fields))  # as _getter reads them
        ids = insert_rows(model, fields, [values(o.__dict__) for o in objs], ids=True)
        for obj, pk in zip(objs, ids, strict=True):
            obj.pk, obj._state.adding, obj._state.db = pk, False, connection.alias


_HISTORY_META = ("history_date", "history_change_reason", "history_type", "history_user_id")


def _insert_history(model: type[models.Model], snapshots: list, actor: AbstractBaseUser) -> None:
    """simple_history's rows for `snapshots` (the rows' values at each change, the reason,
    the type and when), as its bulk_history_create makes them."""
    history = model.history.model
    tracked = [
        f
        for f in history._meta.concrete_fields
        if not f.primary_key and f.attname not in _HISTORY_META
    ]
    pick = operator.itemgetter(*(_column(model, f.attname) for f in tracked))
    user_id = actor.pk if actor is not None else None
    rows = [
        [*pick(values), date, reason, kind, user_id] for values, reason, kind, date in snapshots
    ]
    fields = [*tracked, *(history._meta.get_field(name) for name in _HISTORY_META)]
    insert_rows(history, fields, rows, ids=False)


def _default_reason(action: str) -> str:
    # As audit.services.record_change words a history row given no reason.
    return str(action).split(".", 1)[-1].replace("_", " ")


def _values(row: models.Model) -> tuple:
    return _getter(type(row))(row.__dict__)


@functools.cache
def _getter(model: type[models.Model]):
    # Run for every change of every row: the concrete fields' values read in C, from the
    # instance's __dict__ (each one is there under its attname: rows here are never
    # deferred), past their descriptors (django-fsm's state builds a DeferredAttribute on
    # every read; a file field wraps its name), which cost more than the rest of a change.
    return operator.itemgetter(*(f.attname for f in model._meta.concrete_fields))


@functools.cache
def _column(model: type[models.Model], attname: str) -> int | None:
    """The position of a concrete field in _values(), None when the model has none."""
    names = [f.attname for f in model._meta.concrete_fields]
    return names.index(attname) if attname in names else None


@functools.cache
def _set_on_insert(model: type[models.Model]) -> tuple[int, ...]:
    fields = model._meta.concrete_fields
    return tuple(
        i
        for i, f in enumerate(fields)
        if f.primary_key or f.is_relation or getattr(f, "auto_now_add", False)
    )


def _by_model(rows: Iterable[models.Model]) -> dict[type, list]:
    grouped: dict[type, list] = defaultdict(list)
    for row in rows:
        grouped[type(row)].append(row)
    return grouped


def _changed_fields(model: type, rows: list, loaded: dict[int, tuple]) -> list[models.Field]:
    fields = model._meta.concrete_fields
    changed: set[int] = set()
    for row in rows:
        changed.update(
            i for i, (a, b) in enumerate(zip(_values(row), loaded[id(row)], strict=True)) if a != b
        )
    return [
        fields[i]
        for i in sorted(changed)
        if not fields[i].primary_key and fields[i].name != "updated_at"
    ]


@contextmanager
def books_of(books: Books | None, actor: AbstractBaseUser) -> Iterator[Books]:
    """The caller's batch, or a batch of one written when the block ends."""
    _require_transaction()
    if books is not None:
        yield books
        return
    books = Books(actor)
    yield books
    books.flush()


def invoice_apply(
    invoice_id: int,
    applied: Applied,
    *,
    actor: AbstractBaseUser,
    reason: str,
    books: Books | None = None,
) -> Invoice:
    """Add (or, with negative amounts, take back) money on an invoice; settle it when nothing
    is left to pay, reopen it when a settled invoice owes again."""
    with books_of(books, actor) as books:
        invoice = books.get(Invoice, invoice_id)
        if invoice.state not in (InvoiceState.ISSUED, InvoiceState.PAID):
            raise SettlementError(f"invoice {invoice} is {invoice.get_state_display().lower()}")
        invoice.amount_paid += applied.paid
        invoice.amount_credited += applied.credited
        invoice.amount_written_off += applied.written_off
        if invoice.amount_due < 0:
            raise SettlementError(
                f"{invoice.currency} {-invoice.amount_due} more than invoice {invoice} asks for"
            )
        if min(invoice.amount_paid, invoice.amount_credited, invoice.amount_written_off) < 0:
            raise SettlementError(f"more taken back from invoice {invoice} than it was given")
        before = {"state": invoice.state, "amount_due": str(invoice.amount_due)}
        if invoice.state == InvoiceState.ISSUED and invoice.amount_due == 0:
            invoice.settle(at=timezone.now())
            books.record(
                invoice, action=Action.INVOICE_PAID, before=before,
                after={"state": invoice.state}, data=_amounts(invoice), reason=reason,
            )  # fmt: skip
            _first_invoice_paid(invoice, books)
        elif invoice.state == InvoiceState.PAID and invoice.amount_due > 0:
            invoice.reopen()
            books.record(
                invoice, action=Action.INVOICE_REOPENED, before=before,
                after={"state": invoice.state}, data=_amounts(invoice), reason=reason,
            )  # fmt: skip
        else:
            books.changed(invoice, reason=reason)
    return invoice


def _amounts(invoice: Invoice) -> dict:
    return {
        "total": str(invoice.total),
        "paid": str(invoice.amount_paid),
        "credited": str(invoice.amount_credited),
        "written_off": str(invoice.amount_written_off),
        "currency": invoice.currency,
    }


def _first_invoice_paid(invoice: Invoice, books: Books) -> None:
    if invoice.plan_index != 1:
        return
    # Once per deal, so the single-row way: the batch so far is written first, so that the
    # deal's events follow the invoice's as they would one payment at a time.
    books.flush()
    actor = books.actor
    deal = Deal.objects.select_for_update().get(pk=invoice.deal_id)
    record = BillingRecord.objects.select_for_update().get(pk=invoice.record_id)
    if record.first_paid_on is None:
        paid_on = timezone.localdate(invoice.paid_at)
        record.first_paid_on = paid_on
        record.days_to_first_payment = max((paid_on - record.signed_on).days, 0)
        record._history_user = actor
        record._change_reason = "first invoice paid"
        record.save(update_fields=["first_paid_on", "days_to_first_payment", "updated_at"])
    if deal.state == DealState.INVOICED:
        deal_services.deal_mark_paid(
            deal_id=deal.pk,
            actor=actor,
            reason=f"first invoice {invoice.number} paid, "
            f"{record.days_to_first_payment} days after signature",
        )


def payment_allocate(
    payment_id: int,
    invoice_id: int,
    amount: Decimal,
    *,
    actor: AbstractBaseUser,
    how: str,
    books: Books | None = None,
    on_receipt: bool = False,
) -> PaymentAllocation:
    """Apply part of a payment to an invoice (same currency, no more than either has left).

    `on_receipt`: the payment was stored applied with this allocation counted already
    (reconciliation's receipt of a payment that pays its invoices exactly): its receipt
    event names the invoices, so the payment itself has no change to record here."""
    with books_of(books, actor) as books:
        payment = books.get(Payment, payment_id)
        invoice = books.get(Invoice, invoice_id)
        if amount <= 0:
            raise SettlementError("an allocation must be more than zero")
        if payment.currency != invoice.currency:
            raise SettlementError(
                f"a {payment.currency} payment cannot pay {invoice.currency} invoice {invoice}"
            )
        left = payment.amount if on_receipt else payment.unapplied
        if amount > left:
            raise SettlementError(
                f"payment has {payment.currency} {left} left to apply, not {amount}"
            )
        # By ids: the rows are saved already, and assigning instances costs a related
        # descriptor's checks each (a statement makes thousands of these).
        allocation = PaymentAllocation(
            payment_id=payment.pk,
            invoice_id=invoice.pk,
            amount=amount,
            how=how,
            allocated_by_id=actor.pk,
        )
        books.changed(allocation, reason=None)
        paid = invoice_apply(
            invoice_id,
            Applied(paid=amount),
            actor=actor,
            reason=f"payment {payment.pk} applied",
            books=books,
        )
        if paid.state == InvoiceState.PAID:
            _shortfalls_settled(paid, books)
        if on_receipt:
            return allocation
        payment.amount_applied += amount
        before = {"state": payment.state}
        if payment.unapplied == 0 and payment.state != PaymentState.APPLIED:
            payment.applied()
        books.record(
            payment,
            action=Action.PAYMENT_ALLOCATED,
            before=before,
            after={"state": payment.state},
            data={
                "invoice": invoice.number,
                "amount": str(amount),
                "currency": payment.currency,
                "how": how,
            },
        )
    return allocation


def allocation_take_back(
    allocation: PaymentAllocation, amount: Decimal, *, actor: AbstractBaseUser, reason: str
) -> None:
    """Take `amount` of a payment's allocation back off its invoice (which owes it again) and
    note it on the allocation, which keeps what was applied, so the allocations of an invoice
    still add up to what it was paid. The payment's own amounts are the caller's, under the
    payment's lock."""
    _require_transaction()
    if not 0 < amount <= allocation.amount_applied:
        raise SettlementError(
            f"allocation {allocation} has {allocation.amount_applied} applied, not {amount}"
        )
    invoice_apply(allocation.invoice_id, Applied(paid=-amount), actor=actor, reason=reason[:200])
    allocation.amount_taken_back += amount
    allocation._history_user, allocation._change_reason = actor, reason[:100]
    allocation.save(update_fields=["amount_taken_back", "updated_at"])


def _shortfalls_settled(invoice: Invoice, books: Books) -> None:
    for item in books.shortfalls(invoice.pk):
        before = {"state": item.state}
        item.resolve(
            resolution=ARResolution.SETTLED,
            by=books.actor,
            at=timezone.now(),
            note=f"invoice {invoice.number} paid in full",
        )
        books.record(
            item,
            action=Action.AR_ITEM_RESOLVED,
            before=before,
            after={"state": item.state, "resolution": item.resolution},
            reason=item.resolution_note,
        )


def ar_open(
    *,
    key: str,
    reason: str,
    amount: Decimal,
    currency: str,
    detail: str,
    actor: AbstractBaseUser,
    invoice: Invoice | None = None,
    payment: Payment | None = None,
    books: Books | None = None,
) -> tuple[ARItem, bool]:
    """Put something in front of Finance (once per key: raising it again finds it). A payment
    with money not applied is held until the item is resolved; one fully applied (a partial
    payment of an invoice) is only named for context."""
    with books_of(books, actor) as books:
        existing = books.ar_item(key)
        if existing is not None:
            return existing, False
        item = ARItem(
            key=key,
            reason=reason,
            amount=amount,
            currency=currency,
            detail=detail,
            invoice=invoice,
            payment=payment,
            deal_id=invoice.deal_id if invoice else None,
            account_id=(payment.account_id if payment else None)
            or (_invoice_account(invoice) if invoice else None),
        )
        books.opened(item)
        books.record(
            item,
            action=Action.AR_ITEM_OPENED,
            after={"state": item.state, "reason": reason},
            data={"amount": str(amount), "currency": currency, "key": key},
            reason=detail[:2000],
        )
        if payment is not None:
            payment = books.get(Payment, payment.pk)
            if payment.unapplied > 0 and payment.state in (
                PaymentState.RECEIVED,
                PaymentState.APPLIED,
            ):
                before = {"state": payment.state}
                payment.held()
                books.record(
                    payment,
                    action=Action.PAYMENT_HELD,
                    before=before,
                    after={"state": payment.state},
                    reason=detail[:2000],
                )
    return item, True


def _invoice_account(invoice: Invoice) -> int | None:
    return Deal.objects.filter(pk=invoice.deal_id).values_list("account_id", flat=True).first()
