"""Forecast submission and withdrawal: the writes a forecaster makes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from config.enqueue import enqueue_on_commit
from config.exceptions import Conflict, DomainError
from questions.models import Question

from .models import Forecast
from .tasks import crowd_update
from .validation import probability_vector


def question_check_open(q: Question, now: datetime) -> None:
    """Refuse (409) a forecast or withdrawal on a question that is not taking them at `now`.
    Call it with the question row locked, as every forecast write does."""
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
        question_check_open(q, now)
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
        enqueue_on_commit(crowd_update, q.pk)
    return forecast


def forecast_withdraw(*, user: Any, question: Question, at: datetime | None = None) -> Forecast:
    """End `user`'s standing forecast without a new one (a withdrawal row; history is kept).
    Refused when the user has no standing forecast or the question no longer takes forecasts."""
    with transaction.atomic(durable=not transaction.get_connection().in_atomic_block):
        q = Question.objects.select_for_update().get(pk=question.pk)
        now = at or timezone.now()
        question_check_open(q, now)
        last = Forecast.objects.filter(question=q, user=user).order_by("-created_at", "-id").first()
        if last is None or last.kind == Forecast.Kind.WITHDRAWAL:
            raise Conflict(
                "you have no standing forecast on this question", field="question", code="nothing_to_withdraw"
            )
        withdrawal = Forecast.objects.create(question=q, user=user, kind=Forecast.Kind.WITHDRAWAL, created_at=now)
        enqueue_on_commit(crowd_update, q.pk)
    return withdrawal
