"""Found by bench/run_inquiries.py at 1,000,000 inquiries and 5,000,000 messages (bench/README.md,
"Inquiries").

* Queues "team" and "unassigned" filter ``tier <= my tier`` and sort by ``(due_at, id)``. The
  ``(tier, due_at, id)`` indexes cannot give that order for a range of tiers, so PostgreSQL
  sorted every active inquiry at those tiers (56,000 for a rep: 163 ms). Indexes led by
  ``(due_at, id)`` give the order; the tier is a filter that most rows pass.
* Full-text search on message bodies: with the default statistics target the planner guessed
  about 4,000 matches for any word it had no statistics for and walked the primary key backwards
  to find the 50 newest, reading all 5,000,000 messages for a word that occurs 50 times (35 s).
  A larger statistics target on the two full-text index expressions lets ANALYZE see rarer
  words, and the planner takes the GIN index for them.
"""

from django.db import migrations

ACTIVE = "status IN ('new', 'open', 'waiting_customer', 'waiting_department')"
FORWARD = [
    f"CREATE INDEX IF NOT EXISTS inquiry_active_due_idx ON inquiries_inquiry (due_at, id) WHERE {ACTIVE}",
    "CREATE INDEX IF NOT EXISTS inquiry_pool_due_idx ON inquiries_inquiry (due_at, id)"
    f" WHERE {ACTIVE} AND assignee_id IS NULL",
]
BACKWARD = ["DROP INDEX IF EXISTS inquiry_active_due_idx", "DROP INDEX IF EXISTS inquiry_pool_due_idx"]
PG_FORWARD = [
    "ALTER INDEX message_body_fts ALTER COLUMN 1 SET STATISTICS 1000",
    "ALTER INDEX inquiry_subject_fts ALTER COLUMN 1 SET STATISTICS 1000",
]
PG_BACKWARD = [
    "ALTER INDEX message_body_fts ALTER COLUMN 1 SET STATISTICS -1",
    "ALTER INDEX inquiry_subject_fts ALTER COLUMN 1 SET STATISTICS -1",
]


def _run(statements, pg_statements):
    def apply(apps, schema_editor):
        for sql in statements:
            schema_editor.execute(sql)
        if schema_editor.connection.vendor == "postgresql":
            for sql in pg_statements:
                schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [("inquiries", "0002_fulltext_search")]

    operations = [migrations.RunPython(_run(FORWARD, PG_FORWARD), _run(BACKWARD, PG_BACKWARD))]
