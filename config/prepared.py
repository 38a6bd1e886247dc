"""SQL compiled once per process: for the hot paths whose ORM query is the same on every call but
for its parameters (a token's lookup, a submission's locked fetch), compiling it is a good part of
the request's cost. The query is built and compiled once per (name, database alias) and then
executed directly with the call's parameters."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from django.db import connections
from django.db.models import QuerySet

_compiled: dict[tuple[str, str], str] = {}


def compiled_sql(name: str, alias: str, build: Callable[[str], QuerySet], placeholders: Sequence[Any]) -> str:
    """The SQL of `build(alias)`, compiled on the first call for (name, alias) and cached.

    `build` must give a queryset whose parameters are exactly `placeholders` (dummy values the
    caller replaces with the real ones, in the same order, when it executes the SQL): anything
    else (a parameter Django inlined or added) is refused, so the cached SQL can never silently
    hold one call's values."""
    sql = _compiled.get((name, alias))
    if sql is None:
        sql, params = build(alias).query.get_compiler(alias).as_sql()
        if list(params) != list(placeholders):  # pragma: no cover - a change of Django's compilation
            raise RuntimeError(f"unexpected parameters of the prepared query {name}: {params!r}")
        _compiled[(name, alias)] = sql
    return sql


class _UnpreparedCursor(psycopg.Cursor):
    """A server-side-binding cursor that never prepares: psycopg keeps no text of a prepared
    statement's execution, which Django's query log (DEBUG, tests' query captures) would show."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=False, binary=binary)


def fetch_one(alias: str, sql: str, params: Sequence[Any]) -> tuple | None:
    """Execute `sql` on `alias` and return its first row (None when there is none).

    On PostgreSQL through a cursor with server-side parameters (psycopg's Cursor, where Django's
    own is a ClientCursor that quotes every parameter into the text in Python), wrapped as Django
    wraps its cursors (errors, query logging), so psycopg prepares the statement on the server once
    it has run prepare_threshold times on a connection (DB_PREPARE_THRESHOLD, see the settings):
    PostgreSQL then neither parses nor, after its first custom plans, plans it again. While queries
    are logged it runs unprepared, so the log holds its text."""
    conn = connections[alias]
    if conn.vendor != "postgresql":
        cursor = conn.cursor()
    else:
        conn.ensure_connection()
        conn.validate_thread_sharing()
        if conn.queries_logged:
            cursor = conn.make_debug_cursor(_UnpreparedCursor(conn.connection))
        else:
            cursor = conn.make_cursor(psycopg.Cursor(conn.connection))
    with cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()
