"""A worker that dies or stops in the middle of a scoring job loses nothing and writes nothing
wrong: the job is redelivered (acks_late, reject_on_worker_lost, the Redis visibility timeout) and
its result is the clean run's rows, once each.

The job is held mid-flight by SIGNPOST_FAULT_SCORING_SLEEP, a hook of the workers' fault app
(tests/support/fault_worker.py): engine done, question row locked, nothing written yet."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
from django.conf import settings

from scoring.models import Score
from scoring.tasks import question_score
from tests.support.faults import (
    build_question,
    clear_scores,
    log_count,
    pool_children,
    queue_is_drained,
    resolve_clean,
    score_snapshot,
    scored,
    wait_for_log,
    wait_until,
)
from tests.support.workers import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def queued_tasks(server) -> list[str]:
    raw = server.client().lrange(settings.CELERY_TASK_DEFAULT_QUEUE, 0, -1)
    return [json.loads(m)["headers"]["task"] for m in raw]


MID_JOB = "fault injection: scoring question {} sleeps"


def _reference(make_user):
    q = build_question(make_user)
    clean = resolve_clean(q, "yes", by=make_user("fault-admin", staff=True))
    assert clean and scored(q.pk)
    clear_scores(q.pk)
    return q, clean


def test_sigkill_of_the_pool_process_mid_job_redelivers_it_and_the_scores_equal_a_clean_run(
    make_user, start_worker, private_redis
):
    q, clean = _reference(make_user)
    w = start_worker(SIGNPOST_FAULT_SCORING_SLEEP="2")
    question_score.delay(q.pk)
    wait_for_log(w, MID_JOB.format(q.pk))
    (child,) = pool_children(w)
    os.kill(child, signal.SIGKILL)  # the process running the job dies with the row lock held
    # reject_on_worker_lost requeues the message; the worker's replacement pool process runs it.
    wait_for(lambda: scored(q.pk), timeout=60, message="the redelivered job to finish")
    assert log_count(w, MID_JOB.format(q.pk)) >= 2, "the job ran again after the kill"
    assert score_snapshot(q.pk) == clean
    assert Score.objects.filter(question=q).count() == len(clean)
    wait_for(lambda: queue_is_drained(private_redis, settings.CELERY_TASK_DEFAULT_QUEUE), timeout=20, message="ack")


def test_sigkill_of_the_whole_worker_mid_job_is_redelivered_to_another_worker_after_the_visibility_timeout(
    make_user, start_worker, private_redis
):
    q, clean = _reference(make_user)
    # A hard limit of 5 s, so a visibility timeout of 6 s still exceeds the longest task.
    short = {"CELERY_TASK_TIME_LIMIT": "5", "CELERY_TASK_SOFT_TIME_LIMIT": "4", "CELERY_VISIBILITY_TIMEOUT": "6"}
    first = start_worker(SIGNPOST_FAULT_SCORING_SLEEP="3", **short)
    sent = time.monotonic()
    question_score.delay(q.pk)
    wait_for_log(first, MID_JOB.format(q.pk))
    children = pool_children(first)
    os.kill(first.proc.pid, signal.SIGKILL)  # no warm shutdown, no requeue: the host "died"
    for pid in children:
        os.kill(pid, signal.SIGKILL)
    first.proc.wait(timeout=10)
    assert not scored(q.pk) and not Score.objects.filter(question=q).exists()
    # The message is still in Redis, unacknowledged. Once the visibility timeout has passed, a new
    # worker restores it when it starts polling and runs it (this time without the fault).
    assert private_redis.client().hlen("unacked") == 1
    # Time passing is the point here: the message becomes visible again only once the visibility
    # timeout has run out since it was taken, and Redis offers no event to wait on for that.
    wait_until(sent + 6.5)
    second = start_worker(**short)
    wait_for(lambda: scored(q.pk), timeout=60, message="the second worker to run the redelivered job")
    assert log_count(second, "scoring.tasks.question_score[") >= 1, "the second worker ran it"
    assert score_snapshot(q.pk) == clean
    assert Score.objects.filter(question=q).count() == len(clean)
    wait_for(lambda: queue_is_drained(private_redis, settings.CELERY_TASK_DEFAULT_QUEUE), timeout=20, message="ack")
    assert second.proc.poll() is None


def test_a_worker_stopped_gracefully_mid_job_finishes_it_before_exiting(make_user, start_worker, private_redis):
    q, clean = _reference(make_user)
    w = start_worker(SIGNPOST_FAULT_SCORING_SLEEP="3")
    question_score.delay(q.pk)
    wait_for_log(w, MID_JOB.format(q.pk))
    w.proc.send_signal(signal.SIGTERM)  # warm shutdown: finish the running job, then exit
    assert w.proc.wait(timeout=60) == 0
    assert scored(q.pk)
    assert score_snapshot(q.pk) == clean
    assert Score.objects.filter(question=q).count() == len(clean)
    # The job was acknowledged, not left to be redelivered; its follow-up waits on the queue.
    assert private_redis.client().hlen("unacked") == 0
    assert queued_tasks(private_redis) == ["scoring.tasks.leaderboards_recompute"]
    assert log_count(w, MID_JOB.format(q.pk)) == 1


def test_a_job_delivered_twice_at_once_gives_the_same_rows(make_user, start_worker, private_redis):
    """Duplicate delivery (a double enqueue, a redelivery while the first run still works): two
    workers run the same job at once; the question row lock serialises them, and the rows are the
    clean run's, once each."""
    q, clean = _reference(make_user)
    a = start_worker(SIGNPOST_FAULT_SCORING_SLEEP="2")
    b = start_worker(SIGNPOST_FAULT_SCORING_SLEEP="2")
    question_score.delay(q.pk)
    question_score.delay(q.pk)
    # The second run blocks on the row lock, so it reaches the fault point only after the first commits.
    wait_for(lambda: log_count(a, MID_JOB.format(q.pk)) + log_count(b, MID_JOB.format(q.pk)) >= 2, timeout=40,
             message="both runs")  # fmt: skip
    wait_for(lambda: queue_is_drained(private_redis, settings.CELERY_TASK_DEFAULT_QUEUE), timeout=30, message="acks")
    assert log_count(a, MID_JOB.format(q.pk)) == 1 and log_count(b, MID_JOB.format(q.pk)) == 1
    assert scored(q.pk)
    assert score_snapshot(q.pk) == clean
