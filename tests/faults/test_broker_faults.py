"""Losing Redis (the broker) loses no resolution, no forecast and no scoring job.

Each test runs its own redis-server (tests/support/faults.py) and stops or restarts that one only."""

from __future__ import annotations

import time

import pytest
from django.conf import settings

from forecasts.models import Forecast
from questions.models import Question
from scoring.models import Score
from scoring.tasks import question_score
from tests.support.faults import (
    build_question,
    clear_scores,
    log_count,
    resolve_clean,
    score_snapshot,
    scored,
    wait_for_log,
)
from tests.support.workers import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BROKER_LOST = "consumer: Connection to broker lost"  # Celery's warning when the broker goes away


def test_a_resolution_made_while_redis_is_down_commits_answers_and_is_scored_by_the_reconciler_later(
    make_user, client_for, private_redis, broker, start_worker, tmp_path, make_question, settings
):
    # As in production, one Redis is the broker and the cache (throttles), and it goes away.
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": private_redis.url}}
    assert settings.CACHES["default"]["BACKEND"] == "config.cache.FailOpenRedisCache"
    q = build_question(make_user)
    admin = make_user("fault-resolver", staff=True)
    open_q = make_question(title="Still open while the broker is down")
    private_redis.stop()

    started = time.monotonic()
    resp = client_for(admin).post(f"/api/v1/questions/{q.pk}/resolve/", {"resolution": "no"}, format="json")
    assert resp.status_code == 200, resp.content
    assert time.monotonic() - started < 15, "the broker outage must not hang the request"
    assert resp.json()["resolution"] == {**resp.json()["resolution"], "state": "resolved", "outcome": "no"}
    q.refresh_from_db()
    assert q.state == Question.State.RESOLVED and q.scored_version < q.resolution_version
    # A forecast submitted during the outage is acknowledged and stored as well.
    forecaster = make_user("fault-forecaster")
    resp = client_for(forecaster).post(f"/api/v1/questions/{open_q.pk}/forecasts/", {"probability": 0.4}, format="json")
    assert resp.status_code == 201, resp.content
    assert Forecast.objects.filter(pk=resp.json()["id"], user=forecaster).exists()
    assert not Score.objects.filter(question=q).exists()

    # Redis is back: the worker's embedded beat runs scores_reconcile, which enqueues the job.
    private_redis.start()
    start_worker(("-B", "--schedule", str(tmp_path / "beat-schedule")), RECONCILE_SECONDS="1")
    wait_for(lambda: scored(q.pk), timeout=60, message="the reconciler to score the question")
    reference = score_snapshot(q.pk)
    assert reference
    clear_scores(q.pk)
    assert resolve_clean_again(q) == reference


def resolve_clean_again(q) -> dict:
    """The same question scored in-process, for comparison."""
    from scoring.services import question_scores_write

    question_scores_write(question_id=q.pk)
    return score_snapshot(q.pk)


def test_a_worker_keeps_consuming_after_redis_restarts_under_it(make_user, private_redis, start_worker):
    q = build_question(make_user)
    clean = resolve_clean(q, "yes", by=make_user("fault-admin", staff=True))
    clear_scores(q.pk)
    w = start_worker()
    question_score.delay(q.pk)
    wait_for(lambda: scored(q.pk), timeout=30, message="the first job")

    lost = log_count(w, BROKER_LOST)
    private_redis.stop()
    wait_for_log(w, BROKER_LOST, count=lost + 1)  # the worker saw the connection drop and is reconnecting
    private_redis.start()
    assert w.proc.poll() is None, "the worker survived the outage"
    clear_scores(q.pk)
    wait_for(lambda: _try_delay(q.pk), timeout=30, message="enqueue after the restart")
    wait_for(lambda: scored(q.pk), timeout=90, message="the same worker to consume after the restart")
    assert score_snapshot(q.pk) == clean
    assert w.proc.poll() is None


def _try_delay(question_id: int) -> bool:
    from kombu.exceptions import OperationalError

    try:
        question_score.delay(question_id)
    except OperationalError:
        return False
    return True


def test_a_queued_job_survives_a_redis_restart_through_the_append_only_file(make_user, private_redis, start_worker):
    q = build_question(make_user)
    clean = resolve_clean(q, "no", by=make_user("fault-admin", staff=True))
    clear_scores(q.pk)
    question_score.delay(q.pk)  # no worker yet: the job waits in Redis
    assert private_redis.client().llen(settings.CELERY_TASK_DEFAULT_QUEUE) == 1
    private_redis.restart()  # SIGTERM, then a new server on the same port and directory
    assert private_redis.client().llen(settings.CELERY_TASK_DEFAULT_QUEUE) == 1
    start_worker()
    wait_for(lambda: scored(q.pk), timeout=30, message="the job queued before the restart")
    assert score_snapshot(q.pk) == clean
