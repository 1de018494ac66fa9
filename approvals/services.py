"""Every write to approvals: evaluating a deal, opening requests, deciding them.

`approvals_evaluate` is the one pipeline step (dealdesk/pipeline.py calls it whenever a deal
enters review, a request is decided or a contract version is approved or superseded). It is
idempotent: it works out from the stored rows what is missing and does only that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, Group
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from approvals.models import ApprovalDelegation, ApprovalRequest, GateRun, R
from approvals.selectors import check_may_decide, evaluate, latest_gate_run
from audit.actions import Action
from audit.services import audit_record, record_change
from contracts.models import ContractState, ContractVersion
from contracts.selectors import current_version
from dealdesk import services as deal_services
from dealdesk.integrations.mail import send_notification
from dealdesk.integrations.outbox import outbox_enqueue
from dealdesk.models import Deal, DealState, Notification
from dealdesk.notifications import notifications_settle, notify
from dealdesk.roles import Role


class ApprovalError(ValueError):
    """A decision that cannot be taken as asked (the message says why, for the person)."""


def _stand_in_for(actor: AbstractBaseUser, group: Group) -> AbstractBaseUser | None:
    """The member `actor` stands in for, when not in the group but a delegate of a member."""
    delegation = (
        ApprovalDelegation.objects.in_force(actor)
        .filter(group=group)
        .select_related("delegator")
        .first()
    )
    return delegation.delegator if delegation else None


# --- evaluation (pipeline step) ------------------------------------------------------------


def approvals_evaluate(*, deal_id: int, actor: AbstractBaseUser) -> Deal:
    """Bring a deal's approvals up to date; move it on when nothing is left to approve."""
    with transaction.atomic():
        # The deal row lock serialises evaluations of one deal (several pipeline rows may
        # enqueue one at once) so requests are opened once.
        deal = (
            Deal.objects.select_for_update(of=("self",)).select_related("account").get(pk=deal_id)
        )
        version = current_version(deal)
        _supersede_stale(deal, version, actor)
        if deal.state != DealState.IN_REVIEW or version is None:
            return deal
        run = latest_gate_run(version) or _run_gates(deal, version, actor)
        if not run.passed:
            failed = [r for g in run.gates if not g["passed"] for r in g["reasons"]]
            return _send_back(deal, actor, "gates failed: " + "; ".join(failed))
        requests = {
            (r.step, r.group.name): r
            for r in ApprovalRequest.objects.select_for_update(of=("self",))
            .filter(contract_version=version, content_hash=version.content_hash)
            .exclude(state=R.SUPERSEDED)
            .select_related("group", "decided_by")
        }
        rejected = [r for r in requests.values() if r.state == R.REJECTED]
        if rejected:
            for request in requests.values():
                if request.state == R.PENDING:
                    _supersede(request, actor, "another approver rejected the deal")
            first = rejected[0]
            return _send_back(
                deal, actor, f"{first.group.name} rejected (by {first.decided_by}): {first.reason}"
            )
        for step in sorted({required["step"] for required in run.required}):
            wanted = [required for required in run.required if required["step"] == step]
            missing = [w for w in wanted if (step, w["group"]) not in requests]
            for required in missing:
                _open(deal, version, required, actor)
            if missing or any(requests[(step, w["group"])].state != R.APPROVED for w in wanted):
                return deal  # this step is still being decided; the next opens after it
        if version.state == ContractState.LEGAL_REVIEW:
            return deal  # Legal's approval of the version comes back through the pipeline
        return deal_services.deal_approve(
            deal_id=deal.pk,
            actor=actor,
            reason=f"gates passed, {len(run.required)} approval(s) granted on contract "
            f"v{version.number}",
        )


def _run_gates(deal: Deal, version: ContractVersion, actor: AbstractBaseUser) -> GateRun:
    result = evaluate(deal, version)
    run = GateRun(
        contract_version=version,
        content_hash=version.content_hash,
        passed=result.passed,
        gates=result.gates_json(),
        required=result.required_json(),
    )
    run._history_user, run._change_reason = actor, f"gates for contract v{version.number}"
    run.save()
    audit_record(
        actor=actor,
        obj=version,
        action=Action.CONTRACT_VERSION_GATES_EVALUATED,
        after={"passed": run.passed, "content_hash": version.content_hash},
        data={"gates": run.gates, "required": run.required},
    )
    return run


def _send_back(deal: Deal, actor: AbstractBaseUser, reason: str) -> Deal:
    return deal_services.deal_request_changes(deal_id=deal.pk, actor=actor, reason=reason)


def _open(deal: Deal, version: ContractVersion, required: dict, actor: AbstractBaseUser) -> None:
    group = Group.objects.get(name=required["group"])
    request = ApprovalRequest(
        deal=deal,
        contract_version=version,
        content_hash=version.content_hash,
        step=required["step"],
        group=group,
        rule_names=required["rules"],
        reasons=required["reasons"],
    )
    record_change(
        request,
        actor=actor,
        action=Action.APPROVAL_REQUEST_OPENED,
        history_reason="; ".join(required["rules"]),
        after={"state": request.state, "group": group.name, "step": request.step},
        data={"rules": request.rule_names, "reasons": request.reasons},
    )
    # Mail goes out from a task after commit, retried on its own: never in this transaction.
    outbox_enqueue(task="approvals.tasks.notify_request_opened", args=[request.pk], obj=request)


def _supersede_stale(deal: Deal, version: ContractVersion | None, actor: AbstractBaseUser) -> None:
    """Open and granted requests for anything but the current content no longer count."""
    stale = ApprovalRequest.objects.select_for_update().filter(
        deal=deal, state__in=[R.PENDING, R.APPROVED]
    )
    if version is not None:
        stale = stale.exclude(contract_version=version, content_hash=version.content_hash)
    for request in stale:
        _supersede(request, actor, _superseded_why(request, deal, version))


def _superseded_why(request: ApprovalRequest, deal: Deal, version: ContractVersion | None) -> str:
    # Worded for what happened to this request: one never decided was never "approved".
    if deal.state == DealState.CANCELLED:
        return "the deal was cancelled"
    if version is None:
        return "no contract"
    if request.state == R.PENDING:
        return f"contract v{version.number} replaced it before a decision"
    return f"contract v{version.number} replaced what was approved"


def _supersede(request: ApprovalRequest, actor: AbstractBaseUser, reason: str) -> None:
    before = {"state": request.state}
    request.supersede(reason=reason)
    record_change(
        request,
        actor=actor,
        action=Action.APPROVAL_REQUEST_SUPERSEDED,
        before=before,
        after={"state": request.state},
        reason=reason,
    )


# --- decisions -----------------------------------------------------------------------------


@transaction.atomic
def approval_request_decide(
    *, request_id: int, actor: AbstractBaseUser, approve: bool, reason: str = ""
) -> ApprovalRequest:
    """Approve, or reject with a reason. Checks state, group (or delegation) and SoD."""
    # The row lock makes two simultaneous deciders take turns: the second finds it decided.
    request = (
        ApprovalRequest.objects.select_for_update(of=("self",))
        .select_related("deal", "group", "decided_by")
        .get(pk=request_id)
    )
    if request.state != R.PENDING:
        by = f" by {request.decided_by}" if request.decided_by else ""
        raise ApprovalError(f"this request was already {request.get_state_display().lower()}{by}")
    if not approve and not reason.strip():
        raise ApprovalError("say why: a reason is required to reject")
    # Group or delegation, segregation of duties, one step per person: the pages ask the same.
    check_may_decide(request=request, user=actor)
    delegate_for = None
    if not actor.groups.filter(pk=request.group_id).exists():
        delegate_for = _stand_in_for(actor, request.group)
    version = current_version(request.deal)
    if version is None or version.content_hash != request.content_hash:
        raise ApprovalError("the contract changed since this was requested: reload")
    before = {"state": request.state}
    now = timezone.now()
    if approve:
        request.approve(by=actor, at=now, reason=reason, delegate_for=delegate_for)
    else:
        request.reject(by=actor, at=now, reason=reason, delegate_for=delegate_for)
    record_change(
        request,
        actor=actor,
        action=Action.APPROVAL_REQUEST_APPROVED if approve else Action.APPROVAL_REQUEST_REJECTED,
        before=before,
        after={"state": request.state, "content_hash": request.content_hash},
        # The deal too: the access review shows each person's last decision and its deal.
        data={
            "delegate_for": delegate_for.get_username() if delegate_for else None,
            "deal_id": request.deal_id,
        },
        reason=reason,
        history_reason=reason or request.state,
    )
    outbox_enqueue(task="approvals.tasks.notify_request_decided", args=[request.pk], obj=request)
    return request


@dataclass(frozen=True)
class DecisionOutcome:
    """One request of a batch decision: decided, or why not (`error`)."""

    request_id: int
    label: str
    error: str = ""


# A page of My approvals is 25 rows: more ids than a few pages' worth is not a person clicking.
MAX_BATCH = 100


def approval_requests_approve(
    *, request_ids: Sequence[int], actor: AbstractBaseUser, reason: str = ""
) -> list[DecisionOutcome]:
    """Approve several requests with one reason. Each goes through approval_request_decide in
    its own transaction (checked, audited, notified on its own), so one refusal neither stops
    nor undoes the others; the outcome of each is returned, in the order given."""
    if len(request_ids) > MAX_BATCH:
        raise ApprovalError(f"approve at most {MAX_BATCH} requests at once")
    labels = {
        request.pk: str(request)
        for request in ApprovalRequest.objects.filter(pk__in=request_ids).select_related(
            "group", "deal"
        )
    }
    outcomes = []
    for request_id in dict.fromkeys(request_ids):  # once each, in order
        label = labels.get(request_id)
        if label is None:
            outcomes.append(DecisionOutcome(request_id, f"request {request_id}", "no such request"))
            continue
        try:
            approval_request_decide(request_id=request_id, actor=actor, approve=True, reason=reason)
        except (ApprovalError, PermissionDenied) as exc:
            outcomes.append(DecisionOutcome(request_id, label, str(exc)))
        else:
            outcomes.append(DecisionOutcome(request_id, label))
    return outcomes


def approval_requests_remind(*, older_than_hours: int) -> int:
    """The daily reminder: one e-mail per group with requests waiting beyond the SLA."""
    cutoff = timezone.now() - timedelta(hours=older_than_hours)
    waiting = ApprovalRequest.objects.filter(state=R.PENDING, created_at__lt=cutoff)
    sent = 0
    for group in Group.objects.filter(pk__in=waiting.values("group_id")):
        count = waiting.filter(group=group).count()
        sent += _mail_group(
            group,
            f"{count} approval request(s) waiting more than {older_than_hours} h",
            "Open 'My approvals' in Dealdesk to decide them.",
        )
    return sent


# --- delegation ----------------------------------------------------------------------------


def approval_delegation_check(
    *,
    delegator: AbstractBaseUser,
    delegate: AbstractBaseUser,
    group: Group,
    starts_at: datetime,
    ends_at: datetime,
    actor: AbstractBaseUser,
    reason: str = "",
) -> None:
    """What approval_delegation_create refuses, also for a form to show before it saves."""
    # Authority is handed on by whoever holds it, never taken: only the delegator, or a
    # superuser standing in for one who cannot (away already), with the reason on record.
    if actor.pk != delegator.pk:
        if not actor.is_superuser:
            raise PermissionDenied(f"only {delegator} can delegate {delegator}'s authority")
        if not reason.strip():
            raise ApprovalError(f"say why you delegate on {delegator}'s behalf")
    if not delegator.groups.filter(pk=group.pk).exists():
        raise ApprovalError(f"{delegator} is not in {group.name}: nothing to delegate")
    if delegate.pk == delegator.pk:
        raise ApprovalError("delegate to someone else")
    if ends_at <= max(starts_at, timezone.now()):
        raise ApprovalError("a delegation must end after it starts, and in the future")
    longest = timedelta(days=settings.APPROVAL_DELEGATION_MAX_DAYS)
    if ends_at - starts_at > longest:
        raise ApprovalError(
            f"a delegation lasts at most {settings.APPROVAL_DELEGATION_MAX_DAYS} days"
        )


@transaction.atomic
def approval_delegation_create(
    *,
    delegator: AbstractBaseUser,
    delegate: AbstractBaseUser,
    group: Group,
    starts_at: datetime,
    ends_at: datetime,
    actor: AbstractBaseUser,
    reason: str = "",
) -> ApprovalDelegation:
    """`delegate` decides `group`'s requests in `delegator`'s place from `starts_at` to
    `ends_at` (at most APPROVAL_DELEGATION_MAX_DAYS)."""
    approval_delegation_check(
        delegator=delegator,
        delegate=delegate,
        group=group,
        starts_at=starts_at,
        ends_at=ends_at,
        actor=actor,
        reason=reason,
    )
    delegation = ApprovalDelegation(
        delegator=delegator,
        delegate=delegate,
        group=group,
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=actor,
        reason=reason,
    )
    record_change(
        delegation,
        actor=actor,
        action=Action.APPROVAL_DELEGATION_CREATED,
        after={
            "delegator": delegator.get_username(),
            "delegate": delegate.get_username(),
            "group": group.name,
            "starts_at": starts_at.isoformat(),
            "ends_at": ends_at.isoformat(),
        },
        reason=reason,
        history_reason=reason or "delegated by the delegator",
    )
    return delegation


@transaction.atomic
def approval_delegation_revoke(
    *, delegation_id: int, actor: AbstractBaseUser, reason: str = ""
) -> ApprovalDelegation:
    """End a delegation now: the delegator (back early), the delegate (declining) or a
    superuser (with a reason)."""
    delegation = ApprovalDelegation.objects.select_for_update().get(pk=delegation_id)
    if actor.pk not in (delegation.delegator_id, delegation.delegate_id):
        if not actor.is_superuser:
            raise PermissionDenied(f"{actor} may not revoke {delegation}")
        if not reason.strip():
            raise ApprovalError("say why you revoke someone else's delegation")
    if delegation.revoked_at is not None:
        raise ApprovalError(f"this delegation was already revoked by {delegation.revoked_by}")
    delegation.revoked_at, delegation.revoked_by = timezone.now(), actor
    record_change(
        delegation,
        actor=actor,
        action=Action.APPROVAL_DELEGATION_REVOKED,
        before={"revoked_at": None},
        after={"revoked_at": delegation.revoked_at.isoformat()},
        reason=reason,
        history_reason=reason or "revoked",
    )
    return delegation


# --- mail ----------------------------------------------------------------------------------


def _mail_group(group: Group, subject: str, body: str, *, key: str = "") -> int:
    recipients = list(
        group.user_set.filter(is_active=True).exclude(email="").values_list("email", flat=True)
    )
    return send_notification(subject=subject, body=body, recipients=recipients, key=key)


# Run by approvals/tasks.py from an outbox row written with the decision, so a mail server
# that is down delays the mail (retried with backoff), never the decision. Each notification:
# a bell row for each person and one e-mail with the deal's name,
# amount and link (dealdesk/notifications.py), each once however often the step runs.


def approval_request_notify_opened(*, request_id: int) -> int:
    """Tell the request's group that it waits for them."""
    request = ApprovalRequest.objects.select_related("deal__account", "group").get(pk=request_id)
    return notify(
        recipients=_members(request.group),
        deal=request.deal,
        kind=Notification.Kind.APPROVAL_NEEDED,
        key=_opened_key(request),
        subject=f"approval needed: {request.deal.name}",
        headline=f"{request.group.name} approval needed (step {request.step}): {request.deal.name}",
        details=request.reasons,
    )


def approval_request_notify_decided(*, request_id: int) -> int:
    """Tell Deal Desk how a request was decided; the group's "approval needed" is settled."""
    request = ApprovalRequest.objects.select_related("deal__account", "group", "decided_by").get(
        pk=request_id
    )
    notifications_settle(key=_opened_key(request))
    desk = Group.objects.filter(name=Role.DEAL_DESK).first()
    if desk is None:
        return 0
    return notify(
        recipients=_members(desk),
        deal=request.deal,
        kind=Notification.Kind.APPROVAL_DECIDED,
        key=f"approval-request-{request.pk}-decided",
        subject=f"{request.deal.name}: {request.group.name} {request.state}",
        headline=f"{request.deal.name}: {request.group.name} {request.state}",
        details=[f"{request.decided_by}: {request.reason or request.state}"],
    )


def _members(group: Group) -> QuerySet:
    return group.user_set.filter(is_active=True)


def _opened_key(request: ApprovalRequest) -> str:
    return f"approval-request-{request.pk}-opened"
