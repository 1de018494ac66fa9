from django.conf import settings
from django.core.checks import Error, Tags, register

from audit.chain import LAPTOP_CHAIN_KEY

# Shorter than this, a key could be guessed offline from one event and its hash.
MIN_CHAIN_KEY_LENGTH = 32


@register(Tags.security, deploy=True)
def check_chain_key(app_configs, **kwargs):
    key = settings.AUDIT_CHAIN_KEY
    if key and key != LAPTOP_CHAIN_KEY and len(key) >= MIN_CHAIN_KEY_LENGTH:
        return []
    return [
        Error(
            "AUDIT_CHAIN_KEY is unset, the laptop key or shorter than "
            f"{MIN_CHAIN_KEY_LENGTH} characters: anyone with write access to the database "
            "could rewrite the audit log and recompute its hashes.",
            hint="Set AUDIT_CHAIN_KEY from the secret store, never from the database.",
            id="audit.E001",
        )
    ]
