from django.db import migrations, models

# Full-text search over transcripts (console/recording_search.py) on PostgreSQL: a GIN index on the
# very expression the search compiles to, SearchVector("transcription__text",
# config="english"). SQLite, the embedded default, searches with a plain match instead.
SEARCH_INDEX = "transcription_text_search"


def create_search_index(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {SEARCH_INDEX} ON voice_transcription "
            "USING gin (to_tsvector('english'::regconfig, COALESCE(text, '')))"
        )


def drop_search_index(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {SEARCH_INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ('voice', '0003_action_kinds'),
    ]

    operations = [
        migrations.RunPython(create_search_index, drop_search_index),
        migrations.AddField(
            model_name='recording',
            name='archive_name',
            field=models.CharField(blank=True, max_length=255),
        ),
        migrations.AddField(
            model_name='recording',
            name='archive_size',
            field=models.PositiveBigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='recording',
            name='archived_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='recording',
            name='peaks',
            field=models.JSONField(blank=True, null=True),
        ),
    ]
