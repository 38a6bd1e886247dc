"""Celery tasks of notifications: thin, id-taking, idempotent wrappers around services (the
webhook delivery task is webhooks.webhook_deliver). The scans and the digest run from beat."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError, OperationalError
from kombu.exceptions import OperationalError as BrokerError

from . import services

RETRYABLE = (DatabaseError, OperationalError, BrokerError)
RETRY = {"autoretry_for": RETRYABLE, "retry_backoff": 2, "retry_backoff_max": 120, "max_retries": 8}
BEAT = {"autoretry_for": RETRYABLE, "retry_backoff": 5, "max_retries": 3}


@shared_task(bind=True, retry_jitter=True, **RETRY)
def notify_resolution(self, question_id: int) -> int:
    """Notify each forecaster of the question's latest resolution change (once per version)."""
    return services.resolution_notify(question_id=question_id)


@shared_task(bind=True, **BEAT)
def stale_forecasts_scan(self) -> int:
    """Beat: remind users of standing forecasts older than their stale_days."""
    return services.stale_notify()


@shared_task(bind=True, **BEAT)
def crowd_moves_scan(self) -> int:
    """Beat: tell users the crowd moved past their threshold since their forecast."""
    return services.crowd_moves_notify()


@shared_task(bind=True, **BEAT)
def closing_soon_scan(self) -> int:
    """Beat: tell interested users without a standing forecast that a question closes within 48 h."""
    return services.closing_notify()


@shared_task(bind=True, **BEAT)
def email_digest(self) -> int:
    """Beat: one e-mail per user with their new notifications of the kinds they have e-mail on."""
    return services.digest_send()


@shared_task(bind=True, **BEAT)
def notifications_reconcile(self) -> dict:
    """Beat: announce resolution changes whose job was lost, enqueue webhooks never enqueued."""
    return services.notifications_reconcile()
