"""The harmless pipeline step bench/bench_faults.py sends through the real outbox.

Each step leaves one IntegrationCall row keyed by its number, and does nothing when that row
exists (as every real step checks the state it expects): a step run twice is then visible as
a redelivery (the message's attempts) but never as a second row.
"""

import time

from dealdesk.integrations.models import IntegrationCall

VENDOR, OPERATION = "bench", "faults.step"
# Long enough that a third of the run is a moment one can kill a worker in.
STEP_SECONDS = 0.01


def step_key(number: int) -> str:
    return f"faults-step-{number}"


def record_step(number: int) -> None:
    time.sleep(STEP_SECONDS)
    key = step_key(number)
    if IntegrationCall.objects.filter(vendor=VENDOR, idempotency_key=key).exists():
        return
    IntegrationCall.objects.create(
        vendor=VENDOR,
        operation=OPERATION,
        idempotency_key=key,
        status=IntegrationCall.Status.SUCCEEDED,
        duration_ms=round(STEP_SECONDS * 1000),
    )
