"""Celery tasks of strategy: thin, id-taking, idempotent wrappers around strategy.history."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError, OperationalError
from kombu.exceptions import OperationalError as BrokerError

from . import history

RETRYABLE = (DatabaseError, OperationalError, BrokerError)
RETRY = {"autoretry_for": RETRYABLE, "retry_backoff": 2, "retry_backoff_max": 120, "max_retries": 8}


@shared_task(bind=True, retry_jitter=True, **RETRY)
def strategic_recompute(self, strategic_question_id: int) -> int:
    """Recompute a strategic question's composite history from its indicators' crowd histories
    and resolutions (wholesale, under its row lock: a redelivery or a duplicate changes nothing)."""
    return history.strategic_recompute(strategic_question_id=strategic_question_id)
