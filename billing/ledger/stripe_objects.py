"""Stripe's objects as they are now, for the webhook handlers that act on current state
rather than on an event's copy (events repeat, arrive late and out of order).

Each function is one or a few logged calls (`stripe_call`) and answers the objects as the
plain JSON Stripe sent: the SDK's objects turn decimal strings into Decimal, which neither a
JSON column nor a comparison with the contract wants.
"""

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from billing.ledger.stripe_client import stripe_call, stripe_client

PAGE = 100


def _json(operation: str, call: Callable[[], Any], *, idempotency_key: str = "") -> dict[str, Any]:
    answer = stripe_call(operation, call, idempotency_key=idempotency_key)
    return json.loads(answer.last_response.body)


def _get(operation: str, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """One logged GET read as the JSON Stripe sent (the SDK's `raw_request`): the SDK's
    objects, built only to be read back as JSON, were most of a converge's own time."""
    client = stripe_client()
    answer = stripe_call(operation, lambda: client.raw_request("get", path, **(params or {})))
    return json.loads(answer.body)


def _all(operation: str, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every object of a list, page by page (each page one logged call)."""
    found: list[dict[str, Any]] = []
    after: dict[str, str] = {}
    while True:
        answer = _get(operation, path, {"limit": PAGE, **params, **after})
        found += answer["data"]
        if not answer["has_more"] or not answer["data"]:
            return found
        after = {"starting_after": answer["data"][-1]["id"]}


def _path(collection: str, object_id: str) -> str:
    return f"/v1/{collection}/{quote(object_id, safe='')}"


def invoice_get(invoice_id: str) -> dict[str, Any]:
    """The invoice with ALL its lines (Stripe embeds only the first ten)."""
    invoice = _get("invoice_get", _path("invoices", invoice_id))
    if invoice["lines"]["has_more"]:
        lines = _path("invoices", invoice_id) + "/lines"
        invoice["lines"]["data"] = _all("invoice_lines_list", lines, {})
        invoice["lines"]["has_more"] = False
    return invoice


def invoice_payments(*, invoice_id: str = "", payment_intent: str = "") -> list[dict[str, Any]]:
    """The payments of an invoice, or those a payment intent made (a charge's invoices)."""
    params: dict[str, Any] = {}
    if invoice_id:
        params["invoice"] = invoice_id
    if payment_intent:
        params["payment"] = {"type": "payment_intent", "payment_intent": payment_intent}
    return _all("invoice_payment_list", "/v1/invoice_payments", params)


def invoice_payment_get(payment_id: str) -> dict[str, Any]:
    return _get("invoice_payment_get", _path("invoice_payments", payment_id))


def charge_get(charge_id: str) -> dict[str, Any]:
    return _get("charge_get", _path("charges", charge_id))


def refunds_of(charge_id: str) -> list[dict[str, Any]]:
    return _all("refund_list", "/v1/refunds", {"charge": charge_id})


def dispute_get(dispute_id: str) -> dict[str, Any]:
    return _get("dispute_get", _path("disputes", dispute_id))


def events_page(*, ending_before: str = "", since: int | None = None) -> dict[str, Any]:
    """One page of events: the oldest `PAGE` after event `ending_before` (Stripe lists
    newest first; `ending_before` pages towards now), or the newest ones since `since`."""
    params: dict[str, Any] = {"limit": PAGE}
    if ending_before:
        params["ending_before"] = ending_before
    elif since is not None:
        params["created"] = {"gte": since}
    return _get("event_list", "/v1/events", params)


def events_older(*, starting_after: str, since: int) -> dict[str, Any]:
    """The page of events just older than `starting_after`, back to `since`."""
    params = {"limit": PAGE, "starting_after": starting_after, "created": {"gte": since}}
    return _get("event_list", "/v1/events", params)


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
