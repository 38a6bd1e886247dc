"""Forecast submission and withdrawal: the writes a forecaster makes."""

from __future__ import annotations

import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from config.exceptions import Conflict, DomainError
from questions.models import Question

from .models import CrowdPoint, Forecast, Score
from .validation import probability_vector

logger = logging.getLogger(__name__)


def _open_for_forecasts(q: Question, now: datetime) -> None:
    if q.published_at is None:
        raise Conflict("the question is not published", field="question", code="not_published")
    if q.state == Question.State.RESOLVED:
        raise Conflict("the question is resolved: no more forecasts", field="question", code="resolved")
    if q.state == Question.State.ANNULLED:
        raise Conflict("the question is annulled: no more forecasts", field="question", code="annulled")
    if now >= q.effective_close:
        raise Conflict(
            "the question is closed: forecasts are accepted only before its close time", field="question", code="closed"
        )


def _enqueue_crowd_update(question_id: int) -> None:
    """Runs after the forecast has committed: a broker outage must not turn an accepted forecast
    into an error response. The crowd history then catches up on the question's next forecast."""
    from kombu.exceptions import OperationalError as BrokerError

    from .tasks import crowd_update

    try:
        crowd_update.apply_async((question_id,), ignore_result=True)  # see questions.services
    except BrokerError:
        logger.warning("broker unavailable: crowd_update(%s) not enqueued", question_id)


def forecast_submit(
    *,
    user: Any,
    question: Question,
    payload: dict[str, Any],
    rationale: str = "",
    at: datetime | None = None,
) -> Forecast:
    """Store a new forecast of `user` on `question`.

    Validates the vector first (scoring.md section 1), then locks the question row, the same lock
    resolution takes, and checks the question is open at the moment of insertion: so no forecast
    commits after a resolution or at or after the close. A forecast before the open time is
    accepted and counts from the open. `at` is for replaying history (import_history, the demo)
    and is checked against the same window. Enqueues the crowd history update after commit."""
    labels = [o.label for o in question.options.all()]  # uses the caller's prefetch when there is one
    vector = probability_vector(question_type=question.type, labels=labels, payload=payload)
    if not isinstance(rationale, str):
        raise DomainError("must be text", field="rationale")
    if len(rationale) > 10000:
        raise DomainError("must be at most 10000 characters", field="rationale")
    with transaction.atomic(durable=not transaction.get_connection().in_atomic_block):
        q = Question.objects.select_for_update().get(pk=question.pk)
        now = at or timezone.now()
        _open_for_forecasts(q, now)
        forecast = Forecast.objects.create(
            question=q,
            user=user,
            kind=Forecast.Kind.FORECAST,
            created_at=now,
            probabilities=vector,
            p_min=min(vector),
            p_max=max(vector),
            p_sum=sum(vector),
            rationale=rationale,
        )
        transaction.on_commit(lambda: _enqueue_crowd_update(q.pk))
    return forecast


def forecast_withdraw(*, user: Any, question: Question, at: datetime | None = None) -> Forecast:
    """End `user`'s standing forecast without a new one (a withdrawal row; history is kept).
    Refused when the user has no standing forecast or the question no longer takes forecasts."""
    with transaction.atomic(durable=not transaction.get_connection().in_atomic_block):
        q = Question.objects.select_for_update().get(pk=question.pk)
        now = at or timezone.now()
        _open_for_forecasts(q, now)
        last = Forecast.objects.filter(question=q, user=user).order_by("-created_at", "-id").first()
        if last is None or last.kind == Forecast.Kind.WITHDRAWAL:
            raise Conflict(
                "you have no standing forecast on this question", field="question", code="nothing_to_withdraw"
            )
        withdrawal = Forecast.objects.create(question=q, user=user, kind=Forecast.Kind.WITHDRAWAL, created_at=now)
        transaction.on_commit(lambda: _enqueue_crowd_update(q.pk))
    return withdrawal


# --- Scores: derived data, written by the Celery jobs ------------------------------------------


def _fault_point(stage: str, question_id: int) -> None:
    """Fault injection for the reliability tests (tests/faults), off unless its variable is set.

    SIGNPOST_FAULT_SCORING_SLEEP=<seconds>: at stage "computed" (engine done, nothing written,
    question row locked) sleep, so a test can kill or stop the worker while the job is mid-flight.
    SIGNPOST_FAULT_SCORING_DB_ERROR_ONCE=<path>: at stage "written" (new rows inserted, transaction
    not committed) raise OperationalError if <path> exists, deleting it first, so exactly one
    attempt fails after a partial write and the retry succeeds. Neither is set in any deployment."""
    if stage == "computed" and (delay := os.environ.get("SIGNPOST_FAULT_SCORING_SLEEP")):
        logger.warning("fault injection: scoring question %s sleeps %ss before writing", question_id, delay)
        time.sleep(float(delay))
    if stage == "written" and (path := os.environ.get("SIGNPOST_FAULT_SCORING_DB_ERROR_ONCE")):
        try:
            Path(path).unlink()  # only the attempt that removes the marker fails
        except FileNotFoundError:
            return
        logger.warning("fault injection: scoring question %s fails after writing", question_id)
        raise OperationalError("fault injection: database error in the middle of a scoring job")


CROWD_METHODS = ("median", "recency_weighted_median", "mean", "extremized_log_odds")


def _nan_to_none(x: float) -> float | None:
    return None if x != x else float(x)


def question_scores_write(*, question_id: int) -> int:
    """Compute and store every score of a resolved question; returns the number of rows written.

    Locks the question row, so this serialises with resolution changes and with itself: running it
    twice, or concurrently, leaves the same rows. Loads all forecasts in one query, runs the pure
    engine, then replaces the question's score rows in the same transaction (readers see the old
    rows or the new ones, never a mix). On a question that is not resolved it deletes the rows."""
    from .scoring import score_question
    from .selectors import forecast_set_for_question, question_spec

    with transaction.atomic():
        q = Question.objects.select_for_update().get(pk=question_id)
        if q.state != Question.State.RESOLVED:
            Score.objects.filter(question=q).delete()
            Question.objects.filter(pk=q.pk).update(scored_version=q.resolution_version)
            return 0
        options = list(q.options.order_by("position"))
        outcome = next(i for i, o in enumerate(options) if o.pk == q.resolved_option_id)
        spec = question_spec(question=q, n_options=len(options), outcome=outcome)
        fs = forecast_set_for_question(question=q, n_options=len(options))
        result = score_question(spec, fs, crowd_methods=CROWD_METHODS)
        _fault_point("computed", q.pk)
        now = timezone.now()
        common = {
            "question_id": q.pk,
            "resolution_version": q.resolution_version,
            "resolved_at": q.resolved_at,
            "computed_at": now,
        }
        rows: list[Score] = []
        t = result.users
        for i, uid in enumerate(t.user.tolist()):
            rows.append(_score_row(t, i, user_id=int(uid), crowd_method="", **common))
        for method, c in result.crowd.items():
            rows.append(_crowd_row(c, crowd_method=method, **common))
        Score.objects.filter(question=q).delete()
        Score.objects.bulk_create(rows, batch_size=2000)
        _fault_point("written", q.pk)
        Question.objects.filter(pk=q.pk).update(scored_version=q.resolution_version)
    return len(rows)


# --- Bulk scoring: many questions per transaction (rescore, the fan-out chunk jobs) -----------

_BULK_FORECASTS_SQL = """
SELECT question_id,
       array_agg(user_id ORDER BY id),
       array_agg((extract(epoch FROM created_at) * 1000000)::int8 ORDER BY id),
       array_agg(kind = 'withdrawal' ORDER BY id),
       array_agg(id ORDER BY id),
       {probs}
FROM forecasts_forecast
WHERE question_id = ANY(%s)
GROUP BY question_id
"""

_SCORE_COLUMNS = (
    "question_id", "user_id", "crowd_method", "brier_final", "brier_mean", "participation", "relative_brier",
    "baseline", "peer", "coverage", "final_probabilities", "resolution_version", "resolved_at", "computed_at",
)  # fmt: skip


def _bulk_forecast_sets(question_ids: list[int], n_options: dict[int, int]) -> dict[int, Any]:
    """Every forecast of many questions in one query, as one ForecastSet per question.

    PostgreSQL groups the rows per question into arrays (times as integer microseconds, each
    option's probability as float8), so no Python object is built per forecast: the same values,
    bit for bit, as forecast_set_for_question (which reads datetimes and JSON lists)."""
    import numpy as np
    from django.db import connection

    from .scoring import ForecastSet

    k_max = max(n_options.values(), default=2)
    probs = ", ".join(f"array_agg((probabilities->>{j})::float8 ORDER BY id)" for j in range(k_max))
    out = {}
    with connection.cursor() as cur:
        cur.execute(_BULK_FORECASTS_SQL.format(probs=probs), [list(question_ids)])
        for qid, users, micros, wd, ids, *cols in cur.fetchall():
            k = n_options[qid]
            p = np.array(cols[:k], dtype=np.float64).T  # NULL (a withdrawal) becomes NaN
            out[qid] = ForecastSet(
                user=np.array(users, dtype=np.int64),
                time=np.array(micros, dtype=np.int64) / 1e6,
                probs=np.ascontiguousarray(p).reshape(len(users), k),
                withdrawn=np.array(wd, dtype=bool),
                seq=np.array(ids, dtype=np.int64),
            )
    return out


def questions_scores_write(*, question_ids: list[int]) -> int:
    """question_scores_write for many questions at once; returns the number of rows written.

    The same rows as the per-question job, with a constant number of queries per call: the
    question rows are locked (in id order, the lock every writer of a question takes first), their
    options and forecasts read in bulk, the engine run per question, and the old rows replaced by
    one DELETE and one COPY, all in one transaction. Idempotent, like the per-question job."""
    import json

    from django.db import connection

    from questions.models import Option

    from .scoring import ForecastSet, score_question
    from .selectors import question_spec

    ids = sorted(set(int(i) for i in question_ids))
    if not ids:
        return 0
    with transaction.atomic():
        questions = list(Question.objects.select_for_update().filter(pk__in=ids).order_by("id"))
        options: dict[int, list[int]] = {}
        for qid, oid in (
            Option.objects.filter(question_id__in=ids)
            .order_by("question_id", "position")
            .values_list("question_id", "id")
        ):
            options.setdefault(qid, []).append(oid)
        resolved = [q for q in questions if q.state == Question.State.RESOLVED]
        if connection.vendor == "postgresql":
            sets = _bulk_forecast_sets([q.pk for q in resolved], {q.pk: len(options[q.pk]) for q in resolved})
        else:  # SQLite (the embedded demo): one query per question
            from .selectors import forecast_set_for_question

            sets = {q.pk: forecast_set_for_question(question=q, n_options=len(options[q.pk])) for q in resolved}
        now = timezone.now()
        rows: list[tuple] = []
        for q in resolved:
            k = len(options[q.pk])
            spec = question_spec(question=q, n_options=k, outcome=options[q.pk].index(q.resolved_option_id))
            result = score_question(spec, sets.get(q.pk) or ForecastSet.empty(k), crowd_methods=CROWD_METHODS)
            common = (q.resolution_version, q.resolved_at, now)
            t = result.users
            finals = t.final_probs.tolist()
            cols = zip(
                t.user.tolist(), t.brier_final.tolist(), t.brier_mean.tolist(), t.participation.tolist(),
                t.relative_brier.tolist(), t.baseline.tolist(), t.peer.tolist(), t.coverage.tolist(), finals,
                strict=True,
            )  # fmt: skip
            for uid, bf, bm, part, rel, base, peer, cov, fin in cols:
                rows.append((q.pk, uid, "", _nan_to_none(bf), _nan_to_none(bm), part, rel, base, peer, cov,
                             None if fin[0] != fin[0] else json.dumps(fin), *common))  # fmt: skip
            for method, c in result.crowd.items():
                fin = c.final_probs.tolist()
                rows.append((q.pk, None, method, _nan_to_none(c.brier_final), _nan_to_none(c.brier_mean),
                             float(c.participation), float(c.relative_brier), float(c.baseline), float(c.peer),
                             float(c.coverage), None if fin[0] != fin[0] else json.dumps(fin), *common))  # fmt: skip
        _fault_point("computed", ids[0])
        Score.objects.filter(question_id__in=ids).delete()
        with connection.cursor() as cur:
            if rows and connection.vendor == "postgresql":
                with cur.cursor.copy(f"COPY forecasts_score ({', '.join(_SCORE_COLUMNS)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            elif rows:  # SQLite (the embedded demo): the ORM
                objs = []
                for r in rows:
                    kw = dict(zip(_SCORE_COLUMNS, r, strict=True))
                    kw["final_probabilities"] = json.loads(kw["final_probabilities"] or "null")
                    objs.append(Score(**kw))
                Score.objects.bulk_create(objs, batch_size=2000)
        _fault_point("written", ids[0])
        Question.objects.filter(pk__in=ids).update(scored_version=F("resolution_version"))
    return len(rows)


def _score_row(t: Any, i: int, **kw: Any) -> Score:
    final = t.final_probs[i]
    return Score(
        brier_final=_nan_to_none(t.brier_final[i]),
        brier_mean=_nan_to_none(t.brier_mean[i]),
        participation=float(t.participation[i]),
        relative_brier=float(t.relative_brier[i]),
        baseline=float(t.baseline[i]),
        peer=float(t.peer[i]),
        coverage=float(t.coverage[i]),
        final_probabilities=None if final[0] != final[0] else [float(x) for x in final],
        **kw,
    )


def _crowd_row(c: Any, **kw: Any) -> Score:
    final = c.final_probs
    return Score(
        user_id=None,
        brier_final=_nan_to_none(c.brier_final),
        brier_mean=_nan_to_none(c.brier_mean),
        participation=float(c.participation),
        relative_brier=float(c.relative_brier),
        baseline=float(c.baseline),
        peer=float(c.peer),
        coverage=float(c.coverage),
        final_probabilities=None if final is None or final[0] != final[0] else [float(x) for x in final],
        **kw,
    )


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
    the same result. Idempotent: a duplicate delivery finds nothing new and writes nothing."""
    with transaction.atomic():
        # The row lock serialises concurrent updates of the same question, and with submissions.
        q = Question.objects.select_for_update().get(pk=question_id)
        n_options = q.options.count()
        if not full:
            written = _crowd_append(q, n_options)
            if written is not None:
                return written
        return _crowd_rewrite(q, n_options)


def _crowd_rewrite(q: Question, n_options: int) -> int:
    """The whole crowd history from every forecast of the question."""
    from .scoring import crowd_history
    from .selectors import forecast_set_for_question

    fs = forecast_set_for_question(question=q, n_options=n_options)
    through = int(fs.seq.max()) if len(fs.seq) else None
    points: list[CrowdPoint] = []
    min_n = settings.CROWD_MIN_FORECASTERS
    for method in CROWD_METHODS:
        times, probs = crowd_history(n_options, fs, method=method)
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
SELECT DISTINCT ON (user_id) user_id, created_at, kind, probabilities
FROM forecasts_forecast
WHERE question_id = %s AND id <= %s
ORDER BY user_id, created_at DESC, id DESC
"""


def _crowd_append(q: Question, n_options: int) -> int | None:
    """The incremental update, or None when the whole history must be recomputed instead.

    Cost: one indexed read of the events after the history, one read of the standing forecasts
    (the latest event per user), and one aggregate per new instant and method over the N
    standing vectors: O(N) per new forecast instead of the O(history x N) of a recompute."""
    import numpy as np
    from django.db import connection

    from .scoring import aggregate

    latest = list(
        CrowdPoint.objects.filter(question_id=q.pk, is_latest=True).values_list("method", "time", "through_forecast_id")
    )
    if sorted(m for m, _, _ in latest) != sorted(CROWD_METHODS) or any(t is None for _, _, t in latest):
        return None
    through = {t for _, _, t in latest}
    last_time = {tm for _, tm, _ in latest}
    if len(through) != 1 or len(last_time) != 1:
        return None
    (through_id,), (last_time,) = through, last_time
    new = list(
        Forecast.objects.filter(question_id=q.pk, id__gt=through_id)
        .order_by("created_at", "id")
        .values_list("user_id", "created_at", "kind", "probabilities", "id")
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
            .values_list("user_id", "created_at", "kind", "probabilities")
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
        for method in CROWD_METHODS:
            p = aggregate(vectors, made, method).tolist()
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
    for point in points[-len(CROWD_METHODS) :]:
        point.is_latest = True
    CrowdPoint.objects.filter(question_id=q.pk, is_latest=True).update(is_latest=False)
    CrowdPoint.objects.bulk_create(points)
    return len(points)


def _json(value: Any) -> Any:
    import json

    return json.loads(value)


def questions_needing_scores() -> list[int]:
    """Questions whose stored scores do not reflect their current resolution."""
    return list(
        Question.objects.exclude(scored_version=F("resolution_version")).order_by("id").values_list("id", flat=True)
    )
