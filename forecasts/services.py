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
    labels = list(question.options.values_list("label", flat=True))
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


def question_crowd_write(*, question_id: int) -> int:
    """Recompute the crowd history of a question (every aggregate) from its forecasts."""
    from .scoring import crowd_history
    from .selectors import forecast_set_for_question

    with transaction.atomic():
        # The row lock serialises concurrent recomputations of the same question.
        q = Question.objects.select_for_update().get(pk=question_id)
        n_options = q.options.count()
        fs = forecast_set_for_question(question=q, n_options=n_options)
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
                        time=datetime.fromtimestamp(ts, tz=UTC),
                        # Below the minimum the aggregate would reveal individual forecasts.
                        probabilities=None if p[0] != p[0] or n < min_n else p,
                        n_forecasters=int(n),
                        is_latest=j == last,
                    )
                )
        CrowdPoint.objects.filter(question_id=q.pk).delete()
        CrowdPoint.objects.bulk_create(points, batch_size=2000)
    return len(points)


def questions_needing_scores() -> list[int]:
    """Questions whose stored scores do not reflect their current resolution."""
    return list(
        Question.objects.exclude(scored_version=F("resolution_version")).order_by("id").values_list("id", flat=True)
    )
