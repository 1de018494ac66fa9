"""Thin Celery wrappers: take ids, act as the pipeline's service user, call one service."""

from celery import shared_task

from approvals import services
from approvals.models import ApprovalRequest
from contracts.models import ContractVersion
from dealdesk.services import pipeline_user


@shared_task(name="approvals.evaluate_deal")
def evaluate_deal(deal_id: int) -> str:
    return services.approvals_evaluate(deal_id=deal_id, actor=pipeline_user()).state


@shared_task(name="approvals.evaluate_after_decision")
def evaluate_after_decision(request_id: int) -> str:
    deal_id = ApprovalRequest.objects.values_list("deal_id", flat=True).get(pk=request_id)
    return evaluate_deal(deal_id)


@shared_task(name="approvals.evaluate_after_contract")
def evaluate_after_contract(version_id: int) -> str:
    deal_id = ContractVersion.objects.values_list("deal_id", flat=True).get(pk=version_id)
    return evaluate_deal(deal_id)


@shared_task(name="approvals.remind")
def remind() -> int:
    from django.conf import settings

    return services.approval_requests_remind(older_than_hours=settings.APPROVAL_SLA_HOURS)


@shared_task(name="approvals.notify_request_opened")
def notify_request_opened(request_id: int) -> int:
    return services.approval_request_notify_opened(request_id=request_id)


@shared_task(name="approvals.notify_request_decided")
def notify_request_decided(request_id: int) -> int:
    return services.approval_request_notify_decided(request_id=request_id)
