"""Django's flush, able to empty the audit log in a test database on PostgreSQL.

flush TRUNCATEs every table, and the audit event table's trigger refuses TRUNCATE, so every
transactional test (`django_db(transaction=True)`, `live_server`) would fail in teardown on
PostgreSQL. For a test database only ("test_" prefix, which Django's test runner gives it),
this runs the flush with `session_replication_role = replica`, in which ordinary triggers do
not fire; setting it needs superuser rights, so the application's own role cannot use the
same door. Anywhere else flush still fails on the trigger.
"""

from django.core.management.commands import flush
from django.db import connections, transaction
from django.db.backends.base.creation import TEST_DATABASE_PREFIX


class Command(flush.Command):
    def handle(self, **options):
        connection = connections[options["database"]]
        is_test_db = str(connection.settings_dict["NAME"]).startswith(TEST_DATABASE_PREFIX)
        if connection.vendor != "postgresql" or not is_test_db:
            return super().handle(**options)
        with transaction.atomic(using=connection.alias):
            with connection.cursor() as cursor:
                # SET LOCAL: gone when this transaction ends.
                cursor.execute("SET LOCAL session_replication_role = replica")
            return super().handle(**options)
