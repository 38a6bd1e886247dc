"""Celery on a real Redis broker with a real worker process: tasks enqueued on commit run,
tasks enqueued in a transaction that rolls back never do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

from forecasts.models import CrowdPoint, Forecast
from forecasts.services import forecast_submit
from questions.services import question_create
from tests.support.workers import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _question(title="Will the CSTO adopt the border programme?"):
    now = datetime.now(UTC)
    return question_create(
        type="binary", title=title, open_time=now - timedelta(days=3), close_time=now + timedelta(days=30)
    )


def test_task_enqueued_on_commit_is_run_by_the_worker(celery_worker, make_user):
    q = _question()
    forecast_submit(user=make_user("w1"), question=q, payload={"probability": 0.8})
    forecast_submit(user=make_user("w2"), question=q, payload={"probability": 0.4})
    forecast_submit(user=make_user("w2b"), question=q, payload={"probability": 0.6})
    # The worker (a separate process) writes the crowd history of the committed forecasts.
    latest = wait_for(
        lambda: CrowdPoint.objects.filter(question=q, method="median", is_latest=True, n_forecasters=3).first(),
        message="the worker to write the crowd history",
    )
    assert latest.probabilities == pytest.approx([0.6, 0.4])


def test_task_enqueued_in_a_rolled_back_transaction_never_runs(celery_worker, make_user):
    from forecasts.tasks import crowd_update

    q = _question()
    user = make_user("w3")
    with pytest.raises(RuntimeError), transaction.atomic():
        forecast_submit(user=user, question=q, payload={"probability": 0.8})
        raise RuntimeError("the request failed after the insert")
    assert not Forecast.objects.exists()
    # A sentinel enqueued afterwards on the same single-process queue: once it has run, anything
    # enqueued before it would have run too.
    other = _question("Sentinel")
    crowd_update.delay(other.pk).get(timeout=30)
    assert not CrowdPoint.objects.filter(question=q).exists()
