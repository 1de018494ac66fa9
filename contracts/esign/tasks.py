"""Thin Celery wrappers: take ids, act as the pipeline's service user, call one service."""

from celery import shared_task

from contracts.esign import notifications, services
from contracts.esign.backends import backend_for, docusign
from contracts.esign.backends.local import signer_email_send
from contracts.esign.models import SignatureRequest, Signer
from dealdesk.services import pipeline_user


@shared_task(name="esign.signature_send")
def signature_send(deal_id: int) -> int | None:
    request = services.signature_send(deal_id=deal_id, actor=pipeline_user())
    return request.pk if request else None


@shared_task(name="esign.signature_deliver")
def signature_deliver(request_id: int) -> str:
    return services.signature_deliver(request_id=request_id, actor=pipeline_user()).state


@shared_task(name="esign.signer_email")
def signer_email(signer_id: int, kind: str = "invitation") -> int:
    return signer_email_send(signer_id=signer_id, kind=kind)


@shared_task(name="esign.signature_advance")
def signature_advance(signer_id: int) -> str:
    request_id = Signer.objects.values_list("request_id", flat=True).get(pk=signer_id)
    return services.signature_advance(request_id=request_id, actor=pipeline_user()).state


@shared_task(name="esign.signature_vendor_void")
def signature_vendor_void(request_id: int) -> None:
    request = SignatureRequest.objects.get(pk=request_id)
    backend_for(request).void(request)


@shared_task(name="esign.signature_void_for_cancelled_deal")
def signature_void_for_cancelled_deal(deal_id: int) -> int | None:
    request = services.signature_void_for_cancelled_deal(deal_id=deal_id, actor=pipeline_user())
    return request.pk if request else None


@shared_task(name="esign.signature_blocked_notify")
def signature_blocked_notify(request_id: int) -> int:
    return notifications.signature_blocked_notify(request_id=request_id)


@shared_task(name="esign.paper_notify_legal")
def paper_notify_legal(request_id: int) -> int:
    return notifications.paper_notify_legal(request_id=request_id)


@shared_task(name="esign.signature_completed_notify")
def signature_completed_notify(request_id: int) -> int:
    return notifications.signature_completed_notify(request_id=request_id)


@shared_task(name="esign.sweep")
def sweep() -> dict[str, int]:
    return services.signatures_sweep()


@shared_task(name="esign.docusign_event_handle")
def docusign_event_handle(event_pk: int) -> None:
    docusign.docusign_event_handle(event_pk=event_pk, actor=pipeline_user())


@shared_task(name="esign.docusign_poll")
def docusign_poll(request_id: int) -> str:
    return docusign.docusign_sync(request_id=request_id, actor=pipeline_user()).state
