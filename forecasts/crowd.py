"""Crowd history: every aggregate of a question's standing forecasts over time (CrowdPoint rows),
kept up to date by the crowd_update task after each forecast or withdrawal.

On a numeric or date question the forecasts are CDFs (Forecast.cdf) and the aggregates are
forecast_math's CONTINUOUS_AGGREGATES (per grid point, made a valid CDF): CrowdPoint.probabilities
then holds the crowd CDF, 201 floats."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, transaction

from forecast_math import AGGREGATES, aggregate, crowd_history
from forecast_math.continuous import CONTINUOUS_AGGREGATES, GRID, aggregate_cdfs
from questions.models import Question

from .models import CrowdPoint, Forecast
from .selectors import forecast_set_for_question
from .signals import crowd_changed


def _standing_counts(fs: Any, times: Any) -> list[int]:
    """How many users have a standing forecast from each of `times` on."""
    order = sorted(range(len(fs.time)), key=lambda i: fs.time[i])
    standing: set[int] = set()
    counts: list[int] = []
    j = 0
    for t in times:
        while j < len(order) and fs.time[order[j]] <= t:
            i = order[j]
            (standing.discard if fs.withdrawn[i] else standing.add)(int(fs.user[i]))
            j += 1
        counts.append(len(standing))
    return counts


def _point_time(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def question_crowd_write(*, question_id: int, full: bool = False) -> int:
    """Bring the crowd history of a question (every aggregate) up to date with its forecasts;
    returns the number of CrowdPoint rows written.

    The live case is incremental: when every forecast or withdrawal not yet in the history is
    later than the history's last point (always so for forecasts made through forecast_submit,
    which reads "now" under the question lock), only the new instants are computed, from the
    standing forecasts, and appended (one point per method and instant; the previous latest point
    stops being latest). Anything else (a back-dated event from an import or a replay, a history
    written before `through_forecast_id` existed, `full=True`) recomputes the whole history, with
    the same result. Idempotent: a duplicate delivery finds nothing new and writes nothing.

    Sends signals.crowd_changed after commit when it wrote points or rewrote the history."""
    with transaction.atomic():
        # The row lock serialises concurrent updates of the same question, and with submissions.
        q = Question.objects.select_for_update().get(pk=question_id)
        n_options = GRID if q.is_continuous else q.options.count()
        written = _crowd_append(q, n_options) if not full else None
        if written is None:
            written = _crowd_rewrite(q, n_options)
            _announce_crowd_change(q.pk)  # the history was replaced, even if by no points
        elif written:
            _announce_crowd_change(q.pk)
        return written


def _announce_crowd_change(question_id: int) -> None:
    """After commit: tell the layers above (strategy's receivers) that the crowd history changed."""
    transaction.on_commit(lambda: crowd_changed.send(sender=CrowdPoint, question_id=question_id))


def crowd_methods(question: Question) -> tuple[str, ...]:
    """The aggregates of a question's crowd history: AGGREGATES, or CONTINUOUS_AGGREGATES on a
    numeric or date question."""
    return CONTINUOUS_AGGREGATES if question.is_continuous else AGGREGATES


def _crowd_rewrite(q: Question, n_options: int) -> int:
    """The whole crowd history from every forecast of the question."""
    fs = forecast_set_for_question(question=q, n_options=n_options)
    through = int(fs.seq.max()) if len(fs.seq) else None
    points: list[CrowdPoint] = []
    min_n = settings.CROWD_MIN_FORECASTERS
    for method in crowd_methods(q):
        times, probs = crowd_history(n_options, fs, method=method, continuous=q.is_continuous)
        counts = _standing_counts(fs, times.tolist())
        last = len(times) - 1
        for j, (ts, p, n) in enumerate(zip(times.tolist(), probs.tolist(), counts, strict=True)):
            points.append(
                CrowdPoint(
                    question_id=q.pk,
                    method=method,
                    time=_point_time(ts),
                    # Below the minimum the aggregate would reveal individual forecasts.
                    probabilities=None if p[0] != p[0] or n < min_n else p,
                    n_forecasters=int(n),
                    is_latest=j == last,
                    through_forecast_id=through,
                )
            )
    CrowdPoint.objects.filter(question_id=q.pk).delete()
    CrowdPoint.objects.bulk_create(points, batch_size=2000)
    return len(points)


_STANDING_SQL = """
SELECT DISTINCT ON (user_id) user_id, created_at, kind, COALESCE(probabilities, cdf)
FROM forecasts_forecast
WHERE question_id = %s AND id <= %s
ORDER BY user_id, created_at DESC, id DESC
"""


def _crowd_append(q: Question, n_options: int) -> int | None:
    """The incremental update, or None when the whole history must be recomputed instead.

    Cost: one indexed read of the events after the history, one read of the standing forecasts
    (the latest event per user), and one aggregate per new instant and method over the N
    standing vectors: O(N) per new forecast instead of the O(history x N) of a recompute."""
    methods = crowd_methods(q)
    values = "cdf" if q.is_continuous else "probabilities"
    latest = list(
        CrowdPoint.objects.filter(question_id=q.pk, is_latest=True).values_list("method", "time", "through_forecast_id")
    )
    if sorted(m for m, _, _ in latest) != sorted(methods) or any(t is None for _, _, t in latest):
        return None
    through = {t for _, _, t in latest}
    last_time = {tm for _, tm, _ in latest}
    if len(through) != 1 or len(last_time) != 1:
        return None
    (through_id,), (last_time,) = through, last_time
    new = list(
        Forecast.objects.filter(question_id=q.pk, id__gt=through_id)
        .order_by("created_at", "id")
        .values_list("user_id", "created_at", "kind", values, "id")
    )
    if not new:
        return 0  # nothing since the last update (e.g. a duplicate delivery)
    stamps = [r[1].timestamp() for r in new]
    if _point_time(stamps[0]) <= last_time:
        return None  # a back-dated event: recompute the history
    if CrowdPoint.objects.filter(question_id=q.pk, time__in=[_point_time(t) for t in stamps]).exists():
        return None
    standing: dict[int, tuple[float, list[float]]] = {}
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(_STANDING_SQL, [q.pk, through_id])
            latest_rows = cur.fetchall()
    else:  # SQLite (the embedded demo) has no DISTINCT ON: the last event per user, in Python
        last: dict[int, tuple] = {}
        for row in (
            Forecast.objects.filter(question_id=q.pk, id__lte=through_id)
            .order_by("created_at", "id")
            .values_list("user_id", "created_at", "kind", values)
        ):
            last[row[0]] = row
        latest_rows = list(last.values())
    for user_id, created_at, kind, probs in latest_rows:
        if kind != Forecast.Kind.WITHDRAWAL:
            standing[user_id] = (created_at.timestamp(), probs if isinstance(probs, list) else _json(probs))
    min_n = settings.CROWD_MIN_FORECASTERS
    new_through = max(r[4] for r in new)
    points: list[CrowdPoint] = []
    for i, (user_id, _created, kind, probs, _id) in enumerate(new):
        if kind == Forecast.Kind.WITHDRAWAL:
            standing.pop(user_id, None)
        else:
            standing[user_id] = (stamps[i], probs)
        if i + 1 < len(new) and stamps[i + 1] == stamps[i]:
            continue  # several events at one instant: one point, after the last of them
        users = sorted(standing)
        n = len(users)
        vectors = np.array([standing[u][1] for u in users], dtype=np.float64).reshape(n, n_options)
        made = np.array([standing[u][0] for u in users], dtype=np.float64)
        for method in methods:
            p = _snapshot(vectors, made, method, q.is_continuous).tolist()
            points.append(
                CrowdPoint(
                    question_id=q.pk,
                    method=method,
                    time=_point_time(stamps[i]),
                    probabilities=None if p[0] != p[0] or n < min_n else p,
                    n_forecasters=n,
                    is_latest=False,
                    through_forecast_id=new_through,
                )
            )
    for point in points[-len(methods) :]:
        point.is_latest = True
    CrowdPoint.objects.filter(question_id=q.pk, is_latest=True).update(is_latest=False)
    CrowdPoint.objects.bulk_create(points)
    return len(points)


def _snapshot(vectors: np.ndarray, made: np.ndarray, method: str, continuous: bool) -> np.ndarray:
    """One crowd point from the standing forecasts (rows in user-id order, made at `made`), as
    the engine's crowd_history computes it: the recency weights rank the forecasts by the time
    they were made, ties by user id."""
    if continuous:
        return aggregate_cdfs(vectors, method, made_at=made)
    return aggregate(vectors, made, method)


def _json(value: Any) -> Any:
    return json.loads(value)
