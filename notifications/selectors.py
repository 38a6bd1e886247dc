"""Reads of notifications and preferences, and the candidates the notification jobs consider."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Exists, IntegerField, JSONField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from forecast_math import DEFAULT_AGGREGATE
from forecasts.models import CrowdPoint, Forecast
from questions.models import Question, ResolutionEvent

from .models import DEFAULT_MOVE_THRESHOLD, DEFAULT_STALE_DAYS, STALE_DAYS_RANGE, Kind, Notification, Preference

# --- The inbox and the settings ----------------------------------------------------------------


def notifications_for_user(*, user: Any) -> QuerySet[Notification]:
    """The user's notifications, newest first."""
    return Notification.objects.filter(user=user).order_by("-created", "-id")


def notification_for(*, user: Any, pk: int) -> Notification | None:
    """The user's notification `pk`, or None (also when it is someone else's)."""
    return Notification.objects.filter(user=user, pk=pk).first()


def unread_count(*, user: Any) -> int:
    """How many of the user's notifications are unread (the site's inbox badge)."""
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def preference_for(*, user: Any) -> Preference:
    """The user's preferences: the stored row, or the defaults (unsaved) when they never changed any."""
    found = Preference.objects.filter(user=user).first()
    return found if found is not None else Preference(user=user)


# --- What the jobs look at ---------------------------------------------------------------------


def open_questions(now: datetime) -> QuerySet[Question]:
    """Published questions still taking forecasts at `now`."""
    return Question.objects.filter(
        Q(known_at__isnull=True) | Q(known_at__gt=now),
        state=Question.State.OPEN,
        published_at__isnull=False,
        close_time__gt=now,
    )


def standing_forecasts() -> QuerySet[Forecast]:
    """Forecasts that are their user's latest event on their question (not withdrawn, not
    replaced). Portable SQL (the demo runs on SQLite): no later event of the same user there."""
    later = Forecast.objects.filter(question=OuterRef("question_id"), user=OuterRef("user_id")).filter(
        Q(created_at__gt=OuterRef("created_at")) | Q(created_at=OuterRef("created_at"), id__gt=OuterRef("id"))
    )
    return Forecast.objects.filter(kind=Forecast.Kind.FORECAST).filter(~Exists(later))


def _notified(kind: str) -> Exists:
    """A notification of `kind` about this standing forecast (event_key = the forecast's id)."""
    return Exists(
        Notification.objects.filter(
            kind=kind, user=OuterRef("user_id"), question=OuterRef("question_id"), event_key=OuterRef("id")
        )
    )


def _preference(field: str, default: int) -> Coalesce:
    value = Preference.objects.filter(user=OuterRef("user_id")).values(field)[:1]
    return Coalesce(Subquery(value, output_field=IntegerField()), Value(default))


def stale_candidates(now: datetime) -> list[dict]:
    """Standing forecasts on open questions older than their user's stale_days, not yet reminded.
    One query; the per-user threshold is applied to its rows (all older than the smallest one)."""
    rows = (
        standing_forecasts()
        .filter(question__in=open_questions(now), created_at__lt=now - timedelta(days=STALE_DAYS_RANGE[0]))
        .filter(user__is_active=True)
        .filter(~_notified(Kind.FORECAST_STALE))
        .annotate(stale_days=_preference("stale_days", DEFAULT_STALE_DAYS))
        .values("id", "user_id", "question_id", "created_at", "stale_days", "question__title", "question__close_time")
        .order_by("id")
    )
    return [r for r in rows if r["created_at"] < now - timedelta(days=r["stale_days"])]


def crowd_move_candidates(now: datetime) -> list[dict]:
    """Standing forecasts on open questions whose crowd is published to their user now, with the
    crowd as it stood after the forecast (`then`: the first published point at or after it) and
    the current one (`now`), not yet notified. The caller compares them with the threshold.

    Published means what the API shows that user: the question's crowd is revealed (the reveal
    time has passed, or the user is staff: crowd_visible's rule) and the aggregate has enough
    forecasters to be shown (a null point is not published). On a numeric or date question
    (`question__type`) the points are crowd CDFs."""
    points = CrowdPoint.objects.filter(question=OuterRef("question_id"), method=DEFAULT_AGGREGATE)
    then = points.filter(time__gte=OuterRef("created_at"), probabilities__isnull=False).order_by("time")
    current = points.filter(is_latest=True)
    revealed = Q(question__crowd_reveal_time__lte=now) | Q(
        question__crowd_reveal_time__isnull=True, question__open_time__lte=now
    )
    return list(
        standing_forecasts()
        .filter(question__in=open_questions(now), user__is_active=True)
        .filter(revealed | Q(user__is_staff=True))
        .filter(~_notified(Kind.CROWD_MOVED))
        .annotate(
            move_threshold=_preference("move_threshold", DEFAULT_MOVE_THRESHOLD),
            crowd_then=Subquery(then.values("probabilities")[:1], output_field=JSONField()),
            crowd_now=Subquery(current.values("probabilities")[:1], output_field=JSONField()),
        )
        .filter(crowd_then__isnull=False, crowd_now__isnull=False)
        .values(
            "id",
            "user_id",
            "question_id",
            "move_threshold",
            "crowd_then",
            "crowd_now",
            "question__title",
            "question__type",
        )
        .order_by("id")
    )


def closing_questions(now: datetime, within: timedelta) -> list[Question]:
    """Open questions whose effective close falls within `within` from now."""
    soon = now + within
    return list(
        open_questions(now)
        .filter(Q(close_time__lte=soon) | Q(known_at__lte=soon))
        .select_related("series")
        .order_by("close_time", "id")
    )


def closing_interested_users(question: Question) -> set[int]:
    """Who is told that `question` closes soon: active users without a standing forecast on it
    who either forecast on it before (and withdrew), or forecast on another question of its series."""
    standing = set(standing_forecasts().filter(question=question).values_list("user_id", flat=True))
    before = Q(question=question)
    if question.series_id is not None:
        before |= Q(question__series_id=question.series_id, question__published_at__isnull=False)
    users = set(
        Forecast.objects.filter(before, kind=Forecast.Kind.FORECAST, user__is_active=True)
        .values_list("user_id", flat=True)
        .distinct()
    )
    return users - standing


def forecasters_of(question: Question) -> set[int]:
    """Everyone who made a forecast on the question (withdrawn or not: their history is scored)."""
    return set(
        Forecast.objects.filter(question=question, kind=Forecast.Kind.FORECAST, user__is_active=True)
        .values_list("user_id", flat=True)
        .distinct()
    )


def already_notified(*, kind: str, question_id: int, event_key: int) -> set[int]:
    return set(
        Notification.objects.filter(kind=kind, question_id=question_id, event_key=event_key).values_list(
            "user_id", flat=True
        )
    )


def questions_missing_resolution_notices(since: datetime) -> list[int]:
    """Questions whose resolution changed since `since` and that have forecasters but no
    question_resolved notification for their current resolution_version (say, the job was lost
    while the broker was down)."""
    notified = Notification.objects.filter(
        kind=Kind.QUESTION_RESOLVED, question=OuterRef("pk"), event_key=OuterRef("resolution_version")
    )
    return list(
        Question.objects.filter(resolution_version__gt=0, published_at__isnull=False)
        .filter(Exists(ResolutionEvent.objects.filter(question=OuterRef("pk"), at__gte=since)))
        .filter(Exists(Forecast.objects.filter(question=OuterRef("pk"), kind=Forecast.Kind.FORECAST)))
        .filter(~Exists(notified))
        .order_by("id")
        .values_list("id", flat=True)
    )


def notifications_awaiting_webhook(since: datetime) -> list[int]:
    """Notifications since `since` whose user has a webhook (set before the notification was
    made) but which have no delivery record (their delivery job was never enqueued, or never
    started)."""
    hooked = Preference.objects.filter(user=OuterRef("user_id"), webhook_set_at__lte=OuterRef("created"))
    return list(
        Notification.objects.filter(created__gte=since, webhook_delivery__isnull=True)
        .filter(Exists(hooked.exclude(webhook_url="")))
        .order_by("id")
        .values_list("id", flat=True)
    )


def users_with_pending_email() -> list[int]:
    return list(
        Notification.objects.filter(email_state=Notification.EmailState.PENDING)
        .order_by("user_id")
        .values_list("user_id", flat=True)
        .distinct()
    )
