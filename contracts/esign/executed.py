"""The executed PDF: the approved contract, its certificate page, sealed (PAdES) by pyHanko.

The signing record travels inside the file as an attached JSON file, written before the seal,
so `verify_executed_pdf` reads the recorded document hash from the sealed bytes instead of
parsing the certificate page's text. The seal is a certification signature that allows no
changes and covers the whole file: any byte changed or appended afterwards is reported.
"""

import asyncio
import hashlib
import io
import json
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from asn1crypto.parser import peek
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader, PdfWriter

from contracts.esign.certificate_page import SigningRecord, certificate_page_pdf
from contracts.esign.seal_certificate import seal_identity

SEAL_FIELD = "DealdeskSeal"
RECORD_ATTACHMENT = "signing-record.json"
# Room for the CMS signature: a certificate chain of a few RSA-4096 certificates fits. Giving
# it spares pyHanko a dry-run signature to measure the size, which doubled the seal's time.
SIGNATURE_BYTES_RESERVED = 16 * 1024

T = TypeVar("T")


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """pyHanko works asynchronously; its sync wrappers call asyncio.run, which refuses a thread
    that already runs an event loop (an ASGI server, Playwright's sync API in the tests). Such
    a caller has the work done on a fresh thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def executed_pdf(approved_pdf: bytes, record: SigningRecord) -> bytes:
    """The approved PDF's pages, then the certificate page, sealed with the organisation's
    certificate. The record must describe exactly these approved bytes."""
    actual = hashlib.sha256(approved_pdf).hexdigest()
    if record.document_sha256 != actual:
        raise ValueError(
            f"the signing record's document hash {record.document_sha256} is not the "
            f"approved PDF's ({actual})"
        )
    identity = seal_identity()
    if record.development_seal != identity.is_development:
        # The page would claim a production seal that is not (or the reverse).
        raise ValueError("the signing record's development_seal does not match the seal used")

    writer = PdfWriter(clone_from=io.BytesIO(approved_pdf))
    writer.append(io.BytesIO(certificate_page_pdf(record)))
    writer.add_attachment(
        RECORD_ATTACHMENT, json.dumps(record.as_json_dict(), sort_keys=True).encode()
    )
    unsealed = io.BytesIO()
    writer.write(unsealed)

    sealed = _run(
        signers.async_sign_pdf(
            IncrementalPdfFileWriter(unsealed),
            signers.PdfSignatureMetadata(
                field_name=SEAL_FIELD,
                subfilter=SigSeedSubFilter.PADES,
                md_algorithm="sha256",
                reason=f"Executed: signing request {record.request_id}",
                certify=True,
                docmdp_permissions=MDPPerm.NO_CHANGES,
            ),
            signer=identity.signer,
            bytes_reserved=SIGNATURE_BYTES_RESERVED,
        )
    )
    return sealed.getvalue()


def verify_executed_pdf(data: bytes, *, expected_document_sha256: str | None = None) -> list[str]:
    """What is wrong with an executed PDF, in words; [] when the seal holds and the record
    names the expected approved document."""
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        seals = [sig for sig in reader.embedded_regular_signatures if sig.field_name == SEAL_FIELD]
    except Exception as exc:  # a damaged file fails in pyHanko's parser in many ways
        return [f"the file cannot be read as a PDF ({exc})"]
    if not seals:
        return ["no seal: the file carries no Dealdesk seal"]
    seal = seals[0]

    identity = seal_identity()
    try:
        status = _run(
            async_validate_pdf_signature(
                seal,
                signer_validation_context=ValidationContext(
                    trust_roots=[identity.certificate], allow_fetching=False
                ),
            )
        )
    except Exception as exc:  # a damaged signature dictionary or CMS blob
        return [f"the seal cannot be checked: {exc}"]

    problems = []
    if not _padding_is_blank(seal):
        problems.append("the file was changed after sealing: the seal's reserved space was altered")
    if not status.intact:
        problems.append(
            "the file was changed after sealing: its content no longer matches the seal"
        )
    elif not status.valid:
        problems.append("the seal's signature is cryptographically invalid")
    elif not status.trusted:  # only meaningful for a signature that holds
        problems.append("the seal was not made with the organisation's sealing certificate")
    if (
        status.coverage != SignatureCoverageLevel.ENTIRE_FILE
        or status.modification_level != ModificationLevel.NONE
    ):
        problems.append("the file was modified after sealing: the seal does not cover all of it")

    recorded = _recorded_document_sha256(data, seal)
    if recorded is None:
        problems.append("the sealed file holds no signing record")
    elif expected_document_sha256 is not None and recorded != expected_document_sha256:
        problems.append(
            f"the sealed record's document hash {recorded} is not the approved version's "
            f"{expected_document_sha256}"
        )
    return problems


def _padding_is_blank(seal) -> bool:
    """The seal's /Contents is the signature then zeros up to the reserved size; those bytes
    are outside what the signature covers and CMS parsers ignore them, so a change there is
    caught only here."""
    contents = bytes(seal.sig_object.raw_get("/Contents"))
    try:
        return not any(contents[peek(contents) :])
    except ValueError:  # not even a DER header: the signature check reports it
        return True


def _recorded_document_sha256(data: bytes, seal) -> str | None:
    """The document hash in the record of the sealed revision (bytes appended after the
    seal, which could carry another record, are not read)."""
    _, _, start, length = (int(n) for n in seal.byte_range)
    try:
        attachments = PdfReader(io.BytesIO(data[: start + length])).attachments
        record = json.loads(attachments[RECORD_ATTACHMENT][0])
        return str(record["document_sha256"])
    except Exception:  # missing, damaged or not our JSON: all mean no usable record
        return None
