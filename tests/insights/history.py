"""A constructed past: deals moved through their stages by the real services, each step at a
known time. The clock is moved by patching django.utils.timezone.now, which the audit log,
the transitions, auto_now fields and history all read, so the audit events carry the times
a real run at those moments would have written."""

import datetime
from contextlib import contextmanager
from unittest import mock

from approvals.models import ApprovalRequest, RequestState
from billing.models import BillingRecord
from contracts.models import ContractTemplate, ContractVersion
from dealdesk import pipeline, services
from dealdesk.models import Deal, DealPattern

# Monday 3 March 2025, 09:00 in New York (the project's time zone): day 0 of every
# constructed history. In UTC, so that adding days adds 24 hours across the DST change.
T0 = datetime.datetime(2025, 3, 3, 14, 0, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)

REASONS = {
    "request_changes": "the customer asked for a lower cap",
    "redraft": "cap changed",
    "cancel": "customer withdrew",
    "send_to_manual_review": "needs a person",
}


@contextmanager
def clock(at: datetime.datetime):
    # Held: no pipeline step is written, so a committed test (the browser's) runs none of
    # them after commit either; each deal stays where its history puts it.
    with mock.patch("django.utils.timezone.now", return_value=at), pipeline.held():
        yield


def won_deal(*, at: datetime.datetime, owner, account, pattern: str = "simple", **fields) -> Deal:
    """A Closed-Won deal entering Dealdesk at `at`, through deal_create (its deal.created)."""
    spec = services.DealSpec(
        crm_id=f"006H{Deal.objects.count():011d}",
        name=fields.pop("name", f"History deal {Deal.objects.count() + 1}"),
        account=account,
        owner=owner,
        start_date=datetime.date(2025, 4, 1),
        term_months=12,
        currency=fields.pop("currency", "USD"),
    )
    with clock(at):
        deal = services.deal_create(spec=spec, actor=services.pipeline_user())
    # Pattern and totals are what classification and pricing would have stored: set here,
    # they take no part in the history the dashboard reads.
    Deal.objects.filter(pk=deal.pk).update(
        pattern=DealPattern.objects.get(code=pattern), tcv=fields.pop("tcv", None)
    )
    return deal


def move(deal: Deal, *steps: tuple[str, datetime.datetime]) -> Deal:
    """Walk `deal` through the named transitions, each at its time, as the pipeline would."""
    for name, at in steps:
        service = getattr(services, f"deal_{name}")
        with clock(at):
            service(deal_id=deal.pk, actor=services.pipeline_user(), reason=REASONS.get(name, ""))
    deal.refresh_from_db()
    return deal


def through_signature(start: datetime.datetime, drafted: float, approved: float) -> list:
    """The steps from new to approved: drafted `drafted` days after start, approved
    `approved` days after that."""
    return [
        ("start_drafting", start + HOUR),
        ("submit_for_review", start + drafted * DAY),
        ("approve", start + (drafted + approved) * DAY),
    ]


def contract_version(deal: Deal) -> ContractVersion:
    """A stored contract version row (no documents): what approvals and billing hang on."""
    return ContractVersion.objects.create(
        deal=deal,
        number=deal.contract_versions.count() + 1,
        template=ContractTemplate.objects.filter(pattern=deal.pattern).first()
        or ContractTemplate.objects.first(),
        snapshot={},
        content_hash=f"{deal.pk:064d}",
        created_by=services.pipeline_user(),
    )


def first_paid(deal: Deal, *, signed_on: datetime.date, paid_on: datetime.date) -> BillingRecord:
    return BillingRecord.objects.create(
        deal=deal,
        version=contract_version(deal),
        backend="local",
        signed_on=signed_on,
        first_paid_on=paid_on,
        days_to_first_payment=(paid_on - signed_on).days,
    )


def decided_request(
    deal: Deal, group, *, asked: datetime.datetime, decided: datetime.datetime | None, **kw
) -> ApprovalRequest:
    """An approval request opened at `asked` and decided at `decided` (None: still open)."""
    version = deal.contract_versions.first() or contract_version(deal)
    with clock(asked):
        request = ApprovalRequest.objects.create(
            deal=deal,
            contract_version=version,
            content_hash=f"{deal.pk}-{group.pk}-{asked.isoformat()}",
            step=1,
            group=group,
            state=kw.get("state", RequestState.APPROVED if decided else RequestState.PENDING),
            decided_at=decided,
        )
    return request
