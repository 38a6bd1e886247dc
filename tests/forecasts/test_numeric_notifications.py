"""What forecasters of a numeric or date question are told (notifications.services, run in-process
here; the worker-driven scans are tests/notifications'): the resolution with its value and unit,
and crowd_moved when the crowd's median moved by more than their threshold, read as percentage
points of the question's range."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from forecasts.crowd import question_crowd_write
from forecasts.services import forecast_submit
from notifications.models import Notification
from notifications.services import crowd_moves_notify, preferences_update, resolution_notify
from questions.services import question_create, question_resolve

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def _numeric(now, **kw):
    fields = {
        "type": "numeric",
        "title": "Grain exports in March",
        "open_time": now - 30 * DAY,
        "close_time": now + 30 * DAY,
        "range_lower": 0.0,
        "range_upper": 1000.0,
        "unit": "kt",
    }
    fields.update(kw)
    return question_create(**fields)


def test_resolution_message_shows_the_value_with_its_unit(make_user, staff):
    now = datetime.now(UTC)
    q = _numeric(now, open_upper=True)
    ana = make_user("num-ana")
    forecast_submit(user=ana, question=q, payload={"components": [{"centre": 400, "scale": 50}]}, at=now - DAY)
    question_resolve(question=q, outcome=412.5, by=staff)
    assert resolution_notify(question_id=q.pk) == 1
    message = Notification.objects.get(user=ana, kind="question_resolved").message
    assert message == "\u201cGrain exports in March\u201d resolved as 412.5 kt. Your score is on its page."
    question_resolve(question=q, outcome=1500, by=staff)  # a correction, beyond the open upper bound
    assert resolution_notify(question_id=q.pk) == 1
    latest = Notification.objects.filter(user=ana, kind="question_resolved").order_by("-id").first().message
    assert latest == (
        "\u201cGrain exports in March\u201d: the resolution was corrected to above 1000 kt (it was 412.5 kt). "
        "Your score is updated."
    )
    assert resolution_notify(question_id=q.pk) == 0  # once per resolution change


def test_crowd_median_move_is_read_in_percent_of_the_range(make_user):
    now = datetime.now(UTC)
    q = _numeric(now)
    users = {name: make_user(f"num-{name}") for name in ("ana", "ben", "cat", "dan", "eve", "fay", "gus")}
    preferences_update(user=users["ben"], changes={"move_threshold": 40})
    # three forecasts around 200 kt publish the crowd; four around 600 kt move its median to ~600
    plan = [("ana", 200, 10), ("ben", 210, 9), ("cat", 220, 8), ("dan", 600, 3), ("eve", 610, 2),
            ("fay", 620, 1), ("gus", 630, 0.5)]  # fmt: skip
    for name, centre, days_ago in plan:
        forecast_submit(
            user=users[name],
            question=q,
            payload={"components": [{"centre": centre, "scale": 20}]},
            at=now - days_ago * DAY,
        )
        question_crowd_write(question_id=q.pk)
    assert crowd_moves_notify(now=now) == 5  # ben's threshold is 40% of the range; gus saw no move
    told = set(Notification.objects.filter(kind="crowd_moved").values_list("user__username", flat=True))
    assert told == {"num-ana", "num-cat", "num-dan", "num-eve", "num-fay"}
    message = Notification.objects.get(kind="crowd_moved", user=users["ana"]).message
    assert (
        message
        == "The crowd's median on \u201cGrain exports in March\u201d moved from 210 kt to 600 kt since your last forecast."
    )
    assert crowd_moves_notify(now=now) == 0
