"""The composite's job on a real Redis broker with a real worker process: the forecasts' crowd
update runs in the worker, announces the change after its commit, and the recompute it enqueues
runs there too; a resolution made here does the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from forecasts.services import forecast_submit
from questions.services import question_create, question_resolve
from strategy.models import StrategicPoint
from strategy.services import strategic_question_create
from tests.support.workers import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_forecasts_and_a_resolution_move_the_stored_composite(celery_worker, make_user, staff):
    now = datetime.now(UTC)
    q = question_create(
        type="binary",
        title="Will the CSTO adopt it?",
        open_time=now - timedelta(days=3),
        close_time=now + timedelta(days=30),
    )
    sq = strategic_question_create(
        slug="worker-strategic",
        title="Deeper coordination?",
        pole_less="Less",
        pole_more="More",
        drivers=[{"title": "Security", "indicators": [{"question": q.pk, "direction": -1, "weight": 2}]}],
    )

    def latest():
        return StrategicPoint.objects.filter(strategic_question=sq).order_by("-time").first()

    for i, p in enumerate((0.7, 0.8, 0.9)):
        forecast_submit(user=make_user(f"sw{i}"), question=q, payload={"probability": p})
    # median 0.8, direction -1: -(2 * 0.8 - 1) = -0.6
    point = wait_for(
        lambda: (pt := latest()) is not None and pt.composite is not None and pt, message="the composite from the crowd"
    )
    assert point.composite == pytest.approx(-0.6)
    question_resolve(question=q, outcome="no", by=staff)
    wait_for(lambda: (pt := latest()) is not None and pt.composite == pytest.approx(1.0), message="the resolution")
