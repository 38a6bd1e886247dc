"""Celery tasks of forecasts: thin, id-taking, idempotent wrappers around services."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.core.cache import cache
from django.db import DatabaseError, OperationalError
from kombu.exceptions import OperationalError as BrokerError

from config.enqueue import enqueue

from .crowd import question_crowd_write
from .selectors import questions_needing_crowd

RETRYABLE = (DatabaseError, OperationalError, BrokerError)

logger = logging.getLogger(__name__)

# Coalescing of crowd updates: while this key of a question exists, a crowd_update of it is queued
# and has not started yet, so a forecast committed meanwhile needs no job of its own (the queued one
# reads it). Set with add() (NX) by whoever enqueues after commit, cleared by the task as it starts
# (before it reads the forecasts), and short-lived: a job lost after the key was set costs at most
# CROWD_PENDING_TTL seconds of coalesced forecasts, and crowd_reconcile repairs the history anyway.
CROWD_PENDING_TTL = 60


def crowd_pending_key(question_id: int) -> str:
    return f"crowd-pending:{question_id}"


def crowd_pending_clear(question_id: int) -> None:
    """Let the next forecast on the question enqueue a new update (a cache outage is only logged)."""
    try:
        cache.delete(crowd_pending_key(question_id))
    except Exception:  # noqa: BLE001 - the cache is an optimisation here, never a reason to fail
        logger.warning("cache unavailable: crowd-pending key of question %s not cleared", question_id)


@shared_task(bind=True, autoretry_for=RETRYABLE, retry_backoff=1, retry_backoff_max=60, max_retries=8)
def crowd_update(self, question_id: int) -> int:
    """Bring a question's crowd history up to date after a forecast or a withdrawal. Clears the
    question's crowd-pending key first, so any forecast committed after this run's read enqueues
    another run."""
    crowd_pending_clear(question_id)
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


class _CrowdUpdateOnce:
    """crowd_update as config.enqueue sends it, coalesced per question: apply_async enqueues only
    when no update of the question is already queued and not yet started (the crowd-pending key,
    set here with add(), i.e. NX). A failed send clears the key again, so the next forecast tries;
    a cache outage falls back to enqueueing every time."""

    name = "forecasts.tasks.crowd_update"

    def apply_async(self, args: tuple[Any, ...] | list[Any], **options: Any) -> Any:
        (question_id,) = args
        try:
            first = cache.add(crowd_pending_key(question_id), 1, timeout=CROWD_PENDING_TTL)
        except Exception:  # noqa: BLE001 - no cache: enqueue, as without coalescing
            first = True
        if not first:
            return None
        try:
            return crowd_update.apply_async(args, **options)
        except BaseException:
            crowd_pending_clear(question_id)
            raise


crowd_update_once = _CrowdUpdateOnce()
