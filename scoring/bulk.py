"""Bulk inserts of scoring's derived rows (Score, LeaderboardEntry): a binary COPY on PostgreSQL,
each column's type given once (psycopg's binary dumpers, no per-value type lookup or text
formatting), bulk_create elsewhere (the embedded SQLite demo)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import chain

from django.db import connection, models


def _pg_type(field: models.Field) -> str:
    """The PostgreSQL type name of a column as psycopg knows it ("varchar(40)" -> "varchar")."""
    return field.db_type(connection).partition("(")[0].strip()


def rows_insert(model: type[models.Model], names: Sequence[str], rows: Iterable[Sequence]) -> None:
    """Insert `rows` (tuples of the fields `names`, attribute names, in that order) into `model`'s
    table. The values must be of the columns' Python types (int, float, str, datetime, None; a
    list for a JSON column). `rows` may be a generator: on PostgreSQL each row is sent as it comes
    (psycopg flushes its buffer every few kilobytes), so the server stores the first rows while the
    next are being made."""
    it = iter(rows)
    first = next(it, None)
    if first is None:
        return
    rows = chain((first,), it)
    fields = {f.attname: f for f in model._meta.concrete_fields}
    if connection.vendor != "postgresql":
        objs = [model(**dict(zip(names, row, strict=True))) for row in rows]
        model.objects.bulk_create(objs, batch_size=2000)
        return
    columns = ", ".join(connection.ops.quote_name(fields[name].column) for name in names)
    table = connection.ops.quote_name(model._meta.db_table)
    with (
        connection.cursor() as cur,
        cur.cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.set_types([_pg_type(fields[name]) for name in names])
        for row in rows:
            copy.write_row(row)
