"""The one way follow-up work is enqueued: after the caller's transaction commits, and without
failing the caller when the broker is down.

The write that asked for the job has already committed by the time the job is sent, so a broker
outage must not turn it into an error response: the job is logged as not enqueued, and a beat
reconciler (scores_reconcile, crowd history) finds the lag and enqueues it later."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue(task: Any, *args: Any, once_key: str | None = None, once_ttl: int = 60) -> bool:
    """Send `task(*args)` now; returns False (and logs) when the broker is unreachable.

    With `once_key`, sends only when that cache key is not already set (set here with add(), i.e.
    NX, for `once_ttl` seconds): the task deletes the key when it starts, so a burst of callers
    while one run is queued sends that run only (the run reads what they committed). A failed send
    deletes the key again, so the next caller tries. While the cache is unreachable its fail-open
    add() refuses, so nothing is sent: the beat reconcilers catch up.

    ignore_result: nobody waits for these results, and subscribing to one would make the call
    hang on a dead result backend (the same Redis) instead of failing fast."""
    from django.core.cache import cache
    from kombu.exceptions import OperationalError as BrokerError

    if once_key is not None and not cache.add(once_key, 1, once_ttl):
        return True  # a run is already queued
    try:
        task.apply_async(args, ignore_result=True)
    except BrokerError:
        if once_key is not None:
            cache.delete(once_key)
        logger.warning("broker unavailable: %s%r not enqueued; the reconciler will catch up", task.name, args)
        return False
    return True


def enqueue_on_commit(task: Any, *args: Any, once_key: str | None = None) -> None:
    """`enqueue(task, *args, once_key=...)` once the current transaction commits (at once outside
    one); a rolled-back transaction enqueues nothing."""
    transaction.on_commit(lambda: enqueue(task, *args, once_key=once_key))
