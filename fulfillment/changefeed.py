"""Change sequence numbers for sync feeds that never skip a row.

A feed ordered by ``updated_at`` loses rows: a transaction that started earlier but commits
later writes an older timestamp than rows a client has already read. Here every change stamps
its row with a *change sequence*:

- PostgreSQL: the writing transaction's id (``pg_current_xact_id()``). A reader only serves rows
  whose id is below the oldest transaction still running (``pg_snapshot_xmin``): everything
  below that horizon has committed or rolled back, so nothing can appear behind a cursor later.
  A long-running writer delays the feed; it never makes it skip.
- SQLite (the embedded default): writers are serialised (immediate transactions), so
  ``max + 1`` taken inside the writing transaction is in commit order; no horizon is needed.
"""

from __future__ import annotations

from django.db import connection, models


class NextChangeSeq(models.Func):
    """``change_seq`` for a row written now, by the current transaction."""

    output_field = models.BigIntegerField()

    def __init__(self, table: str):
        self.table = table
        super().__init__()

    def as_sql(self, compiler, connection, **extra):
        table = connection.ops.quote_name(self.table)  # a model's own table name, quoted
        return f"(SELECT COALESCE(MAX(change_seq), 0) + 1 FROM {table})", []  # noqa: S608

    def as_postgresql(self, compiler, connection, **extra):
        return "pg_current_xact_id()::text::bigint", []


class RowsAfter(models.Func):
    """``(change_seq, id) > (seq, pk)``, as one row comparison: the condition of a feed cursor.

    An index on (change_seq, id) serves a row comparison directly. Written as
    ``change_seq >= seq AND (change_seq > seq OR id > pk)`` it does not: PostgreSQL then reads
    every row of the cursor's change_seq up to the cursor and drops it (all orders written before
    the feed existed share change_seq 0: 600,000 rows read for a page 600,000 orders deep).
    """

    output_field = models.BooleanField()

    def __init__(self, *columns, after: tuple):
        if len(columns) != len(after):
            raise ValueError("one value per column")
        self.after = tuple(after)
        super().__init__(*columns)

    def as_sql(self, compiler, connection, **extra):
        compiled = [compiler.compile(column) for column in self.get_source_expressions()]
        columns = ", ".join(sql for sql, _params in compiled)
        values = ", ".join(["%s"] * len(self.after))
        return f"({columns}) > ({values})", [*(p for _sql, params in compiled for p in params), *self.after]


def safe_horizon() -> int | None:
    """Rows with ``change_seq`` below this are final. None: every committed row is final."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        return cursor.fetchone()[0]
