"""PostgreSQL: a commit that wrote outbox rows NOTIFYs the outbox relay (core/outbox.py).

A statement-level trigger, so a request that enqueues several tasks sends one notice (and
PostgreSQL folds identical notices of one transaction into one); notices are delivered at
commit only, never for a rolled-back change. Nothing on other databases: the relay polls.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION core_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('linli_outbox', '');
    RETURN NULL;
END $$;
CREATE TRIGGER core_outbox_notify AFTER INSERT ON core_outbox_message
    FOR EACH STATEMENT EXECUTE FUNCTION core_outbox_notify();
"""
DROP = """
DROP TRIGGER IF EXISTS core_outbox_notify ON core_outbox_message;
DROP FUNCTION IF EXISTS core_outbox_notify();
"""


def _on_postgresql(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("core", "0001_outbox")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
