"""Found by bench/run_targets.py at 1,000,000 inquiries (bench/README.md, "Service targets").

A recompute after a policy (or calendar) edit takes its open inquiries in batches of 1,000 by
id: ``status IN (active) AND policy_id = %s AND id > last ORDER BY id LIMIT 1000``. The partial
``(policy_id)`` index of 0005 finds the policy's rows but not in id order, so every batch read and
sorted all of them: 100,000 rows and 125-270 ms per batch in EXPLAIN ANALYZE, 7-16 s of a
36-45 s recompute of 100 batches, growing with the square of the open inquiries. Ending in
``id``, the same indexes give a batch as one range scan in order (about 1 ms). Same for
``(calendar_id)``.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('inquiries', '0006_default_service_policy'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='inquiry',
            name='inquiry_open_policy_idx',
        ),
        migrations.RemoveIndex(
            model_name='inquiry',
            name='inquiry_open_calendar_idx',
        ),
        migrations.AddIndex(
            model_name='inquiry',
            index=models.Index(condition=models.Q(('status__in', ('new', 'open', 'waiting_customer', 'waiting_department'))), fields=['policy', 'id'], name='inquiry_open_policy_idx'),
        ),
        migrations.AddIndex(
            model_name='inquiry',
            index=models.Index(condition=models.Q(('status__in', ('new', 'open', 'waiting_customer', 'waiting_department'))), fields=['calendar', 'id'], name='inquiry_open_calendar_idx'),
        ),
    ]
