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


def enqueue(task: Any, *args: Any) -> bool:
    """Send `task(*args)` now; returns False (and logs) when the broker is unreachable.

    ignore_result: nobody waits for these results, and subscribing to one would make the call
    hang on a dead result backend (the same Redis) instead of failing fast."""
    from kombu.exceptions import OperationalError as BrokerError

    try:
        task.apply_async(args, ignore_result=True)
    except BrokerError:
        logger.warning("broker unavailable: %s%r not enqueued; the reconciler will catch up", task.name, args)
        return False
    return True


def enqueue_on_commit(task: Any, *args: Any) -> None:
    """`enqueue(task, *args)` once the current transaction commits (at once outside one); a
    rolled-back transaction enqueues nothing."""
    transaction.on_commit(lambda: enqueue(task, *args))
