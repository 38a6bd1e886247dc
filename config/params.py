"""Parsing of request parameters into typed values, raising DomainError (HTTP 400 in the contract
error shape) that names the parameter. The API, the site and the selectors share these."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from config.exceptions import DomainError
from forecast_math import parse_instant


def parse_int(value: Any, field: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """An integer (or its decimal text) within [minimum, maximum]."""
    if isinstance(value, bool):
        raise DomainError("must be an integer", field=field)
    try:
        if isinstance(value, float):
            n = int(value) if value.is_integer() else None
        elif isinstance(value, str):
            n = int(value.strip()) if value.strip().lstrip("+-").isdigit() else None
        else:
            n = int(value)
    except (TypeError, ValueError, OverflowError):
        n = None
    if n is None:
        raise DomainError("must be an integer", field=field)
    if minimum is not None and n < minimum:
        raise DomainError(f"must be at least {minimum}", field=field)
    if maximum is not None and n > maximum:
        raise DomainError(f"must be at most {maximum}", field=field)
    return n


def reject_empty(params: Any, *names: str) -> None:
    """A parameter given with no value (`?page=`) is a bad value, not an absent one: refuse it for
    parameters whose type (integer, date, enumeration) an empty string cannot have."""
    for name in names:
        if name in params and params.get(name) == "":
            raise DomainError("must not be empty", field=name)


def parse_when(value: Any, field: str) -> datetime | None:
    """An instant given as an ISO 8601 date (midnight UTC) or date-time; empty means none."""
    if value in (None, ""):
        return None
    if not isinstance(value, str | date | datetime):
        raise DomainError("must be an ISO 8601 date or date-time", field=field)
    try:
        return parse_instant(value, allow_date=True)
    except (ValueError, OverflowError):  # OverflowError: an offset past year 1 or 9999
        raise DomainError(
            "must be an ISO 8601 date (2024-01-01) or date-time (2024-01-01T00:00:00Z)", field=field
        ) from None
