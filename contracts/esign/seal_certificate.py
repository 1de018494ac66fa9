"""The organisation's sealing identity: the key and certificate that seal executed PDFs.

Production gives a PKCS#12 file (`ESIGN_SEAL_P12` + `ESIGN_SEAL_PASSWORD`). Without one, a
self-signed development certificate is made once under `ESIGN_DEV_SEAL_DIR` and reused, so a
laptop's executed PDFs still verify; the certificate page then says it is not for production.

Trust: a seal is trusted when it was made with exactly this identity's certificate (it is the
only trust root given to the validator), not with any certificate a public CA would accept:
an executed PDF is Dealdesk's own statement, checked by Dealdesk.
"""

import contextlib
import datetime
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from pyhanko.sign.signers import SimpleSigner

DEV_P12_NAME = "development-seal.p12"
DEV_COMMON_NAME = "Dealdesk development seal (not for production)"
# Long enough that a laptop's executed PDFs keep verifying; the validator checks validity now.
DEV_VALIDITY = datetime.timedelta(days=3650)


@dataclass(frozen=True)
class SealIdentity:
    signer: SimpleSigner
    certificate: asn1_x509.Certificate
    is_development: bool


def seal_identity() -> SealIdentity:
    """The configured identity, or the development one; loaded once per configuration."""
    return _load(
        settings.ESIGN_SEAL_P12, settings.ESIGN_SEAL_PASSWORD, str(settings.ESIGN_DEV_SEAL_DIR)
    )


@lru_cache(maxsize=4)  # keyed on the settings, so an override (tests) gets its own identity
def _load(p12_path: str, password: str, dev_dir: str) -> SealIdentity:
    if p12_path:
        return _from_p12(Path(p12_path), password, is_development=False)
    return _from_p12(_development_p12(Path(dev_dir)), "", is_development=True)


def _from_p12(path: Path, password: str, *, is_development: bool) -> SealIdentity:
    try:
        data = path.read_bytes()
        signer = SimpleSigner.load_pkcs12_data(
            data, other_certs=(), passphrase=password.encode() or None
        )
    except (OSError, ValueError) as exc:
        # Said at first use rather than at start-up: every web worker would otherwise read it.
        raise ImproperlyConfigured(
            f"ESIGN_SEAL_P12 {path} does not load as a PKCS#12 key and certificate with "
            f"ESIGN_SEAL_PASSWORD: {exc}"
        ) from exc
    if signer.signing_cert is None:
        raise ImproperlyConfigured(f"ESIGN_SEAL_P12 {path} holds no certificate")
    return SealIdentity(
        signer=signer, certificate=signer.signing_cert, is_development=is_development
    )


def _development_p12(directory: Path) -> Path:
    """The development PKCS#12 under `directory`, made on first use, readable by us only."""
    path = directory / DEV_P12_NAME
    if path.exists():
        return path
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    # mkstemp makes the file 0600; link() publishes it only if no other process (a worker
    # starting at the same moment) got there first, and then everyone uses that one.
    fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=".seal-", suffix=".p12")
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(_self_signed_p12())
        with contextlib.suppress(FileExistsError):
            os.link(tmp_name, path)
    finally:
        os.unlink(tmp_name)
    return path


def _self_signed_p12() -> bytes:
    # P-256: pyHanko loads the key again for every signature, and loading an RSA key checks
    # it (tens of ms); an EC key loads at once. PAdES readers (Acrobat, EU DSS) accept ECDSA.
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, DEV_COMMON_NAME),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, settings.CONTRACT_PROVIDER["name"]),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + DEV_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        # What a seal's certificate carries: signatures that commit to content.
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return pkcs12.serialize_key_and_certificates(
        b"dealdesk-development-seal",
        key,
        certificate,
        None,
        serialization.NoEncryption(),
    )
