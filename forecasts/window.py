"""The forecast throttle's sliding windows, in PostgreSQL.

The forecast throttle (api.forecasts.ForecastThrottle, DRF's scope "forecast") keeps DRF's rule: at
most N requests in any window of the rate's duration, a refused request not recorded, and a wait
(Retry-After) until the oldest request leaves the window. On PostgreSQL its windows live in the
database rather than in Redis, so that the statement storing a forecast (forecasts.services.
forecast_submit_fast) counts the request itself, under the same round trip; counting in Redis was
a round trip of its own on every submission, and under load it cost a web process more CPU than
the rest of the throttle's work (BENCHMARKS.md, "Forecast submission").

One row per client key (`throttle_forecast_<user id>`, DRF's cache key): the times (seconds, the
throttle's own clock) of the requests the window holds, oldest first. `INSERT ... ON CONFLICT DO
UPDATE` reads and writes the row under its row lock, so two requests of one user, in any
processes, are counted one after the other. The table is UNLOGGED: no WAL for a counter that
is worth nothing after a crash (it comes back empty, and every user starts a new window).
expire_windows (beat's throttle_windows_expire, every RECONCILE_SECONDS) deletes the rows whose
newest request has left the window. Created by migration 0009 on PostgreSQL only; without PostgreSQL the throttle counts
in Redis or the cache, as the other throttles do (config.throttles)."""

from __future__ import annotations

from django.db import connections, router

from config.prepared import fetch_one

from .models import Forecast

TABLE = "forecasts_submission_window"

#: The values of a window statement, in this order: the client key, now, the window's length in
#: seconds, the number of requests allowed in it (NULL: no throttle, nothing counted).
VALUES_SQL = "SELECT %s::text AS key, %s::float8 AS now, %s::float8 AS span, %s::int AS allow"


def window_sql(values: str, source: str = "", where: str = "") -> str:
    """The upsert that counts one request in its window. `values` names a relation with the columns
    of VALUES_SQL (a WITH clause); `source` and `where` add relations and conditions (the request
    is counted only when they hold). The window is trimmed once (not at all while its first time,
    the oldest as the times are appended under the row lock, is inside it), and appended to when it
    has room.
    RETURNING: allowed, the oldest time left in the window when the request was refused (NULL when
    allowed), and how many requests the window holds."""
    # Every name here is ours (a table, a WITH clause, SQL of our own); values come as parameters.
    return f"""INSERT INTO {TABLE} AS w (key, hits, expires_at, allowed)
    SELECT v.key, CASE WHEN v.allow > 0 THEN ARRAY[v.now] ELSE '{{}}'::float8[] END, v.now + v.span, v.allow > 0
    FROM {values} v{source}
    WHERE v.allow IS NOT NULL{where}
    ON CONFLICT (key) DO UPDATE SET (allowed, hits, expires_at) = (
        SELECT cardinality(t.kept) < v.allow,
            CASE WHEN cardinality(t.kept) < v.allow THEN t.kept || v.now ELSE t.kept END,
            CASE WHEN cardinality(t.kept) < v.allow THEN v.now + v.span ELSE w.expires_at END
        FROM {values} v, LATERAL (SELECT CASE WHEN w.hits[1] > v.now - v.span THEN w.hits
            ELSE ARRAY(SELECT h FROM unnest(w.hits) h WHERE h > v.now - v.span) END AS kept) t
    )
    RETURNING w.allowed, CASE WHEN NOT w.allowed THEN (SELECT min(h) FROM unnest(w.hits) h) END AS oldest,
        cardinality(w.hits) AS held"""  # noqa: S608


_COUNT_SQL = f"WITH v AS ({VALUES_SQL}) {window_sql('v')}"


def window_count(*, key: str, now: float, duration: float, num_requests: int) -> tuple[bool, float | None, int]:
    """Count one request of `key` at `now` in its window (PostgreSQL): (allowed, the oldest time
    left in the window, how many requests it holds)."""
    alias = router.db_for_write(Forecast)
    allowed, oldest, held = fetch_one(alias, _COUNT_SQL, [key, now, duration, num_requests])
    return allowed, oldest, held


def windows_available(alias: str | None = None) -> bool:
    """Whether the forecast throttle counts in the database (PostgreSQL) on `alias`."""
    return connections[alias or router.db_for_write(Forecast)].vendor == "postgresql"


def expire_windows(*, now: float) -> int:
    """Delete the windows whose newest request has left them (beat). Returns how many."""
    alias = router.db_for_write(Forecast)
    if not windows_available(alias):
        return 0
    with connections[alias].cursor() as cur:
        cur.execute(f"DELETE FROM {TABLE} WHERE expires_at <= %s", [now])  # noqa: S608 - our table name
        return cur.rowcount
