"""Full-text search indexes (PostgreSQL only; SQLite searches with a plain containment)."""

from django.db import migrations

FORWARD = [
    "CREATE INDEX IF NOT EXISTS inquiry_subject_fts ON inquiries_inquiry"
    " USING gin (to_tsvector('simple', subject))",
    "CREATE INDEX IF NOT EXISTS message_body_fts ON inquiries_message USING gin (to_tsvector('simple', body))",
]
BACKWARD = ["DROP INDEX IF EXISTS inquiry_subject_fts", "DROP INDEX IF EXISTS message_body_fts"]


def _run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [("inquiries", "0001_inquiries")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
