"""Settings come from the environment; production-like variables pass `check --deploy`."""

import os
import subprocess
import sys
from pathlib import Path

from contracts.esign.seal_certificate import _self_signed_p12

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k3y-" + "x7Qp2vLm9Zr4Tn8Wb6Yc1Hd5Jf0Gs3Ka" * 2,
    "ALLOWED_HOSTS": "dealdesk.example.com",
    "DATABASE_URL": "postgres://dealdesk:pw@db.internal:5432/dealdesk",
    "CELERY_BROKER_URL": "redis://redis.internal:6379/0",
    "EMAIL_URL": "smtp+tls://mailer:pw@smtp.example.com:587",
    "AUDIT_CHAIN_KEY": "chain-" + "Rk7Lp3Xw9Qm2Zt6Vb1Nc5Hy8Jd4Gf0Sa" * 2,
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    # A clean environment: the test run's own variables (tests/conftest.py) stay behind.
    clean = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    return subprocess.run(  # noqa: S603 - fixed argv, our own manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_env(directory: Path) -> dict[str, str]:
    """PRODUCTION with the organisation's sealing certificate (a file) written to `directory`."""
    path = directory / "seal.p12"
    path.write_bytes(_self_signed_p12())
    return {**PRODUCTION, "ESIGN_SEAL_P12": str(path)}


def test_check_deploy_passes_with_production_variables(tmp_path):
    env = production_env(tmp_path)
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_wants_the_organisations_seal_and_docusigns_settings(tmp_path):
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode != 0
    assert "esign.E001" in result.stderr + result.stdout
    env = {**PRODUCTION, "ESIGN_BACKEND": "docusign"}
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert "esign.E002" in result.stderr + result.stdout
    assert "DOCUSIGN_CONNECT_HMAC_KEYS" in result.stderr + result.stdout


def test_check_deploy_fails_on_the_laptop_defaults():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env={"DEBUG": "true"})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr + result.stdout


def test_database_and_broker_come_from_the_environment():
    script = (
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER)"
    )
    result = _manage("shell", "-c", script, env=PRODUCTION)
    assert result.stdout.split()[-2:] == ["django.db.backends.postgresql", "False"]
    laptop = {"DEBUG": "true", "DATABASE_URL": "sqlite:////tmp/x.sqlite3"}
    result = _manage("shell", "-c", script, env=laptop)
    assert result.stdout.split()[-2:] == ["django.db.backends.sqlite3", "True"]


def test_passwords_are_hashed_with_argon2id_and_older_hashes_still_verify():
    # check_password's setter is how a login rehashes an older hash with the first hasher.
    script = (
        "from django.contrib.auth.hashers import PBKDF2PasswordHasher, check_password, make_password;"
        "old = PBKDF2PasswordHasher().encode('s3cret-pass', 'somesalt');"
        "new = make_password('s3cret-pass');"
        "rehashed = [];"
        "print(new.split('$')[1], check_password('s3cret-pass', new),"
        " check_password('s3cret-pass', old, setter=rehashed.append), rehashed == ['s3cret-pass'])"
    )
    result = _manage("shell", "-c", script, env=PRODUCTION)
    assert result.stdout.split()[-4:] == ["argon2id", "True", "True", "True"], result.stderr
