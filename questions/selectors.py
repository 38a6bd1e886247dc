"""Reads of questions."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import Question

STATUSES = ("open", "closing_soon", "closed", "resolved", "annulled", "draft")


def question_status(question: Question, now: datetime | None = None) -> str:
    now = now or timezone.now()
    if question.published_at is None:
        return "draft"
    if question.state != Question.State.OPEN:
        return question.state
    return "open" if now < question.effective_close else "closed"


def question_list(
    *,
    user: Any = None,
    status: str | None = None,
    series: str | None = None,
    article: int | None = None,
    search: str | None = None,
    now: datetime | None = None,
) -> QuerySet[Question]:
    """Questions a user may see, filtered, ordered by close time. Drafts are visible to staff only.
    (forecasts.selectors.with_crowd adds each one's current crowd and forecaster count.)"""
    now = now or timezone.now()
    qs = Question.objects.select_related("series", "resolved_option", "article").prefetch_related("options")
    if not (user is not None and getattr(user, "is_staff", False)):
        qs = qs.filter(published_at__isnull=False)
    open_q = Q(state=Question.State.OPEN, published_at__isnull=False, close_time__gt=now) & (
        Q(known_at__isnull=True) | Q(known_at__gt=now)
    )
    if status == "open":
        qs = qs.filter(open_q)
    elif status == "closing_soon":
        qs = qs.filter(open_q, close_time__lte=now + timedelta(days=7))
    elif status == "closed":
        qs = qs.filter(state=Question.State.OPEN, published_at__isnull=False).exclude(open_q)
    elif status in ("resolved", "annulled"):
        qs = qs.filter(state=status)
    elif status == "draft":
        qs = qs.filter(published_at__isnull=True)
    if series:
        qs = qs.filter(series__slug=series)
    if article:
        qs = qs.filter(article_id=article)
    if search:
        qs = qs.filter(Q(title__icontains=search) | Q(description__icontains=search))
    return qs.order_by("close_time", "id")


def question_visible(*, question: Question, user: Any) -> bool:
    return question.published_at is not None or bool(user is not None and getattr(user, "is_staff", False))
