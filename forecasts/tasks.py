"""Celery tasks of forecasts: thin, id-taking, idempotent wrappers around services."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache
from django.db import DatabaseError, OperationalError
from kombu.exceptions import OperationalError as BrokerError

from config.enqueue import enqueue

from .crowd import question_crowd_write
from .selectors import questions_needing_crowd

RETRYABLE = (DatabaseError, OperationalError, BrokerError)

# Coalescing of crowd updates (config.enqueue's once_key): while this key of a question exists, a
# crowd_update of it is queued and has not started, so a forecast committed meanwhile needs no job of
# its own. The task clears it as it starts, before it reads the forecasts; a job lost after the key
# was set costs at most its 60 s lifetime, and crowd_reconcile repairs the history anyway.


def crowd_pending_key(question_id: int) -> str:
    return f"crowd-pending:{question_id}"


@shared_task(bind=True, autoretry_for=RETRYABLE, retry_backoff=1, retry_backoff_max=60, max_retries=8)
def crowd_update(self, question_id: int) -> int:
    """Bring a question's crowd history up to date after a forecast or a withdrawal. Clears the
    question's crowd-pending key first, so any forecast committed after this run's read enqueues
    another run."""
    cache.delete(crowd_pending_key(question_id))
    return question_crowd_write(question_id=question_id)


@shared_task(bind=True, autoretry_for=RETRYABLE, retry_backoff=5, max_retries=3)
def crowd_reconcile(self) -> list[int]:
    """Periodic safety net (beat): enqueue the crowd update of every question whose crowd history
    lags its forecasts, e.g. one whose update was not enqueued while the broker was down. A
    duplicate of an update already queued is harmless (the update is idempotent)."""
    ids = questions_needing_crowd()
    for question_id in ids:
        enqueue(crowd_update, question_id)
    return ids
