"""A ledger: the billing system an executed contract is billed in (local or Stripe).

Each ledger says what it should hold for a canonical order (`expected`) and reads back what it
does hold (`read_back`), in the same JSON shape, so `billing.diff.diff_records` can compare
them field by field before a deal counts as billed.
"""

from typing import Any, Protocol

from django.contrib.auth.models import AbstractBaseUser
from django.utils.module_loading import import_string

from billing.canonical_order import CanonicalOrder
from billing.models import BillingRecord

LEDGERS = {
    "local": "billing.ledger.local.LocalLedger",
    "stripe": "billing.ledger.stripe_ledger.StripeLedger",
}


class Ledger(Protocol):
    def create(
        self, record: BillingRecord, order: CanonicalOrder, *, actor: AbstractBaseUser
    ) -> dict[str, Any]:
        """Create the order in the billing system (idempotent); the system's ids, as JSON
        (kept as the record's `external_ids`)."""
        ...

    def expected(self, order: CanonicalOrder) -> dict[str, Any]: ...

    def read_back(self, record: BillingRecord, ids: dict[str, Any]) -> dict[str, Any]:
        """What the billing system holds for `ids` (what `create` answered) now."""
        ...


def ledger_for(record: BillingRecord) -> Ledger:
    return import_string(LEDGERS[record.backend])()
