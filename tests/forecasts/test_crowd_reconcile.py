"""The crowd history's reconciler (beat's crowd_reconcile): a forecast whose crowd update was lost
while the broker was down is caught up at the next beat, not at the question's next forecast."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from kombu.exceptions import OperationalError as BrokerError

from forecasts.crowd import question_crowd_write
from forecasts.models import CrowdPoint
from forecasts.selectors import questions_needing_crowd
from forecasts.services import forecast_submit
from forecasts.tasks import crowd_reconcile, crowd_update

pytestmark = pytest.mark.django_db(transaction=True)


def _history(q) -> list[tuple]:
    return list(
        CrowdPoint.objects.filter(question=q)
        .order_by("method", "time")
        .values_list("method", "time", "probabilities", "n_forecasters", "is_latest")
    )


def test_the_reconciler_repairs_crowd_history_after_a_lost_enqueue(make_user, make_question, monkeypatch):
    q = make_question(title="Lost updates", open_time=datetime.now(UTC) - timedelta(days=1))
    other = make_question(title="Up to date")
    users = [make_user() for _ in range(4)]
    for i, u in enumerate(users[:3]):
        forecast_submit(user=u, question=q, payload={"probability": 0.2 + 0.1 * i})
    forecast_submit(user=users[0], question=other, payload={"probability": 0.5})
    before = _history(q)
    assert before and questions_needing_crowd() == []

    def broker_down(*args, **kwargs):
        raise BrokerError("connection refused")

    with monkeypatch.context() as m:  # the broker is down: the update after commit is not enqueued
        m.setattr(crowd_update, "apply_async", broker_down)
        late = forecast_submit(user=users[3], question=q, payload={"probability": 0.9})
    assert _history(q) == before, "the lost update left the history behind"
    assert questions_needing_crowd() == [q.pk]

    assert crowd_reconcile.apply().get() == [q.pk]  # one beat later (tasks run in-process here)

    after = _history(q)
    assert after != before
    latest = CrowdPoint.objects.get(question=q, method="median", is_latest=True)
    assert latest.through_forecast_id == late.pk and latest.n_forecasters == 4
    question_crowd_write(question_id=q.pk, full=True)
    assert _history(q) == after, "the caught-up history equals a full recompute"
    assert questions_needing_crowd() == []
    assert crowd_reconcile.apply().get() == [], "a second run finds nothing"


def test_the_reconciler_is_on_beat_for_the_same_interval_as_scores(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["crowd-reconcile"]["task"] == "forecasts.tasks.crowd_reconcile"
    assert schedule["crowd-reconcile"]["schedule"] == schedule["scores-reconcile"]["schedule"]
