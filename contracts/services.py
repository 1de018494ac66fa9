"""Every write to contracts: drafting a version, legal's clause decisions, approval.

A version is never edited: drafting, redrafting and every clause edit publish a new version
(its documents rendered, stored and hashed) that supersedes the current one, in one
transaction with its history and audit events. Rendering happens before anything is written,
so a failure leaves no half-made version.
"""

import hashlib
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django_fsm import TransitionNotAllowed, can_proceed
from pydantic import ValidationError

from audit.actions import Action
from audit.services import audit_record, record_change
from contracts.drawing_failures import drawing_failure_logged, drawing_failure_recorded
from contracts.extraction import extract_clauses
from contracts.models import (
    APPROVE_TEMPLATE_PERM,
    REVIEW_PERM,
    ClauseDecision,
    ContractState,
    ContractTemplate,
    ContractVersion,
    TemplateState,
)
from contracts.param_words import worded_problems
from contracts.rendering import (
    RenderingError,
    document_context,
    render_docx,
    render_pdf,
    sample_snapshot,
)
from contracts.review_rules import legal_review_reasons
from contracts.selectors import current_version
from contracts.snapshot import (
    deal_snapshot,
    library,
    snapshot_hash,
    snapshot_repriced,
    worded_clause,
)
from contracts.snapshot_types import SnapshotClause
from contracts.stored_files import deleted_on_failure
from contracts.taxonomy import PARAMS, clean_params
from dealdesk import services as deal_services
from dealdesk.integrations.delivery import is_final_attempt
from dealdesk.models import Deal, DealPattern, DealState
from dealdesk.pricing import PricingError
from dealdesk.roles import SegregationOfDutiesError, check_segregation_of_duties


class ContractReviewError(ValueError):
    """A review decision that cannot be taken as asked (the message says why)."""


class ContractTemplateError(ValueError):
    """A template version that cannot be published or decided as asked (the message says why)."""


def contract_template_publish(
    *,
    pattern: DealPattern,
    title: str,
    html: str,
    docx: bytes,
    docx_filename: str,
    note: str,
    actor: AbstractBaseUser,
) -> ContractTemplate:
    """Publish the pattern's next template version, pending a second person's approval.

    Both documents are first rendered with a sample contract: a template that does not render,
    or reaches for a file, the network or code, is refused with the reason and nothing is
    saved. Versions already used stay as they are.
    """
    if not actor.has_perm("contracts.add_contracttemplate"):
        raise PermissionDenied(f"{actor} may not publish contract templates")
    contract_template_check(title=title, html=html, docx=docx)  # before the transaction: slow
    with transaction.atomic():
        # The pattern's row lock numbers two simultaneous publications one after the other.
        DealPattern.objects.select_for_update().get(pk=pattern.pk)
        latest = ContractTemplate.objects.filter(pattern=pattern).aggregate(n=Max("version"))["n"]
        template = ContractTemplate(
            pattern=pattern,
            version=(latest or 0) + 1,
            title=title,
            html=html,
            docx=docx,
            docx_filename=docx_filename,
            note=note,
            created_by=actor,
        )
        record_change(
            template,
            actor=actor,
            action=Action.CONTRACT_TEMPLATE_PUBLISHED,
            after={
                "pattern": pattern.code,
                "version": template.version,
                "title": title,
                "state": template.state,
            },
            data={
                "docx_filename": docx_filename,
                "docx_sha256": hashlib.sha256(docx).hexdigest(),
                "html_sha256": hashlib.sha256(html.encode()).hexdigest(),
            },
            reason=note or f"published v{template.version}",
        )
    return template


def contract_template_check(*, title: str, html: str, docx: bytes) -> None:
    """Render both documents with a sample contract; why they cannot be published, if so."""
    context = document_context(sample_snapshot(title=title), version_number=1)
    try:
        render_docx(docx, context)
        render_pdf(html, context)
    except RenderingError as exc:
        raise ContractTemplateError(f"the template cannot be published: {exc}") from exc


def _decidable(template_id: int, actor: AbstractBaseUser) -> ContractTemplate:
    """The pending version locked for `actor` to decide on, or why not."""
    template = (
        ContractTemplate.objects.select_for_update().select_related("pattern").get(pk=template_id)
    )
    if not actor.has_perm(APPROVE_TEMPLATE_PERM):
        raise PermissionDenied(f"{actor} may not approve contract templates")
    if template.created_by_id == actor.pk:
        raise SegregationOfDutiesError(
            f"{actor} published {template} and cannot decide on it: a second person must"
        )
    if template.state != TemplateState.PENDING_APPROVAL:
        raise TransitionNotAllowed(f"{template} is {template.get_state_display().lower()}")
    return template


@transaction.atomic
def contract_template_approve(
    *, template_id: int, actor: AbstractBaseUser, note: str = ""
) -> ContractTemplate:
    """A second person approves a published version: new drafts of its pattern use it."""
    template = _decidable(template_id, actor)
    template.approve(by=actor, note=note)
    record_change(
        template,
        actor=actor,
        action=Action.CONTRACT_TEMPLATE_APPROVED,
        before={"state": TemplateState.PENDING_APPROVAL},
        after={"state": template.state, "version": template.version},
        reason=note,
        history_reason=note or "approved",
    )
    return template


@transaction.atomic
def contract_template_reject(
    *, template_id: int, actor: AbstractBaseUser, reason: str
) -> ContractTemplate:
    """A second person rejects a published version: it is never used."""
    if not reason.strip():
        raise ContractTemplateError("say why: a reason is required")
    template = _decidable(template_id, actor)
    template.reject(by=actor, note=reason)
    record_change(
        template,
        actor=actor,
        action=Action.CONTRACT_TEMPLATE_REJECTED,
        before={"state": TemplateState.PENDING_APPROVAL},
        after={"state": template.state, "version": template.version},
        reason=reason,
    )
    return template


def template_for(deal: Deal) -> ContractTemplate | None:
    """The pattern's newest approved template version: what new drafts are made with."""
    return (
        ContractTemplate.objects.filter(pattern_id=deal.pattern_id, state=TemplateState.APPROVED)
        .order_by("-version")
        .first()
    )


def contract_draft(*, deal_id: int, actor: AbstractBaseUser) -> ContractVersion | None:
    """Pipeline step for a deal in drafting: extract, render, publish, submit the deal for review.

    Idempotent: a deal that has left drafting was handled and nothing is done. Extraction
    (maybe a network call) and rendering run before the transaction; a deal that cannot be
    rendered goes to manual review with the reason and no version is written.
    """
    deal = Deal.objects.select_related("account", "pattern", "owner").get(pk=deal_id)
    if deal.state != DealState.DRAFTING:
        return None
    template = template_for(deal)
    if template is None:
        _to_manual_review(deal, actor, f"no contract template for pattern {deal.pattern}")
        return None
    # An LLM outage is retried by the outbox; only the last attempt falls back to the rules.
    extraction = extract_clauses(deal.ae_notes, fall_back_on_outage=is_final_attempt())
    clause_types = library()
    try:
        clauses = [worded_clause(c, clause_types, source="notes") for c in extraction.clauses]
        present = {clause["type"] for clause in clauses}
        for clause_type in clause_types.values():
            required = deal.pattern_id in {p.pk for p in clause_type.required_by_patterns.all()}
            if required and clause_type.code not in present:
                standard = {"type": clause_type.code, "params": clause_type.default_params}
                clauses.append(worded_clause(standard, clause_types, source="library"))
        number = _next_number(deal)
        snapshot = deal_snapshot(deal=deal, template=template, clauses=clauses, number=number)
        documents = _render(template, snapshot, number)
    except PricingError as exc:
        _to_manual_review(deal, actor, f"contract cannot be rendered: {exc}")
        return None
    except RenderingError as exc:  # the cause is for ops: logged and kept in the admin
        _to_manual_review(deal, actor, drawing_failure_recorded(exc, deal_crm_id=deal.crm_id))
        return None
    reasons = legal_review_reasons(
        pattern=deal.pattern,
        clauses=[SnapshotClause.from_json(clause) for clause in clauses],
        fallback_reason=extraction.fallback_reason,
        dropped=extraction.dropped,
    )
    with transaction.atomic():
        deal = Deal.objects.select_for_update().get(pk=deal_id)
        if deal.state != DealState.DRAFTING:  # another run got here first
            return None
        previous = current_version(deal)
        version = _publish(
            deal=deal,
            template=template,
            snapshot=snapshot,
            number=number,
            documents=documents,
            actor=actor,
            made_by="redraft" if previous else "pipeline draft",
            extractor=extraction.backend,
            review_reasons=reasons,
            dropped=extraction.dropped,
            previous=previous,
        )
        deal_services.deal_submit_for_review(
            deal_id=deal.pk, actor=actor, reason=f"contract v{version.number} drafted"
        )
    return version


def _to_manual_review(deal: Deal, actor: AbstractBaseUser, reason: str) -> None:
    deal_services.deal_send_to_manual_review(deal_id=deal.pk, actor=actor, reason=reason)


def _next_number(deal: Deal) -> int:
    return (deal.contract_versions.aggregate(n=Max("number"))["n"] or 0) + 1


def _render(template: ContractTemplate, snapshot: dict, number: int) -> dict[str, bytes]:
    context = document_context(snapshot, version_number=number)
    return {
        "docx": render_docx(bytes(template.docx), context),
        "pdf": render_pdf(template.html, context),
    }


def _publish(
    *,
    deal: Deal,
    template: ContractTemplate,
    snapshot: dict,
    number: int,
    documents: dict[str, bytes],
    actor: AbstractBaseUser,
    made_by: str,
    extractor: str,
    review_reasons: list[str],
    dropped: list[dict],
    previous: ContractVersion | None,
    reason: str = "",
) -> ContractVersion:
    """Store the documents and write the version, superseding `previous`. Call in a transaction.

    `made_by` is a short label kept on the version ("legal edit"); `reason`, the person's own
    words of any length, goes to history and the audit events (default: the label)."""
    reason = reason or made_by
    if previous is not None:
        previous.supersede(reason=f"superseded by v{number}: {reason}")
        record_change(
            previous,
            actor=actor,
            action=Action.CONTRACT_VERSION_SUPERSEDED,
            after={"state": previous.state, "by_number": number},
            reason=reason,
            history_reason=f"superseded by v{number}",
        )
    deal_services.deal_store_contract_totals(
        deal_id=deal.pk,
        actor=actor,
        totals={name: Decimal(snapshot["pricing"][name]) for name in deal_services.PRICED_FIELDS},
        reason=f"priced under contract v{number}",
    )
    hashes = {kind: hashlib.sha256(content).hexdigest() for kind, content in documents.items()}
    version = ContractVersion(
        deal=deal,
        number=number,
        template=template,
        snapshot=snapshot,
        content_hash=snapshot_hash(snapshot),
        docx_sha256=hashes["docx"],
        pdf_sha256=hashes["pdf"],
        created_by=actor,
        made_by=made_by,
        extractor=extractor,
        review_reasons=review_reasons,
        dropped_clauses=dropped,
        supersedes=previous,
    )
    stem = "".join(c if c.isascii() and c.isalnum() else "_" for c in deal.crm_id) + f"-v{number}"
    version.docx.save(
        f"{stem}-{hashes['docx'][:12]}.docx", ContentFile(documents["docx"]), save=False
    )
    version.pdf.save(f"{stem}-{hashes['pdf'][:12]}.pdf", ContentFile(documents["pdf"]), save=False)
    # A rolled-back transaction must not leave documents behind that no version names.
    with deleted_on_failure([version.docx.name, version.pdf.name]):
        if review_reasons:
            version.submit_for_legal_review(reason="; ".join(review_reasons))
        record_change(
            version,
            actor=actor,
            action=Action.CONTRACT_VERSION_DRAFTED,
            after={"state": version.state, "number": number, "content_hash": version.content_hash},
            data={"made_by": made_by, "extractor": extractor, "review_reasons": review_reasons},
            reason=reason,
        )
        for kind in ("docx", "pdf"):
            audit_record(
                actor=actor,
                obj=version,
                action=Action.CONTRACT_VERSION_DOCUMENT_GENERATED,
                data={"kind": kind, "file": getattr(version, kind).name, "sha256": hashes[kind]},
            )
    return version


@transaction.atomic
def contract_void_for_cancelled_deal(
    *, deal_id: int, actor: AbstractBaseUser
) -> ContractVersion | None:
    """Pipeline step for a cancelled deal: its live contract version is void. Idempotent."""
    deal = Deal.objects.select_for_update().get(pk=deal_id)
    version = current_version(deal)
    if deal.state != DealState.CANCELLED or version is None:
        return None
    before = {"state": version.state}
    version.void(reason=f"deal cancelled: {deal.state_reason}")
    record_change(
        version,
        actor=actor,
        action=Action.CONTRACT_VERSION_VOIDED,
        before=before,
        after={"state": version.state},
        reason=deal.state_reason,
        history_reason="deal cancelled",
    )
    return version


# --- legal review -------------------------------------------------------------------------


def _reviewable(
    version_id: int, actor: AbstractBaseUser, *, deciding: bool = False
) -> ContractVersion:
    """The version locked for `actor` to work on, or why not (state, permission, SoD).

    Anyone in Legal but the deal's owner may edit; deciding on the draft (approve, send
    back) is also refused to whoever last edited its clauses.
    """
    version = (
        ContractVersion.objects.select_for_update()
        .select_related("deal", "template")
        .get(pk=version_id)
    )
    if not actor.has_perm(REVIEW_PERM):
        raise PermissionDenied(f"{actor} may not review contracts")
    if version.state not in (ContractState.DRAFT, ContractState.LEGAL_REVIEW):
        raise TransitionNotAllowed(
            f"contract v{version.number} is {version.get_state_display().lower()}"
        )
    if version.deal.state != DealState.IN_REVIEW:
        raise TransitionNotAllowed(f"deal {version.deal_id} is not in review")
    if deciding:
        check_segregation_of_duties(user=actor, deal=version.deal)
    elif version.deal.owner_id == actor.pk:
        raise SegregationOfDutiesError(f"{actor} owns deal {version.deal_id} and cannot review it")
    return version


def _clause_at(version: ContractVersion, index: int) -> dict[str, Any]:
    if not 0 <= index < len(version.clauses):
        raise ContractReviewError(f"contract v{version.number} has no clause {index + 1}")
    return version.clauses[index]


@transaction.atomic
def contract_clause_accept(
    *, version_id: int, clause_index: int, actor: AbstractBaseUser, note: str = ""
) -> ClauseDecision:
    version = _reviewable(version_id, actor)
    clause = _clause_at(version, clause_index)
    if clause["banned"]:
        raise ContractReviewError(
            f"{clause['title']} is banned: reject it or edit it to another type"
        )
    decision, created = ClauseDecision.objects.get_or_create(
        version=version, clause_index=clause_index, defaults={"decided_by": actor, "note": note}
    )
    if created:
        audit_record(
            actor=actor,
            obj=version,
            action=Action.CONTRACT_VERSION_CLAUSE_ACCEPTED,
            data={"index": clause_index, "type": clause["type"], "params": clause["params"]},
            reason=note,
        )
    return decision


def contract_clause_edit(
    *,
    version_id: int,
    clause_index: int,
    params: dict[str, Any],
    actor: AbstractBaseUser,
    reason: str,
) -> ContractVersion:
    def change(clauses: list[dict], clause_types) -> tuple[list[dict], dict]:
        old = clauses[clause_index]
        cleaned = _cleaned(old["type"], params)
        edited = worded_clause({**old, "params": cleaned}, clause_types, source="legal")
        edited["quote"] = old["quote"]
        new = [*clauses[:clause_index], edited, *clauses[clause_index + 1 :]]
        return new, {
            "index": clause_index,
            "type": old["type"],
            "before": old["params"],
            "after": cleaned,
        }

    return _revise(
        version_id, clause_index, actor, reason, Action.CONTRACT_VERSION_CLAUSE_EDITED, change
    )


def contract_clause_reject(
    *, version_id: int, clause_index: int, actor: AbstractBaseUser, reason: str
) -> ContractVersion:
    def change(clauses: list[dict], clause_types) -> tuple[list[dict], dict]:
        old = clauses[clause_index]
        new = [*clauses[:clause_index], *clauses[clause_index + 1 :]]
        return new, {
            "index": clause_index,
            "type": old["type"],
            "params": old["params"],
            "quote": old["quote"],
        }

    return _revise(
        version_id, clause_index, actor, reason, Action.CONTRACT_VERSION_CLAUSE_REJECTED, change
    )


def contract_clause_add(
    *,
    version_id: int,
    clause_type: str,
    params: dict[str, Any],
    actor: AbstractBaseUser,
    reason: str,
) -> ContractVersion:
    if clause_type not in PARAMS:
        raise ContractReviewError(f"unknown clause type {clause_type!r}")

    def change(clauses: list[dict], clause_types) -> tuple[list[dict], dict]:
        cleaned = _cleaned(clause_type, params)
        added = worded_clause(
            {"type": clause_type, "params": cleaned}, clause_types, source="legal"
        )
        return [*clauses, added], {"type": clause_type, "params": cleaned}

    return _revise(version_id, None, actor, reason, Action.CONTRACT_VERSION_CLAUSE_ADDED, change)


def _cleaned(clause_type: str, params: dict[str, Any]) -> dict[str, Any]:
    """Legal's params for a clause, checked against the taxonomy; what is wrong, for them."""
    try:
        return clean_params(clause_type, params)
    except ValidationError as exc:
        raise ContractReviewError("; ".join(worded_problems(exc)) + ".") from exc


@transaction.atomic
def _revise(
    version_id: int,
    clause_index: int | None,
    actor: AbstractBaseUser,
    reason: str,
    action: Action,
    change: Callable[[list[dict], dict], tuple[list[dict], dict]],
) -> ContractVersion:
    """A clause edit: a new version with the changed clauses supersedes the reviewed one."""
    if not reason.strip():
        raise ContractReviewError("say why: a reason is required")
    version = _reviewable(version_id, actor)
    deal = Deal.objects.select_for_update().get(pk=version.deal_id)
    if clause_index is not None:
        _clause_at(version, clause_index)
    try:
        clauses, detail = change(list(version.clauses), library())
        number = _next_number(deal)
        # Repriced under the edited clauses: a free period or uplift Legal adds is billed.
        snapshot = {
            **snapshot_repriced(deal=deal, snapshot=version.snapshot, clauses=clauses),
            "reference": f"{deal.crm_id}-{number}",
        }
        documents = _render(version.template, snapshot, number)
    except PricingError as exc:
        raise ContractReviewError(f"the edited clauses cannot be priced: {exc}") from exc
    except RenderingError as exc:
        # Only logged: the failed edit's transaction rolls back any row written for it.
        raise ContractReviewError(drawing_failure_logged(exc, deal_crm_id=deal.crm_id)) from exc
    new = _publish(
        deal=deal,
        template=version.template,
        snapshot=snapshot,
        number=number,
        documents=documents,
        actor=actor,
        # The label only: a reason runs to REASON_MAX_LENGTH, the column to 100 characters.
        made_by="legal edit",
        reason=f"legal edit: {reason}",
        extractor=version.extractor,
        # Legal is already reading it: the new version stays in review.
        review_reasons=version.review_reasons or [f"edited by {actor.get_username()}"],
        dropped=version.dropped_clauses,
        previous=version,
    )
    _carry_over_decisions(version, new)
    deal_services.deal_record_terms_edit(
        deal_id=deal.pk, actor=actor, reason=f"clauses edited on contract v{number}"
    )
    audit_record(actor=actor, obj=new, action=action, data=detail, reason=reason)
    return new


def _carry_over_decisions(old: ContractVersion, new: ContractVersion) -> None:
    """Clauses legal accepted and did not change stay accepted on the new version."""
    accepted = {
        _identity(old.clauses[d.clause_index]): d
        for d in old.decisions.all()
        if d.clause_index < len(old.clauses)
    }
    for index, clause in enumerate(new.clauses):
        if decision := accepted.get(_identity(clause)):
            ClauseDecision.objects.create(
                version=new, clause_index=index, decided_by=decision.decided_by, note=decision.note
            )


def _identity(clause: dict) -> tuple:
    return clause["type"], repr(sorted(clause["params"].items())), clause["quote"]


@transaction.atomic
def contract_approve(
    *, version_id: int, actor: AbstractBaseUser, note: str = ""
) -> ContractVersion:
    """Legal approves the draft as it stands: every clause accepted, none banned."""
    version = _reviewable(version_id, actor, deciding=True)
    banned = [c["title"] for c in version.clauses if c["banned"]]
    if banned:
        raise ContractReviewError(f"remove the banned clause(s) first: {', '.join(banned)}")
    if not can_proceed(version.approve):
        raise TransitionNotAllowed(f"contract v{version.number} is {version.state}")
    decided = set(version.decisions.values_list("clause_index", flat=True))
    for index in range(len(version.clauses)):
        if index not in decided:
            ClauseDecision.objects.create(
                version=version, clause_index=index, decided_by=actor, note=note
            )
    before = {"state": version.state}
    version.approve(reason=note or "approved by legal")
    record_change(
        version,
        actor=actor,
        action=Action.CONTRACT_VERSION_APPROVED,
        before=before,
        after={"state": version.state, "content_hash": version.content_hash},
        reason=note,
        history_reason=note or "approved",
    )
    return version


@transaction.atomic
def contract_request_changes(
    *, version_id: int, actor: AbstractBaseUser, reason: str
) -> ContractVersion:
    """Legal sends the deal back; the next draft supersedes this version."""
    if not reason.strip():
        raise ContractReviewError("say why: a reason is required")
    version = _reviewable(version_id, actor, deciding=True)
    audit_record(
        actor=actor,
        obj=version,
        action=Action.CONTRACT_VERSION_CHANGES_REQUESTED,
        data={"number": version.number},
        reason=reason,
    )
    deal_services.deal_request_changes(deal_id=version.deal_id, actor=actor, reason=reason)
    return version
