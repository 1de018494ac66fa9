"""Production log-ins through the real simple-salesforce client, against the local fake:
OAuth JWT bearer and username/password, and logging in again when the session expires."""

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from dealdesk.crm.models import SyncRun
from dealdesk.crm.sync import crm_sync
from dealdesk.models import Deal

pytestmark = pytest.mark.django_db


@pytest.fixture
def logging_in(fake_salesforce, settings):
    """The fake Salesforce with no session given: the backend must log in."""
    settings.SALESFORCE_SESSION_ID = ""
    settings.SALESFORCE_LOGIN_URL = fake_salesforce.url
    settings.SALESFORCE_USERNAME = "integration@acme.example"
    fake_salesforce.session_ids.clear()
    return fake_salesforce


@pytest.fixture
def jwt_login(logging_in, settings, tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "salesforce.key"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    logging_in.jwt_client = ("3MVG9-consumer-key", settings.SALESFORCE_USERNAME, public)
    settings.SALESFORCE_CONSUMER_KEY = "3MVG9-consumer-key"
    settings.SALESFORCE_PRIVATE_KEY_FILE = str(key_file)
    return logging_in


def sync(capture) -> SyncRun:
    with capture(execute=True):
        return crm_sync()


def test_jwt_bearer_log_in_and_again_once_when_the_session_expires(
    jwt_login, catalog, django_capture_on_commit_callbacks
):
    run = sync(django_capture_on_commit_callbacks)
    assert run.status == "succeeded", run.errors
    assert Deal.objects.count() == 2
    assert jwt_login.logins == ["jwt"]

    jwt_login.failures = [401]  # the new run's session expires at its first request
    run = sync(django_capture_on_commit_callbacks)
    assert run.status == "succeeded", run.errors
    assert jwt_login.logins == ["jwt", "jwt", "jwt"]  # each run logs in, then once again


def test_a_jwt_signed_with_another_key_is_refused_with_a_clear_error(
    jwt_login, catalog, django_capture_on_commit_callbacks
):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    consumer_key, username, _ = jwt_login.jwt_client
    jwt_login.jwt_client = (
        consumer_key,
        username,
        other.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    )
    run = sync(django_capture_on_commit_callbacks)
    assert run.status == "failed"
    assert run.errors[0].startswith("Salesforce log-in failed:"), run.errors
    assert not Deal.objects.exists()


def test_username_password_log_in(
    logging_in, catalog, django_capture_on_commit_callbacks, settings
):
    settings.SALESFORCE_PASSWORD, settings.SALESFORCE_SECURITY_TOKEN = "s3cret&<pw>", "TOKEN42"
    logging_in.passwords[settings.SALESFORCE_USERNAME] = "s3cret&<pw>TOKEN42"
    run = sync(django_capture_on_commit_callbacks)
    assert run.status == "succeeded", run.errors
    assert logging_in.logins == ["password"]
    assert Deal.objects.count() == 2

    settings.SALESFORCE_SECURITY_TOKEN = "OLD-TOKEN"
    run = sync(django_capture_on_commit_callbacks)
    assert run.status == "failed"
    assert "INVALID_LOGIN" in run.errors[0], run.errors
