"""Reads for Deal Desk's signature screens: a deal's signature panel and the "Out for
signature" list, each in a fixed number of queries, and the executed files, served only while
they still hash to what was stored."""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import Coalesce

from audit.actions import Action
from contracts.esign.models import Backend, R, SignatureRequest, Signer, SignerState
from contracts.esign.selectors import COUNTERSIGNER, CUSTOMER
from contracts.esign.signers import next_signers
from contracts.selectors import checked_bytes
from dealdesk.paging import sorted_by
from dealdesk.roles import sees_all_deals

log = logging.getLogger(__name__)

# Signers asked and not yet answered: who a request waits on.
ASKED = [SignerState.NOTIFIED, SignerState.VIEWED]
WAITING_FILTERS = {
    "customer": "Waiting on the customer",
    "us": "Waiting on us",
    "blocked": "Blocked",
}
LIST_SORTS = {"since": "since", "expires": "expires_at"}
# The ones waiting longest first: those are the ones to chase.
DEFAULT_LIST_SORT = "since"


def _signers_in_order() -> Prefetch:
    return Prefetch("signers", queryset=Signer.objects.order_by("routing_order", "pk"))


def deal_latest_request(*, deal_id: int) -> SignatureRequest | None:
    """The deal's newest signature request with its signers (two queries), or None."""
    return (
        SignatureRequest.objects.filter(deal_id=deal_id)
        .select_related("uploaded_by", "confirmed_by")
        .prefetch_related(_signers_in_order())
        .order_by("-created_at", "-pk")
        .first()
    )


def _asked(role: str) -> Exists:
    return Exists(Signer.objects.filter(request=OuterRef("pk"), role=role, state__in=ASKED))


def open_requests(
    *, user: AbstractBaseUser, waiting: str = "", sort: str = ""
) -> tuple[QuerySet[SignatureRequest], str]:
    """Requests out for signature and drafts that could not go out, filtered by whom they
    wait on, ordered by `sort` (LIST_SORTS), and the sort applied. Rows come with their deal,
    account and signers."""
    rows = (
        SignatureRequest.objects.filter(
            Q(state=R.SENT) | (Q(state=R.DRAFT) & ~Q(blocked_reason=""))
        )
        .select_related("deal__account")
        .prefetch_related(_signers_in_order())
        .annotate(since=Coalesce("sent_at", "created_at"))
    )
    if not sees_all_deals(user):
        rows = rows.filter(deal__owner=user)
    sent = Q(state=R.SENT)
    if waiting == "customer":
        rows = rows.filter(sent & _asked(CUSTOMER))
    elif waiting == "us":
        # Our countersigner, or Legal's check of a contract signed on paper.
        rows = rows.filter(sent & (_asked(COUNTERSIGNER) | Q(backend=Backend.PAPER)))
    elif waiting == "blocked":
        rows = rows.filter(state=R.DRAFT)
    return sorted_by(rows, sort=sort, sorts=LIST_SORTS, default=DEFAULT_LIST_SORT)


@dataclass(frozen=True)
class WaitingOn:
    """Who a request waits on, in words for the list: "Ana Ruiz (customer)", since when."""

    who: str
    since: datetime | None


def waiting_on(request: SignatureRequest) -> list[WaitingOn]:
    """From the request's prefetched signers: no query."""
    if request.state == R.DRAFT:
        return [WaitingOn("Deal Desk (could not be sent)", request.created_at)]
    if request.backend == Backend.PAPER:
        return [WaitingOn("Legal (to confirm the paper contract)", request.sent_at)]
    return [
        WaitingOn(f"{signer.name} ({signer.get_role_display().lower()})", signer.notified_at)
        for signer in next_signers(request)
        if signer.state in ASKED
    ]


# --- executed files -----------------------------------------------------------------------

EXECUTED_FILES = {
    "executed": ("executed_pdf", "executed_sha256"),
    "certificate": ("certificate_pdf", "certificate_sha256"),
}


class StoredFileTampered(Exception):
    """An executed file's bytes no longer hash to what was stored: it is not served."""


def executed_file(*, request: SignatureRequest, kind: str, actor=None) -> bytes:
    """The bytes of the request's executed PDF ("executed") or DocuSign certificate
    ("certificate"), only if they still hash to the SHA-256 recorded when they were stored.
    FileNotFoundError when the request has no such file."""
    field, hash_field = EXECUTED_FILES[kind]
    file, expected = getattr(request, field), getattr(request, hash_field)
    if not file:
        raise FileNotFoundError(kind)
    content, actual = checked_bytes(
        file,
        expected,
        obj=request,
        action=Action.SIGNATURE_REQUEST_FILE_TAMPERED,
        kind=kind,
        actor=actor,
    )
    if actual == expected:
        return content
    log.error(
        "signature request %s: stored %s %s hashes to %s", request.pk, kind, file.name, actual
    )
    raise StoredFileTampered(
        f"The {'executed contract' if kind == 'executed' else 'certificate'} stored for this "
        "deal is not the file that was signed: its bytes changed since (expected SHA-256 "
        f"{expected[:12]}…, found {actual[:12]}…). It is not served; tell an administrator."
    )
