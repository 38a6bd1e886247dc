"""Concurrent submissions racing a resolution, on PostgreSQL with real row locks."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, connections

from config.exceptions import Conflict
from forecasts.models import Forecast
from forecasts.services import forecast_submit
from questions.models import Question
from questions.services import question_create, question_resolve

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
    refused: list[str] = []
    errors: list[BaseException] = []
    stop = threading.Event()
    lock = threading.Lock()

    def submit_loop(user):
        try:
            while not stop.is_set():
                try:
                    f = forecast_submit(user=user, question=q, payload={"probability": 0.5})
                    with lock:
                        accepted.append(f.pk)
                except Conflict as e:
                    with lock:
                        refused.append(e.code)
                    break
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit_loop, args=(u,)) for u in users]
    for t in threads:
        t.start()
    time.sleep(0.5)
    question_resolve(question=q, outcome="yes", by=admin)
    resolved_committed = datetime.now(UTC)
    time.sleep(0.3)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    q = Question.objects.get(pk=q.pk)
    stored = Forecast.objects.filter(question=q)
    # Every acknowledged forecast is stored, and nothing else is.
    assert sorted(stored.values_list("pk", flat=True)) == sorted(accepted)
    assert len(accepted) > 0
    # Each thread that kept going was refused because the question was resolved.
    assert refused and set(refused) == {"resolved"}
    # No stored forecast was made after the resolution took the lock.
    latest = max(stored.values_list("created_at", flat=True))
    assert latest <= q.resolved_at <= resolved_committed
