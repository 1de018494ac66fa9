"""Stripe's objects as they are now, for the webhook handlers that act on current state
rather than on an event's copy (events repeat, arrive late and out of order).

Each function is one or a few logged calls (`stripe_call`) and answers the objects as the
plain JSON Stripe sent: the SDK's objects turn decimal strings into Decimal, which neither a
JSON column nor a comparison with the contract wants.
"""

import json
from collections.abc import Callable
from typing import Any

from billing.ledger.stripe_client import stripe_call, stripe_client

PAGE = 100


def _json(operation: str, call: Callable[[], Any], *, idempotency_key: str = "") -> dict[str, Any]:
    answer = stripe_call(operation, call, idempotency_key=idempotency_key)
    return json.loads(answer.last_response.body)


def _all(operation: str, page: Callable[[dict], Any]) -> list[dict[str, Any]]:
    """Every object of a list, page by page (each page one logged call)."""
    found: list[dict[str, Any]] = []
    after: dict[str, str] = {}
    while True:
        answer = _json(operation, lambda after=after: page(after))
        found += answer["data"]
        if not answer["has_more"] or not answer["data"]:
            return found
        after = {"starting_after": answer["data"][-1]["id"]}


def invoice_get(invoice_id: str) -> dict[str, Any]:
    """The invoice with ALL its lines (Stripe embeds only the first ten)."""
    client = stripe_client()
    invoice = _json("invoice_get", lambda: client.v1.invoices.retrieve(invoice_id))
    if invoice["lines"]["has_more"]:
        invoice["lines"]["data"] = _all(
            "invoice_lines_list",
            lambda after: client.v1.invoices.line_items.list(invoice_id, {"limit": PAGE, **after}),
        )
        invoice["lines"]["has_more"] = False
    return invoice


def invoice_payments(*, invoice_id: str = "", payment_intent: str = "") -> list[dict[str, Any]]:
    """The payments of an invoice, or those a payment intent made (a charge's invoices)."""
    client = stripe_client()
    params: dict[str, Any] = {"limit": PAGE}
    if invoice_id:
        params["invoice"] = invoice_id
    if payment_intent:
        params["payment"] = {"type": "payment_intent", "payment_intent": payment_intent}
    return _all(
        "invoice_payment_list",
        lambda after: client.v1.invoice_payments.list({**params, **after}),
    )


def invoice_payment_get(payment_id: str) -> dict[str, Any]:
    client = stripe_client()
    return _json("invoice_payment_get", lambda: client.v1.invoice_payments.retrieve(payment_id))


def charge_get(charge_id: str) -> dict[str, Any]:
    client = stripe_client()
    return _json("charge_get", lambda: client.v1.charges.retrieve(charge_id))


def refunds_of(charge_id: str) -> list[dict[str, Any]]:
    client = stripe_client()
    return _all(
        "refund_list",
        lambda after: client.v1.refunds.list({"charge": charge_id, "limit": PAGE, **after}),
    )


def dispute_get(dispute_id: str) -> dict[str, Any]:
    client = stripe_client()
    return _json("dispute_get", lambda: client.v1.disputes.retrieve(dispute_id))


def events_page(*, ending_before: str = "", since: int | None = None) -> dict[str, Any]:
    """One page of events: the oldest `PAGE` after event `ending_before` (Stripe lists
    newest first; `ending_before` pages towards now), or the newest ones since `since`."""
    client = stripe_client()
    params: dict[str, Any] = {"limit": PAGE}
    if ending_before:
        params["ending_before"] = ending_before
    elif since is not None:
        params["created"] = {"gte": since}
    return _json("event_list", lambda: client.v1.events.list(params))


def events_older(*, starting_after: str, since: int) -> dict[str, Any]:
    """The page of events just older than `starting_after`, back to `since`."""
    client = stripe_client()
    params = {"limit": PAGE, "starting_after": starting_after, "created": {"gte": since}}
    return _json("event_list", lambda: client.v1.events.list(params))


def refund_create(
    *, payment_intent: str, amount: int, key: str, metadata: dict[str, str]
) -> dict[str, Any]:
    """Send `amount` (minor units) of a payment back, once per `key`: a retry under the same
    key replays Stripe's first refund instead of sending the money twice."""
    client = stripe_client()
    return _json(
        "refund_create",
        lambda: client.v1.refunds.create(
            {"payment_intent": payment_intent, "amount": amount, "metadata": metadata},
            options={"idempotency_key": key},
        ),
        idempotency_key=key,
    )
