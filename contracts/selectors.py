"""Reads for the contract pages, with their joins done."""

import difflib
import hashlib
import io
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.db.models.fields.files import FieldFile
from django.shortcuts import get_object_or_404

from audit.actions import Action
from audit.services import audit_record
from contracts.models import CURRENT_STATES, ContractVersion
from dealdesk.models import Deal
from dealdesk.paging import sorted_by
from dealdesk.selectors import visible_deals


def current_version(deal: Deal) -> ContractVersion | None:
    """The deal's live contract version (draft, in legal review or approved), if any.

    The one query for it: a deal has at most one (constraint `contract_one_current`); its
    typed snapshot is `version.typed_snapshot`.
    """
    return ContractVersion.objects.filter(deal=deal, state__in=CURRENT_STATES).first()


QUEUE_SORTS = {"created": "created_at", "deal": "deal__name", "account": "deal__account__name"}
DEFAULT_QUEUE_SORT = "-created"  # newest first


def contract_queue(
    *, user: AbstractBaseUser, state: str = "legal_review", q: str = "", sort: str = ""
) -> QuerySet[ContractVersion]:
    """The review queue: by default what waits for legal (versions of deals still in review)."""
    versions = ContractVersion.objects.filter(deal__in=visible_deals(user=user))
    if state == "legal_review":
        versions = versions.filter(state=state, deal__state="in_review")
    elif state:
        versions = versions.filter(state=state)
    if q:
        versions = versions.filter(
            Q(deal__name__icontains=q)
            | Q(deal__account__name__icontains=q)
            | Q(deal__crm_id__iexact=q)
        )
    versions = versions.select_related("deal__account", "deal__pattern", "created_by")
    return sorted_by(versions, sort=sort, sorts=QUEUE_SORTS, default=DEFAULT_QUEUE_SORT)[0]


def contract_get(*, user: AbstractBaseUser, pk: int) -> ContractVersion:
    return get_object_or_404(
        ContractVersion.objects.filter(deal__in=visible_deals(user=user)).select_related(
            "deal__account", "deal__pattern", "deal__owner", "template", "created_by", "supersedes"
        ),
        pk=pk,
    )


def deal_contract_versions(*, deal_id: int) -> list[ContractVersion]:
    return list(
        ContractVersion.objects.filter(deal_id=deal_id)
        .select_related("created_by")
        .defer("snapshot", "dropped_clauses")
        .order_by("-number")
    )


@dataclass(frozen=True)
class NoteSegment:
    text: str
    clause_index: int | None  # the clause this text is the quote of


def highlighted_notes(notes: str, clauses: list[dict[str, Any]]) -> list[NoteSegment]:
    """The notes cut into plain text and quotes, each quote pointing at its clause."""
    spans = []
    for index, clause in enumerate(clauses):
        quote = clause.get("quote") or ""
        start = notes.find(quote) if quote else -1
        if start >= 0 and all(start >= e or start + len(quote) <= s for s, e, _ in spans):
            spans.append((start, start + len(quote), index))
    segments, pos = [], 0
    for start, end, index in sorted(spans):
        if start > pos:
            segments.append(NoteSegment(notes[pos:start], None))
        segments.append(NoteSegment(notes[start:end], index))
        pos = end
    if pos < len(notes):
        segments.append(NoteSegment(notes[pos:], None))
    return segments


@dataclass(frozen=True)
class ClauseChange:
    kind: str  # added | removed | changed
    title: str
    before: dict | None
    after: dict | None


def clause_changes(old: list[dict], new: list[dict]) -> list[ClauseChange]:
    """Clause-level differences, matching clauses by type and quote."""

    def key(clause: dict) -> tuple:
        return clause["type"], clause.get("quote", "")

    old_by, new_by = {key(c): c for c in old}, {key(c): c for c in new}
    changes = [
        ClauseChange("removed", c["title"], c["params"], None)
        for k, c in old_by.items()
        if k not in new_by
    ]
    for k, clause in new_by.items():
        if k not in old_by:
            changes.append(ClauseChange("added", clause["title"], None, clause["params"]))
        elif old_by[k]["params"] != clause["params"]:
            changes.append(
                ClauseChange("changed", clause["title"], old_by[k]["params"], clause["params"])
            )
    return changes


def pdf_text(version: ContractVersion) -> str:
    from pypdf import PdfReader  # on first use: a slow import only the diff page needs

    with version.pdf.open("rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def text_diff(old: ContractVersion, new: ContractVersion) -> list[str]:
    """The documents' text changes, as unified-diff lines (headers and context included)."""
    return list(
        difflib.unified_diff(
            pdf_text(old).splitlines(),
            pdf_text(new).splitlines(),
            fromfile=f"v{old.number}",
            tofile=f"v{new.number}",
            lineterm="",
            n=1,
        )
    )


class DocumentTampered(Exception):
    """A contract document's stored bytes differ from the SHA-256 recorded at generation."""


MISSING = "missing"  # what stored_bytes gives as the hash of a file that is gone


def stored_bytes(file: FieldFile) -> tuple[bytes, str]:
    """A stored file's bytes and their SHA-256 hex, or (b"", MISSING) when it is gone."""
    try:
        with file.open("rb") as handle:
            content = handle.read()
    except (FileNotFoundError, ValueError):  # ValueError: the field names no file
        return b"", MISSING
    return content, hashlib.sha256(content).hexdigest()


def checked_bytes(
    file: FieldFile,
    expected: str,
    *,
    obj: models.Model,
    action: Action,
    kind: str,
    actor: AbstractBaseUser | None,
) -> tuple[bytes, str]:
    """A stored file's bytes and their SHA-256; when that is not `expected` (or the file is
    gone) the finding is recorded here, where it is found, as `action` about `obj`, so no
    caller can serve or send it silently. The caller refuses the file."""
    content, actual = stored_bytes(file)
    if actual != expected:
        with transaction.atomic():
            audit_record(
                actor=actor,
                obj=obj,
                action=action,
                data={
                    "kind": kind,
                    "file": file.name,
                    "expected_sha256": expected,
                    "found": actual,
                },
                reason=f"stored {kind} does not match its SHA-256",
            )
    return content, actual


def verified_document(*, version: ContractVersion, kind: str, actor: AbstractBaseUser) -> bytes:
    """The bytes of a version's `kind` ("pdf" or "docx") document, only if they still hash to
    what was generated (and approved): every download and every send reads through here.

    A mismatch (or a missing file) is recorded as an audit event here, where it is found, so
    no caller can serve or send it silently, then raised. The event commits with the
    caller's transaction: call this before opening one that the error would roll back.
    """
    file, expected = (
        (version.pdf, version.pdf_sha256) if kind == "pdf" else (version.docx, version.docx_sha256)
    )
    content, actual = checked_bytes(
        file,
        expected,
        obj=version,
        action=Action.CONTRACT_VERSION_DOCUMENT_TAMPERED,
        kind=kind,
        actor=actor,
    )
    if actual == expected:
        return content
    raise DocumentTampered(
        f"The {kind.upper()} of {version.deal.crm_id} v{version.number} is not the document "
        "that was generated: its bytes changed since (expected SHA-256 "
        f"{expected[:12]}…, found {actual[:12]}…). It is not served; tell an administrator."
    )
