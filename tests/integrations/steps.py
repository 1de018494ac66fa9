"""Steps of our own for testing the delivery mechanism: each records what it was asked to
do and what took effect, and fails as the test plans."""

from celery import shared_task

from dealdesk.integrations.errors import IntegrationError

CALLS: list[str] = []  # every run
EFFECTS: list[str] = []  # every run that took effect
FAILURES: dict[str, int] = {}  # key → retryable failures still to come


def reset() -> None:
    CALLS.clear()
    EFFECTS.clear()
    FAILURES.clear()


def _run(key: str, *, retryable: bool) -> None:
    CALLS.append(key)
    if FAILURES.get(key, 0) > 0:
        FAILURES[key] -= 1
        status = "503 Service Unavailable" if retryable else "400: customer id unknown"
        raise IntegrationError(f"vendor answered {status}", retryable=retryable)
    if key not in EFFECTS:  # idempotent, as every step is
        EFFECTS.append(key)


@shared_task(name="tests.flaky_step")
def flaky_step(key: str) -> None:
    """Fails as planned with an error worth retrying (a vendor's 503)."""
    _run(key, retryable=True)


@shared_task(name="tests.rejected_step")
def rejected_step(key: str) -> None:
    """Fails as planned with an error no retry mends (a vendor's 400)."""
    _run(key, retryable=False)
