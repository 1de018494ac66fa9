"""Rows of every kind the inbox gathers, made straight in the database and aged as a test
needs (each `since` is when the row started waiting)."""

import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from billing.models import ARItem, BillingRecord
from contracts.esign.models import SignatureRequest
from contracts.models import ContractTemplate, ContractVersion
from dealdesk.crm.models import CrmDrift, QuarantinedRecord
from dealdesk.integrations.models import OutboxMessage, WebhookEvent
from dealdesk.models import Deal
from tests.dealdesk.factories import DealFactory

_n = itertools.count(1)


def ago(hours: float) -> datetime:
    return timezone.now() - timedelta(hours=hours)


def deal_in(state: str, *, since: datetime, reason: str = "") -> Deal:
    return DealFactory(
        crm_id=f"006INBOX{next(_n):07d}",
        state=state,
        state_changed_at=since,
        state_reason=reason or f"why {state}",
    )


def version_of(deal: Deal, *, number: int = 1, state: str = "approved") -> ContractVersion:
    return ContractVersion.objects.create(
        deal=deal,
        number=number,
        state=state,
        template=ContractTemplate.objects.first(),
        snapshot={},
        content_hash="0" * 64,
        docx_sha256="0" * 64,
        pdf_sha256="0" * 64,
        created_by=deal.owner,
        made_by="test",
    )


def signature_request(
    *, state: str, since: datetime, deal_state: str, reason: str = "", blocked: str = ""
) -> SignatureRequest:
    deal = deal_in(deal_state, since=since)
    request = SignatureRequest.objects.create(
        deal=deal,
        version=version_of(deal),
        backend="local",
        state=state,
        state_reason=reason,
        blocked_reason=blocked,
        document_sha256="0" * 64,
        created_by=deal.owner,
        finished_at=None if state == "draft" else since,
    )
    SignatureRequest.objects.filter(pk=request.pk).update(updated_at=since)
    return request


def quarantined(*, since: datetime, reason: str = "Amount is not a number") -> QuarantinedRecord:
    record = QuarantinedRecord.objects.create(
        object_name="Opportunity", crm_id=f"006Q{next(_n):014d}", reason=reason, raw={}
    )
    QuarantinedRecord.objects.filter(pk=record.pk).update(first_seen_at=since)
    return record


def drift(*, since: datetime) -> CrmDrift:
    deal = deal_in("in_review", since=since)
    row = CrmDrift.objects.create(
        deal=deal, changes=[{"what": "term_months", "old": "12", "new": "24"}]
    )
    CrmDrift.objects.filter(pk=row.pk).update(detected_at=since)
    return row


def billing_exception(*, since: datetime, problem: str = "no billing contact") -> BillingRecord:
    deal = deal_in("signed", since=since)
    return BillingRecord.objects.create(
        deal=deal,
        version=version_of(deal, state="executed"),
        backend="local",
        state="exception",
        signed_on=date(2026, 1, 1),
        problems=[problem],
        checked_at=since,
    )


def ar_item(*, since: datetime, state: str = "open") -> ARItem:
    item = ARItem.objects.create(
        key=f"test:{next(_n)}",
        reason="unmatched",
        state=state,
        amount=Decimal("120.50"),
        currency="EUR",
        detail="Payment from ACME GMBH matched no invoice",
    )
    ARItem.objects.filter(pk=item.pk).update(created_at=since)
    return item


def dead_step(*, since: datetime, task: str = "contracts.tasks.draft_contract") -> OutboxMessage:
    message = OutboxMessage.objects.create(
        task=task, args=[1], status="dead", attempts=8, last_error="ValueError: boom"
    )
    OutboxMessage.objects.filter(pk=message.pk).update(updated_at=since)
    return message


def dead_event(*, since: datetime, vendor: str = "docusign") -> WebhookEvent:
    event = WebhookEvent.objects.create(
        vendor=vendor,
        event_id=f"evt_{next(_n)}",
        type="envelope-completed",
        payload={},
        status="dead",
        attempts=8,
        handler_error="KeyError: envelopeId",
    )
    WebhookEvent.objects.filter(pk=event.pk).update(updated_at=since)
    return event
