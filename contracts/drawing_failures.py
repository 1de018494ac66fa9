"""A contract that cannot be drawn: people read that it failed, ops read why.

The cause of a failed render names fonts, Debian packages and template syntax: nothing a
seller or a Legal reviewer can act on. It goes to the log and, for a pipeline draft, to a failed
call in the admin (Integrations → Integration calls, vendor "documents", searchable by the
deal's CRM id); the deal page and the review page say `rendering.DRAWING_FAILED`.
"""

import logging

from contracts.rendering import RenderingError, UnprintableText
from dealdesk.integrations.models import IntegrationCall

log = logging.getLogger(__name__)


def drawing_failure_logged(error: RenderingError, *, deal_crm_id: str) -> str:
    """Logs why the deal's contract could not be drawn; returns what people are told."""
    if isinstance(error, UnprintableText):  # the deal's text, which its people correct
        log.warning("contract for deal %s not drawn: %s", deal_crm_id, error)
    else:
        # A library failing underneath (WeasyPrint, docxtpl) needs its traceback; fonts do not.
        log.error(
            "contract for deal %s could not be drawn: %s",
            deal_crm_id,
            error,
            exc_info=error if error.__cause__ else None,
        )
    return error.public_reason


def drawing_failure_recorded(error: RenderingError, *, deal_crm_id: str) -> str:
    """`drawing_failure_logged`, and a failure ops must fix kept where an admin finds it.

    Call it outside any transaction that will roll back: the row would go with it.
    """
    reason = drawing_failure_logged(error, deal_crm_id=deal_crm_id)
    if not isinstance(error, UnprintableText):
        IntegrationCall.objects.create(
            vendor="documents",
            operation="draw_contract",
            idempotency_key=deal_crm_id,
            status=IntegrationCall.Status.FAILED,
            duration_ms=0,
            error=f"{type(error).__name__}: {error}"[:2000],
        )
    return reason
