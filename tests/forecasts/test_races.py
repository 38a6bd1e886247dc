"""Concurrent submissions racing a resolution, on PostgreSQL with real row locks."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, connections

from config.exceptions import Conflict
from forecasts.models import Forecast
from forecasts.services import forecast_submit
from questions.models import Question
from questions.services import question_create, question_resolve
from tests.support.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_no_forecast_is_accepted_after_the_resolution_commits(make_user):
    now = datetime.now(UTC)
    q = question_create(
        type="binary", title="Race", open_time=now - timedelta(days=1), close_time=now + timedelta(days=1)
    )
    users = [make_user(f"racer{i}") for i in range(6)]
    admin = make_user("resolver", staff=True)
    accepted: list[int] = []
    accepted_by: dict[int, int] = {}  # user id -> forecasts acknowledged
    refused: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def submit_loop(user):
        # Submits until refused: once the resolution commits, each thread's next try is refused.
        try:
            while True:
                try:
                    f = forecast_submit(user=user, question=q, payload={"probability": 0.5})
                    with lock:
                        accepted.append(f.pk)
                        accepted_by[user.pk] = accepted_by.get(user.pk, 0) + 1
                except Conflict as e:
                    with lock:
                        refused.append(e.code)
                    break
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit_loop, args=(u,), daemon=True) for u in users]
    for t in threads:
        t.start()
    # Resolve while every thread is submitting (each has had a forecast acknowledged).
    wait_for(lambda: len(accepted_by) == len(users) or errors, message="every thread to be submitting")
    question_resolve(question=q, outcome="yes", by=admin)
    resolved_committed = datetime.now(UTC)
    for t in threads:
        t.join(timeout=30)
        assert not t.is_alive(), "a submitting thread was never refused"
    assert not errors, errors
    q = Question.objects.get(pk=q.pk)
    stored = Forecast.objects.filter(question=q)
    # Every acknowledged forecast is stored, and nothing else is.
    assert sorted(stored.values_list("pk", flat=True)) == sorted(accepted)
    assert len(accepted) > 0
    # Every thread was refused, because the question was resolved.
    assert len(refused) == len(users) and set(refused) == {"resolved"}
    # No stored forecast was made after the resolution took the lock.
    latest = max(stored.values_list("created_at", flat=True))
    assert latest <= q.resolved_at <= resolved_committed
