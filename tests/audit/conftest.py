import pytest
from django.db import connection

from audit.chain import HASHED_FIELDS


@pytest.fixture
def tamper():
    """Raw SQL on the event table behind the app's back, as a database superuser could.

    On PostgreSQL the append-only trigger is switched off around the statement (replica
    mode fires no ordinary triggers; it needs a superuser, as the test database has).
    """

    def run(sql: str, params: tuple = ()) -> None:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(sql, params)
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL session_replication_role = DEFAULT")

    return run


@pytest.fixture
def hashed_fields():
    """The hashed fields of an event as read back from the database."""
    return lambda event: {name: getattr(event, name) for name in HASHED_FIELDS}


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user(username="alice", password="x-unused-x")


@pytest.fixture(autouse=True)
def anchor_file(settings, tmp_path):
    """Each test anchors to a file of its own (tests/settings.py names one that never exists)."""
    path = tmp_path / "audit-anchors.jsonl"
    settings.AUDIT_ANCHOR_URL = path.as_uri()
    return path
