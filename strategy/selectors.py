"""Reads of strategic questions: the list, and the detail body of contracts.md (drivers and their
indicators, the current composite, its history, and "what moved it" since an instant)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, FloatField, OuterRef, Prefetch, QuerySet, Subquery
from django.utils import timezone

from config.exceptions import DomainError
from forecast_math import CompositeState, composite_at, composite_moved
from forecasts.selectors import crowd_latest_prefetch, crowd_visible
from questions.models import Question
from questions.selectors import outcome_text

from .models import Driver, IndicatorLink, StrategicPoint, StrategicQuestion


def _is_staff(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_staff", False))


def strategic_question_list(*, user: Any = None, now: datetime | None = None) -> QuerySet[StrategicQuestion]:
    """The strategic questions a user may see (unpublished ones: staff only), by slug, annotated
    with `composite_now` (the composite in effect now, None when it has no value or no history)
    and `indicator_count`."""
    now = now or timezone.now()
    qs = StrategicQuestion.objects.all()
    if not _is_staff(user):
        qs = qs.filter(published_at__isnull=False)
    current = (
        StrategicPoint.objects.filter(strategic_question=OuterRef("pk"), time__lte=now)
        .order_by("-time")
        .values("composite")[:1]
    )
    return qs.annotate(
        composite_now=Subquery(current, output_field=FloatField()),
        indicator_count=Count("links", distinct=True),
    ).order_by("slug")


def strategic_question_for(*, slug: str, user: Any = None) -> StrategicQuestion | None:
    """The strategic question with this slug if the user may see it, else None."""
    sq = StrategicQuestion.objects.filter(slug=slug).first()
    if sq is None or (sq.published_at is None and not _is_staff(user)):
        return None
    return sq


def _state(point: StrategicPoint) -> CompositeState:
    """A stored point as forecast_math's state (keys are question ids)."""
    values = {int(k): v["value"] for k, v in point.contributions.items()}
    parts = {int(k): v["contribution"] for k, v in point.contributions.items()}
    return CompositeState(point.composite, values, parts)


def _resolution(q: Question) -> str | None:
    """The linked question's outcome as text (a numeric or date question linked while it was of
    another type shows its value; it never counts in the composite)."""
    return outcome_text(q) or None


def _crowd_probability(q: Question, user: Any, now: datetime) -> float | None:
    """P(yes) of the current crowd for a binary question; None for other types, while the crowd
    is hidden from this user (before its reveal time) or unpublished (too few forecasters)."""
    if q.type != Question.Type.BINARY or not crowd_visible(question=q, user=user, now=now):
        return None
    latest = q.crowd_latest  # prefetched (forecasts.selectors.crowd_latest_prefetch)
    if not latest or latest[0].probabilities is None:
        return None
    return float(latest[0].probabilities[0])


def strategic_question_detail(
    *,
    strategic_question: StrategicQuestion,
    user: Any = None,
    since: datetime | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The detail body (contracts.md): the strategic question, its drivers with their indicators
    (the user's view: draft indicator questions are shown to staff only and never count in the
    composite), the composite now, its history up to now, and with `since` what moved it from
    then to now (each indicator's change of contribution, largest first).

    Raises DomainError(field="since") for a `since` in the future."""
    now = now or timezone.now()
    if since is not None and since > now:
        raise DomainError("must not be in the future", field="since")
    sq = strategic_question
    staff = _is_staff(user)
    points = list(StrategicPoint.objects.filter(strategic_question=sq, time__lte=now).order_by("time"))
    timeline = [(p.time.timestamp(), _state(p)) for p in points]
    current = composite_at(timeline, now.timestamp())
    before = None if since is None else composite_at(timeline, since.timestamp())

    links = (
        IndicatorLink.objects.select_related("question__article", "question__resolved_option", "question__series")
        .prefetch_related(crowd_latest_prefetch("question__crowd_points"))
        .order_by("order", "id")
    )
    drivers = Driver.objects.filter(strategic_question=sq).prefetch_related(Prefetch("links", queryset=links))
    titles: dict[int, str] = {}
    body_drivers = []
    for driver in drivers.order_by("order", "id"):
        indicators = []
        for link in driver.links.all():
            q = link.question
            if q.published_at is None and not staff:
                continue
            titles[q.pk] = q.title
            indicators.append(
                {
                    "question": q.pk,
                    "title": q.title,
                    "type": q.type,
                    "direction": link.direction,
                    "weight": link.weight,
                    "rationale": link.rationale,
                    "passage": (q.source_passage or None) if q.article_id else None,
                    "article": q.article_id,
                    "crowd_probability": _crowd_probability(q, user, now),
                    "resolution": _resolution(q),
                    "value": current.values.get(q.pk),
                    "contribution": current.contributions.get(q.pk),
                }
            )
        body_drivers.append({"title": driver.title, "indicators": indicators})

    moved = None
    if before is not None:
        moved = [
            {
                "question": m.key,
                "title": titles[m.key],
                "value_before": m.value_before,
                "value_after": m.value_after,
                "contribution_before": m.contribution_before,
                "contribution_after": m.contribution_after,
                "change": m.change,
            }
            for m in composite_moved(before, current)
            if m.key in titles
        ]
    return {
        "slug": sq.slug,
        "title": sq.title,
        "description": sq.description,
        "pole_less": sq.pole_less,
        "pole_more": sq.pole_more,
        "published_at": sq.published_at,
        "computed_at": sq.computed_at,
        "composite": current.composite,
        "drivers": body_drivers,
        "history": [{"time": p.time, "composite": p.composite} for p in points],
        "since": since,
        "composite_since": None if before is None else before.composite,
        "moved": moved,
    }


def strategic_questions_of(*, question: Question, user: Any = None) -> QuerySet[StrategicQuestion]:
    """The strategic questions a question is an indicator of, that the user may see (for the
    question and article pages)."""
    qs = StrategicQuestion.objects.filter(links__question=question).distinct().order_by("slug")
    if not _is_staff(user):
        qs = qs.filter(published_at__isnull=False)
    return qs
