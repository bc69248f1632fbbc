"""The vocabulary a word still being typed is expanded from (bench/README.md, "Inquiries"):
a prefix match makes PostgreSQL recheck every candidate message by re-parsing it (p95 609 ms at
5,000,000 messages); the same words as an OR of whole lexemes are answered by the GIN index
exactly (15 ms). The prefix index is PostgreSQL's ``varchar_pattern_ops`` (LIKE 'cla%')."""

from django.db import migrations, models


def _prefix_index(forward: bool):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        if forward:
            schema_editor.execute(
                "CREATE INDEX IF NOT EXISTS searchterm_prefix_idx ON inquiries_searchterm (word varchar_pattern_ops)"
            )
        else:
            schema_editor.execute("DROP INDEX IF EXISTS searchterm_prefix_idx")

    return apply


class Migration(migrations.Migration):
    dependencies = [("inquiries", "0003_queue_due_indexes_fts_statistics")]

    operations = [
        migrations.CreateModel(
            name="SearchTerm",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("word", models.CharField(max_length=100, unique=True)),
                ("documents", models.PositiveIntegerField(default=0)),
            ],
            options={"verbose_name": "search term", "verbose_name_plural": "search terms"},
        ),
        migrations.RunPython(_prefix_index(True), _prefix_index(False)),
    ]
