"""Our one way into Stripe (official `stripe` SDK, `StripeClient`, API version pinned in
settings): `stripe_client()` builds the client, `stripe_call()` runs one call, logs it as an
`IntegrationCall` and turns every SDK failure into an `IntegrationError`.

The SDK retries nothing (`max_network_retries=0`): the integrations layer retries, with
backoff and Retry-After, under the same idempotency key, so a retry Stripe has already
executed replays its first answer instead of creating a second object.
"""

import functools
import hashlib
from collections.abc import Callable
from typing import TypeVar

import requests
import stripe
from django.conf import settings

from dealdesk.integrations.calls import vendor_call
from dealdesk.integrations.errors import IntegrationError
from dealdesk.integrations.retry import retry_after_seconds

T = TypeVar("T")

VENDOR = "stripe"
IDEMPOTENCY_KEY_LIMIT = 255  # Stripe refuses longer keys
KEY_SEPARATOR = ":"
# A hashed key keeps this much of its readable start, so the call log still says what it was.
HASHED_KEY_PREFIX = 180


def stripe_client() -> stripe.StripeClient:
    """The client for the configured account, API base and pinned API version."""
    if not settings.STRIPE_API_KEY:
        raise IntegrationError("STRIPE_API_KEY is not set", code="not_configured")
    return _client(
        settings.STRIPE_API_KEY,
        settings.STRIPE_API_BASE,
        settings.STRIPE_API_VERSION,
        settings.STRIPE_TIMEOUT_SECONDS,
    )


@functools.lru_cache(maxsize=8)
def _client(api_key: str, api_base: str, api_version: str, timeout: float) -> stripe.StripeClient:
    # Cached per configuration: the client keeps one pooled HTTP session, which a client
    # built per call would open and leak every time.
    return stripe.StripeClient(
        api_key,
        stripe_version=api_version,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=0,
        http_client=stripe.RequestsClient(timeout=timeout, session=_session(api_base)),
    )


def _session(api_base: str) -> requests.Session:
    """A session that reads the proxy settings (HTTPS_PROXY, NO_PROXY...) once, here.

    By default requests re-reads them and ~/.netrc on every call: a measurable share of a
    webhook batch's Stripe calls. `trust_env` off changes nothing else: the SDK passes its
    own CA bundle and authenticates with its key header."""
    session = requests.Session()
    session.trust_env = False
    session.proxies = requests.utils.get_environ_proxies(api_base or stripe.DEFAULT_API_BASE)
    return session


def idempotency_key(*parts: object) -> str:
    """One business operation's key from our ids ("deal:42:customer"), the same on every retry.

    Longer than Stripe's 255 characters, it keeps a readable start and a SHA-256 of the
    whole, so two long keys differing only at the end still differ.
    """
    texts = [str(part) for part in parts]
    if not texts or any(not text or KEY_SEPARATOR in text for text in texts):
        # An empty part or one holding the separator would let two operations share a key.
        raise ValueError(f"idempotency key parts must be non-empty, without {KEY_SEPARATOR!r}")
    key = KEY_SEPARATOR.join(texts)
    if len(key) <= IDEMPOTENCY_KEY_LIMIT:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"{key[:HASHED_KEY_PREFIX]}{KEY_SEPARATOR}{digest}"


def stripe_call(operation: str, call: Callable[[], T], *, idempotency_key: str = "") -> T:
    """Run one SDK call, logged as `operation`; any Stripe failure as an IntegrationError.

    `idempotency_key` is logged with the call; the caller passes the same key to the SDK
    (`options={"idempotency_key": key}`) so a retry is recognised by Stripe.
    """
    with vendor_call(VENDOR, operation, idempotency_key=idempotency_key):
        try:
            return call()
        except stripe.StripeError as exc:
            raise stripe_error(exc) from exc


def stripe_error(exc: stripe.StripeError) -> IntegrationError:
    """A Stripe SDK failure as our IntegrationError, with Stripe's verdict on retrying."""
    status = exc.http_status
    headers = {name.lower(): value for name, value in (exc.headers or {}).items()}
    body = exc.json_body if isinstance(exc.json_body, dict) else {}
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    # RateLimitError and APIError are built without `code`; the error body still has it.
    code = exc.code or error.get("code") or error.get("type")
    code = str(code or ("network" if isinstance(exc, stripe.APIConnectionError) else ""))
    should_retry = headers.get("stripe-should-retry")
    if isinstance(exc, stripe.APIConnectionError):
        # No answer: a refused connection or a timeout may pass; a TLS failure will not.
        retryable = exc.should_retry
    elif should_retry in ("true", "false"):
        retryable = should_retry == "true"  # Stripe's own word wins over the status
    elif status is None:
        retryable = False  # raised by the SDK itself (no API key): configuration
    else:
        # 409: a lock timeout or the same idempotency key still in flight; both pass.
        retryable = status in (409, 429) or status >= 500 or code == "rate_limit"
    answered = " ".join(filter(None, [f"Stripe answered {status or 'nothing'}", code]))
    return IntegrationError(
        f"{answered}: {exc.user_message or type(exc).__name__}"[:1000],
        retryable=retryable,
        code=code,
        retry_after=retry_after_seconds(headers.get("retry-after")) if retryable else None,
    )
