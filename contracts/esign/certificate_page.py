"""The certificate page appended to an executed contract: who signed what, when, from where.

Drawn like the contract itself (`contracts.rendering.render_pdf`: the document engine with
every value escaped once, WeasyPrint fetching only our static files, refused if a character
would print as a box), from a typed record so the page and the record embedded in the PDF
(`contracts.esign.executed`) come from the same values.
"""

import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings

from contracts.rendering import render_pdf

TEMPLATE_PATH = Path(__file__).resolve().parents[1] / "document_templates" / "certificate_page.html"
DEVELOPMENT_SEAL_NOTICE = "Sealed with a development certificate: not for production"
# C0/C1 controls have no printed form (render_pdf refuses them); a user agent header or a
# pasted name may carry one, and a signer must not be able to block the executed PDF with it.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class SignerRecord:
    name: str
    email: str
    role: str
    signed_at: datetime
    ip: str
    user_agent: str
    consent_text: str
    typed_name: str


@dataclass(frozen=True)
class SigningRecord:
    request_id: str
    # SHA-256 (hex) of the approved PDF's bytes, as the audit log recorded them.
    document_sha256: str
    signers: tuple[SignerRecord, ...]
    completed_at: datetime
    development_seal: bool

    def as_json_dict(self) -> dict[str, Any]:
        """Plain JSON values: what the executed PDF embeds for `verify_executed_pdf`."""
        return asdict(self, dict_factory=_json_values)


def _json_values(items: list[tuple[str, Any]]) -> dict[str, Any]:
    return {key: _utc_iso(value) if isinstance(value, datetime) else value for key, value in items}


def _utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%d %B %Y, %H:%M:%S UTC").lstrip("0")


def _printable(text: str) -> str:
    return _CONTROL_CHARACTERS.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def certificate_page_context(record: SigningRecord) -> dict[str, Any]:
    return {
        "provider": settings.CONTRACT_PROVIDER["name"],
        "request_id": _printable(record.request_id),
        "document_sha256": record.document_sha256,
        "completed_at": _utc_text(record.completed_at),
        "development_seal_notice": DEVELOPMENT_SEAL_NOTICE if record.development_seal else "",
        "signers": [
            {
                "name": _printable(signer.name),
                "typed_name": _printable(signer.typed_name),
                "email": _printable(signer.email),
                "role": _printable(signer.role),
                "signed_at": _utc_text(signer.signed_at),
                "ip": _printable(signer.ip),
                "user_agent": _printable(signer.user_agent),
                "consent_text": _printable(signer.consent_text),
            }
            for signer in record.signers
        ],
    }


def certificate_page_pdf(record: SigningRecord) -> bytes:
    return render_pdf(TEMPLATE_PATH.read_text(encoding="utf-8"), certificate_page_context(record))
