"""The beat jobs run by a real worker: stale forecasts, crowd moves and questions closing soon.
Each runs twice and the second run stores nothing (idempotent)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from forecasts.models import CrowdPoint, Forecast
from forecasts.services import forecast_submit, forecast_withdraw
from notifications.models import Notification
from notifications.services import preferences_update
from notifications.tasks import closing_soon_scan, crowd_moves_scan, stale_forecasts_scan
from questions.services import question_resolve, series_create
from tests.support.workers import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

DAY = timedelta(days=1)


def _run(task) -> int:
    return task.delay().get(timeout=90)


def _notified(kind: str, question=None) -> set[str]:
    rows = Notification.objects.filter(kind=kind)
    if question is not None:
        rows = rows.filter(question=question)
    return set(rows.values_list("user__username", flat=True))


def _crowd_caught_up(q) -> bool:
    last = Forecast.objects.filter(question=q).order_by("-id").values_list("id", flat=True).first()
    return CrowdPoint.objects.filter(question=q, is_latest=True, through_forecast_id=last).exists()


def test_stale_forecasts_are_reminded_once_per_forecast(celery_worker, make_user, make_question, staff):
    now = datetime.now(UTC)
    q = make_question(title="Stale question", open_time=now - 40 * DAY)
    closed = make_question(title="Closed question", open_time=now - 40 * DAY, close_time=now - DAY)
    resolved = make_question(title="Resolved question", open_time=now - 40 * DAY)
    users = {name: make_user(f"stale-{name}") for name in ("ana", "ben", "cat", "dan", "eve", "fay")}
    preferences_update(user=users["ben"], changes={"stale_days": 30})
    preferences_update(user=users["eve"], changes={"stale_days": 7})
    forecast_submit(user=users["ana"], question=q, payload={"probability": 0.6}, at=now - 20 * DAY)  # stale (14)
    forecast_submit(user=users["ben"], question=q, payload={"probability": 0.6}, at=now - 20 * DAY)  # not (30)
    forecast_submit(user=users["cat"], question=q, payload={"probability": 0.6}, at=now - 20 * DAY)
    forecast_submit(user=users["dan"], question=q, payload={"probability": 0.6}, at=now - 20 * DAY)
    forecast_withdraw(user=users["dan"], question=q, at=now - 19 * DAY)  # no standing forecast
    forecast_submit(user=users["eve"], question=q, payload={"probability": 0.6}, at=now - 10 * DAY)  # stale (7)
    forecast_submit(user=users["cat"], question=q, payload={"probability": 0.7}, at=now - 2 * DAY)  # updated
    forecast_submit(user=users["fay"], question=closed, payload={"probability": 0.6}, at=now - 20 * DAY)
    forecast_submit(user=users["fay"], question=resolved, payload={"probability": 0.6}, at=now - 20 * DAY)
    question_resolve(question=resolved, outcome="yes", by=staff)

    assert _run(stale_forecasts_scan) == 2
    assert _notified("forecast_stale") == {"stale-ana", "stale-eve"}
    message = Notification.objects.get(kind="forecast_stale", user=users["ana"]).message
    assert message.startswith("Your forecast on \u201cStale question\u201d is 20 days old.")
    assert _run(stale_forecasts_scan) == 0  # the second run stores nothing
    assert Notification.objects.filter(kind="forecast_stale").count() == 2

    # A newer forecast that goes stale in its turn is a new reminder; a fresh one is none.
    forecast_submit(user=users["ana"], question=q, payload={"probability": 0.65}, at=now - 15 * DAY)
    forecast_submit(user=users["eve"], question=q, payload={"probability": 0.65})
    assert _run(stale_forecasts_scan) == 1
    assert Notification.objects.filter(kind="forecast_stale", user=users["ana"]).count() == 2
    assert _run(stale_forecasts_scan) == 0


def test_crowd_moves_past_each_users_threshold_are_told_once(celery_worker, make_user, make_question):
    now = datetime.now(UTC)
    q = make_question(title="Will the crowd move?", open_time=now - 30 * DAY)
    hidden = make_question(title="Hidden crowd", open_time=now - 30 * DAY, crowd_reveal_time=now + 5 * DAY)
    users = {name: make_user(f"crowd-{name}") for name in ("ana", "ben", "cat", "dan", "eve", "fay", "gus")}
    preferences_update(user=users["ben"], changes={"move_threshold": 60})
    # Three low forecasts publish a crowd of 22% (three forecasters, the minimum), then four high
    # ones move its median to 70%.
    plan = [("ana", 0.20, 10), ("ben", 0.22, 9), ("cat", 0.24, 8), ("dan", 0.70, 3), ("eve", 0.72, 2),
            ("fay", 0.74, 1), ("gus", 0.76, 0.5)]  # fmt: skip
    for name, p, days_ago in plan:
        for question in (q, hidden):
            forecast_submit(user=users[name], question=question, payload={"probability": p}, at=now - days_ago * DAY)
    wait_for(lambda: _crowd_caught_up(q) and _crowd_caught_up(hidden), timeout=60, message="the crowd histories")
    assert CrowdPoint.objects.get(question=q, method="median", is_latest=True).probabilities[0] == pytest.approx(0.70)

    # From the crowd first published at or after each forecast to now: ana and cat 22% -> 70%
    # (ben's threshold is 60 points), dan 23% -> 70%, eve 24%, fay 47%, gus 70% (no move).
    assert _run(crowd_moves_scan) == 5
    assert _notified("crowd_moved", q) == {"crowd-ana", "crowd-cat", "crowd-dan", "crowd-eve", "crowd-fay"}
    assert _notified("crowd_moved", hidden) == set()  # its crowd is not published yet
    message = Notification.objects.get(kind="crowd_moved", user=users["ana"]).message
    assert (
        message == "The crowd on \u201cWill the crowd move?\u201d moved from 22% to 70% yes since your last forecast."
    )
    assert _run(crowd_moves_scan) == 0
    assert Notification.objects.filter(kind="crowd_moved").count() == 5


def test_questions_closing_within_48_hours_tell_interested_users_without_a_forecast(
    celery_worker, make_user, make_question
):
    now = datetime.now(UTC)
    series = series_create(slug="closing-series", title="Closing series")
    closing = make_question(title="Closes tomorrow", series=series, open_time=now - 20 * DAY, close_time=now + DAY)
    later = make_question(
        title="Closes in three days", series=series, open_time=now - 20 * DAY, close_time=now + 3 * DAY
    )
    elsewhere = make_question(title="Outside the series", open_time=now - 20 * DAY, close_time=now + DAY)
    sibling = make_question(title="Sibling", series=series, open_time=now - 20 * DAY)
    users = {name: make_user(f"closing-{name}") for name in ("withdrew", "series", "standing", "stranger")}
    forecast_submit(user=users["withdrew"], question=closing, payload={"probability": 0.4}, at=now - 5 * DAY)
    forecast_withdraw(user=users["withdrew"], question=closing, at=now - 4 * DAY)
    forecast_submit(user=users["series"], question=sibling, payload={"probability": 0.4})
    forecast_submit(user=users["standing"], question=closing, payload={"probability": 0.4})
    forecast_submit(user=users["stranger"], question=make_question(title="Unrelated"), payload={"probability": 0.4})

    assert _run(closing_soon_scan) == 2
    assert _notified("question_closing", closing) == {"closing-withdrew", "closing-series"}
    assert _notified("question_closing", later) == set() and _notified("question_closing", elsewhere) == set()
    message = Notification.objects.get(kind="question_closing", user=users["series"]).message
    assert message.startswith("\u201cCloses tomorrow\u201d closes in 24 hours (")
    assert message.endswith("UTC) and you have no standing forecast on it.")
    assert _run(closing_soon_scan) == 0
    # Whoever forecasts meanwhile is not told again, nor told a second time later.
    forecast_submit(user=users["withdrew"], question=closing, payload={"probability": 0.5})
    assert _run(closing_soon_scan) == 0
    assert Notification.objects.filter(kind="question_closing").count() == 2
