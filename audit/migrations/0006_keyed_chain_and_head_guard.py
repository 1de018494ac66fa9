"""The keyed chain's cut-over, pgcrypto for HMACs in SQL, and the chain head's guard trigger.

Events written so far keep their plain SHA-256 hashes: the cut-over (`hmac_from_seq`) is the
next seq, sealed with AUDIT_CHAIN_KEY (audit.chain.cutover_seal), so it cannot be moved later
without the key. The migration therefore runs with the production key set.

The head guard lets the application move the head only as an append does (seq forward, each
appended event chained on the old hash); deletes and TRUNCATE are refused. As with the
events' trigger (0002), only the tables' owner or a superuser can switch it off.
"""

from django.db import migrations, models

# Imported, not frozen: the seal must be exactly what verification recomputes.
from audit.chain import cutover_seal

CREATE_GUARD = [
    # Trusted since PostgreSQL 13: the database owner may create it, no superuser needed.
    "CREATE EXTENSION IF NOT EXISTS pgcrypto",
    """
CREATE FUNCTION audit_chain_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        -- A writer's lock-taking no-op (audit.services._lock_head).
        IF NEW IS NOT DISTINCT FROM OLD THEN
            RETURN NEW;
        END IF;
        -- A bulk append: its events are inserted before the head moves onto the last one.
        IF NEW.id = OLD.id
            AND NEW.hmac_from_seq = OLD.hmac_from_seq
            AND NEW.hmac_from_seal = OLD.hmac_from_seal
            AND NEW.last_seq > OLD.last_seq
            AND (SELECT count(*) FROM audit_auditevent
                 WHERE seq > OLD.last_seq AND seq <= NEW.last_seq) = NEW.last_seq - OLD.last_seq
            AND EXISTS (SELECT 1 FROM audit_auditevent
                        WHERE seq = OLD.last_seq + 1 AND prev_hash = OLD.last_hash)
            AND EXISTS (SELECT 1 FROM audit_auditevent
                        WHERE seq = NEW.last_seq AND hash = NEW.last_hash
                          AND prev_hash = NEW.last_prev_hash)
        THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'the audit chain head moves only forward, by an append'
        USING HINT = TG_OP || ' is refused';
END
$$""",
    # The one-statement append (seq + 1, chained on the old hash) is decided here, in the
    # WHEN clause, without calling the function: it is every event's cost.
    """CREATE TRIGGER audit_chain_head_guard_row
    BEFORE UPDATE ON audit_auditchainhead FOR EACH ROW
    WHEN (NOT (
        NEW.id = OLD.id
        AND NEW.hmac_from_seq = OLD.hmac_from_seq
        AND NEW.hmac_from_seal = OLD.hmac_from_seal
        AND NEW.last_seq = OLD.last_seq + 1
        AND NEW.last_prev_hash = OLD.last_hash
    ))
    EXECUTE FUNCTION audit_chain_head_guard()""",
    """CREATE TRIGGER audit_chain_head_guard_delete
    BEFORE DELETE ON audit_auditchainhead
    FOR EACH ROW EXECUTE FUNCTION audit_chain_head_guard()""",
    """CREATE TRIGGER audit_chain_head_guard_truncate
    BEFORE TRUNCATE ON audit_auditchainhead
    FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_head_guard()""",
]

DROP_GUARD = [
    "DROP TRIGGER IF EXISTS audit_chain_head_guard_truncate ON audit_auditchainhead",
    "DROP TRIGGER IF EXISTS audit_chain_head_guard_delete ON audit_auditchainhead",
    "DROP TRIGGER IF EXISTS audit_chain_head_guard_row ON audit_auditchainhead",
    "DROP FUNCTION IF EXISTS audit_chain_head_guard()",
    # pgcrypto stays: dropping an extension others may use is not this migration's call.
]


def seal_cutover(apps, schema_editor):
    AuditChainHead = apps.get_model("audit", "AuditChainHead")
    for head in AuditChainHead.objects.using(schema_editor.connection.alias):
        head.hmac_from_seq = head.last_seq + 1
        head.hmac_from_seal = cutover_seal(head.hmac_from_seq)
        head.save(update_fields=["hmac_from_seq", "hmac_from_seal"])


def create_guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in CREATE_GUARD:
            schema_editor.execute(sql, params=None)


def drop_guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in DROP_GUARD:
            schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_actor_without_db_constraint")]

    operations = [
        migrations.AddField(
            model_name="auditchainhead",
            name="hmac_from_seal",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="auditchainhead",
            name="hmac_from_seq",
            field=models.PositiveBigIntegerField(default=1),
        ),
        # Before the guard: it forbids changing the cut-over once set.
        migrations.RunPython(seal_cutover, migrations.RunPython.noop),
        migrations.RunPython(create_guard, drop_guard),
    ]
