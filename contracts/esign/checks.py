"""Deploy checks (`manage.py check --deploy`): production seals with the organisation's own
certificate, and the DocuSign backend has every setting it needs."""

from pathlib import Path

from django.conf import settings
from django.core.checks import Error, Tags, register

from contracts.esign.backends import BACKENDS

DOCUSIGN_SETTINGS = (
    "DOCUSIGN_INTEGRATION_KEY",
    "DOCUSIGN_USER_ID",
    "DOCUSIGN_PRIVATE_KEY_FILE",
    "DOCUSIGN_ACCOUNT_ID",
    "DOCUSIGN_CONNECT_HMAC_KEYS",
)


@register(Tags.security, deploy=True)
def check_esign(app_configs, **kwargs):
    backend = settings.ESIGN_BACKEND
    if backend not in BACKENDS or backend == "paper":
        return [
            Error(
                f"ESIGN_BACKEND={backend!r} is not a backend contracts are sent with.",
                hint='Set ESIGN_BACKEND to "local" or "docusign".',
                id="esign.E003",
            )
        ]
    errors = []
    # Every backend may end in an executed PDF we seal (the local one always does).
    p12 = settings.ESIGN_SEAL_P12
    if backend == "local" and not (p12 and Path(p12).is_file()):
        errors.append(
            Error(
                "ESIGN_SEAL_P12 is unset or not a file: executed contracts would be sealed "
                "with a self-signed development certificate.",
                hint="Point ESIGN_SEAL_P12 (and ESIGN_SEAL_PASSWORD) at the organisation's "
                "PKCS#12 sealing certificate from the secret store.",
                id="esign.E001",
            )
        )
    if backend == "docusign":
        missing = [name for name in DOCUSIGN_SETTINGS if not getattr(settings, name)]
        if missing:
            errors.append(
                Error(
                    f"ESIGN_BACKEND=docusign without {', '.join(missing)}.",
                    hint="Set them from DocuSign's admin (Apps and Keys, Connect).",
                    id="esign.E002",
                )
            )
    return errors
