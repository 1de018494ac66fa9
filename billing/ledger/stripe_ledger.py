"""The canonical order created in Stripe, and read back to be compared with the contract.

`create_in_stripe` sends what `billing.ledger.stripe_mapping` builds: the billing account's
customer, a Product per SKU, the subscription schedule(s). Every creating call carries an
idempotency key from our ids (the record key and the step), and every step first finds what
an earlier try made, so calling it again after any failure — a 500, a lost answer, a crash
between steps — creates nothing twice: Stripe replays a create it already ran.

`read_back` fetches what Stripe holds for those ids and rebuilds the billing view, so that
`diff_records(order_billing_view(order), read_back(ids))` names every field that differs.

`StripeLedger` is the billing step's face of both (`BILLING_BACKEND=stripe`): the ids are
kept as the record's `external_ids` JSON, with the record key every Stripe object of the
record carries in its metadata (`record`), which is how a webhook finds the record again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

import stripe
from django.contrib.auth.models import AbstractBaseUser

from billing.canonical_order import CanonicalOrder, OrderLine
from billing.ledger.stripe_client import idempotency_key, stripe_call, stripe_client
from billing.ledger.stripe_mapping import (
    customer_params,
    order_billing_view,
    product_id,
    product_params,
    schedule_params,
    stripe_billing_view,
)
from billing.models import BillingRecord
from dealdesk.integrations.errors import IntegrationError

__all__ = [
    "StripeIds",
    "StripeLedger",
    "create_in_stripe",
    "read_back",
    "read_back_with_status",
    "record_key",
]

LOOKUP_KEYS_PER_CALL = 10  # Stripe's limit on prices.list(lookup_keys=...)
PAGE = 100
# One read of a schedule brings its prices: without it, a call per phase item.
SCHEDULE_EXPAND = ["phases.items.price", "phases.add_invoice_items.price"]


@dataclass(frozen=True)
class StripeIds:
    """Where an order lives in Stripe: what `read_back` reads."""

    customer: str
    products: dict[str, str] = field(default_factory=dict)  # SKU → product id
    schedules: tuple[str, ...] = ()
    subscriptions: tuple[str, ...] = ()  # of the schedules that had started when created

    def to_json(self) -> dict[str, Any]:
        return {
            "customer": self.customer,
            "products": dict(self.products),
            "schedules": list(self.schedules),
            "subscriptions": list(self.subscriptions),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StripeIds:
        return cls(
            customer=data["customer"],
            products=dict(data.get("products") or {}),
            schedules=tuple(data.get("schedules") or ()),
            subscriptions=tuple(data.get("subscriptions") or ()),
        )


def record_key(record: BillingRecord) -> str:
    """The record's part of every idempotency key and its `record` metadata in Stripe."""
    return f"record-{record.pk}"


class StripeLedger:
    def create(
        self, record: BillingRecord, order: CanonicalOrder, *, actor: AbstractBaseUser
    ) -> dict[str, Any]:
        key = record_key(record)
        ids = create_in_stripe(order, record_key=key)
        return {"ledger": "stripe", "record_key": key, **ids.to_json()}

    def expected(self, order: CanonicalOrder) -> dict[str, Any]:
        return order_billing_view(order)

    def read_back(self, record: BillingRecord, ids: dict[str, Any]) -> dict[str, Any]:
        return read_back(StripeIds.from_json(ids))


def create_in_stripe(order: CanonicalOrder, *, record_key: str) -> StripeIds:
    """Create `order` in Stripe (or find what an earlier call created); raises
    IntegrationError, whose `retryable` says whether calling again may succeed."""
    client = stripe_client()
    customer = _customer(client, order, record_key)
    products = _products(client, order.lines)
    made = _schedules_made(client, customer, record_key)
    schedules = [
        made.get(params["metadata"]["part"])
        or _create(
            "subscription_schedule_create",
            client.v1.subscription_schedules.create,
            params,
            idempotency_key(record_key, "schedule", number),
        )
        for number, params in enumerate(
            schedule_params(order, customer=customer, products=products, record_key=record_key),
            start=1,
        )
    ]
    return StripeIds(
        customer=customer,
        products=products,
        schedules=tuple(schedule.id for schedule in schedules),
        subscriptions=tuple(_id(s.subscription) for s in schedules if s.subscription),
    )


def read_back(ids: StripeIds) -> dict[str, Any]:
    """The billing view of what Stripe holds now for `ids` (stripe_mapping's shape)."""
    return read_back_with_status(ids)[0]


def read_back_with_status(ids: StripeIds) -> tuple[dict[str, Any], dict[str, str]]:
    """`read_back`, and each schedule's status from the same reads (a schedule cancelled
    by hand still holds its phases: only its status says it no longer bills)."""
    client = stripe_client()
    customer = _get(client, "customer_get", f"/v1/customers/{quote_plus(ids.customer)}")
    schedules = [
        _get(
            client,
            "subscription_schedule_get",
            f"/v1/subscription_schedules/{quote_plus(schedule_id)}",
            expand=SCHEDULE_EXPAND,
        )
        for schedule_id in ids.schedules
    ]
    # Pending invoice items of the customer go on its next invoice, ours or not: money the
    # contract does not bill.
    pending = list(
        _every(
            client,
            "invoice_item_list",
            "/v1/invoiceitems",
            customer=ids.customer,
            pending=True,
            limit=PAGE,
        )
    )
    view = stripe_billing_view(
        customer=customer,
        schedules=schedules,
        skus={product: sku for sku, product in ids.products.items()},
        pending_invoice_items=pending,
    )
    return view, {schedule["id"]: schedule["status"] for schedule in schedules}


def _schedules_made(client: stripe.StripeClient, customer: str, record_key: str) -> dict[str, Any]:
    """The record's schedules an earlier run made, by part ("2/10"): found by their
    metadata, because Stripe forgets an idempotency key after 24 h and a retry later than
    that (Finance's Retry of a billing exception) must not bill the contract twice."""
    made: dict[str, Any] = {}
    after: dict[str, str] = {}
    while True:
        page = stripe_call(
            "subscription_schedule_list",
            lambda after=after: client.v1.subscription_schedules.list(
                {"customer": customer, "limit": PAGE, **after}
            ),
        )
        for schedule in page.data:
            metadata = schedule.metadata.to_dict() if schedule.metadata else {}
            if metadata.get("record") == record_key and schedule.status != "canceled":
                made.setdefault(metadata.get("part", ""), schedule)
        if not page.has_more or not page.data:
            return made
        after = {"starting_after": page.data[-1].id}


def _customer(client: stripe.StripeClient, order: CanonicalOrder, record_key: str) -> str:
    """The billing account's customer: found by our account id, else created once."""
    account = order.billing_entity.crm_id.replace("\\", "\\\\").replace("'", "\\'")
    found = stripe_call(
        "customer_search",
        lambda: client.v1.customers.search(
            {"query": f"metadata['account']:'{account}'", "limit": 1}
        ),
    )
    if found.data:
        return found.data[0].id
    # Search lags behind creation by up to a minute: a retry that does not find the
    # customer yet creates it with the same key, and Stripe answers with the first one.
    return _create(
        "customer_create",
        client.v1.customers.create,
        customer_params(order),
        idempotency_key(record_key, "customer"),
    ).id


def _products(client: stripe.StripeClient, lines: Sequence[OrderLine]) -> dict[str, str]:
    """SKU → product id: the catalog's (the product of the Price whose lookup key is the
    SKU), else our own Product for it, created once under a fixed id."""
    first_line = {line.sku: line for line in reversed(lines)}
    skus = list(dict.fromkeys(line.sku for line in lines))
    found: dict[str, str] = {}
    for start in range(0, len(skus), LOOKUP_KEYS_PER_CALL):
        batch = skus[start : start + LOOKUP_KEYS_PER_CALL]
        prices = stripe_call(
            "price_lookup",
            lambda batch=batch: client.v1.prices.list(
                {"lookup_keys": batch, "active": True, "limit": PAGE}
            ),
        )
        found |= {price.lookup_key: _id(price.product) for price in prices.data}
    return {sku: found.get(sku) or _product(client, first_line[sku]) for sku in skus}


def _product(client: stripe.StripeClient, line: OrderLine) -> str:
    wanted = product_id(line.sku)
    try:
        return stripe_call("product_get", lambda: client.v1.products.retrieve(wanted)).id
    except IntegrationError as error:
        if error.code != "resource_missing":
            raise
    try:
        return _create(
            "product_create",
            client.v1.products.create,
            product_params(line),
            idempotency_key("product", wanted),
        ).id
    except IntegrationError as error:
        if error.code != "resource_already_exists":  # made by a concurrent billing run
            raise
        return wanted


def _create(operation: str, create: Callable[..., Any], params: dict, key: str) -> Any:
    return stripe_call(
        operation,
        lambda: create(params, options={"idempotency_key": key}),
        idempotency_key=key,
    )


def _get(client: stripe.StripeClient, operation: str, path: str, **params: Any) -> dict:
    """One logged GET as Stripe's JSON: a read-back only compares it, so the SDK's objects
    (a sizeable share of a webhook batch's time) are not built."""
    return stripe_call(operation, lambda: client.raw_request("get", path, **params).data)


def _every(
    client: stripe.StripeClient, operation: str, path: str, **params: Any
) -> Iterator[dict[str, Any]]:
    """Every object of a list, page by page, each page one logged call."""
    after: dict[str, str] = {}
    while True:
        answer = _get(client, operation, path, **params, **after)
        yield from answer["data"]
        if not answer["has_more"] or not answer["data"]:
            return
        after = {"starting_after": answer["data"][-1]["id"]}


def _id(value: Any) -> str:
    """An id, whether Stripe answered it as text or as the expanded object."""
    return value if isinstance(value, str) else value.id
