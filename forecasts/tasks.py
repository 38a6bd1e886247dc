"""Celery tasks of forecasts: thin, id-taking, idempotent wrappers around services."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError, OperationalError
from kombu.exceptions import OperationalError as BrokerError

from .crowd import question_crowd_write

RETRYABLE = (DatabaseError, OperationalError, BrokerError)


@shared_task(bind=True, autoretry_for=RETRYABLE, retry_backoff=1, retry_backoff_max=60, max_retries=8)
def crowd_update(self, question_id: int) -> int:
    """Bring a question's crowd history up to date after a forecast or a withdrawal."""
    return question_crowd_write(question_id=question_id)
