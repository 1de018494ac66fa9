"""A webhook vendor whose handler records the request id it runs under."""

from celery import shared_task

from dealdesk.ops.request_id import current_request_id
from tests.integrations import webhook_vendor

SEEN: list[str | None] = []


class RecordingVendor(webhook_vendor.TestVendor):
    handler = "tests.ops.recording_vendor.record_request_id"


@shared_task(name="tests.ops.record_request_id")
def record_request_id(event_pk: int) -> None:
    SEEN.append(current_request_id.get())
