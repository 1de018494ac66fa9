"""The invoices payments are matched against, fetched in bulk and kept current while a batch
of payments is decided (a statement that pays one invoice twice must see the first payment
when it decides the second, in the preview as in the commit)."""

import functools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings

from billing.models import Invoice, InvoiceState
from billing.reconciliation.matching import (
    Decision,
    IncomingPayment,
    OpenInvoice,
    decide,
    invoice_numbers_in,
)
from dealdesk.models import Account

# Far above any bank's charges on a transfer; a larger setting would call real partial
# payments "bank fees" and invite writing them off.
MAX_FEE_TOLERANCE_PERCENT = Decimal(2)
# Legal forms left out when a payer's name is compared with an account's ("Müller & Söhne
# GmbH" pays as "MUELLER UND SOEHNE"): banks abbreviate and truncate them freely.
_LEGAL_FORMS = frozenset(
    ("ag", "bv", "co", "corp", "corporation", "gmbh", "inc", "kg", "kk", "limited", "llc", "ltd",
     "nv", "oy", "plc", "sa", "sarl", "sas", "spa", "srl", "und", "and", "the", "wll")
)  # fmt: skip
_CHUNK = 2000  # numbers per IN (...) query: far inside every database's parameter limit


def fee_tolerance_percent() -> Decimal:
    """BILLING_BANK_FEE_TOLERANCE_PERCENT, within 0 and MAX_FEE_TOLERANCE_PERCENT."""
    configured = Decimal(str(settings.BILLING_BANK_FEE_TOLERANCE_PERCENT))
    return max(Decimal(0), min(configured, MAX_FEE_TOLERANCE_PERCENT))


@functools.lru_cache(maxsize=4096)  # a statement's payers repeat: asked thrice per payment
def payer_key(name: str) -> str:
    """A payer's or account's name reduced to what banks keep of it."""
    text = name.casefold()
    for umlaut, spelled in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"), ("&", " und ")):
        text = text.replace(umlaut, spelled)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", " ", text).split()
    return " ".join(word for word in words if word not in _LEGAL_FORMS)


class OpenInvoices:
    """The invoices a batch of payments may pay: by number, and per customer."""

    def __init__(
        self,
        invoices: Iterable[OpenInvoice],
        accounts_by_payer: dict[str, int | None],
        numbers_by_reference: dict[str, list[str]] | None = None,
    ):
        self._by_id = {invoice.id: invoice for invoice in invoices}
        self._by_number = {invoice.number: invoice.id for invoice in self._by_id.values()}
        self._by_account: dict[int, list[int]] = defaultdict(list)
        for invoice in self._by_id.values():
            self._by_account[invoice.account_id].append(invoice.id)
        self._accounts_by_payer = accounts_by_payer
        self.legal_entity = settings.INVOICE_LEGAL_ENTITY
        self.tolerance = fee_tolerance_percent()
        # Each reference is searched for invoice numbers once (load() did it already).
        self._numbers_by_reference = numbers_by_reference or {}

    @classmethod
    def load(
        cls,
        payments: Iterable[tuple[IncomingPayment, int | None, int | None]],
    ) -> "OpenInvoices":
        """For (payment, account id, invoice id) triples: the invoices their references name,
        the invoices given, and the open invoices of every customer they may come from — in a
        handful of queries whatever the number of payments."""
        entity = settings.INVOICE_LEGAL_ENTITY
        numbers, invoice_ids, account_ids, payers = set(), set(), set(), set()
        by_reference: dict[str, list[str]] = {}
        for payment, account_id, invoice_id in payments:
            numbers.update(_numbers_in(by_reference, payment.reference, entity))
            if invoice_id is not None:
                invoice_ids.add(invoice_id)
            elif account_id is not None:
                account_ids.add(account_id)
            elif payment.payer_name:
                payers.add(payer_key(payment.payer_name))
        accounts_by_payer = _accounts_by_payer(payers - {""})
        account_ids.update(pk for pk in accounts_by_payer.values() if pk is not None)
        found: dict[int, OpenInvoice] = {}
        for chunk in _chunks(sorted(numbers)):
            found.update(_invoices(Invoice.objects.filter(number__in=chunk)))
        for chunk in _chunks(sorted(invoice_ids)):
            found.update(_invoices(Invoice.objects.filter(pk__in=chunk)))
        for chunk in _chunks(sorted(account_ids)):
            found.update(
                _invoices(
                    Invoice.objects.filter(state=InvoiceState.ISSUED, deal__account_id__in=chunk)
                )
            )
        return cls(found.values(), accounts_by_payer, by_reference)

    def decide(
        self,
        payment: IncomingPayment,
        *,
        account_id: int | None = None,
        invoice_id: int | None = None,
    ) -> Decision:
        """The decision for one payment against the invoices as they stand now."""
        if invoice_id is not None:
            given = self._by_id.get(invoice_id)
            named = [given.number] if given else [f"invoice id {invoice_id}"]
        else:
            named = _numbers_in(self._numbers_by_reference, payment.reference, self.legal_entity)
        found = [self._by_id[pk] for n in named if (pk := self._by_number.get(n)) is not None]
        account_id = self.account_for(payment, account_id)
        customer = (
            None
            if account_id is None
            else [self._by_id[pk] for pk in self._by_account.get(account_id, ())]
        )
        return decide(
            payment,
            named=named,
            found=found,
            customer_invoices=customer,
            fee_tolerance_percent=self.tolerance,
        )

    def account_for(self, payment: IncomingPayment, account_id: int | None) -> int | None:
        """The given customer, or the one the payer's name names."""
        if account_id is not None or not payment.payer_name:
            return account_id
        return self._accounts_by_payer.get(payer_key(payment.payer_name))

    def applied(self, decision: Decision) -> None:
        """Take the decision's allocations off what the invoices still ask for."""
        for allocation in decision.allocations:
            i = self._by_id[allocation.invoice.id]
            due = i.amount_due - allocation.amount
            # Built directly: dataclasses.replace() looks the fields up on every call, and a
            # statement makes thousands of these.
            self._by_id[i.id] = OpenInvoice(
                i.id, i.number, i.deal_id, i.account_id, i.currency,
                InvoiceState.PAID if due == 0 else i.state, i.issue_on, due,
            )  # fmt: skip


def _chunks(values: list) -> Iterable[list]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _invoices(queryset) -> dict[int, OpenInvoice]:
    # The amount due in Python: SQLite's arithmetic on decimals is floating point.
    rows = queryset.exclude(number=None).values_list(
        "pk", "number", "deal_id", "deal__account_id", "currency", "state", "issue_on",
        "total", "amount_paid", "amount_credited", "amount_written_off",
    )  # fmt: skip
    return {
        row[0]: OpenInvoice(*row[:7], amount_due=row[7] - row[8] - row[9] - row[10]) for row in rows
    }


def _accounts_by_payer(keys: set[str]) -> dict[str, int | None]:
    """Payer key → the one account with open invoices it names (None when several do)."""
    if not keys:
        return {}
    found: dict[str, int | None] = {}
    accounts = Account.objects.filter(deals__invoices__state=InvoiceState.ISSUED).distinct()
    for pk, name, legal_name in accounts.values_list("pk", "name", "legal_name"):
        for key in {payer_key(name), payer_key(legal_name)} & keys:
            found[key] = pk if found.get(key, pk) == pk else None
    return found


def _numbers_in(searched: dict[str, list[str]], reference: str, legal_entity: str) -> list[str]:
    """The invoice numbers a reference names, each reference searched once per batch
    (`searched`: load's and then decide's memo; a statement's references repeat)."""
    named = searched.get(reference)
    if named is None:
        named = searched[reference] = invoice_numbers_in(reference, legal_entity=legal_entity)
    return named
