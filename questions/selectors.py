"""Reads of questions, and how every face reads and shows the values of numeric and date
questions (their bounds and outcomes): one parser (continuous_value) and one formatter
(value_text, value_json, outcome_text, outcome_json) for all of them."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from config.exceptions import DomainError
from forecast_math import parse_instant
from forecast_math.continuous import ContinuousOutcome, to_range_units

from .models import CONTINUOUS_TYPES, Question

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


# --- Values of numeric and date questions ---------------------------------------------------------
#
# A numeric question's values are plain numbers in its unit; a date question's are UTC instants,
# stored and computed as POSIX seconds (float) and shown as ISO 8601 text ("2025-03-01T00:00:00Z").


def continuous_value(*, question_type: str, value: Any, field: str) -> float:
    """One value of a numeric or date question as the input gives it -> a float (a date: POSIX
    seconds). Numeric: a finite number (not a boolean, not text). Date: an ISO 8601 instant ("Z" or
    an offset; a bare date is its midnight UTC) or an aware datetime. Raises DomainError naming
    `field`."""
    if question_type == Question.Type.DATE:
        if isinstance(value, bool) or not isinstance(value, (str, datetime)):
            raise DomainError("must be an ISO 8601 date-time such as 2025-03-01T00:00:00Z", field=field)
        if isinstance(value, datetime) and timezone.is_naive(value):
            raise DomainError("must include a time zone", field=field)
        try:
            instant = parse_instant(value, allow_date=True)
        except ValueError:
            raise DomainError("must be an ISO 8601 date-time such as 2025-03-01T00:00:00Z", field=field) from None
        return instant.timestamp()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DomainError("must be a number", field=field)
    x = float(value)
    if not math.isfinite(x):
        raise DomainError("must be a finite number", field=field)
    return x


def instant_text(seconds: float) -> str:
    """POSIX seconds as ISO 8601 UTC text with "Z" (microseconds only when there are some)."""
    try:
        instant = datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return f"{seconds:.15g} s"
    return instant.isoformat().replace("+00:00", "Z")


def number_text(x: float) -> str:
    """A number as short text, exact to 15 significant digits: 42.5, 1200000, 0.001."""
    return f"{x:.15g}"


def value_text(question: Question, value: float, *, approximate: bool = False) -> str:
    """A value of a numeric question with its unit ("42.5 million t"), or of a date question as
    its ISO instant ("2025-03-01T00:00:00Z").

    `approximate` for a computed value (a quantile, a crowd median): a number to a thousandth of
    the range ("210 kt" on a range 0..1000), a date to the day ("2025-07-01") on a range of 30 days
    or more, else to the minute ("2025-07-01T12:30Z")."""
    span = (question.range_upper - question.range_lower) if question.range_lower is not None else None
    if question.type == Question.Type.DATE:
        if not approximate or span is None:
            return instant_text(value)
        text = instant_text(round(value / 60.0) * 60.0)
        return text[:10] if span >= 30 * 86400 else text[:16] + "Z"
    if approximate and span:
        decimals = max(0, math.ceil(-math.log10(span / 1000.0)))
        text = f"{round(value, decimals):.{decimals}f}"
        if text.startswith("-") and float(text) == 0:
            text = text[1:]
    else:
        text = number_text(value)
    return f"{text} {question.unit}" if question.unit else text


def value_json(question: Question, value: float | None) -> float | str | None:
    """A value of a numeric or date question as JSON gives it: a number, or an ISO instant for a
    date question (None stays None)."""
    if value is None:
        return None
    return instant_text(value) if question.type == Question.Type.DATE else float(value)


def outcome_text(question: Question) -> str:
    """The question's outcome as one line for people (the audit trail, notifications, pages): the
    option label; for a numeric or date question the value (value_text), or "below 10 t" / "above
    2025-06-30T00:00:00Z" past an open bound; "" when it has no outcome (unresolved, annulled).
    A question whose resolved_option is not selected costs one query."""
    if question.state != Question.State.RESOLVED:
        return ""
    if question.resolved_option_id is not None:
        return question.resolved_option.label
    if question.resolved_outside == Question.Outside.BELOW:
        return f"below {value_text(question, question.range_lower)}"
    if question.resolved_outside == Question.Outside.ABOVE:
        return f"above {value_text(question, question.range_upper)}"
    if question.resolved_value is not None:
        return value_text(question, question.resolved_value)
    return ""


def outcome_json(question: Question) -> float | str | None:
    """The question's outcome as the API's resolution gives it: the option label; a number (an ISO
    instant for a date question), "below" or "above" for a numeric or date question; None when it
    has no outcome."""
    if question.state != Question.State.RESOLVED:
        return None
    if question.resolved_option_id is not None:
        return question.resolved_option.label
    if question.resolved_outside:
        return question.resolved_outside
    return value_json(question, question.resolved_value)


def continuous_outcome(question: Question) -> ContinuousOutcome | None:
    """The outcome of a resolved numeric or date question in range units, as the engine takes it:
    ContinuousOutcome(x, open_lower, open_upper) with x = (value - lower) / (upper - lower) in
    [0, 1], or -inf ("below") / +inf ("above"). None when the question is not continuous or has
    no outcome (unresolved, annulled)."""
    if question.type not in CONTINUOUS_TYPES or question.state != Question.State.RESOLVED:
        return None
    if question.resolved_outside == Question.Outside.BELOW:
        x = -math.inf
    elif question.resolved_outside == Question.Outside.ABOVE:
        x = math.inf
    elif question.resolved_value is not None:
        x = min(1.0, max(0.0, to_range_units(question.resolved_value, question.range_lower, question.range_upper)))
    else:
        return None
    return ContinuousOutcome(x, open_lower=question.open_lower, open_upper=question.open_upper)
