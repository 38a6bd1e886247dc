"""The forecast throttle's windows (forecasts.window): an UNLOGGED table, on PostgreSQL only."""

from django.db import migrations

CREATE = """CREATE UNLOGGED TABLE IF NOT EXISTS forecasts_submission_window (
    key text PRIMARY KEY,
    hits float8[] NOT NULL,
    expires_at float8 NOT NULL,
    allowed boolean NOT NULL
) WITH (toast_tuple_target = 8160, fillfactor = 50)"""
# toast_tuple_target: a window of up to about 1,000 times stays in its row, uncompressed (the
# default moves rows over 2 kB, 250 times, to TOAST, compressed, on every update); fillfactor:
# room on each page for the next version of its rows (every count writes one).


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TABLE IF EXISTS forecasts_submission_window")


class Migration(migrations.Migration):
    dependencies = [("forecasts", "0008_crowdpending")]

    operations = [migrations.RunPython(create, drop)]
