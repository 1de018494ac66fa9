"""`manage.py verify_executed DEAL`: does the deal's executed contract still prove what was
signed? Each check prints one line; the command fails naming the checks that did not hold,
and exits 2 when the deal has no executed contract at all.

Read-only: files are hashed with `contracts.selectors.stored_bytes`, not read through
`verified_document`, which records a tamper event, so an auditor can run it against
production or a copy of it. The audit event it compares with is trusted as stored; `manage.py verify_audit` proves the
chain it sits in.
"""

import json
from dataclasses import asdict, dataclass

from django.core.management.base import BaseCommand, CommandError
from django.db.models.fields.files import FieldFile

from audit.actions import Action, action_names
from audit.selectors import audit_events_for
from contracts.esign.executed import verify_executed_pdf
from contracts.esign.models import Backend, R, SignatureRequest
from contracts.selectors import MISSING, stored_bytes
from dealdesk.management.deal_argument import deal_from_argument

NO_EXECUTED_CONTRACT = 2


@dataclass(frozen=True)
class Check:
    check: str
    problem: str = ""  # empty: the check holds

    @property
    def ok(self) -> bool:
        return not self.problem


def _file_check(name: str, file: FieldFile, actual: str, recorded: str) -> Check:
    if actual == MISSING:
        return Check(name, f"the stored file {file.name or '(none)'} is missing")
    if actual != recorded:
        return Check(name, f"{file.name} hashes to {actual}, the request records {recorded}")
    return Check(name)


def _recorded(actual: str | None) -> str:
    return "(file missing)" if actual in (None, MISSING) else actual


def _audit_check(request: SignatureRequest, executed: str, certificate: str | None) -> Check:
    """The completed event is the record written when the file was stored: a file replaced
    later, with its hash column updated to match, still differs from it."""
    events = audit_events_for(obj=request).filter(
        action__in=action_names(Action.SIGNATURE_REQUEST_COMPLETED)
    )
    if not events:
        return Check("audit log", "no signature_request.completed event records this request")
    expected = {"sha256": _recorded(executed), "document_sha256": request.document_sha256}
    if request.backend == Backend.DOCUSIGN:
        expected["certificate_sha256"] = _recorded(certificate)
    problems = [
        f"event #{event.seq} records {key} {event.data.get(key)}, the stored one is {value}"
        for event in events
        for key, value in expected.items()
        if event.data.get(key) != value
    ]
    return Check("audit log", "; ".join(problems))


def _approved_checks(request: SignatureRequest) -> list[Check]:
    """The document signed is the approved version, whose stored PDF is still those bytes."""
    version = request.version
    return [
        Check(
            "approved version's hash",
            ""
            if request.document_sha256 == version.pdf_sha256
            else f"the request signed {request.document_sha256}, contract v{version.number} "
            f"was approved as {version.pdf_sha256}",
        ),
        _file_check("approved PDF", version.pdf, stored_bytes(version.pdf)[1], version.pdf_sha256),
    ]


def _backend_checks(
    request: SignatureRequest, executed: bytes | None, certificate: str | None
) -> list[Check]:
    if request.backend == Backend.LOCAL:
        if executed is None:
            return [Check("seal", "no executed file to check")]
        # Expected: the request's hash, itself compared with the version's above.
        problems = verify_executed_pdf(executed, expected_document_sha256=request.document_sha256)
        return [Check("seal", "; ".join(problems))]
    if request.backend == Backend.DOCUSIGN:
        return [
            _file_check(
                "certificate of completion",
                request.certificate_pdf,
                certificate,
                request.certificate_sha256,
            )
        ]
    if request.confirmed_by_id is None:
        problem = "nobody in Legal confirmed the uploaded contract"
    elif request.confirmed_by_id == request.uploaded_by_id:
        problem = f"{request.confirmed_by} confirmed the contract they uploaded themselves"
    else:
        problem = ""
    return [Check("Legal's confirmation", problem)]


def executed_checks(request: SignatureRequest) -> list[Check]:
    # Each stored file read and hashed once (its hash, or MISSING when it is gone).
    executed, executed_sha = stored_bytes(request.executed_pdf)
    certificate = (
        stored_bytes(request.certificate_pdf)[1] if request.backend == Backend.DOCUSIGN else None
    )
    return [
        _file_check("executed file", request.executed_pdf, executed_sha, request.executed_sha256),
        _audit_check(request, executed_sha, certificate),
        *_approved_checks(request),
        *_backend_checks(request, None if executed_sha == MISSING else executed, certificate),
    ]


class Command(BaseCommand):
    help = (
        "Check a deal's executed contract: its file against the stored and audited hashes, "
        "the seal (local), DocuSign's certificate or Legal's confirmation (paper), and the "
        "approved version it was made from. Exit 1 naming what fails, 2 if nothing was executed."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("deal", help="the deal's id or CRM id")
        parser.add_argument("--json", action="store_true", help="print the checks as JSON")

    def handle(self, *args, deal: str, **options) -> None:
        found = deal_from_argument(deal)
        request = (
            SignatureRequest.objects.filter(deal=found, state=R.COMPLETED)
            .select_related("version", "confirmed_by")
            .first()
        )
        if request is None:
            raise CommandError(
                f"deal {found.crm_id} has no executed contract", returncode=NO_EXECUTED_CONTRACT
            )
        checks = executed_checks(request)
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "deal": {"id": found.pk, "crm_id": found.crm_id},
                        "request": str(request.public_id),
                        "backend": request.backend,
                        "ok": all(c.ok for c in checks),
                        "checks": [{**asdict(c), "ok": c.ok} for c in checks],
                    },
                    indent=2,
                )
            )
        else:
            self.stdout.write(
                f"Deal {found.crm_id}, contract v{request.version.number}, signature request "
                f"{request.public_id} ({request.get_backend_display()}):"
            )
            for c in checks:
                self.stdout.write(f"  {c.check}: " + ("ok" if c.ok else f"FAIL: {c.problem}"))
        if failed := [c.check for c in checks if not c.ok]:
            raise CommandError(
                f"deal {found.crm_id}'s executed contract fails: {', '.join(failed)}"
            )
        if not options["json"]:
            self.stdout.write(f"Deal {found.crm_id}'s executed contract verifies.")
