"""The chain head row, and on PostgreSQL a trigger that makes audit events append-only.

The trigger stops the application (ORM or raw SQL) from changing history; someone with owner
or superuser rights can still disable it, and then `manage.py verify_audit` finds the change.
There is deliberately no setting that lets the application's own role past it: the test
database's flush switches triggers off as a superuser (audit/management/commands/flush.py).
"""

from django.db import migrations

GENESIS_HASH = "0" * 64  # audit.chain.GENESIS_HASH, frozen here as migrations must be

CREATE_TRIGGERS = [
    """
CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only' USING HINT = TG_OP || ' is refused';
END
$$""",
    """CREATE TRIGGER audit_event_append_only_row
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()""",
    """CREATE TRIGGER audit_event_append_only_truncate
    BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()""",
]

DROP_TRIGGERS = [
    "DROP TRIGGER IF EXISTS audit_event_append_only_truncate ON audit_auditevent",
    "DROP TRIGGER IF EXISTS audit_event_append_only_row ON audit_auditevent",
    "DROP FUNCTION IF EXISTS audit_event_append_only()",
]


def create_head(apps, schema_editor):
    AuditChainHead = apps.get_model("audit", "AuditChainHead")
    AuditChainHead.objects.using(schema_editor.connection.alias).get_or_create(
        pk=1, defaults={"last_seq": 0, "last_hash": GENESIS_HASH}
    )


def delete_head(apps, schema_editor):
    AuditChainHead = apps.get_model("audit", "AuditChainHead")
    AuditChainHead.objects.using(schema_editor.connection.alias).filter(pk=1).delete()


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in CREATE_TRIGGERS:
            schema_editor.execute(sql, params=None)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in DROP_TRIGGERS:
            schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.RunPython(create_head, delete_head),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
