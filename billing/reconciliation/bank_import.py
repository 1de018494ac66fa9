"""Bank statements imported by Finance: uploaded and previewed (every entry with what it would
become, nothing written but the file), then committed once or discarded.

Idempotent at two levels: a file whose SHA-256 was committed is refused, and every credit
entry becomes a payment keyed by its entry id (source "bank"), so a statement overlapping an
earlier one adds only its new entries. Debits are our own payments and are left alone; a
reversal of a customer's payment takes the money back off its invoices and opens an AR item.
"""

import gc
import hashlib
import json
import logging
import threading
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from audit.actions import Action
from audit.services import record_change
from billing.bank_statements import (
    ColumnMapping,
    Problem,
    Statement,
    StatementEntry,
    StatementError,
    detect_format,
    guess_mapping,
    parse_statement,
)
from billing.bank_statements.entries import (
    MAX_FILE_BYTES,
    file_sha256,
    without_future_bookings,
)
from billing.models import (
    ARItem,
    ARReason,
    BankImport,
    BankMapping,
    ImportState,
    Payment,
    PaymentSource,
    PaymentState,
)
from billing.reconciliation.matching import IncomingPayment
from billing.reconciliation.open_invoices import OpenInvoices
from billing.reconciliation.payments import receive_many
from billing.services import require_finance
from billing.settlement import allocation_take_back, ar_open
from contracts.stored_files import deleted_on_failure

log = logging.getLogger(__name__)

ALREADY_IMPORTED = "already imported"
DEBIT = "debit"
REVERSAL = "reversal"
_EXTERNAL_ID_LENGTH = 120  # Payment.external_id
_CHUNK = 2000
# Entries a commit's transaction books: under half a second of holding the chain head (and
# SQLite's write lock) each. 250 spent a tenth of the commit's CPU, a sixth of its time, on
# each chunk's own queries and commit.
COMMIT_CHUNK = 1000
_PLACEHOLDER_CURRENCY = "USD"


class ImportRefused(ValueError):
    """The file cannot be imported; the message is worded for Finance."""


class MappingNeeded(Exception):
    """A CSV from a bank with no saved column mapping: Finance confirms (or corrects) the
    guessed columns (`initial`: ColumnMapping's fields, {} when nothing was recognised), which
    are then saved for that bank."""

    def __init__(self, initial: dict):
        super().__init__("confirm the columns of this bank's statements")
        self.initial = initial


@dataclass(frozen=True)
class PreviewRow:
    line: int
    booked_on: object
    amount: Decimal
    currency: str
    payer: str
    reference: str
    status: str  # "paid", an AR reason, ALREADY_IMPORTED, DEBIT or REVERSAL
    invoices: tuple[str, ...] = ()
    detail: str = ""

    @property
    def label(self) -> str:
        return status_label(self.status)


@dataclass
class Preview:
    rows: list[PreviewRow]
    problems: tuple[Problem, ...]
    # status → currency → (entries, amount)
    totals: dict[str, dict[str, list]] = field(default_factory=dict)


def status_label(status: str) -> str:
    """What a preview status means, in words."""
    fixed = {
        "paid": "Pays its invoice",
        ALREADY_IMPORTED: "Already imported",
        DEBIT: "Debit, not booked",
        REVERSAL: "Reversal: taken back",
    }
    return fixed.get(status) or f"AR: {ARReason(status).label.lower()}"


# --- upload -----------------------------------------------------------------------------------


def bank_import_upload(
    *,
    actor: AbstractBaseUser,
    filename: str,
    content: bytes,
    bank: str = "",
    mapping: ColumnMapping | None = None,
) -> BankImport:
    """Store a statement for preview. A CSV is read with its bank's saved mapping; `mapping`
    (Finance confirmed the columns) is saved for the bank. MappingNeeded: a new bank's CSV."""
    require_finance(actor, "import bank statements")
    if len(content) > MAX_FILE_BYTES:
        raise ImportRefused(f"Statements up to {MAX_FILE_BYTES // 1024 // 1024} MB are imported.")
    sha256 = file_sha256(content)
    existing = BankImport.objects.filter(sha256=sha256).first()
    if existing is not None and existing.state == ImportState.PREVIEW:
        return existing
    if existing is not None and existing.state == ImportState.COMMITTED:
        raise ImportRefused(_already_imported(existing))
    try:
        kind = detect_format(content)
        bank_mapping, mapping = (
            _csv_mapping(content, bank, mapping) if kind == "csv" else (None, None)
        )
        statement = _parsed(content, mapping, sha256)
    except (StatementError, ValueError) as exc:
        raise ImportRefused(str(exc)) from None
    try:
        with deleted_on_failure() as stored, transaction.atomic():
            if existing is not None:
                # Discarded earlier (a wrong mapping, the wrong file): its row goes, its audit
                # event and history stay, and the file is previewed afresh. Its stored copy
                # goes once this commits (a rollback keeps the row, so the file too).
                old_name = existing.file.name
                existing.delete()
                transaction.on_commit(lambda: default_storage.delete(old_name))
            if mapping is not None and kind == "csv":
                bank_mapping = _mapping_save(bank_mapping, bank, mapping, actor)
            upload = BankImport(
                sha256=sha256,
                filename=filename[:255],
                kind="camt053" if kind == "camt.053" else "csv",
                bank=bank_mapping,
                account_iban=statement.account[:64],
                entries=len(statement.entries),
                uploaded_by=actor,
            )
            upload.file.save(sha256, ContentFile(content), save=False)
            stored.append(upload.file.name)
            record_change(
                upload,
                actor=actor,
                action=Action.BANK_IMPORT_PREVIEWED,
                after={"state": upload.state},
                data={
                    "filename": upload.filename,
                    "sha256": sha256,
                    "entries": upload.entries,
                    "problems": len(statement.problems),
                    "bank": bank_mapping.bank if bank_mapping else "",
                },
            )
    except IntegrityError:  # the same file uploaded at the same moment
        return BankImport.objects.get(sha256=sha256)
    return upload


def _already_imported(existing: BankImport) -> str:
    when = timezone.localtime(existing.committed_at).strftime("%d %b %Y %H:%M")
    who = existing.committed_by.get_full_name() or existing.committed_by.get_username()
    return f"This file was already imported on {when} by {who}."


def _csv_mapping(
    content: bytes, bank: str, mapping: ColumnMapping | None
) -> tuple[BankMapping | None, ColumnMapping]:
    bank = " ".join(bank.split())[:100]
    if not bank:
        raise ImportRefused("Name the bank this CSV statement comes from.")
    saved = BankMapping.objects.filter(bank__iexact=bank).first()
    if mapping is not None:
        return saved, mapping
    if saved is None:
        raise MappingNeeded(mapping_guess(content))
    return saved, ColumnMapping.from_json(json.dumps(saved.mapping))


def _mapping_save(
    saved: BankMapping | None, bank: str, mapping: ColumnMapping, actor: AbstractBaseUser
) -> BankMapping:
    values = json.loads(mapping.to_json())
    if saved is not None and saved.mapping == values:
        return saved
    saved = saved or BankMapping(bank=" ".join(bank.split())[:100])
    before = {"mapping": saved.mapping} if saved.pk else None
    saved.mapping, saved.updated_by = values, actor
    record_change(
        saved,
        actor=actor,
        action=Action.BANK_MAPPING_SAVED,
        before=before,
        after={"mapping": values},
    )
    return saved


def mapping_guess(content: bytes) -> dict:
    """The columns a new bank's file suggests, as ColumnMapping's fields (the mapping step's
    starting point); {} when its header is not recognised."""
    try:
        if guess := guess_mapping(content):
            return asdict(guess)
        # No currency in the file: a mapping cannot be built without one, so guess with a
        # placeholder and leave the account's currency blank for Finance to fill in.
        guess = guess_mapping(content, currency=_PLACEHOLDER_CURRENCY)
    except StatementError:
        return {}
    return asdict(guess) | {"fixed_currency": ""} if guess else {}


# --- preview and commit -------------------------------------------------------------------------


def _statement(upload: BankImport) -> Statement:
    upload.file.open("rb")
    try:
        content = upload.file.read()
    finally:
        upload.file.close()
    if file_sha256(content) != upload.sha256:
        log.error("bank import %s: its stored file is not the file uploaded", upload.pk)
        raise ImportRefused(
            "The stored copy of this statement is not the file that was uploaded; it was "
            "changed or replaced. Discard it and upload the bank's file again."
        )
    mapping = ColumnMapping.from_json(json.dumps(upload.bank.mapping)) if upload.bank else None
    return _parsed(content, mapping, upload.sha256)


# Statements read lately, by file, mapping and latest booking day: an upload, its preview and
# its commit read the same file, mostly in the same web process, and a 10,000-entry statement
# takes half a second to read. Statements and their entries are immutable.
_READ: OrderedDict[tuple, Statement] = OrderedDict()
_READ_KEPT = 4
_READ_LOCK = threading.Lock()


def _parsed(content: bytes, mapping: ColumnMapping | None, sha256: str) -> Statement:
    # A day's grace: the bank's calendar may be a time zone ahead of the company's.
    latest = timezone.localdate() + timedelta(days=1)
    key = (sha256, mapping.to_json() if mapping else "", latest)
    with _READ_LOCK:
        statement = _READ.get(key)
    if statement is None:
        statement = without_future_bookings(parse_statement(content, mapping), latest)
        with _READ_LOCK:
            _READ[key] = statement
            while len(_READ) > _READ_KEPT:
                _READ.popitem(last=False)
    return statement


def external_id(entry: StatementEntry) -> str:
    """The payment's id at the source: the entry's id within its account (entry ids are
    unique per account only)."""
    text = f"{entry.account}:{entry.entry_id}"
    if len(text) <= _EXTERNAL_ID_LENGTH:
        return text
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _incoming(entry: StatementEntry) -> IncomingPayment:
    reference = " ".join(
        filter(None, (entry.remittance, entry.structured_reference, entry.end_to_end_id))
    )
    return IncomingPayment(entry.amount, entry.currency, reference, entry.counterparty_name)


def _known_payments(ids: Iterable[str]) -> set[str]:
    ids, known = sorted(set(ids)), set()
    for start in range(0, len(ids), _CHUNK):
        known.update(
            Payment.objects.filter(
                source=PaymentSource.BANK, external_id__in=ids[start : start + _CHUNK]
            ).values_list("external_id", flat=True)
        )
    return known


def _credits(entries: Iterable[StatementEntry]) -> list[StatementEntry]:
    return [entry for entry in entries if entry.amount > 0 and not entry.reversal]


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """A statement's preview or commit makes hundreds of thousands of objects that live until
    it is decided or its chunk is written (entries, decisions, rows, their history and audit
    values), and that growth set off the cyclic collector's full passes over the whole heap,
    a fifth of the commit's time. Few of them are garbage cycles: those wait for the next
    collection after the block."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def bank_import_preview(upload: BankImport) -> Preview:
    """Every entry with what committing would make of it (a dry run: nothing is written)."""
    with _without_cycle_collection():
        return _preview(upload)


def _preview(upload: BankImport) -> Preview:
    statement = _statement(upload)
    credits = _credits(statement.entries)
    known = _known_payments(external_id(entry) for entry in credits)
    invoices = OpenInvoices.load(
        (_incoming(e), None, None) for e in credits if external_id(e) not in known
    )
    rows = []
    for entry in statement.entries:
        incoming = _incoming(entry)
        status, numbers, detail = DEBIT, (), ""
        if entry.amount < 0 and entry.reversal:
            status = REVERSAL
        elif entry.amount > 0 and entry.reversal:
            status = DEBIT  # the bank gave back a debit of ours
        elif entry.amount > 0 and external_id(entry) in known:
            status = ALREADY_IMPORTED
        elif entry.amount > 0:
            decision = invoices.decide(incoming)
            invoices.applied(decision)
            status = decision.outcome
            numbers = tuple(i.number for i in decision.invoices)
            detail = "; ".join(f.detail for f in decision.findings)
        rows.append(
            PreviewRow(
                line=entry.line,
                booked_on=entry.booking_date,
                amount=entry.amount,
                currency=entry.currency,
                payer=entry.counterparty_name,
                reference=incoming.reference,
                status=status,
                invoices=numbers,
                detail=detail,
            )
        )
    return Preview(rows=rows, problems=statement.problems, totals=_totals(rows))


def _totals(rows: Iterable[PreviewRow]) -> dict[str, dict[str, list]]:
    totals: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(lambda: [0, Decimal(0)]))
    for row in rows:
        total = totals[row.status][row.currency]
        total[0] += 1
        total[1] += row.amount
    return {status: dict(by_currency) for status, by_currency in sorted(totals.items())}


def bank_import_commit(*, import_id: int, actor: AbstractBaseUser) -> dict:
    """Book the statement: each new credit a payment, reconciled; reversals taken back.

    In chunks of COMMIT_CHUNK entries, each its own transaction: one transaction for a long
    statement would hold the audit chain's head (moved by every event) for minutes, and on
    PostgreSQL every event would walk that row's ever longer chain of versions. A commit cut
    short leaves the statement in preview; committing again books only what is missing
    (payments are keyed by their entry ids, reversals by theirs)."""
    require_finance(actor, "import bank statements")
    with transaction.atomic():
        upload = _locked_preview(import_id)
    counts: Counter[str] = Counter()
    with _without_cycle_collection():
        statement = _statement(upload)
        for start in range(0, len(statement.entries), COMMIT_CHUNK):
            with transaction.atomic():
                _locked_preview(import_id)  # one commit at a time; a discard in between stops it
                counts.update(
                    _book_chunk(upload, statement.entries[start : start + COMMIT_CHUNK], actor)
                )
    summary = {
        "entries": len(statement.entries),
        "new_payments": sum(n for status, n in counts.items() if status not in
                            (ALREADY_IMPORTED, DEBIT, REVERSAL)),
        "problems": len(statement.problems),
        "by_status": dict(sorted(counts.items())),
    }  # fmt: skip
    with transaction.atomic():
        upload = _locked_preview(import_id)
        upload.commit(by=actor, at=timezone.now(), summary=summary)
        record_change(
            upload,
            actor=actor,
            action=Action.BANK_IMPORT_COMMITTED,
            before={"state": ImportState.PREVIEW},
            after={"state": upload.state},
            data=summary,
        )
    return summary


def _locked_preview(import_id: int) -> BankImport:
    upload = (
        BankImport.objects.select_for_update(of=("self",)).select_related("bank").get(pk=import_id)
    )
    if upload.state != ImportState.PREVIEW:
        raise ImportRefused(f"This statement was {upload.get_state_display().lower()} already.")
    return upload


def _book_chunk(
    upload: BankImport, entries: Sequence[StatementEntry], actor: AbstractBaseUser
) -> Counter[str]:
    """Book some of the statement's entries against the invoices as they stand now: the new
    credits in one batch (receive_many), but a reversal after the credits before it, which
    it may take back."""
    credits = _credits(entries)
    known = _known_payments(external_id(entry) for entry in credits)
    invoices = OpenInvoices.load(
        (_incoming(e), None, None) for e in credits if external_id(e) not in known
    )
    counts: Counter[str] = Counter()
    batch: list[StatementEntry] = []
    for entry in entries:
        if entry.amount < 0 and entry.reversal:
            counts.update(_book(upload, batch, invoices, actor))
            batch = []
            counts[REVERSAL if _reverse(entry, actor) else ALREADY_IMPORTED] += 1
        elif entry.amount <= 0 or entry.reversal:
            counts[DEBIT] += 1
        elif external_id(entry) in known:
            counts[ALREADY_IMPORTED] += 1
        else:
            batch.append(entry)
    counts.update(_book(upload, batch, invoices, actor))
    return counts


def _book(
    upload: BankImport,
    entries: Sequence[StatementEntry],
    invoices: OpenInvoices,
    actor: AbstractBaseUser,
) -> Counter[str]:
    payments = []
    for entry in entries:
        incoming = _incoming(entry)
        payment = Payment(
            source=PaymentSource.BANK,
            external_id=external_id(entry),
            amount=entry.amount,
            currency=entry.currency,
            received_on=entry.value_date or entry.booking_date,
            payer_name=entry.counterparty_name[:255],
            reference=incoming.reference[:500],
            statement=upload,
            note=f"{upload.filename}, line {entry.line}",
        )
        payments.append((payment, None))
    return Counter(
        ALREADY_IMPORTED if decision is None else decision.outcome
        for _, decision in receive_many(invoices, payments, actor=actor)
    )


def _reverse(entry: StatementEntry, actor: AbstractBaseUser) -> bool:
    """The bank took back a customer's payment (returned, recalled, charged back): the money
    comes off the invoices it paid and the payment goes to Finance as disputed. False when
    this reversal was booked before."""
    key = f"reversal:{external_id(entry)}"[:120]
    if ARItem.objects.filter(key=key).exists():
        return False
    amount = -entry.amount
    # The reversal repeats the original's reference or payer: nothing to go by, no original.
    same_payer = Q(pk__in=[])
    if reference := _incoming(entry).reference:
        same_payer |= Q(reference=reference)
    if entry.counterparty_name:
        same_payer |= Q(payer_name=entry.counterparty_name)
    original = (
        Payment.objects.select_for_update()
        .filter(
            same_payer,
            source=PaymentSource.BANK,
            currency=entry.currency,
            amount=amount,
            received_on__lte=entry.booking_date,
            state__in=[PaymentState.RECEIVED, PaymentState.APPLIED, PaymentState.HELD],
        )
        .order_by("-received_on", "-pk")
        .first()
    )
    detail = (
        f"the bank reversed {entry.currency} {amount} from {entry.counterparty_name or 'a payer'}"
    )
    invoice = None
    if original is not None:
        for allocation in original.allocations.select_related("invoice"):
            invoice = invoice or allocation.invoice
            if allocation.amount_applied:
                allocation_take_back(
                    allocation,
                    allocation.amount_applied,
                    actor=actor,
                    reason=f"payment {original.pk} reversed by the bank",
                )
        before = {"state": original.state, "amount_applied": str(original.amount_applied)}
        original.amount_refunded, original.amount_applied = original.amount, Decimal(0)
        original.refunded()
        record_change(
            original,
            actor=actor,
            action=Action.PAYMENT_REFUNDED,
            before=before,
            after={"state": original.state},
            reason=detail,
        )
    else:
        detail += ", and no payment of ours matches it"
    ar_open(
        key=key,
        reason=ARReason.DISPUTED,
        amount=amount,
        currency=entry.currency,
        detail=detail,
        actor=actor,
        invoice=invoice,
        payment=original,
    )
    return True


def bank_import_discard(*, import_id: int, actor: AbstractBaseUser) -> BankImport:
    require_finance(actor, "import bank statements")
    with transaction.atomic():
        upload = BankImport.objects.select_for_update().get(pk=import_id)
        if upload.state != ImportState.PREVIEW:
            raise ImportRefused(f"This statement was {upload.get_state_display().lower()} already.")
        upload.discard()
        record_change(
            upload,
            actor=actor,
            action=Action.BANK_IMPORT_DISCARDED,
            before={"state": ImportState.PREVIEW},
            after={"state": upload.state},
        )
    return upload
