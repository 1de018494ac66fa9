"""The log of every outbound vendor call: `with vendor_call("openai", "extract_clauses"):`."""

import time
from collections.abc import Iterator
from contextlib import contextmanager

from dealdesk.integrations.delivery import is_retryable
from dealdesk.integrations.models import IntegrationCall

S = IntegrationCall.Status


@contextmanager
def vendor_call(vendor: str, operation: str, *, idempotency_key: str = "") -> Iterator[None]:
    """Time the block and log it as one call; its exception (if any) goes on unchanged."""
    started = time.monotonic()
    status, error = S.SUCCEEDED, ""
    try:
        yield
    except Exception as exc:
        status = S.FAILED_RETRYABLE if is_retryable(exc) else S.FAILED
        error = f"{type(exc).__name__}: {exc}"[:2000]
        raise
    finally:
        # Vendor calls are made outside our transactions (never inside a transition), so
        # this row commits on its own, whatever the caller does next.
        IntegrationCall.objects.create(
            vendor=vendor,
            operation=operation,
            idempotency_key=idempotency_key[:255],
            status=status,
            duration_ms=int((time.monotonic() - started) * 1000),
            error=error,
        )
