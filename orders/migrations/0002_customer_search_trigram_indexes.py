"""Trigram indexes for "who is calling?" lookups (name, email, phone digits contain …).

PostgreSQL only: SQLite (the embedded default) has no pg_trgm, and its tables are small.
"""

from django.db import migrations

INDEXES = {
    "customer_name_trgm_idx": "UPPER((name)::text) gin_trgm_ops",
    "customer_email_trgm_idx": "UPPER((email)::text) gin_trgm_ops",
    "customer_phone_trgm_idx": "phone_digits gin_trgm_ops",
}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON orders_customer USING gin ({expression})"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
