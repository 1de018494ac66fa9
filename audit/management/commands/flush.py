"""Django's flush, refused on a database that holds audit events, except a test database.

flush empties every table, the audit log and its chain head included: outside a test
database that is destroying the evidence, so it is refused on SQLite and PostgreSQL alike
(on PostgreSQL the append-only triggers would refuse the TRUNCATE as well).

A test database (PostgreSQL: the "test_" prefix Django's test runner gives it; SQLite: in
memory) is flushed after every transactional test (`django_db(transaction=True)`,
`live_server`). On PostgreSQL that runs with `session_replication_role = replica`, in which
ordinary triggers do not fire; setting it needs superuser rights, so the application's own
role cannot use the same door.
"""

from django.core.management.base import CommandError
from django.core.management.commands import flush
from django.db import connections, transaction
from django.db.backends.base.creation import TEST_DATABASE_PREFIX

from audit.models import AuditEvent


class Command(flush.Command):
    def handle(self, **options):
        connection = connections[options["database"]]
        name = str(connection.settings_dict["NAME"])
        if connection.vendor == "postgresql":
            is_test_db = name.startswith(TEST_DATABASE_PREFIX)
        else:
            is_test_db = connection.vendor == "sqlite" and connection.creation.is_in_memory_db(name)
        if not is_test_db and AuditEvent.objects.using(connection.alias).exists():
            raise CommandError(
                f"refused: {name} holds audit events, and flush would delete the audit log"
            )
        if connection.vendor != "postgresql" or not is_test_db:
            return super().handle(**options)
        with transaction.atomic(using=connection.alias):
            with connection.cursor() as cursor:
                # SET LOCAL: gone when this transaction ends.
                cursor.execute("SET LOCAL session_replication_role = replica")
            return super().handle(**options)
