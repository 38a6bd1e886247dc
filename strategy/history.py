"""The stored history of a strategic question's composite (StrategicPoint rows): derived data,
recomputed wholesale from its indicator links, their questions' crowd histories and resolutions
through forecast_math.composite, by the strategic_recompute job (strategy.tasks).

Only the strategic question's row is locked. Questions and crowd histories are read without a
lock: a change to them commits first and then enqueues another recompute (strategy.receivers),
which waits for this lock and reads afresh, so the last recompute always sees the last change."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone

from forecast_math import DEFAULT_AGGREGATE, Indicator, IndicatorHistory, composite_history, indicator_kind
from forecasts.selectors import crowd_history
from questions.models import Question

from .models import IndicatorLink, StrategicPoint, StrategicQuestion

logger = logging.getLogger(__name__)


def _seconds(dt: datetime) -> float:
    return dt.timestamp()


def _instant(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def _indicator_history(link: IndicatorLink) -> IndicatorHistory | None:
    """What forecast_math needs of one link: its question's public crowd history (the default
    aggregate, counting from the crowd's reveal time), and its outcome from its resolution time
    (an annulment: no value from then on). None when the link cannot count: its question is a
    draft, or an unordered multiple-choice question (refused when linking, but its terms may have
    changed since)."""
    q = link.question
    kind = indicator_kind(q.type, q.ordered)
    if kind is None or q.published_at is None:
        return None
    options = list(q.options.all())
    indicator = Indicator(
        key=q.pk, kind=kind, n_options=len(options), direction=int(link.direction), weight=float(link.weight)
    )
    crowd = [
        (_seconds(p.time), p.probabilities)
        for p in crowd_history(question=q, method=DEFAULT_AGGREGATE)
        if p.probabilities is None or len(p.probabilities) == len(options)
    ]
    resolved_time = outcome = None
    if q.state == Question.State.RESOLVED and q.resolved_option_id is not None:
        resolved_time = _seconds(q.resolved_at)
        outcome = next((i for i, o in enumerate(options) if o.pk == q.resolved_option_id), None)
    elif q.state == Question.State.ANNULLED:
        resolved_time = _seconds(q.resolved_at)
    return IndicatorHistory(
        indicator=indicator,
        open_time=_seconds(q.open_time),
        crowd=crowd,
        visible_from=_seconds(q.reveal_time),
        resolved_time=resolved_time,
        outcome=outcome,
    )


def strategic_recompute(*, strategic_question_id: int) -> int:
    """Recompute the stored history of a strategic question's composite (StrategicPoint rows)
    wholesale from its links, their questions' crowd histories and resolutions; returns the number
    of points. Locks the strategic question's row. Idempotent: the same inputs give the same rows,
    however often and in whatever order it runs. A strategic question deleted meanwhile is
    nothing to do (0).

    The history is the public one, the same for every reader: an indicator counts from its
    crowd's reveal time (and while the crowd has enough forecasters to be published), or from its
    resolution's `resolved_at` with its outcome. Points may lie in the future (a reveal time not
    yet reached); readers take the points up to now."""
    with transaction.atomic(durable=not transaction.get_connection().in_atomic_block):
        sq = StrategicQuestion.objects.select_for_update().filter(pk=strategic_question_id).first()
        if sq is None:
            return 0
        links = list(
            IndicatorLink.objects.filter(strategic_question=sq)
            .select_related("question")
            .prefetch_related("question__options")
            .order_by("id")
        )
        histories = [h for h in (_indicator_history(link) for link in links) if h is not None]
        by_time: dict[datetime, StrategicPoint] = {}
        for t, state in composite_history(histories):
            when = _instant(t)  # two instants within a microsecond are one row: the later state
            by_time[when] = StrategicPoint(
                strategic_question=sq,
                time=when,
                composite=state.composite,
                contributions={
                    str(key): {"value": state.values[key], "contribution": state.contributions[key]}
                    for key in sorted(state.values)
                },
            )
        points = list(by_time.values())
        StrategicPoint.objects.filter(strategic_question=sq).delete()
        StrategicPoint.objects.bulk_create(points, batch_size=2000)
        sq.computed_at = timezone.now()
        sq.save(update_fields=["computed_at"])
    logger.info("strategic question %s: %d composite points", strategic_question_id, len(points))
    return len(points)
