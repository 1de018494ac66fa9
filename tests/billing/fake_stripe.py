"""A local, stateful fake of Stripe's v1 API (version 2026-10-28) for the real `stripe` SDK,
never a monkeypatched one. Plain http on 127.0.0.1: `StripeClient` takes an http base.

Speaks Stripe's wire format: form-encoded requests with `a[b][0][c]=` nesting, JSON answers
in the objects' 2026 shapes (`cus_`, `prod_`, `price_`, `sub_sched_`, `sub_`, `si_`, `ii_`,
`in_`, `il_`, `inpay_`, `evt_`), errors as {"error": {type, code, message, param}} with the
status Stripe uses, `Authorization: Bearer` checked, unknown parameters refused
(`parameter_unknown`: how the API refuses the removed `phases[].iterations`).

Resources: charges (one per invoice paid through Stripe), refunds (create, list by charge),
disputes (`dispute(charge_id)`), customers (create, retrieve, update, list by email, search
by metadata/email, lagging `search_lag_seconds` behind writes), products, prices (lookup
keys, `transfer_lookup_key`, `unit_amount_decimal` ≤ 12 decimals),
subscription schedules (listed by customer; phases by `duration` or `end_date`, ≤ 20 items
and ≤ 20 `add_invoice_items` a phase; a schedule that has started creates its subscription and that
subscription's first invoice, a draft that finalizes itself an hour later), subscriptions,
invoice items (pending until an invoice takes them), invoices (created with
`pending_invoice_items_behavior`, ≤ 4 custom fields; finalize, send, pay, void,
mark_uncollectible; at most 10 lines embedded, the rest through /lines), invoice payments and
events (every change appends one; listed newest first with `created[...]`, `types[]`,
`starting_after`). `expand[]` works for price, product and customer ids
(`phases.items.price`).

Stripe's rules mirrored: a POST's `Idempotency-Key` seen in the last 24 h (fake clock)
replays the first answer byte for byte (a request refused before it ran is not kept), the
same key with another request → 400 `idempotency_error`.

Test controls: `fail_next(n, status, should_retry=, applied=, path=, after=)` (`applied`: the
work is done, the answer is lost; `path`: only calls to that path fail; `after`: that many
pass first), `rate_limit_next(n, retry_after=)`, `decline_next_payment()`, `dispute(charge)`,
`advance_clock(seconds)`, `webhook(event_id, secret=, timestamp=)` → (body, headers) signed
as Stripe signs a delivery, `created` (objects created, by type) and `requests` (the log).
"""

import calendar
import copy
import itertools
import json
import re
import secrets
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlparse

import stripe

API_KEY = "sk_test_fake_dealdesk"
WEBHOOK_SECRET = "whsec_fake_dealdesk_1"
API_VERSION = "2026-10-28.endive"
IDEMPOTENCY_WINDOW_SECONDS = 24 * 3600
IDEMPOTENCY_KEY_LIMIT = 255
MAX_PHASE_ITEMS = 20  # also the most items a subscription holds
MAX_ADD_INVOICE_ITEMS = 20
MAX_CUSTOM_FIELDS = 4
MAX_DECIMALS = 12
EMBEDDED_LINES = 10  # an invoice carries this many lines; the rest come from /lines
AUTO_FINALIZE_SECONDS = 3600
INTERVALS = {"day", "week", "month", "year"}
KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


class _Answer(Exception):
    """An answer the fake gives instead of a result. `kept`: stored for idempotent replay
    (Stripe keeps answers of requests that ran, not of ones refused before running)."""

    def __init__(self, status: int, body: dict, headers: dict | None = None, *, kept=False):
        super().__init__(status)
        self.status, self.body, self.headers, self.kept = status, body, headers or {}, kept


def _error(
    status: int,
    message: str,
    *,
    code: str | None = None,
    param: str | None = None,
    type: str = "invalid_request_error",
    kept: bool = False,
) -> _Answer:
    error = {"type": type, "message": message}
    if code:
        error["code"] = code
    if param:
        error["param"] = param
    return _Answer(status, {"error": error}, kept=kept)


def _invalid(message: str, param: str | None = None, code: str = "parameter_invalid") -> _Answer:
    return _error(400, message, code=code, param=param)


# --- the wire format ----------------------------------------------------------------------


def decode_form(text: str) -> dict:
    """Stripe's form encoding as nested dicts and lists: `a[b][0][c]=v`, `a[]=v` appends."""
    root: dict = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        match = KEY.match(key)
        if match is None:
            raise _invalid(f"Invalid parameter name: {key}", key)
        path = [match[1], *re.findall(r"\[([^\[\]]*)\]", match[2])]
        node = root
        for part in path[:-1]:
            if part == "":
                raise _invalid(f"Invalid array parameter: {key}", key)
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise _invalid(f"Invalid parameter: {key} is both a value and a hash", key)
        leaf = path[-1] if path[-1] != "" else str(len(node))
        if leaf in node:
            raise _invalid(f"Received the parameter {key} twice", key)
        node[leaf] = value
    return _listified(root, "")


def _listified(node, name: str):
    if not isinstance(node, dict):
        return node
    items = {key: _listified(value, key) for key, value in node.items()}
    # A hash whose keys are 0..n-1 is an array; metadata keeps digit keys as keys.
    if items and name != "metadata" and all(key.isdigit() for key in items):
        indexes = sorted(int(key) for key in items)
        if indexes != list(range(len(indexes))):
            raise _invalid(f"Invalid array: {name} has gaps in its indexes", name)
        return [items[str(i)] for i in indexes]
    return items


def _name(prefix: str, key: str) -> str:
    """A nested parameter's name as Stripe reports it: `phases[0][items]`."""
    return f"{prefix}[{key}]" if prefix else key


def _only(params: dict, allowed: set[str], prefix: str = "") -> None:
    for key in params:
        if key not in allowed:
            name = _name(prefix, key)
            raise _invalid(f"Received unknown parameter: {name}", name, "parameter_unknown")


def _required(params: dict, key: str, prefix: str = ""):
    name = _name(prefix, key)
    if params.get(key) in (None, ""):
        raise _invalid(f"Missing required param: {name}.", name, "parameter_missing")
    return params[key]


def _int(value, param: str, *, minimum: int | None = None) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _invalid(f"Invalid integer: {value}", param, "parameter_invalid_integer") from None
    if minimum is not None and number < minimum:
        raise _invalid(f"{param} must be at least {minimum}.", param)
    return number


def _bool(value, param: str) -> bool:
    if value in ("true", "false"):
        return value == "true"
    raise _invalid(f"Invalid boolean: {value}", param)


def _decimal(value, param: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise _invalid(f"Invalid decimal: {value}", param) from None
    if not number.is_finite() or number < 0:
        raise _invalid(f"Invalid decimal: {value}", param)
    if -number.as_tuple().exponent > MAX_DECIMALS:
        raise _invalid(
            f"Invalid decimal: {value}; must contain at maximum {MAX_DECIMALS} decimal places.",
            param,
        )
    return number


def _decimal_text(number: Decimal) -> str:
    """Stripe's rendering of a decimal string: no exponent, no trailing zeros."""
    return format(number.normalize(), "f")


def _metadata(value, param: str = "metadata") -> dict:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise _invalid("Invalid hash", param)
    if len(value) > 50:
        raise _invalid("Metadata can have up to 50 keys.", param)
    for key, text in value.items():
        if len(key) > 40 or len(str(text)) > 500:
            raise _invalid("Metadata keys ≤ 40 and values ≤ 500 characters.", f"{param}[{key}]")
    return dict(value)


def _list_of(value, param: str) -> list:
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise _invalid("Invalid array", param)
    return value


def _add_interval(moment: int, interval: str, count: int) -> int:
    """`moment` plus `count` intervals, months on the calendar (Jan 31 + 1 month = Feb 28)."""
    if interval == "day":
        return moment + 86400 * count
    if interval == "week":
        return moment + 7 * 86400 * count
    when = datetime.fromtimestamp(moment, UTC)
    years, month = divmod(when.month - 1 + count * (12 if interval == "year" else 1), 12)
    year, month = when.year + years, month + 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return int(when.replace(year=year, month=month, day=day).timestamp())


def _minor_units(unit_amount_decimal: str, quantity: int) -> int:
    """A line's amount: unit × quantity rounded to the minor unit (half up)."""
    return int((Decimal(unit_amount_decimal) * quantity).quantize(Decimal(1), ROUND_HALF_UP))


@dataclass
class _Kept:
    """An idempotency key's first request and answer."""

    at: int
    request: tuple[str, str, bytes]
    status: int
    body: bytes


@dataclass
class _Failure:
    status: int
    should_retry: bool | None
    applied: bool
    retry_after: float | None = None
    path: str | None = None  # only a request to this path (a regex) fails; None: any
    after: int = 0  # this many matching requests pass before it fails


class FakeStripe:
    def __init__(self, *, api_key: str = API_KEY, webhook_secrets: list[str] | None = None):
        self.api_key = api_key
        self.webhook_secrets = webhook_secrets or [WEBHOOK_SECRET]
        self.customers: dict[str, dict] = {}
        self.products: dict[str, dict] = {}
        self.prices: dict[str, dict] = {}
        self.schedules: dict[str, dict] = {}
        self.subscriptions: dict[str, dict] = {}
        self.invoice_items: dict[str, dict] = {}
        self.invoices: dict[str, dict] = {}
        self.invoice_lines: dict[str, list[dict]] = {}
        self.invoice_payments: dict[str, dict] = {}
        self.charges: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.disputes: dict[str, dict] = {}
        self.events: list[dict] = []
        self.created: Counter[str] = Counter()  # objects created, by object type
        # Stripe's search lags behind writes by up to a minute: set it to see that lag.
        self.search_lag_seconds = 0
        self.requests: list[dict] = []  # method, path, idempotency_key, stripe_version, params
        self.crashes: list[str] = []  # the fake's own bugs, answered as 500 api_error
        # The fake's own cost, for benchmarks: CPU seconds its server threads spent answering
        # (it shares the CPU with the code under test), and how many requests that was.
        self.served = 0
        self.served_cpu_seconds = 0.0
        self._kept: dict[str, _Kept] = {}
        self._failures: list[_Failure] = []
        self._declines: list[str] = []
        self._clock_offset = 0
        self._numbers = itertools.count(1)
        self._request_id: str | None = None
        self._lock = threading.RLock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "FakeStripe":
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- test controls ------------------------------------------------------------------

    def now(self) -> int:
        return int(time.time()) + self._clock_offset

    def advance_clock(self, seconds: int) -> None:
        """Move Stripe's clock on: schedules start, drafts finalize themselves, idempotency
        keys older than 24 h are forgotten."""
        with self._lock:
            self._clock_offset += int(seconds)
            self._tick()

    def fail_next(
        self,
        n: int = 1,
        status: int = 500,
        *,
        should_retry: bool | None = None,
        applied: bool = False,
        path: str | None = None,
        after: int = 0,
    ) -> None:
        """Answer the next n API calls with `status` (and `Stripe-Should-Retry` when given);
        `applied`: do the work first, then fail, as when the answer is lost on its way;
        `path`: only calls to this path (a regex, e.g. "/v1/subscription_schedules") fail;
        `after`: let this many of those calls pass first."""
        with self._lock:
            self._failures += [
                _Failure(status, should_retry, applied, path=path, after=after if i == 0 else 0)
                for i in range(n)
            ]

    def rate_limit_next(self, n: int = 1, *, retry_after: float = 1) -> None:
        with self._lock:
            self._failures += [_Failure(429, None, False, retry_after)] * n

    def decline_next_payment(self, code: str = "card_declined") -> None:
        """The next invoice payment (not out of band) is declined: 402 and
        `invoice.payment_failed`."""
        with self._lock:
            self._declines.append(code)

    def dispute(self, charge_id: str, *, amount: int | None = None) -> dict:
        """The customer's bank disputes a charge (all of it unless `amount`):
        `charge.dispute.created`, as when a cardholder contests it."""
        with self._lock:
            charge = self._get(self.charges, charge_id, "charge")
            dispute = self._new(
                self.disputes,
                "du",
                {
                    "object": "dispute",
                    "amount": charge["amount"] if amount is None else amount,
                    "charge": charge["id"],
                    "created": self.now(),
                    "currency": charge["currency"],
                    "livemode": False,
                    "metadata": {},
                    "payment_intent": charge["payment_intent"],
                    "reason": "fraudulent",
                    "status": "needs_response",
                },
            )
            charge["disputed"] = True
            self._emit("charge.dispute.created", dispute)
            return dispute

    def event(self, event_id: str) -> dict:
        return next(e for e in self.events if e["id"] == event_id)

    def event_types(self) -> list[str]:
        return [e["type"] for e in self.events]

    def webhook(
        self, event_id: str, *, secret: str | None = None, timestamp: int | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """(body, headers) of this event's webhook delivery, signed as Stripe signs it (now,
        or at `timestamp` for a stale one), with `secret` or the first configured secret."""
        body = json.dumps(self.event(event_id)).encode()
        header = stripe.WebhookSignature.generate_signature_header(
            body.decode(), secret or self.webhook_secrets[0], timestamp=timestamp
        )
        return body, {"Stripe-Signature": header, "Content-Type": "application/json"}

    # --- the request pipeline -----------------------------------------------------------

    def _respond(self, method: str, path: str, query: str, body: bytes, headers) -> tuple:
        """(status, body bytes, headers) for one request, failures and idempotency applied."""
        key = headers.get("Idempotency-Key") if method == "POST" else None
        self.requests.append(
            {
                "method": method,
                "path": path,
                "idempotency_key": key,
                "stripe_version": headers.get("Stripe-Version"),
            }
        )
        self._request_id = f"req_{secrets.token_hex(7)}"
        out = {"Request-Id": self._request_id, "Stripe-Version": API_VERSION}
        if key:
            out["Idempotency-Key"] = key
        try:
            self._authenticate(headers.get("Authorization", ""))
        except _Answer as answer:
            return answer.status, json.dumps(answer.body).encode(), out
        failure = self._next_failure(path)
        if failure is not None and not failure.applied:
            return self._failed(failure, out)
        status, data = self._idempotent(method, path, query, body, key, out)
        if failure is not None:  # done (or replayed), but the answer is lost on its way
            return self._failed(failure, out)
        return status, data, out

    def _next_failure(self, path: str) -> _Failure | None:
        for n, failure in enumerate(self._failures):
            if failure.path is None or re.fullmatch(failure.path, path):
                if failure.after:
                    failure.after -= 1
                    return None
                return self._failures.pop(n)
        return None

    def _authenticate(self, authorization: str) -> None:
        if not authorization:
            raise _error(401, "You did not provide an API key.")
        if authorization != f"Bearer {self.api_key}":
            raise _error(401, "Invalid API Key provided.", code="api_key_invalid")

    def _failed(self, failure: _Failure, out: dict) -> tuple:
        headers = dict(out)
        if failure.status == 429:
            answer = _error(429, "Request rate limit exceeded.", code="rate_limit")
            if failure.retry_after is not None:
                headers["Retry-After"] = str(failure.retry_after)
        else:
            answer = _error(failure.status, "An unknown error occurred.", type="api_error")
        if failure.should_retry is not None:
            headers["Stripe-Should-Retry"] = "true" if failure.should_retry else "false"
        return answer.status, json.dumps(answer.body).encode(), headers

    def _idempotent(self, method, path, query, body, key, out) -> tuple[int, bytes]:
        if key and len(key) > IDEMPOTENCY_KEY_LIMIT:
            answer = _invalid(f"Idempotency-Key is longer than {IDEMPOTENCY_KEY_LIMIT}.")
            return answer.status, json.dumps(answer.body).encode()
        kept = self._kept.get(key) if key else None
        if kept is not None and kept.at + IDEMPOTENCY_WINDOW_SECONDS > self.now():
            if kept.request != (method, path, body):
                answer = _error(
                    400,
                    "Keys for idempotent requests can only be used with the same parameters "
                    f"they were first used with. Try using a key other than '{key}' if you "
                    "meant to execute a different request.",
                    type="idempotency_error",
                )
                return answer.status, json.dumps(answer.body).encode()
            out["Idempotent-Replayed"] = "true"
            return kept.status, kept.body
        status, data, keep = self._execute(method, path, query, body)
        if key and keep:
            self._kept[key] = _Kept(self.now(), (method, path, body), status, data)
        return status, data

    def _execute(self, method: str, path: str, query: str, body: bytes) -> tuple[int, bytes, bool]:
        try:
            params = decode_form(body.decode() if method == "POST" else query)
            expand = _list_of(params.pop("expand", None), "expand")
            handler, ids = self._route(method, path)
            result = self._expanded(handler(params, *ids), expand)
        except _Answer as answer:
            return answer.status, json.dumps(answer.body).encode(), answer.kept
        except Exception:  # the fake's bug: say so loudly, as Stripe's 500
            self.crashes.append(traceback.format_exc())
            answer = _error(500, "The fake crashed; see fake.crashes.", type="api_error")
            return 500, json.dumps(answer.body).encode(), False
        return 200, json.dumps(result).encode(), True

    def _expanded(self, result: dict, paths: list) -> dict:
        """`expand[]` as Stripe reads it, for ids of prices, products and customers only:
        "phases.items.price" replaces each phase item's price id by the price."""
        if not paths:
            return result
        stores = {"price": self.prices, "product": self.products, "customer": self.customers}
        result = copy.deepcopy(result)  # never expand the stored object itself

        def expand(node, fields: list[str], path: str) -> None:
            if isinstance(node, list):
                for item in node:
                    expand(item, fields, path)
            elif isinstance(node, dict) and fields[1:]:
                expand(node.get(fields[0]), fields[1:], path)
            elif isinstance(node, dict):
                if fields[0] not in stores:
                    raise _invalid(f"This property cannot be expanded ({path}).", "expand")
                if isinstance(node.get(fields[0]), str):
                    node[fields[0]] = copy.deepcopy(stores[fields[0]].get(node[fields[0]]))

        for path in paths:
            expand(result, str(path).split("."), str(path))
        return result

    def _route(self, method: str, path: str) -> tuple[Callable, tuple]:
        for route_method, pattern, handler in self._routes():
            match = re.fullmatch(pattern, path)
            if route_method == method and match:
                return handler, match.groups()
        raise _error(404, f"Unrecognized request URL ({method}: {path}).")

    def _routes(self) -> list[tuple[str, str, Callable]]:
        return [
            ("POST", r"/v1/customers", self._customer_create),
            ("GET", r"/v1/customers", self._customer_list),
            ("GET", r"/v1/customers/search", self._customer_search),
            ("GET", r"/v1/customers/(cus_\w+)", self._customer_retrieve),
            ("POST", r"/v1/customers/(cus_\w+)", self._customer_update),
            ("POST", r"/v1/products", self._product_create),
            ("GET", r"/v1/products/([\w-]+)", self._product_retrieve),
            ("POST", r"/v1/prices", self._price_create),
            ("GET", r"/v1/prices", self._price_list),
            ("GET", r"/v1/prices/(price_\w+)", self._price_retrieve),
            ("POST", r"/v1/subscription_schedules", self._schedule_create),
            ("GET", r"/v1/subscription_schedules", self._schedule_list),
            ("GET", r"/v1/subscription_schedules/(sub_sched_\w+)", self._schedule_retrieve),
            ("POST", r"/v1/subscription_schedules/(sub_sched_\w+)/cancel", self._schedule_cancel),
            ("GET", r"/v1/subscriptions", self._subscription_list),
            ("GET", r"/v1/subscriptions/(sub_(?!sched_)\w+)", self._subscription_retrieve),
            ("POST", r"/v1/invoiceitems", self._invoice_item_create),
            ("GET", r"/v1/invoiceitems", self._invoice_item_list),
            ("GET", r"/v1/invoiceitems/(ii_\w+)", self._invoice_item_retrieve),
            ("POST", r"/v1/invoices", self._invoice_create),
            ("GET", r"/v1/invoices", self._invoice_list),
            ("GET", r"/v1/invoices/(in_\w+)", self._invoice_retrieve),
            ("GET", r"/v1/invoices/(in_\w+)/lines", self._invoice_lines_list),
            ("POST", r"/v1/invoices/(in_\w+)/finalize", self._invoice_finalize),
            ("POST", r"/v1/invoices/(in_\w+)/send", self._invoice_send),
            ("POST", r"/v1/invoices/(in_\w+)/pay", self._invoice_pay),
            ("POST", r"/v1/invoices/(in_\w+)/void", self._invoice_void),
            (
                "POST",
                r"/v1/invoices/(in_\w+)/mark_uncollectible",
                self._invoice_mark_uncollectible,
            ),
            ("GET", r"/v1/invoice_payments", self._invoice_payment_list),
            ("GET", r"/v1/invoice_payments/(inpay_\w+)", self._invoice_payment_retrieve),
            ("GET", r"/v1/charges/(ch_\w+)", self._charge_retrieve),
            ("POST", r"/v1/refunds", self._refund_create),
            ("GET", r"/v1/refunds", self._refund_list),
            ("GET", r"/v1/refunds/(re_\w+)", self._refund_retrieve),
            ("GET", r"/v1/disputes/(du_\w+)", self._dispute_retrieve),
            ("GET", r"/v1/events", self._event_list),
            ("GET", r"/v1/events/(evt_\w+)", self._event_retrieve),
        ]

    # --- shared pieces ------------------------------------------------------------------

    def _id(self, prefix: str) -> str:
        # A counter keeps ids unique and in creation order; the random tail looks like Stripe.
        return f"{prefix}_{next(self._numbers):06d}{secrets.token_hex(5)}"

    def _new(self, store: dict, prefix: str, obj: dict) -> dict:
        obj = {"id": obj.pop("id", None) or self._id(prefix), **obj}
        store[obj["id"]] = obj
        self.created[obj["object"]] += 1
        return obj

    def _emit(self, type: str, obj: dict, previous: dict | None = None) -> None:
        data = {"object": copy.deepcopy(obj)}
        if previous is not None:
            data["previous_attributes"] = previous
        event = {
            "id": self._id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": self.now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": self._request_id, "idempotency_key": None},
            "type": type,
        }
        self.events.append(event)

    def _get(self, store: dict, object_id, what: str, param: str = "id") -> dict:
        if not isinstance(object_id, str) or object_id not in store:
            raise _error(
                404, f"No such {what}: '{object_id}'", code="resource_missing", param=param
            )
        return store[object_id]

    def _page(self, items: list[dict], params: dict, url: str) -> dict:
        """A list page, newest first, with `limit`, `starting_after`, `ending_before`."""
        items = sorted(items, key=lambda o: (o.get("created", 0), o["id"]), reverse=True)
        limit = _int(params.get("limit", 10), "limit", minimum=1)
        if limit > 100:
            raise _invalid("limit must be at most 100.", "limit")
        ids = [o["id"] for o in items]
        if params.get("starting_after"):
            if params["starting_after"] not in ids:
                raise _error(404, "starting_after is unknown", code="resource_missing")
            items = items[ids.index(params["starting_after"]) + 1 :]
            page = items[:limit]
        elif params.get("ending_before"):
            if params["ending_before"] not in ids:
                raise _error(404, "ending_before is unknown", code="resource_missing")
            items = items[: ids.index(params["ending_before"])]
            page = items[-limit:]
        else:
            page = items[:limit]
        return {
            "object": "list",
            "data": copy.deepcopy(page),
            "has_more": len(items) > len(page),
            "url": url,
        }

    def _created_filter(self, items: list[dict], created) -> list[dict]:
        if created in (None, ""):
            return items
        if not isinstance(created, dict):
            moment = _int(created, "created")
            return [o for o in items if o["created"] == moment]
        tests = {
            "gt": lambda a, b: a > b,
            "gte": lambda a, b: a >= b,
            "lt": lambda a, b: a < b,
            "lte": lambda a, b: a <= b,
        }
        _only(created, set(tests), "created")
        for op, value in created.items():
            bound = _int(value, f"created[{op}]")
            items = [o for o in items if tests[op](o["created"], bound)]
        return items

    # --- customers ----------------------------------------------------------------------

    CUSTOMER_FIELDS = {
        "address",
        "description",
        "email",
        "invoice_settings",
        "metadata",
        "name",
        "phone",
        "preferred_locales",
        "shipping",
        "tax_exempt",
    }

    def _customer_create(self, params: dict) -> dict:
        _only(params, self.CUSTOMER_FIELDS)
        customer = self._new(
            self.customers,
            "cus",
            {
                "object": "customer",
                "address": None,
                "balance": 0,
                "created": self.now(),
                "currency": None,
                "default_source": None,
                "delinquent": False,
                "description": None,
                "discount": None,
                "email": None,
                "invoice_prefix": secrets.token_hex(4).upper(),
                "invoice_settings": {
                    "custom_fields": None,
                    "default_payment_method": None,
                    "footer": None,
                    "rendering_options": None,
                },
                "livemode": False,
                "metadata": {},
                "name": None,
                "next_invoice_sequence": 1,
                "phone": None,
                "preferred_locales": [],
                "shipping": None,
                "tax_exempt": "none",
                "test_clock": None,
            },
        )
        self._customer_set(customer, params)
        self._emit("customer.created", customer)
        return customer

    def _customer_set(self, customer: dict, params: dict) -> dict:
        previous = {}
        for key, value in params.items():
            previous[key] = copy.deepcopy(customer.get(key))
            if key == "metadata":
                # Keys merge; "" unsets one key, and metadata="" unsets them all.
                merged = {**customer["metadata"], **_metadata(value)} if value != "" else {}
                customer["metadata"] = {k: v for k, v in merged.items() if v != ""}
            elif key == "invoice_settings":
                _only(value, {"custom_fields", "default_payment_method", "footer"}, key)
                customer[key] = {**customer[key], **value}
            else:
                customer[key] = None if value == "" else value
        return previous

    def _customer_retrieve(self, params: dict, customer_id: str) -> dict:
        return self._get(self.customers, customer_id, "customer")

    def _customer_update(self, params: dict, customer_id: str) -> dict:
        customer = self._get(self.customers, customer_id, "customer")
        _only(params, self.CUSTOMER_FIELDS)
        previous = self._customer_set(customer, params)
        self._emit("customer.updated", customer, previous)
        return customer

    def _customer_list(self, params: dict) -> dict:
        _only(params, {"email", "limit", "starting_after", "ending_before", "created"})
        found = list(self.customers.values())
        if "email" in params:  # exact and case-sensitive, as Stripe's list filter is
            found = [c for c in found if c["email"] == params["email"]]
        found = self._created_filter(found, params.get("created"))
        return self._page(found, params, "/v1/customers")

    def _customer_search(self, params: dict) -> dict:
        """Only `metadata['key']:'value'` and `email:'value'` clauses, joined with AND."""
        _only(params, {"query", "limit", "page"})
        query = _required(params, "query")
        clause = re.compile(r"\s*(metadata\['([^']+)'\]|email):'([^']*)'\s*")
        indexed = self.now() - self.search_lag_seconds
        found = [c for c in self.customers.values() if c["created"] <= indexed]
        for part in re.split(r"\s+AND\s+", query):
            match = clause.fullmatch(part)
            if match is None:
                raise _invalid(f"This fake cannot search {part!r}.", "query")
            if match[2] is not None:
                found = [c for c in found if c["metadata"].get(match[2]) == match[3]]
            else:
                found = [c for c in found if c["email"] == match[3]]
        page = self._page(found, {"limit": params.get("limit", 10)}, "/v1/customers/search")
        return {**page, "object": "search_result", "next_page": None, "total_count": len(found)}

    # --- products and prices ------------------------------------------------------------

    def _product_create(self, params: dict) -> dict:
        _only(params, {"id", "name", "description", "metadata", "active", "unit_label"})
        if params.get("id") in self.products:
            raise _invalid(
                f"Product already exists: {params['id']}", "id", "resource_already_exists"
            )
        product = self._new(
            self.products,
            "prod",
            {
                "id": params.get("id"),
                "object": "product",
                "active": _bool(params.get("active", "true"), "active"),
                "created": self.now(),
                "default_price": None,
                "description": params.get("description"),
                "images": [],
                "livemode": False,
                "marketing_features": [],
                "metadata": _metadata(params.get("metadata")),
                "name": _required(params, "name"),
                "package_dimensions": None,
                "shippable": None,
                "statement_descriptor": None,
                "tax_code": None,
                "type": "service",
                "unit_label": params.get("unit_label"),
                "updated": self.now(),
                "url": None,
            },
        )
        self._emit("product.created", product)
        return product

    def _product_retrieve(self, params: dict, product_id: str) -> dict:
        return self._get(self.products, product_id, "product")

    def _unit_amount(self, params: dict, prefix: str) -> str:
        """`unit_amount` (integer minor units) or `unit_amount_decimal`, exactly one."""
        whole, decimal = _name(prefix, "unit_amount"), _name(prefix, "unit_amount_decimal")
        has_int, has_decimal = "unit_amount" in params, "unit_amount_decimal" in params
        if has_int == has_decimal:
            raise _invalid(f"Pass exactly one of {whole} and {decimal}.", whole)
        if has_int:
            return str(_int(params["unit_amount"], whole, minimum=0))
        return _decimal_text(_decimal(params["unit_amount_decimal"], decimal))

    def _recurring(self, value, param: str) -> dict:
        if not isinstance(value, dict):
            raise _invalid("Invalid hash", param)
        _only(value, {"interval", "interval_count", "usage_type"}, param)
        interval = _required(value, "interval", param)
        if interval not in INTERVALS:
            raise _invalid(f"Invalid {param}[interval]: {interval}", f"{param}[interval]")
        count = _int(value.get("interval_count", 1), f"{param}[interval_count]", minimum=1)
        return {
            "interval": interval,
            "interval_count": count,
            "meter": None,
            "usage_type": value.get("usage_type", "licensed"),
        }

    def _price(self, params: dict, *, prefix: str = "", listed: bool = True) -> dict:
        """A new price; `listed` False for a phase item's inline `price_data` (Stripe makes
        those inactive, so they never answer a lookup)."""
        currency = str(_required(params, "currency", prefix)).lower()
        if not re.fullmatch(r"[a-z]{3}", currency):
            raise _invalid(f"Invalid currency: {currency}", _name(prefix, "currency"))
        product = params.get("product")
        if isinstance(params.get("product_data"), dict):
            product = self._product_create(params["product_data"])["id"]
        self._get(self.products, product, "product", _name(prefix, "product"))
        unit_amount_decimal = self._unit_amount(params, prefix)
        recurring = (
            self._recurring(params["recurring"], _name(prefix, "recurring"))
            if params.get("recurring")
            else None
        )
        return self._new(
            self.prices,
            "price",
            {
                "object": "price",
                "active": listed and _bool(params.get("active", "true"), "active"),
                "billing_scheme": "per_unit",
                "created": self.now(),
                "currency": currency,
                "custom_unit_amount": None,
                "livemode": False,
                "lookup_key": None,
                "metadata": _metadata(params.get("metadata")),
                "nickname": params.get("nickname"),
                "product": product,
                "recurring": recurring,
                "tax_behavior": params.get("tax_behavior", "unspecified"),
                "tiers_mode": None,
                "transform_quantity": None,
                "type": "recurring" if recurring else "one_time",
                # A fractional unit amount has no integer form: Stripe answers null.
                "unit_amount": int(unit_amount_decimal)
                if Decimal(unit_amount_decimal) == int(Decimal(unit_amount_decimal))
                else None,
                "unit_amount_decimal": unit_amount_decimal,
            },
        )

    def _price_create(self, params: dict) -> dict:
        _only(
            params,
            {
                "currency",
                "product",
                "product_data",
                "unit_amount",
                "unit_amount_decimal",
                "recurring",
                "lookup_key",
                "transfer_lookup_key",
                "metadata",
                "nickname",
                "active",
                "tax_behavior",
            },
        )
        lookup_key = params.get("lookup_key") or None
        holder = next((p for p in self.prices.values() if p["lookup_key"] == lookup_key), None)
        transfer = _bool(params.get("transfer_lookup_key", "false"), "transfer_lookup_key")
        if lookup_key and holder and not transfer:
            raise _invalid(
                f"A price (`{holder['id']}`) already uses that lookup key.",
                "lookup_key",
                "resource_already_exists",
            )
        price = self._price(params)
        if lookup_key:
            if holder:
                previous = {"lookup_key": lookup_key}
                holder["lookup_key"] = None
                self._emit("price.updated", holder, previous)
            price["lookup_key"] = lookup_key
        self._emit("price.created", price)
        return price

    def _price_retrieve(self, params: dict, price_id: str) -> dict:
        return self._get(self.prices, price_id, "price")

    def _price_list(self, params: dict) -> dict:
        _only(
            params,
            {"lookup_keys", "product", "active", "currency", "type", "limit"}
            | {"starting_after", "ending_before", "created"},
        )
        found = list(self.prices.values())
        if "lookup_keys" in params:
            keys = _list_of(params["lookup_keys"], "lookup_keys")
            if len(keys) > 10:
                raise _invalid("lookup_keys takes at most 10 keys.", "lookup_keys")
            found = [p for p in found if p["lookup_key"] in keys]
        for field in ("product", "currency", "type"):
            if field in params:
                found = [p for p in found if p[field] == params[field]]
        if "active" in params:
            found = [p for p in found if p["active"] == _bool(params["active"], "active")]
        found = self._created_filter(found, params.get("created"))
        return self._page(found, params, "/v1/prices")

    # --- subscription schedules and subscriptions ---------------------------------------

    PHASE_FIELDS = {
        "items",
        "add_invoice_items",
        "duration",
        "end_date",
        "metadata",
        "collection_method",
        "invoice_settings",
        "currency",
        "description",
        "proration_behavior",
        "billing_cycle_anchor",
        "default_tax_rates",
    }
    INVOICE_SETTINGS_FIELDS = {"days_until_due", "custom_fields", "description", "footer"}

    def _item_price(self, item: dict, param: str, *, recurring: bool) -> dict:
        if ("price" in item) == ("price_data" in item):
            raise _invalid(f"Pass exactly one of {param}[price] and {param}[price_data].", param)
        if "price" in item:
            price = self._get(self.prices, item["price"], "price", f"{param}[price]")
        else:
            data = item["price_data"]
            if not isinstance(data, dict):
                raise _invalid("Invalid hash", f"{param}[price_data]")
            allowed = {"currency", "product", "unit_amount", "unit_amount_decimal"}
            _only(
                data,
                allowed | ({"recurring", "tax_behavior"} if recurring else set()),
                f"{param}[price_data]",
            )
            if recurring and not data.get("recurring"):
                raise _invalid(
                    "A phase item's price_data needs recurring.", f"{param}[price_data][recurring]"
                )
            price = self._price(data, prefix=f"{param}[price_data]", listed=False)
        if recurring and price["type"] != "recurring":
            raise _invalid(f"The price {price['id']} is not recurring.", f"{param}[price]")
        if not recurring and price["type"] != "one_time":
            raise _invalid(f"The price {price['id']} is not one-time.", f"{param}[price]")
        return price

    def _invoice_settings(self, value, param: str) -> dict:
        if value in (None, ""):
            return {}
        if not isinstance(value, dict):
            raise _invalid("Invalid hash", param)
        _only(value, self.INVOICE_SETTINGS_FIELDS, param)
        settings = {}
        if "days_until_due" in value:
            settings["days_until_due"] = _int(
                value["days_until_due"], f"{param}[days_until_due]", minimum=0
            )
        if "custom_fields" in value:
            settings["custom_fields"] = self._custom_fields(
                value["custom_fields"], f"{param}[custom_fields]"
            )
        return settings

    def _custom_fields(self, value, param: str) -> list[dict] | None:
        fields = _list_of(value, param)
        if len(fields) > MAX_CUSTOM_FIELDS:
            raise _invalid(
                f"Invalid array: {param} must have at most {MAX_CUSTOM_FIELDS} items.", param
            )
        for n, field in enumerate(fields):
            if not isinstance(field, dict):
                raise _invalid("Invalid hash", f"{param}[{n}]")
            _only(field, {"name", "value"}, f"{param}[{n}]")
            if len(_required(field, "name", f"{param}[{n}]")) > 40:
                raise _invalid(
                    "A custom field's name is at most 40 characters.", f"{param}[{n}][name]"
                )
            if len(_required(field, "value", f"{param}[{n}]")) > 140:
                raise _invalid(
                    "A custom field's value is at most 140 characters.", f"{param}[{n}][value]"
                )
        return [{"name": f["name"], "value": f["value"]} for f in fields] or None

    def _phase(self, raw, n: int, start: int, last: bool, defaults: dict) -> dict:
        param = f"phases[{n}]"
        if not isinstance(raw, dict):
            raise _invalid("Invalid hash", param)
        _only(raw, self.PHASE_FIELDS, param)
        items = _list_of(_required(raw, "items", param), f"{param}[items]")
        if not items:
            raise _invalid("A phase needs at least one item.", f"{param}[items]")
        if len(items) > MAX_PHASE_ITEMS:
            raise _invalid(
                f"A subscription can have at most {MAX_PHASE_ITEMS} items.", f"{param}[items]"
            )
        phase_items, seen = [], set()
        for i, item in enumerate(items):
            item_param = f"{param}[items][{i}]"
            if not isinstance(item, dict):
                raise _invalid("Invalid hash", item_param)
            _only(item, {"price", "price_data", "quantity", "metadata", "tax_rates"}, item_param)
            price = self._item_price(item, item_param, recurring=True)
            if price["id"] in seen:
                raise _invalid("A phase cannot hold the same price twice.", f"{item_param}[price]")
            seen.add(price["id"])
            phase_items.append(
                {
                    "billing_thresholds": None,
                    "discounts": [],
                    "metadata": _metadata(item.get("metadata"), f"{item_param}[metadata]"),
                    "price": price["id"],
                    "quantity": _int(item.get("quantity", 1), f"{item_param}[quantity]", minimum=0),
                    "tax_rates": [],
                }
            )
        extras = _list_of(raw.get("add_invoice_items"), f"{param}[add_invoice_items]")
        if len(extras) > MAX_ADD_INVOICE_ITEMS:
            raise _invalid(
                f"A phase can have at most {MAX_ADD_INVOICE_ITEMS} add_invoice_items.",
                f"{param}[add_invoice_items]",
            )
        add_invoice_items = []
        for i, extra in enumerate(extras):
            extra_param = f"{param}[add_invoice_items][{i}]"
            if not isinstance(extra, dict):
                raise _invalid("Invalid hash", extra_param)
            _only(extra, {"price", "price_data", "quantity", "metadata", "tax_rates"}, extra_param)
            price = self._item_price(extra, extra_param, recurring=False)
            add_invoice_items.append(
                {
                    "discounts": [],
                    "metadata": _metadata(extra.get("metadata"), f"{extra_param}[metadata]"),
                    "period": {"end": {"type": "phase_end"}, "start": {"type": "phase_start"}},
                    "price": price["id"],
                    "quantity": _int(
                        extra.get("quantity", 1), f"{extra_param}[quantity]", minimum=0
                    ),
                    "tax_rates": [],
                }
            )
        currencies = {self.prices[i["price"]]["currency"] for i in phase_items + add_invoice_items}
        if len(currencies) > 1:
            raise _invalid("All prices in a phase must share one currency.", f"{param}[items]")
        if "duration" in raw and "end_date" in raw:
            raise _invalid("Pass either duration or end_date, not both.", f"{param}[duration]")
        if "duration" in raw:
            duration = self._recurring(raw["duration"], f"{param}[duration]")
            end = _add_interval(start, duration["interval"], duration["interval_count"])
        elif "end_date" in raw:
            end = _int(raw["end_date"], f"{param}[end_date]")
        elif last:  # the last phase runs one billing period of its first price
            recurring = self.prices[phase_items[0]["price"]]["recurring"]
            end = _add_interval(start, recurring["interval"], recurring["interval_count"])
        else:
            raise _invalid(
                "Every phase but the last needs duration or end_date.", f"{param}[end_date]"
            )
        if end <= start:
            raise _invalid("A phase must end after it starts.", f"{param}[end_date]")
        settings = {
            **defaults["invoice_settings"],
            **self._invoice_settings(raw.get("invoice_settings"), f"{param}[invoice_settings]"),
        }
        collection = raw.get("collection_method", defaults["collection_method"])
        if collection not in ("charge_automatically", "send_invoice"):
            raise _invalid(
                f"Invalid collection_method: {collection}", f"{param}[collection_method]"
            )
        if collection == "send_invoice" and settings.get("days_until_due") is None:
            raise _invalid(
                "days_until_due is required when collection_method is send_invoice.",
                f"{param}[invoice_settings][days_until_due]",
            )
        return {
            "add_invoice_items": add_invoice_items,
            "application_fee_percent": None,
            "billing_cycle_anchor": raw.get("billing_cycle_anchor"),
            "collection_method": collection,
            "currency": currencies.pop(),
            "default_payment_method": None,
            "default_tax_rates": [],
            "description": raw.get("description"),
            "discounts": [],
            "end_date": end,
            "invoice_settings": {
                "account_tax_ids": None,
                "custom_fields": settings.get("custom_fields"),
                "days_until_due": settings.get("days_until_due"),
                "issuer": {"type": "self"},
            },
            "items": phase_items,
            "metadata": _metadata(raw.get("metadata"), f"{param}[metadata]"),
            "on_behalf_of": None,
            "proration_behavior": raw.get("proration_behavior", "create_prorations"),
            "start_date": start,
            "transfer_data": None,
            "trial_end": None,
        }

    def _schedule_create(self, params: dict) -> dict:
        _only(
            params,
            {"customer", "start_date", "end_behavior", "phases", "metadata", "default_settings"},
        )
        customer = self._get(self.customers, _required(params, "customer"), "customer", "customer")
        start_param = params.get("start_date", "now")
        start = self.now() if start_param == "now" else _int(start_param, "start_date")
        end_behavior = params.get("end_behavior", "release")
        if end_behavior not in ("release", "cancel"):
            raise _invalid(f"Invalid end_behavior: {end_behavior}", "end_behavior")
        raw_defaults = params.get("default_settings") or {}
        if not isinstance(raw_defaults, dict):
            raise _invalid("Invalid hash", "default_settings")
        _only(
            raw_defaults,
            {"collection_method", "invoice_settings", "description"},
            "default_settings",
        )
        defaults = {
            "collection_method": raw_defaults.get("collection_method", "charge_automatically"),
            "invoice_settings": self._invoice_settings(
                raw_defaults.get("invoice_settings"), "default_settings[invoice_settings]"
            ),
        }
        raw_phases = _list_of(_required(params, "phases"), "phases")
        phases = []
        for n, raw in enumerate(raw_phases):
            begins = phases[-1]["end_date"] if phases else start
            phases.append(self._phase(raw, n, begins, n == len(raw_phases) - 1, defaults))
        if len({p["currency"] for p in phases}) > 1:
            raise _invalid("All phases must share one currency.", "phases")
        schedule = self._new(
            self.schedules,
            "sub_sched",
            {
                "object": "subscription_schedule",
                "application": None,
                "billing_mode": {"type": "classic"},
                "canceled_at": None,
                "completed_at": None,
                "created": self.now(),
                "current_phase": None,
                "customer": customer["id"],
                "default_settings": {
                    "application_fee_percent": None,
                    "automatic_tax": {"enabled": False, "liability": None},
                    "billing_cycle_anchor": "automatic",
                    "collection_method": defaults["collection_method"],
                    "default_payment_method": None,
                    "description": raw_defaults.get("description"),
                    "invoice_settings": {
                        "account_tax_ids": None,
                        "days_until_due": defaults["invoice_settings"].get("days_until_due"),
                        "issuer": {"type": "self"},
                    },
                    "on_behalf_of": None,
                    "transfer_data": None,
                },
                "end_behavior": end_behavior,
                "livemode": False,
                "metadata": _metadata(params.get("metadata")),
                "phases": phases,
                "released_at": None,
                "released_subscription": None,
                "status": "not_started",
                "subscription": None,
                "test_clock": None,
            },
        )
        self._emit("subscription_schedule.created", schedule)
        self._start_due_schedules()
        return schedule

    def _start_due_schedules(self) -> None:
        """Schedules whose start has come create their subscription and its first invoice."""
        for schedule in self.schedules.values():
            phase = schedule["phases"][0]
            if schedule["status"] != "not_started" or phase["start_date"] > self.now():
                continue
            subscription = self._subscription_create(schedule, phase)
            schedule.update(
                status="active",
                subscription=subscription["id"],
                current_phase={"start_date": phase["start_date"], "end_date": phase["end_date"]},
            )
            self._emit("subscription_schedule.updated", schedule, {"status": "not_started"})
            invoice = self._subscription_first_invoice(subscription, phase)
            subscription["latest_invoice"] = invoice["id"]

    def _subscription_create(self, schedule: dict, phase: dict) -> dict:
        subscription_id = self._id("sub")
        items = []
        for item in phase["items"]:
            recurring = self.prices[item["price"]]["recurring"]
            items.append(
                {
                    "id": self._id("si"),
                    "object": "subscription_item",
                    "billing_thresholds": None,
                    "created": self.now(),
                    "current_period_end": _add_interval(
                        phase["start_date"], recurring["interval"], recurring["interval_count"]
                    ),
                    "current_period_start": phase["start_date"],
                    "discounts": [],
                    "metadata": item["metadata"],
                    "price": copy.deepcopy(self.prices[item["price"]]),
                    "quantity": item["quantity"],
                    "subscription": subscription_id,
                    "tax_rates": [],
                }
            )
        subscription = self._new(
            self.subscriptions,
            "sub",
            {
                "id": subscription_id,
                "object": "subscription",
                "application": None,
                "billing_cycle_anchor": phase["start_date"],
                "cancel_at": None,
                "cancel_at_period_end": False,
                "canceled_at": None,
                "collection_method": phase["collection_method"],
                "created": self.now(),
                "currency": phase["currency"],
                "customer": schedule["customer"],
                "days_until_due": phase["invoice_settings"]["days_until_due"],
                "default_payment_method": None,
                "description": phase["description"],
                "discounts": [],
                "ended_at": None,
                "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
                "items": {
                    "object": "list",
                    "data": items,
                    "has_more": False,
                    "total_count": len(items),
                    "url": f"/v1/subscription_items?subscription={subscription_id}",
                },
                "latest_invoice": None,
                "livemode": False,
                "metadata": copy.deepcopy(schedule["metadata"]),
                "schedule": schedule["id"],
                "start_date": phase["start_date"],
                "status": "active",
                "test_clock": None,
                "trial_end": None,
                "trial_start": None,
            },
        )
        self._emit("customer.subscription.created", subscription)
        return subscription

    def _subscription_first_invoice(self, subscription: dict, phase: dict) -> dict:
        invoice = self._invoice_new(
            customer=self.customers[subscription["customer"]],
            currency=subscription["currency"],
            collection_method=subscription["collection_method"],
            days_until_due=subscription["days_until_due"],
            custom_fields=phase["invoice_settings"]["custom_fields"],
            metadata={},
            auto_advance=True,
            billing_reason="subscription_create",
            parent={
                "quote_details": None,
                "subscription_details": {
                    "metadata": copy.deepcopy(subscription["metadata"]),
                    "subscription": subscription["id"],
                },
                "type": "subscription_details",
            },
        )
        lines = self.invoice_lines[invoice["id"]]
        for item in subscription["items"]["data"]:
            lines.append(
                self._line(
                    invoice,
                    price=item["price"],
                    quantity=item["quantity"],
                    period=(item["current_period_start"], item["current_period_end"]),
                    parent={
                        "invoice_item_details": None,
                        "subscription_item_details": {
                            "invoice_item": None,
                            "proration": False,
                            "proration_details": {"credited_items": None},
                            "subscription": subscription["id"],
                            "subscription_item": item["id"],
                        },
                        "type": "subscription_item_details",
                    },
                    subscription=subscription["id"],
                    metadata=item["metadata"],
                )
            )
        for extra in phase["add_invoice_items"]:
            item = self._invoice_item_new(
                customer=subscription["customer"],
                price=self.prices[extra["price"]],
                quantity=extra["quantity"],
                metadata=extra["metadata"],
                period=(phase["start_date"], phase["end_date"]),
                subscription=subscription["id"],
            )
            self._attach(item, invoice)
        self._total(invoice)
        self._emit("invoice.created", self._invoice_json(invoice))
        return invoice

    def _schedule_list(self, params: dict) -> dict:
        _only(params, {"customer", "limit", "starting_after", "ending_before", "created"})
        found = list(self.schedules.values())
        if "customer" in params:
            found = [s for s in found if s["customer"] == params["customer"]]
        found = self._created_filter(found, params.get("created"))
        return self._page(found, params, "/v1/subscription_schedules")

    def _schedule_retrieve(self, params: dict, schedule_id: str) -> dict:
        return self._get(self.schedules, schedule_id, "subscription schedule")

    def _schedule_cancel(self, params: dict, schedule_id: str) -> dict:
        _only(params, {"invoice_now", "prorate"})
        schedule = self._get(self.schedules, schedule_id, "subscription schedule")
        if schedule["status"] not in ("not_started", "active"):
            raise _invalid(
                f"You cannot cancel a schedule that is {schedule['status']}.",
                code="status_transition_invalid",
            )
        previous = {"status": schedule["status"]}
        schedule.update(status="canceled", canceled_at=self.now(), current_phase=None)
        self._emit("subscription_schedule.canceled", schedule, previous)
        if schedule["subscription"]:
            subscription = self.subscriptions[schedule["subscription"]]
            subscription.update(status="canceled", canceled_at=self.now(), ended_at=self.now())
            self._emit("customer.subscription.deleted", subscription)
        return schedule

    def _subscription_retrieve(self, params: dict, subscription_id: str) -> dict:
        return self._get(self.subscriptions, subscription_id, "subscription")

    def _subscription_list(self, params: dict) -> dict:
        _only(params, {"customer", "status", "limit", "starting_after", "ending_before"})
        found = list(self.subscriptions.values())
        for field in ("customer", "status"):
            if field in params:
                found = [s for s in found if s[field] == params[field]]
        return self._page(found, params, "/v1/subscriptions")

    # --- invoice items ------------------------------------------------------------------

    def _invoice_item_new(
        self,
        *,
        customer: str,
        price: dict | None = None,
        quantity: int = 1,
        amount: int | None = None,
        currency: str | None = None,
        unit_amount_decimal: str | None = None,
        description: str | None = None,
        metadata: dict | None = None,
        period: tuple[int, int] | None = None,
        subscription: str | None = None,
    ) -> dict:
        if price is not None:
            currency, unit_amount_decimal = price["currency"], price["unit_amount_decimal"]
        elif amount is not None:
            unit_amount_decimal = _decimal_text(Decimal(amount) / quantity) if quantity else "0"
        amount = _minor_units(unit_amount_decimal, quantity) if amount is None else amount
        start, end = period or (self.now(), self.now())
        item = self._new(
            self.invoice_items,
            "ii",
            {
                "object": "invoiceitem",
                "amount": amount,
                "currency": currency,
                "customer": customer,
                "date": self.now(),
                "description": description,
                "discountable": True,
                "discounts": [],
                "invoice": None,
                "livemode": False,
                "metadata": metadata or {},
                "net_amount": amount,
                "parent": {
                    "subscription_details": {
                        "subscription": subscription,
                        "subscription_item": None,
                    },
                    "type": "subscription_details",
                }
                if subscription
                else None,
                "period": {"end": end, "start": start},
                "pricing": {
                    "price_details": {"price": price["id"], "product": price["product"]}
                    if price
                    else None,
                    "type": "price_details",
                    "unit_amount_decimal": unit_amount_decimal,
                },
                "proration": False,
                "quantity": quantity,
                "tax_rates": [],
                "test_clock": None,
            },
        )
        self._emit("invoiceitem.created", item)
        return item

    def _invoice_item_create(self, params: dict) -> dict:
        _only(
            params,
            {
                "customer",
                "amount",
                "currency",
                "description",
                "invoice",
                "metadata",
                "period",
                "price_data",
                "pricing",
                "quantity",
                "subscription",
                "unit_amount_decimal",
                "discountable",
                "tax_behavior",
            },
        )
        customer = self._get(self.customers, _required(params, "customer"), "customer", "customer")
        how = [k for k in ("amount", "pricing", "price_data", "unit_amount_decimal") if k in params]
        if len(how) != 1:
            raise _invalid(
                "Pass exactly one of amount, pricing[price], price_data, unit_amount_decimal.",
                "amount",
            )
        quantity = _int(params.get("quantity", 1), "quantity", minimum=0)
        price = None
        if "pricing" in params:
            if not isinstance(params["pricing"], dict):
                raise _invalid("Invalid hash", "pricing")
            _only(params["pricing"], {"price"}, "pricing")
            price = self._get(
                self.prices, params["pricing"].get("price"), "price", "pricing[price]"
            )
        elif "price_data" in params:
            data = params["price_data"]
            if not isinstance(data, dict):
                raise _invalid("Invalid hash", "price_data")
            _only(
                data,
                {"currency", "product", "unit_amount", "unit_amount_decimal", "tax_behavior"},
                "price_data",
            )
            price = self._price(data, prefix="price_data", listed=False)
        period = None
        if "period" in params:
            if not isinstance(params["period"], dict):
                raise _invalid("Invalid hash", "period")
            period = (
                _int(_required(params["period"], "start", "period"), "period[start]"),
                _int(_required(params["period"], "end", "period"), "period[end]"),
            )
        currency = price["currency"] if price else str(_required(params, "currency")).lower()
        invoice = None
        if params.get("invoice"):
            invoice = self._get(self.invoices, params["invoice"], "invoice", "invoice")
            if invoice["status"] != "draft" or invoice["customer"] != customer["id"]:
                raise _invalid(
                    "Invoice items can only be added to a draft invoice of the same customer.",
                    "invoice",
                    "invoice_not_editable",
                )
            if invoice["currency"] != currency:
                raise _invalid(
                    "The invoice item's currency differs from the invoice's.", "currency"
                )
        item = self._invoice_item_new(
            customer=customer["id"],
            price=price,
            quantity=quantity,
            amount=_int(params["amount"], "amount") if "amount" in params else None,
            currency=currency,
            unit_amount_decimal=_decimal_text(
                _decimal(params["unit_amount_decimal"], "unit_amount_decimal")
            )
            if "unit_amount_decimal" in params
            else None,
            description=params.get("description"),
            metadata=_metadata(params.get("metadata")),
            period=period,
            subscription=params.get("subscription"),
        )
        if invoice is not None:
            self._attach(item, invoice)
            self._total(invoice)
        return item

    def _invoice_item_retrieve(self, params: dict, item_id: str) -> dict:
        return self._get(self.invoice_items, item_id, "invoiceitem")

    def _invoice_item_list(self, params: dict) -> dict:
        _only(
            params, {"customer", "invoice", "pending", "limit", "starting_after", "ending_before"}
        )
        found = list(self.invoice_items.values())
        for field in ("customer", "invoice"):
            if field in params:
                found = [i for i in found if i[field] == params[field]]
        if "pending" in params:
            pending = _bool(params["pending"], "pending")
            found = [i for i in found if (i["invoice"] is None) == pending]
        return self._page(found, params, "/v1/invoiceitems")

    # --- invoices -----------------------------------------------------------------------

    def _invoice_new(
        self,
        *,
        customer: dict,
        currency: str,
        collection_method: str,
        days_until_due: int | None,
        custom_fields: list | None,
        metadata: dict,
        auto_advance: bool,
        billing_reason: str,
        parent: dict | None = None,
        description: str | None = None,
        footer: str | None = None,
        due_date: int | None = None,
    ) -> dict:
        now = self.now()
        invoice = self._new(
            self.invoices,
            "in",
            {
                "object": "invoice",
                "account_country": "US",
                "account_name": "Fake Stripe account",
                "account_tax_ids": None,
                "amount_due": 0,
                "amount_overpaid": 0,
                "amount_paid": 0,
                "amount_paid_off_stripe": 0,
                "amount_remaining": 0,
                "amount_shipping": 0,
                "application": None,
                "attempt_count": 0,
                "attempted": False,
                "auto_advance": auto_advance,
                "automatic_tax": {
                    "enabled": False,
                    "liability": None,
                    "provider": None,
                    "status": None,
                },
                "automatically_finalizes_at": now + AUTO_FINALIZE_SECONDS if auto_advance else None,
                "billing_reason": billing_reason,
                "collection_method": collection_method,
                "created": now,
                "currency": currency,
                "custom_fields": custom_fields,
                "customer": customer["id"],
                "customer_address": customer["address"],
                "customer_email": customer["email"],
                "customer_name": customer["name"],
                "customer_phone": customer["phone"],
                "customer_shipping": None,
                "customer_tax_exempt": customer["tax_exempt"],
                "customer_tax_ids": [],
                "default_payment_method": None,
                "default_source": None,
                "default_tax_rates": [],
                "description": description,
                "discounts": [],
                "due_date": due_date,
                "effective_at": None,
                "ending_balance": None,
                "footer": footer,
                "from_invoice": None,
                "hosted_invoice_url": None,
                "invoice_pdf": None,
                "issuer": {"type": "self"},
                "last_finalization_error": None,
                "latest_revision": None,
                "livemode": False,
                "metadata": metadata,
                "next_payment_attempt": None,
                "number": None,
                "on_behalf_of": None,
                "parent": parent,
                "payment_settings": {
                    "default_mandate": None,
                    "payment_method_options": None,
                    "payment_method_types": None,
                },
                "period_end": now,
                "period_start": now,
                "post_payment_credit_notes_amount": 0,
                "pre_payment_credit_notes_amount": 0,
                "receipt_number": None,
                "rendering": None,
                "shipping_cost": None,
                "shipping_details": None,
                "starting_balance": 0,
                "statement_descriptor": None,
                "status": "draft",
                "status_transitions": {
                    "finalized_at": None,
                    "marked_uncollectible_at": None,
                    "paid_at": None,
                    "voided_at": None,
                },
                "subtotal": 0,
                "subtotal_excluding_tax": 0,
                "test_clock": None,
                "total": 0,
                "total_discount_amounts": [],
                "total_excluding_tax": 0,
                "total_pretax_credit_amounts": [],
                "total_taxes": [],
                "webhooks_delivered_at": None,
                "_days_until_due": days_until_due,
            },
        )
        self.invoice_lines[invoice["id"]] = []
        return invoice

    def _line(
        self,
        invoice: dict,
        *,
        price: dict | None,
        quantity: int,
        period: tuple[int, int],
        parent: dict,
        subscription: str | None,
        metadata: dict,
        amount: int | None = None,
        unit_amount_decimal: str | None = None,
        description: str | None = None,
    ) -> dict:
        unit = price["unit_amount_decimal"] if price else unit_amount_decimal
        amount = _minor_units(unit, quantity) if amount is None else amount
        return {
            "id": self._id("il"),
            "object": "line_item",
            "amount": amount,
            "currency": invoice["currency"],
            "description": description,
            "discount_amounts": [],
            "discountable": True,
            "discounts": [],
            "invoice": invoice["id"],
            "livemode": False,
            "metadata": copy.deepcopy(metadata),
            "parent": parent,
            "period": {"end": period[1], "start": period[0]},
            "pretax_credit_amounts": [],
            "pricing": {
                "price_details": {"price": price["id"], "product": price["product"]}
                if price
                else None,
                "type": "price_details",
                "unit_amount_decimal": unit,
            },
            "quantity": quantity,
            "subscription": subscription,
            "subtotal": amount,
            "taxes": [],
        }

    def _attach(self, item: dict, invoice: dict) -> None:
        """A pending invoice item becomes a line of this draft invoice."""
        item["invoice"] = invoice["id"]
        subscription = (item["parent"] or {}).get("subscription_details", {}) or {}
        price_details = item["pricing"]["price_details"]
        self.invoice_lines[invoice["id"]].append(
            self._line(
                invoice,
                price=self.prices[price_details["price"]] if price_details else None,
                quantity=item["quantity"],
                amount=item["amount"],
                unit_amount_decimal=item["pricing"]["unit_amount_decimal"],
                period=(item["period"]["start"], item["period"]["end"]),
                parent={
                    "invoice_item_details": {
                        "invoice_item": item["id"],
                        "proration": False,
                        "proration_details": {"credited_items": None},
                        "subscription": subscription.get("subscription"),
                    },
                    "subscription_item_details": None,
                    "type": "invoice_item_details",
                },
                subscription=subscription.get("subscription"),
                metadata=item["metadata"],
                description=item["description"],
            )
        )

    def _total(self, invoice: dict) -> None:
        total = sum(line["amount"] for line in self.invoice_lines[invoice["id"]])
        invoice.update(
            subtotal=total,
            subtotal_excluding_tax=total,
            total=total,
            total_excluding_tax=total,
            amount_due=total,
            amount_remaining=total - invoice["amount_paid"],
        )

    def _invoice_json(self, invoice: dict) -> dict:
        """The invoice as Stripe answers it: at most 10 lines, `has_more` for the rest."""
        lines = self.invoice_lines[invoice["id"]]
        answer = {k: v for k, v in invoice.items() if not k.startswith("_")}
        answer["lines"] = {
            "object": "list",
            "data": copy.deepcopy(lines[:EMBEDDED_LINES]),
            "has_more": len(lines) > EMBEDDED_LINES,
            "total_count": len(lines),
            "url": f"/v1/invoices/{invoice['id']}/lines",
        }
        return answer

    def _invoice_create(self, params: dict) -> dict:
        _only(
            params,
            {
                "customer",
                "auto_advance",
                "collection_method",
                "currency",
                "custom_fields",
                "days_until_due",
                "description",
                "due_date",
                "footer",
                "metadata",
                "pending_invoice_items_behavior",
            },
        )
        customer = self._get(self.customers, _required(params, "customer"), "customer", "customer")
        behavior = params.get("pending_invoice_items_behavior", "exclude")
        if behavior not in ("include", "exclude"):
            raise _invalid(
                f"Invalid pending_invoice_items_behavior: {behavior}",
                "pending_invoice_items_behavior",
            )
        collection = params.get("collection_method", "charge_automatically")
        if collection not in ("charge_automatically", "send_invoice"):
            raise _invalid(f"Invalid collection_method: {collection}", "collection_method")
        days = params.get("days_until_due")
        days = None if days is None else _int(days, "days_until_due", minimum=0)
        due_date = params.get("due_date")
        due_date = None if due_date is None else _int(due_date, "due_date")
        if collection == "send_invoice" and days is None and due_date is None:
            raise _invalid(
                "Invoices with collection_method send_invoice need days_until_due or due_date.",
                "days_until_due",
            )
        if collection != "send_invoice" and (days is not None or due_date is not None):
            raise _invalid(
                "days_until_due and due_date are only for send_invoice invoices.",
                "days_until_due",
            )
        pending = [
            i
            for i in self.invoice_items.values()
            if i["customer"] == customer["id"] and i["invoice"] is None
        ]
        currency = str(
            params.get("currency")
            or (pending[0]["currency"] if pending and behavior == "include" else None)
            or customer["currency"]
            or "usd"
        ).lower()
        invoice = self._invoice_new(
            customer=customer,
            currency=currency,
            collection_method=collection,
            days_until_due=days,
            custom_fields=self._custom_fields(params.get("custom_fields"), "custom_fields"),
            metadata=_metadata(params.get("metadata")),
            auto_advance=_bool(params.get("auto_advance", "false"), "auto_advance"),
            billing_reason="manual",
            description=params.get("description"),
            footer=params.get("footer"),
            due_date=due_date,
        )
        if behavior == "include":
            for item in sorted(pending, key=lambda i: i["id"]):
                if item["currency"] == currency:
                    self._attach(item, invoice)
        self._total(invoice)
        answer = self._invoice_json(invoice)
        self._emit("invoice.created", answer)
        return answer

    def _invoice_retrieve(self, params: dict, invoice_id: str) -> dict:
        return self._invoice_json(self._get(self.invoices, invoice_id, "invoice"))

    def _invoice_lines_list(self, params: dict, invoice_id: str) -> dict:
        _only(params, {"limit", "starting_after", "ending_before"})
        self._get(self.invoices, invoice_id, "invoice")
        # Lines keep invoice order (not newest first): number them for the pager.
        lines = [{**line, "created": -n} for n, line in enumerate(self.invoice_lines[invoice_id])]
        page = self._page(lines, params, f"/v1/invoices/{invoice_id}/lines")
        for line in page["data"]:
            del line["created"]
        return page

    def _invoice_list(self, params: dict) -> dict:
        _only(
            params,
            {"customer", "status", "subscription", "limit", "starting_after", "ending_before"}
            | {"created", "collection_method"},
        )
        found = list(self.invoices.values())
        for field in ("customer", "status", "collection_method"):
            if field in params:
                found = [i for i in found if i[field] == params[field]]
        if "subscription" in params:
            found = [
                i
                for i in found
                if ((i["parent"] or {}).get("subscription_details") or {}).get("subscription")
                == params["subscription"]
            ]
        found = self._created_filter(found, params.get("created"))
        page = self._page(found, params, "/v1/invoices")
        page["data"] = [self._invoice_json(self.invoices[i["id"]]) for i in page["data"]]
        return page

    def _transition(self, invoice: dict, allowed: tuple[str, ...], action: str) -> str:
        if invoice["status"] not in allowed:
            raise _invalid(
                f"You can only {action} an invoice that is {' or '.join(allowed)}; "
                f"{invoice['id']} is {invoice['status']}.",
                code="status_transition_invalid",
            )
        return invoice["status"]

    def _finalize(self, invoice: dict) -> None:
        now = self.now()
        customer = self.customers[invoice["customer"]]
        invoice["number"] = f"{customer['invoice_prefix']}-{customer['next_invoice_sequence']:04d}"
        customer["next_invoice_sequence"] += 1
        invoice["status"] = "open"
        invoice["status_transitions"]["finalized_at"] = now
        invoice["effective_at"] = now
        invoice["automatically_finalizes_at"] = None
        invoice["hosted_invoice_url"] = f"{self.url}/i/{invoice['id']}"
        invoice["invoice_pdf"] = f"{self.url}/i/{invoice['id']}/pdf"
        if invoice["collection_method"] == "send_invoice" and invoice["due_date"] is None:
            invoice["due_date"] = now + 86400 * (invoice["_days_until_due"] or 0)
        self._total(invoice)
        self._emit("invoice.finalized", self._invoice_json(invoice))
        if invoice["total"] == 0:  # nothing to collect: Stripe marks it paid at once
            self._paid(invoice, out_of_band=False)

    def _invoice_finalize(self, params: dict, invoice_id: str) -> dict:
        _only(params, {"auto_advance"})
        invoice = self._get(self.invoices, invoice_id, "invoice")
        self._transition(invoice, ("draft",), "finalize")
        if "auto_advance" in params:
            invoice["auto_advance"] = _bool(params["auto_advance"], "auto_advance")
        self._finalize(invoice)
        return self._invoice_json(invoice)

    def _invoice_send(self, params: dict, invoice_id: str) -> dict:
        _only(params, set())
        invoice = self._get(self.invoices, invoice_id, "invoice")
        self._transition(invoice, ("open",), "send")
        if invoice["collection_method"] != "send_invoice":
            raise _invalid(
                "Only invoices with collection_method send_invoice can be sent.",
                code="status_transition_invalid",
            )
        invoice["webhooks_delivered_at"] = self.now()
        self._emit("invoice.sent", self._invoice_json(invoice))
        return self._invoice_json(invoice)

    def _paid(self, invoice: dict, *, out_of_band: bool) -> None:
        now = self.now()
        amount = invoice["amount_remaining"]
        payment = {"type": "payment_intent", "payment_intent": self._id("pi")}
        if not out_of_band:  # paid through Stripe: the money moved as a charge
            self._charge_new(invoice, payment["payment_intent"], amount)
        else:
            payment = {"type": "payment_record", "payment_record": self._id("pr")}
            invoice["amount_paid_off_stripe"] += amount
        invoice_payment = self._new(
            self.invoice_payments,
            "inpay",
            {
                "object": "invoice_payment",
                "amount_paid": amount,
                "amount_requested": amount,
                "created": now,
                "currency": invoice["currency"],
                "invoice": invoice["id"],
                "is_default": True,
                "livemode": False,
                "payment": payment,
                "status": "paid",
                "status_transitions": {"canceled_at": None, "paid_at": now},
            },
        )
        invoice.update(
            status="paid",
            amount_paid=invoice["amount_paid"] + amount,
            amount_remaining=0,
            attempted=True,
        )
        invoice["status_transitions"]["paid_at"] = now
        self._emit("invoice_payment.paid", invoice_payment)
        self._emit("invoice.paid", self._invoice_json(invoice))
        self._emit("invoice.payment_succeeded", self._invoice_json(invoice))

    def _invoice_pay(self, params: dict, invoice_id: str) -> dict:
        _only(params, {"paid_out_of_band", "payment_method", "source", "forgive", "off_session"})
        invoice = self._get(self.invoices, invoice_id, "invoice")
        self._transition(invoice, ("open", "uncollectible"), "pay")
        out_of_band = _bool(params.get("paid_out_of_band", "false"), "paid_out_of_band")
        if not out_of_band and self._declines:
            code = self._declines.pop(0)
            invoice.update(attempt_count=invoice["attempt_count"] + 1, attempted=True)
            self._emit("invoice.payment_failed", self._invoice_json(invoice))
            # The attempt ran: its answer is kept for a retry with the same key.
            raise _error(402, "Your card was declined.", code=code, type="card_error", kept=True)
        self._paid(invoice, out_of_band=out_of_band)
        return self._invoice_json(invoice)

    def _invoice_void(self, params: dict, invoice_id: str) -> dict:
        _only(params, set())
        invoice = self._get(self.invoices, invoice_id, "invoice")
        self._transition(invoice, ("open", "uncollectible"), "void")
        invoice["status"] = "void"
        invoice["status_transitions"]["voided_at"] = self.now()
        self._emit("invoice.voided", self._invoice_json(invoice))
        return self._invoice_json(invoice)

    def _invoice_mark_uncollectible(self, params: dict, invoice_id: str) -> dict:
        _only(params, set())
        invoice = self._get(self.invoices, invoice_id, "invoice")
        self._transition(invoice, ("open",), "mark uncollectible")
        invoice["status"] = "uncollectible"
        invoice["status_transitions"]["marked_uncollectible_at"] = self.now()
        self._emit("invoice.marked_uncollectible", self._invoice_json(invoice))
        return self._invoice_json(invoice)

    def _tick(self) -> None:
        self._start_due_schedules()
        for invoice in list(self.invoices.values()):
            due = invoice["automatically_finalizes_at"]
            if invoice["status"] == "draft" and due is not None and due <= self.now():
                self._finalize(invoice)
        self._kept = {
            key: kept
            for key, kept in self._kept.items()
            if kept.at + IDEMPOTENCY_WINDOW_SECONDS > self.now()
        }

    # --- invoice payments and events ----------------------------------------------------

    def _invoice_payment_list(self, params: dict) -> dict:
        _only(params, {"invoice", "payment", "status", "limit", "starting_after", "ending_before"})
        found = list(self.invoice_payments.values())
        for field in ("invoice", "status"):
            if field in params:
                found = [p for p in found if p[field] == params[field]]
        if "payment" in params:  # payment[type]=payment_intent&payment[payment_intent]=pi_...
            wanted = params["payment"]
            if not isinstance(wanted, dict) or "type" not in wanted:
                raise _invalid("payment needs a type.", "payment[type]")
            found = [
                p
                for p in found
                if all(p["payment"].get(key) == value for key, value in wanted.items())
            ]
        return self._page(found, params, "/v1/invoice_payments")

    # --- charges, refunds and disputes --------------------------------------------------

    def _charge_new(self, invoice: dict, payment_intent: str, amount: int) -> dict:
        charge = self._new(
            self.charges,
            "ch",
            {
                "object": "charge",
                "amount": amount,
                "amount_captured": amount,
                "amount_refunded": 0,
                "captured": True,
                "created": self.now(),
                "currency": invoice["currency"],
                "customer": invoice["customer"],
                "disputed": False,
                "livemode": False,
                "metadata": {},
                "paid": True,
                "payment_intent": payment_intent,
                "refunded": False,
                "status": "succeeded",
            },
        )
        self._emit("charge.succeeded", charge)
        return charge

    def _charge_retrieve(self, params: dict, charge_id: str) -> dict:
        return self._get(self.charges, charge_id, "charge")

    def _refund_create(self, params: dict) -> dict:
        _only(params, {"charge", "payment_intent", "amount", "reason", "metadata"})
        if "charge" in params:
            charge = self._get(self.charges, params["charge"], "charge", "charge")
        else:
            intent = _required(params, "payment_intent")
            charge = next((c for c in self.charges.values() if c["payment_intent"] == intent), None)
            if charge is None:
                raise _error(404, f"No such payment_intent: '{intent}'", code="resource_missing")
        left = charge["amount"] - charge["amount_refunded"]
        amount = _int(params.get("amount", left), "amount", minimum=1)
        if amount > left:
            raise _invalid(
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
                "amount",
                "amount_too_large",
            )
        refund = self._new(
            self.refunds,
            "re",
            {
                "object": "refund",
                "amount": amount,
                "charge": charge["id"],
                "created": self.now(),
                "currency": charge["currency"],
                "metadata": _metadata(params.get("metadata")),
                "payment_intent": charge["payment_intent"],
                "reason": params.get("reason"),
                "status": "succeeded",
            },
        )
        previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        self._emit("refund.created", refund)
        self._emit("charge.refunded", charge, previous)
        return refund

    def _refund_list(self, params: dict) -> dict:
        _only(params, {"charge", "payment_intent", "limit", "starting_after", "ending_before"})
        found = list(self.refunds.values())
        for field in ("charge", "payment_intent"):
            if field in params:
                found = [r for r in found if r[field] == params[field]]
        return self._page(found, params, "/v1/refunds")

    def _refund_retrieve(self, params: dict, refund_id: str) -> dict:
        return self._get(self.refunds, refund_id, "refund")

    def _dispute_retrieve(self, params: dict, dispute_id: str) -> dict:
        return self._get(self.disputes, dispute_id, "dispute")

    def _invoice_payment_retrieve(self, params: dict, payment_id: str) -> dict:
        return self._get(self.invoice_payments, payment_id, "invoice payment")

    def _event_list(self, params: dict) -> dict:
        _only(
            params,
            {"created", "type", "types", "limit", "starting_after", "ending_before"}
            | {"delivery_success"},
        )
        found = self._created_filter(list(self.events), params.get("created"))
        if "type" in params:  # one type, or a prefix with a wildcard: "invoice.*"
            pattern = re.escape(params["type"]).replace(r"\*", ".*")
            found = [e for e in found if re.fullmatch(pattern, e["type"])]
        if "types" in params:
            types = _list_of(params["types"], "types")
            if len(types) > 20:
                raise _invalid("types takes at most 20 event types.", "types")
            found = [e for e in found if e["type"] in types]
        return self._page(found, params, "/v1/events")

    def _event_retrieve(self, params: dict, event_id: str) -> dict:
        return self._get({e["id"]: e for e in self.events}, event_id, "event")

    # --- HTTP ---------------------------------------------------------------------------

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's requests session expects
            # Headers and body are two writes: with Nagle's algorithm on, each answer waits
            # for the client's delayed ACK (40 ms a call).
            disable_nagle_algorithm = True

            def log_message(self, *args):  # keep test output clean
                pass

            def _serve(self, method: str) -> None:
                began = time.thread_time()
                try:
                    self._answer(method)
                finally:
                    with fake._lock:
                        fake.served += 1
                        fake.served_cpu_seconds += time.thread_time() - began

            def _answer(self, method: str) -> None:
                url = urlparse(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with fake._lock:
                    status, data, headers = fake._respond(
                        method, url.path, url.query, body, self.headers
                    )
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and left

            def do_GET(self):
                self._serve("GET")

            def do_POST(self):
                self._serve("POST")

            def do_DELETE(self):
                self._serve("DELETE")

        return Handler


@contextmanager
def fake_stripe(settings, *, webhook_secrets: list[str] | None = None) -> Iterator[FakeStripe]:
    """A started fake with the Django settings pointing at it (billing backend, key, API base,
    webhook secrets); stopped afterwards (pytest-django's `settings` puts the rest back)."""
    fake = FakeStripe(webhook_secrets=webhook_secrets).start()
    settings.BILLING_BACKEND = "stripe"
    settings.STRIPE_API_KEY = fake.api_key
    settings.STRIPE_API_BASE = fake.url
    settings.STRIPE_API_VERSION = API_VERSION
    settings.STRIPE_WEBHOOK_SECRET = list(fake.webhook_secrets)
    settings.STRIPE_TIMEOUT_SECONDS = 5.0
    try:
        yield fake
    finally:
        fake.stop()
