"""The request id: one per web request, in every log line written on its behalf and carried
into the Celery tasks it enqueues (dealdesk/ops/celery_signals.py), and theirs in turn."""

import re
import uuid
from contextvars import ContextVar

HEADER = "X-Request-ID"
# The Celery message header that carries it to the worker.
TASK_HEADER = "dealdesk_request_id"
# A proxy's or load balancer's id is kept when it looks like one; anything else (too long,
# spaces, quotes or control characters that could forge a log line) is replaced by our own.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:=+/-]{1,128}")

current_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def request_id_from(header_value: str | None) -> str:
    if header_value and SANE_REQUEST_ID.fullmatch(header_value):
        return header_value
    return uuid.uuid4().hex
