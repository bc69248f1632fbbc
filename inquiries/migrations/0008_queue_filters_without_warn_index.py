"""Found by bench/run_targets.py at 1,000,000 inquiries (bench/README.md, "Service targets").

The queues' ``sla=attention`` filter is ``warn_at <= now`` on a queue ordered by ``(due_at, id)``.
``warn_at`` (like ``due_at``) is set only on active inquiries, and PostgreSQL multiplies that
condition with ``status IN (active)`` as if they were independent: it expected 120 of the
unassigned queue's inquiries to need attention where 13,599 did. With ``inquiry_warn_idx`` it
then chose to fetch every one of them through that index (with the assignee index, a BitmapAnd)
and sort them for a page of 50: 150-265 ms (p95 180 ms for the unassigned queue of a rep, 37 ms
for "mine"; right after the first recompute, before ANALYZE, 0.6-0.9 s for every queue). Without
the index each queue walks its own ``(…, due_at, id)`` index, where the inquiries needing
attention come first (breached ones are the earliest deadlines): 0.2-1.1 ms for all nine
combinations of queue and filter. Nothing else reads ``warn_at`` by range.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('inquiries', '0007_recompute_scope_indexes'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='inquiry',
            name='inquiry_warn_idx',
        ),
    ]
