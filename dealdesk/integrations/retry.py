"""One retry policy for every vendor call: exponential backoff with jitter, capped, and a
vendor's Retry-After honoured.

`backoff_delay` is the policy; the outbox uses it to schedule the next attempt of a step,
and `with_retries` uses it for short in-process retries (a CRM page fetch in a sync run).
"""

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from dealdesk.integrations.errors import IntegrationError

T = TypeVar("T")


def retry_after_seconds(value: str | None) -> float | None:
    """A vendor's Retry-After header as seconds: a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max((parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds(), 0.0)
    except (TypeError, ValueError):
        return None


def backoff_delay(
    attempt: int, *, base: float, cap: float, retry_after: float | None = None
) -> float:
    """Seconds to wait before try number `attempt + 1` (attempt counts from 1).

    base × 2^(attempt-1), capped, with ±25 % jitter so that many clients hitting one outage
    do not come back in step. A vendor's Retry-After wins when it asks for longer.
    """
    exponential = min(cap, base * 2 ** max(attempt - 1, 0))
    delay = exponential * random.uniform(0.75, 1.25)  # noqa: S311 (jitter, not security)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay


def with_retries(
    call: Callable[[], T],
    *,
    retries: int,
    backoff_seconds: float,
    cap_seconds: float = 60.0,
    on_retry: Callable[[IntegrationError, int], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `call`, retrying a retryable IntegrationError up to `retries` times."""
    for attempt in range(1, retries + 2):
        try:
            return call()
        except IntegrationError as exc:
            if not exc.retryable or attempt > retries:
                raise
            if on_retry is not None:
                on_retry(exc, attempt)
            sleep(
                backoff_delay(
                    attempt, base=backoff_seconds, cap=cap_seconds, retry_after=exc.retry_after
                )
            )
    raise AssertionError("unreachable")
