"""docs/deploy.md's backup and restore: a pg_dump restored into an empty database passes
`verify_audit` against the anchors; one taken before the newest anchor fails, naming it."""

import os
import subprocess
import sys
import uuid
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from audit.services import audit_record

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _url(name: str) -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{name}"


def _run(*argv: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - fixed argv: the PostgreSQL tools, our manage.py
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture
def restored_database():
    name = f"dealdesk_restore_{uuid.uuid4().hex[:8]}"
    created = _run("createdb", f"--maintenance-db={_url('postgres')}", name)
    assert created.returncode == 0, created.stderr
    yield name
    _run("dropdb", f"--maintenance-db={_url('postgres')}", "--force", name)


def _events(actor, count: int) -> None:
    for n in range(count):
        audit_record(actor=actor, action="deal.changed", obj=actor, data={"n": n})


def test_a_restored_dump_passes_verify_audit_and_an_older_one_names_the_loss(
    django_user_model, settings, tmp_path, restored_database
):
    anchors = tmp_path / "audit-anchors.jsonl"
    settings.AUDIT_ANCHOR_URL = anchors.as_uri()
    alice = django_user_model.objects.create_user(username="alice", password="x-unused-x")
    _events(alice, 5)
    call_command("anchor_audit", stdout=StringIO())

    dump = tmp_path / "dealdesk.dump"
    dumped = _run(
        "pg_dump",
        "--format=custom",
        "--no-owner",
        f"--file={dump}",
        _url(connection.settings_dict["NAME"]),
    )
    assert dumped.returncode == 0, dumped.stderr
    restored = _run(
        "pg_restore",
        "--no-owner",
        "--exit-on-error",
        f"--dbname={_url(restored_database)}",
        str(dump),
    )
    assert restored.returncode == 0, restored.stderr

    env = {
        **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")},
        "DEBUG": "false",
        "SECRET_KEY": settings.SECRET_KEY,
        "AUDIT_CHAIN_KEY": settings.AUDIT_CHAIN_KEY,
        "AUDIT_ANCHOR_URL": anchors.as_uri(),
        "DATABASE_URL": _url(restored_database),
    }
    verify = [sys.executable, "manage.py", "verify_audit"]
    passed = _run(*verify, env=env)
    assert passed.returncode == 0, passed.stderr
    count = int(passed.stdout.split()[1])
    assert count >= 5

    # Work goes on after the dump and is anchored: the dump now lacks anchored events.
    _events(alice, 3)
    call_command("anchor_audit", stdout=StringIO())
    failed = _run(*verify, env=env)
    assert failed.returncode != 0
    assert "tail truncated" in failed.stderr
    assert f"the events end at seq {count}" in failed.stderr
