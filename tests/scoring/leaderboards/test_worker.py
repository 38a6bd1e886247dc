"""With a real Celery worker: an admin resolves over the API, the worker scores the question and
then recomputes its leaderboards, and the leaderboard read shows the forecaster."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from forecasts.services import forecast_submit
from questions.services import question_create, series_create
from tests.support.workers import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_resolving_over_the_api_updates_the_leaderboard_through_the_worker(celery_worker, make_user, client_for):
    series = series_create(slug="lb-worker", title="Worker series")
    now = datetime.now(UTC)
    q = question_create(type="binary", title="Will the worker score this?", open_time=now - timedelta(days=5),
                        close_time=now + timedelta(days=30), series=series)  # fmt: skip
    ana, ben = make_user("zq_worker_ana"), make_user("zq_worker_ben")
    forecast_submit(user=ana, question=q, payload={"probability": 0.9}, at=now - timedelta(days=4))
    forecast_submit(user=ben, question=q, payload={"probability": 0.3}, at=now - timedelta(days=3))
    url = f"/api/v1/leaderboards/series/{series.slug}/"
    assert client_for(ana).get(url).json()["count"] == 0  # cached empty, until the recompute bumps the version

    resp = client_for(make_user("zq_worker_admin", staff=True)).post(
        f"/api/v1/questions/{q.pk}/resolve/", {"resolution": "yes"}, format="json"
    )
    assert resp.status_code in (200, 201), resp.content

    body = wait_for(
        lambda: (b := client_for(ana).get(url).json())["count"] == 2 and b,
        timeout=60,
        message="the leaderboard to show both users",
    )
    assert [e["user"]["id"] for e in body["entries"]] == [ana.pk, ben.pk]
    assert body["me"]["rank"] == 1 and body["crowd"]["method"] == "median"
