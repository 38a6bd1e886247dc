"""Number formatting for the site: probabilities as percentages, scores with their scale."""

from __future__ import annotations

import math
from typing import Any

from django import template

from web import distributions

register = template.Library()


def _finite(value: Any) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _trim(text: str) -> str:
    """Drop trailing zeros of a decimal: "70.0" -> "70", "72.50" -> "72.5"; "0" stays "0"."""
    return text.rstrip("0").rstrip(".") if "." in text else text


def _no_negative_zero(x: float, digits: int) -> float:
    return 0.0 if round(x, digits) == 0 else x


@register.filter
def pct(value: Any, digits: int = 1) -> str:
    """0.7 -> "70%", 0.3333 -> "33.3%"; a dash for missing values."""
    x = _finite(value)
    if x is None:
        return "—"
    digits = int(digits)
    if 0 < x * 100 < 10**-digits:
        return f"<{10**-digits:g}%"
    return f"{_trim(f'{x * 100:.{digits}f}')}%"


@register.filter
def pct_number(value: Any) -> str:
    """A probability as the number a percentage input holds: 0.7 -> "70", 0.333 -> "33.3"."""
    x = _finite(value)
    if x is None:
        return ""
    return _trim(f"{x * 100:.1f}")


@register.filter
def score(value: Any, digits: int = 3) -> str:
    """A score with a fixed number of decimals and a real minus sign; a dash when missing."""
    x = _finite(value)
    if x is None:
        return "—"
    x = _no_negative_zero(x, int(digits))
    return f"{x:.{int(digits)}f}".replace("-", "\u2212")


@register.filter
def signed(value: Any, digits: int = 3) -> str:
    x = _finite(value)
    if x is None:
        return "—"
    x = _no_negative_zero(x, int(digits))
    if x == 0:
        return f"{0:.{int(digits)}f}"
    text = f"{x:+.{int(digits)}f}"
    return text.replace("-", "\u2212")


@register.filter
def width_pct(value: Any) -> str:
    """A probability as a CSS width, clamped to 0..100%."""
    x = _finite(value)
    if x is None:
        return "0%"
    return f"{max(0.0, min(1.0, x)) * 100:.1f}%"


@register.filter
def outcome(question: Any) -> str:
    """A resolved question's outcome as text: the option's label, or a numeric or date
    question's value (a date, a number with its unit, or beyond a bound); "" when unresolved."""
    return distributions.outcome_text(question) or ""


@register.filter
def median_text(forecast: Any) -> str:
    """The median of a numeric or date forecast, as the site shows values; "" for others."""
    summary = distributions.quartiles(forecast.question, forecast.cdf) if forecast.cdf else None
    return summary.text["q50"] if summary else ""


@register.simple_tag(takes_context=True)
def unread_notifications(context: Any) -> int:
    """The logged-in reader's unread notification count, for the header badge: one indexed
    COUNT, read once per request (the value is kept on the request)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or user is None or not user.is_authenticated:
        return 0
    cached = getattr(request, "signpost_unread_count", None)
    if cached is None:
        from notifications.selectors import unread_count

        cached = unread_count(user=user)
        request.signpost_unread_count = cached
    return cached
