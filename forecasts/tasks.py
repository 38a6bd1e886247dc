"""Celery tasks of forecasts: thin, id-taking, idempotent wrappers around services."""

from __future__ import annotations

import time

from celery import shared_task
from django.db import DatabaseError, OperationalError
from kombu.exceptions import OperationalError as BrokerError

from config.enqueue import enqueue

from .crowd import question_crowd_write
from .pending import crowd_unmark
from .selectors import questions_needing_crowd
from .window import expire_windows

RETRYABLE = (DatabaseError, OperationalError, BrokerError)


@shared_task(bind=True, autoretry_for=RETRYABLE, retry_backoff=1, retry_backoff_max=60, max_retries=8)
def crowd_update(self, question_id: int) -> int:
    """Bring a question's crowd history up to date after a forecast or a withdrawal. Deletes the
    question's pending mark first (forecasts.pending), so any forecast stored after this run's
    read sends another run."""
    crowd_unmark(question_id=question_id)
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


@shared_task(bind=True, autoretry_for=RETRYABLE, retry_backoff=5, max_retries=3)
def throttle_windows_expire(self) -> int:
    """Periodic (beat): delete the forecast throttle's windows whose newest request has left them."""
    return expire_windows(now=time.time())
