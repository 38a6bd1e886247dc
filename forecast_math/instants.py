"""The one parser of instants (ISO 8601 text) used by every entry point: the API's query
parameters, the JSON commands, the importers and the demo. Pure Python, no Django.

Callers turn the ValueError into their own error shape (an HTTP 400, a command's exit 2)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time


def parse_instant(value: object, *, require_timezone: bool = False, allow_date: bool = False) -> datetime:
    """ISO 8601 text (or a datetime) -> an aware UTC datetime.

    "Z" and numeric offsets are understood. A naive value is taken as UTC unless
    `require_timezone`; a bare date ("2024-01-01") is accepted, as its midnight UTC, only with
    `allow_date`. Anything else raises ValueError."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        if not allow_date:
            raise ValueError("a date-time is required, not a date")
        dt = datetime.combine(value, time.min)
    elif isinstance(value, str):
        text = value.strip()
        if len(text) == 10 and text[4:5] == "-" and text[7:8] == "-":
            if not allow_date:
                raise ValueError("a date-time is required, not a date")
            dt = datetime.combine(date.fromisoformat(text), time.min)
        else:
            if "T" not in text and " " not in text:
                raise ValueError("not an ISO 8601 date-time")
            dt = datetime.fromisoformat(text)
    else:
        raise ValueError("not an ISO 8601 date-time")
    if dt.tzinfo is None or dt.tzinfo.utcoffset(dt) is None:
        if require_timezone:
            raise ValueError("a timezone is required")
        return dt.replace(tzinfo=UTC)
    try:
        return dt.astimezone(UTC)
    except OverflowError:  # an offset that moves year 1 or 9999 out of range
        raise ValueError("out of the range of dates") from None
