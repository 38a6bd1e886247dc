"""Reads of forecasts and of the crowd's history."""

from __future__ import annotations

from typing import Any

import numpy as np
from django.db.models import Count, F, IntegerField, Max, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce

from forecast_math import DEFAULT_AGGREGATE, ForecastSet
from forecast_math.continuous import from_range_units, quantile
from questions.models import Question
from questions.selectors import value_json

from .models import CrowdPending, CrowdPoint, Forecast


def crowd_latest_prefetch(lookup: str = "crowd_points") -> Prefetch:
    """Prefetch of the questions' current crowd forecast as `crowd_latest` (a list of at most one
    CrowdPoint, as crowd_latest returns it); `lookup` reaches the questions' crowd_points, e.g.
    "question__crowd_points" from rows that link to a question."""
    queryset = CrowdPoint.objects.filter(method=DEFAULT_AGGREGATE, is_latest=True)
    return Prefetch(lookup, queryset=queryset, to_attr="crowd_latest")


def with_crowd(questions: QuerySet[Question]) -> QuerySet[Question]:
    """Questions annotated with `forecaster_count` and prefetched with `crowd_latest` (their
    current crowd forecast, a list of at most one CrowdPoint) whatever their reveal time: callers
    must apply crowd_visible before showing it, as the API serializer and the site do."""
    return questions.prefetch_related(crowd_latest_prefetch()).annotate(
        forecaster_count=Count("forecasts__user", distinct=True)
    )


def forecasts_for_user(*, user: Any) -> QuerySet[Forecast]:
    return Forecast.objects.filter(user=user).select_related("question").order_by("-created_at", "-id")


def forecast_set_for_question(*, question: Question, n_options: int) -> ForecastSet:
    """All forecasts of a question as arrays, in one query. On a numeric or date question the
    rows are the CDFs (n_options = 201, forecast_math.continuous.GRID)."""
    values = "cdf" if question.is_continuous else "probabilities"
    rows = list(Forecast.objects.filter(question=question).values_list("user_id", "created_at", "kind", values, "id"))
    return forecast_set_from_rows(rows, n_options)


def forecast_set_from_rows(rows: list[tuple], n_options: int) -> ForecastSet:
    n = len(rows)
    users = np.fromiter((r[0] for r in rows), dtype=np.int64, count=n)
    times = np.fromiter((r[1].timestamp() for r in rows), dtype=np.float64, count=n)
    withdrawn = np.fromiter((r[2] == Forecast.Kind.WITHDRAWAL for r in rows), dtype=bool, count=n)
    probs = np.full((n, n_options), np.nan)
    for i, r in enumerate(rows):
        if r[3] is not None:
            probs[i] = r[3]
    # Database ids break ties between two actions of one user at the same instant: the later wins.
    seq = np.fromiter((r[4] if len(r) > 4 else i for i, r in enumerate(rows)), dtype=np.int64, count=n)
    return ForecastSet(user=users, time=times, probs=probs, withdrawn=withdrawn, seq=seq)


def has_forecast(*, question: Question, user: Any) -> bool:
    """Whether the user ever made a forecast (not a withdrawal only) on the question."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return Forecast.objects.filter(question=question, user=user, kind=Forecast.Kind.FORECAST).exists()


def question_blind_now(*, question: Question, now) -> bool:
    """A question of a blind series that is still taking forecasts (until its effective close)."""
    if question.series_id is None or now >= question.effective_close or question.state != Question.State.OPEN:
        return False
    return bool(question.series.blind)


def crowd_visible(*, question: Question, user: Any, now) -> bool:
    """Admins always see the crowd; others from the reveal time (default: the open time) and, on
    a question of a blind series still open, only once they have forecast on it. One query, only
    for an open question of a blind series (the series is read from question.series: select it)."""
    if user is not None and getattr(user, "is_staff", False):
        return True
    if now < question.reveal_time:
        return False
    if question_blind_now(question=question, now=now):
        return has_forecast(question=question, user=user)
    return True


def rationales_visible(*, question: Question, user: Any, now) -> bool:
    """Others' rationales are readable once the reader has forecast on the question, or once it
    has closed (or been resolved or annulled); staff always."""
    if user is not None and getattr(user, "is_staff", False):
        return True
    if now >= question.effective_close or question.state != Question.State.OPEN:
        return True
    return has_forecast(question=question, user=user)


def rationales_for_question(*, question: Question, reader: Any) -> QuerySet[Forecast]:
    """Forecasts with a rationale on the question by others than the reader, newest first, with
    their authors; hidden rationales (RationaleHide) are left out. The caller checks
    rationales_visible first."""
    qs = (
        Forecast.objects.filter(question=question, kind=Forecast.Kind.FORECAST)
        .exclude(rationale="")
        .filter(rationale_hide__isnull=True)
        .select_related("user")
        .order_by("-created_at", "-id")
    )
    if reader is not None and getattr(reader, "is_authenticated", False):
        qs = qs.exclude(user=reader)
    return qs


def questions_needing_crowd() -> list[int]:
    """Questions whose crowd history lags their forecasts: a forecast or withdrawal newer than the
    history's `through_forecast_id` (say, one whose crowd update was lost while the broker was
    down). One query."""
    through = (
        CrowdPoint.objects.filter(question=OuterRef("pk"), is_latest=True)
        .order_by()
        .values("question")
        .annotate(t=Max("through_forecast_id"))
        .values("t")
    )
    return list(
        Question.objects.annotate(
            last_forecast=Max("forecasts__id"),
            through=Coalesce(Subquery(through, output_field=IntegerField()), 0),
        )
        .filter(last_forecast__gt=F("through"))
        .order_by("id")
        .values_list("id", flat=True)
    )


def crowd_latest(*, question: Question) -> list[CrowdPoint]:
    """The current crowd point (a list of at most one), as with_crowd prefetches it."""
    return list(CrowdPoint.objects.filter(question=question, method=DEFAULT_AGGREGATE, is_latest=True))


def crowd_history(*, question: Question, method: str = DEFAULT_AGGREGATE) -> QuerySet[CrowdPoint]:
    return CrowdPoint.objects.filter(question=question, method=method).order_by("time")


def cdf_summary(*, question: Question, cdf: list[float]) -> dict[str, Any]:
    """What a face shows of a CDF on a numeric or date question, in the question's units (numbers;
    ISO instants for a date question): the quartiles {"25", "50", "75"}, and the probability
    below the lower and above the upper bound (0 at a closed bound)."""
    quartiles = {
        key: value_json(question, from_range_units(quantile(cdf, level), question.range_lower, question.range_upper))
        for key, level in (("25", 0.25), ("50", 0.5), ("75", 0.75))
    }
    return {"quartiles": quartiles, "below": float(cdf[0]), "above": float(1.0 - cdf[-1])}


def crowd_update_pending(*, question_id: int) -> bool:
    """Whether a crowd update of the question is queued and has not started (forecasts.pending)."""
    return CrowdPending.objects.filter(question_id=question_id).exists()
