"""The executed PDF: approved pages + certificate page, sealed (PAdES); any change is named."""

import asyncio
import datetime
import hashlib
import io
import stat
from concurrent.futures import ThreadPoolExecutor

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pypdf import PdfReader, PdfWriter

from contracts.esign import seal_certificate
from contracts.esign.certificate_page import DEVELOPMENT_SEAL_NOTICE, SignerRecord, SigningRecord
from contracts.esign.executed import executed_pdf, verify_executed_pdf
from contracts.esign.seal_certificate import DEV_P12_NAME, seal_identity

SIGNED_AT = datetime.datetime(2026, 12, 5, 14, 3, 22, tzinfo=datetime.UTC)


@pytest.fixture(scope="module")
def approved_pdf() -> bytes:
    writer = PdfWriter()
    for _ in range(3):
        writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def shared_seal_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("esign")


@pytest.fixture(scope="module")
def development_seal_for_module(shared_seal_dir):
    with override_settings(
        ESIGN_SEAL_P12="", ESIGN_SEAL_PASSWORD="", ESIGN_DEV_SEAL_DIR=shared_seal_dir
    ):
        yield


@pytest.fixture(autouse=True)
def development_seal(settings, shared_seal_dir):
    # One development key for the module: making one is the slow part of a first seal.
    settings.ESIGN_SEAL_P12 = ""
    settings.ESIGN_SEAL_PASSWORD = ""
    settings.ESIGN_DEV_SEAL_DIR = shared_seal_dir


def _signer(**overrides) -> SignerRecord:
    values = {
        "name": "Jordan Signer",
        "email": "jordan@acme.example",
        "role": "Customer signatory",
        "signed_at": SIGNED_AT,
        "ip": "203.0.113.7",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0",
        "consent_text": "I agree to sign this contract electronically.",
        "typed_name": "Jordan Signer",
    }
    return SignerRecord(**{**values, **overrides})


def _record(approved: bytes, *signers: SignerRecord, development_seal: bool = True):
    return SigningRecord(
        request_id="SR-2026-0042",
        document_sha256=hashlib.sha256(approved).hexdigest(),
        signers=signers or (_signer(),),
        completed_at=SIGNED_AT + datetime.timedelta(minutes=5),
        development_seal=development_seal,
    )


@pytest.fixture(scope="module")
def sealed(approved_pdf, development_seal_for_module) -> bytes:
    return executed_pdf(approved_pdf, _record(approved_pdf))


def _flat(text: str) -> str:
    return " ".join(text.split())


def _certificate_text(pdf: bytes) -> str:
    return _flat(PdfReader(io.BytesIO(pdf)).pages[-1].extract_text())


def test_sealed_pdf_verifies_and_keeps_the_approved_pages(sealed, approved_pdf):
    expected = hashlib.sha256(approved_pdf).hexdigest()
    assert verify_executed_pdf(sealed, expected_document_sha256=expected) == []
    assert verify_executed_pdf(sealed) == []
    assert len(PdfReader(io.BytesIO(sealed)).pages) == 3 + 1


def test_seal_is_a_pades_certification_over_the_whole_file(sealed):
    (seal,) = PdfFileReader(io.BytesIO(sealed)).embedded_regular_signatures
    assert seal.field_name == "DealdeskSeal"
    assert seal.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    _, _, start, length = seal.byte_range
    assert start + length == len(sealed)


def test_one_byte_changed_anywhere_fails_verification(sealed):
    # 40 places spread over the file: pages, record, signature, its padding, xref, trailer.
    for position in range(0, len(sealed), len(sealed) // 40):
        damaged = bytearray(sealed)
        damaged[position] ^= 0x01
        assert verify_executed_pdf(bytes(damaged)) != [], position


def test_a_byte_changed_in_the_seals_reserved_space_is_named(sealed):
    (seal,) = PdfFileReader(io.BytesIO(sealed)).embedded_regular_signatures
    _, signed_before, signed_after, _ = seal.byte_range
    damaged = bytearray(sealed)
    # The hex of the zeros after the signature, which the signature itself does not cover.
    damaged[signed_after - 10] = ord("7")
    assert damaged[signed_before:signed_after] != sealed[signed_before:signed_after]
    assert verify_executed_pdf(bytes(damaged)) == [
        "the file was changed after sealing: the seal's reserved space was altered"
    ]


def test_one_byte_changed_in_the_middle_is_named(sealed):
    damaged = bytearray(sealed)
    middle = len(damaged) // 2
    # A byte in the signed content, not in the signature's own hex (the middle of the file is
    # the approved pages and the certificate page; the signature sits at the end).
    (seal,) = PdfFileReader(io.BytesIO(sealed)).embedded_regular_signatures
    assert middle < seal.byte_range[1]
    damaged[middle] ^= 0x01
    assert verify_executed_pdf(bytes(damaged)) == [
        "the file was changed after sealing: its content no longer matches the seal"
    ]


def test_an_incremental_update_after_the_seal_is_named(sealed):
    writer = IncrementalPdfFileWriter(io.BytesIO(sealed))
    info = writer.root  # a change a PDF editor would make, appended as a new revision
    info["/Lang"] = generic.TextStringObject("fr")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    assert verify_executed_pdf(out.getvalue()) == [
        "the file was modified after sealing: the seal does not cover all of it"
    ]


def test_a_byte_appended_after_the_seal_is_named(sealed):
    assert verify_executed_pdf(sealed + b"\n") == [
        "the file was modified after sealing: the seal does not cover all of it"
    ]


def test_unsigned_pdf_has_no_seal(approved_pdf):
    assert verify_executed_pdf(approved_pdf) == ["no seal: the file carries no Dealdesk seal"]


def test_not_a_pdf_is_named():
    (problem,) = verify_executed_pdf(b"hello, not a PDF")
    assert problem.startswith("the file cannot be read as a PDF")


def test_wrong_expected_hash_is_named(sealed, approved_pdf):
    wrong = hashlib.sha256(b"another approved version").hexdigest()
    recorded = hashlib.sha256(approved_pdf).hexdigest()
    assert verify_executed_pdf(sealed, expected_document_sha256=wrong) == [
        f"the sealed record's document hash {recorded} is not the approved version's {wrong}"
    ]


def test_record_must_describe_the_approved_bytes(approved_pdf):
    record = _record(b"some other PDF")
    with pytest.raises(ValueError, match="not the approved PDF's"):
        executed_pdf(approved_pdf, record)


def test_certificate_page_shows_the_signing_facts(sealed, approved_pdf):
    text = _certificate_text(sealed)
    signer = _signer()
    for fact in (
        "Certificate of completion",
        "SR-2026-0042",
        hashlib.sha256(approved_pdf).hexdigest(),
        signer.name,
        signer.email,
        signer.role,
        "5 December 2026, 14:03:22 UTC",  # signed
        "5 December 2026, 14:08:22 UTC",  # completed
        signer.ip,
        signer.user_agent,
        signer.consent_text,
        DEVELOPMENT_SEAL_NOTICE,
    ):
        assert fact in text, fact


def test_every_signer_is_listed(approved_pdf):
    first = _signer(name="Ada Customer", email="ada@acme.example", ip="198.51.100.1")
    second = _signer(name="Ben Provider", email="ben@dealdesk.example", ip="2001:db8::42")
    text = _certificate_text(executed_pdf(approved_pdf, _record(approved_pdf, first, second)))
    for fact in (
        "Signer 1: Ada Customer",
        "Signer 2: Ben Provider",
        "ada@acme.example",
        "198.51.100.1",
        "2001:db8::42",
    ):
        assert fact in text


@pytest.mark.parametrize(
    "name",
    [
        "<script>alert(1)</script>",
        "ACME & Co <KG>",
        "&amp; Sons",
        "株式会社さくらデータ",
        "{{ request_id }} {% if 1 %}",
    ],
)
def test_hostile_names_print_as_text(approved_pdf, name):
    signer = _signer(name=name, typed_name=name, user_agent=f"UA {name}\x01")
    text = _certificate_text(executed_pdf(approved_pdf, _record(approved_pdf, signer)))
    assert f"NAME {name}" in text  # labels print in small capitals
    assert f"UA {name}\\x01" in text  # a control character is shown, not refused


def test_right_to_left_names_print(approved_pdf):
    name = "שרה לוי"
    signer = _signer(name=name, typed_name=name)
    pdf = executed_pdf(approved_pdf, _record(approved_pdf, signer))
    text = _certificate_text(pdf)
    # Text extraction gives Hebrew in visual order: the letters are there, words reversed.
    assert all(word in text or word[::-1] in text for word in name.split())


def test_development_certificate_is_made_once_and_reused(settings, tmp_path):
    settings.ESIGN_DEV_SEAL_DIR = tmp_path / "esign"
    first = seal_identity()
    p12 = tmp_path / "esign" / DEV_P12_NAME
    assert first.is_development
    assert stat.S_IMODE(p12.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "esign").stat().st_mode) == 0o700
    stored = p12.read_bytes()
    seal_certificate._load.cache_clear()  # as a new process would: read from disk again
    second = seal_identity()
    assert p12.read_bytes() == stored
    assert second.certificate.dump() == first.certificate.dump()
    assert [p.name for p in (tmp_path / "esign").iterdir()] == [DEV_P12_NAME]


def _organisation_p12(path, password: bytes) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Dealdesk Software seal")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"seal", key, certificate, None, serialization.BestAvailableEncryption(password)
        )
    )


def test_configured_p12_seals_without_the_development_notice(
    settings, tmp_path, approved_pdf, sealed
):
    _organisation_p12(tmp_path / "seal.p12", b"s3cret")
    settings.ESIGN_SEAL_P12 = str(tmp_path / "seal.p12")
    settings.ESIGN_SEAL_PASSWORD = "s3cret"
    settings.ESIGN_DEV_SEAL_DIR = tmp_path / "no-dev-seal"

    identity = seal_identity()
    assert not identity.is_development
    assert identity.certificate.subject.human_friendly == "Common Name: Dealdesk Software seal"
    pdf = executed_pdf(approved_pdf, _record(approved_pdf, development_seal=False))
    assert verify_executed_pdf(pdf) == []
    assert DEVELOPMENT_SEAL_NOTICE not in _certificate_text(pdf)
    assert not (tmp_path / "no-dev-seal").exists()
    # Trust is the configured certificate only: a development-sealed file is refused.
    assert verify_executed_pdf(sealed) == [
        "the seal was not made with the organisation's sealing certificate"
    ]


def test_record_must_say_which_seal_is_used(approved_pdf):
    with pytest.raises(ValueError, match="development_seal"):
        executed_pdf(approved_pdf, _record(approved_pdf, development_seal=False))


@pytest.mark.parametrize("password", ["wrong", ""])
def test_p12_that_does_not_load_is_refused(settings, tmp_path, password):
    _organisation_p12(tmp_path / "seal.p12", b"s3cret")
    settings.ESIGN_SEAL_P12 = str(tmp_path / "seal.p12")
    settings.ESIGN_SEAL_PASSWORD = password
    with pytest.raises(ImproperlyConfigured, match="ESIGN_SEAL_P12"):
        seal_identity()


def test_missing_p12_is_refused(settings, tmp_path):
    settings.ESIGN_SEAL_P12 = str(tmp_path / "missing.p12")
    with pytest.raises(ImproperlyConfigured, match=r"missing\.p12"):
        seal_identity()


def test_sealing_and_verifying_work_where_an_event_loop_already_runs(approved_pdf):
    # An ASGI server's thread, or Playwright's sync API in this very test run, keeps a loop
    # running; pyHanko's own sync wrappers would refuse it (asyncio.run in a running loop).
    async def in_a_running_loop() -> list[str]:
        sealed = executed_pdf(approved_pdf, _record(approved_pdf))
        return verify_executed_pdf(sealed)

    # On a thread of its own: this one may already run Playwright's loop.
    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(asyncio.run, in_a_running_loop()).result() == []
