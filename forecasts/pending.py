"""Coalescing of crowd updates: a burst of forecasts on one question enqueues one crowd_update.

A CrowdPending row says that a crowd_update of its question is queued and has not started. Every
write of a forecast or withdrawal marks its question in its own transaction, under the question's
row lock (`INSERT ... ON CONFLICT DO NOTHING`: an index probe when the row is there), and sends a
job after commit only when it made the mark. The job deletes the mark as it starts, under the same
row lock, and only then reads the forecasts. So a forecast that found the mark committed before
the job's read (the job's lock waited for it), and one stored after the job took the lock finds no
mark and sends a job of its own: no forecast is left out of the history.

The mark lives in the database, not the cache, because it is written by the statement that stores
the forecast (forecasts.services.forecast_submit_fast): the hot path then makes no cache round
trip for it. A mark whose job was lost (the broker failed after commit, a worker died before the
job started) holds back the sends of its question until crowd_reconcile, on beat every
RECONCILE_SECONDS, enqueues the lagging question's update, which deletes it."""

from __future__ import annotations

from datetime import datetime

from django.db import connections, router, transaction

from config.enqueue import enqueue
from questions.models import Question

from .models import CrowdPending

_TABLE = CrowdPending._meta.db_table


def mark_sql(select: str) -> str:
    """SQL that marks a question's crowd update pending. `select` is a SELECT of (question id,
    time), e.g. from a WITH clause of the statement that stores the forecast; the statement
    returns a row when it made the mark (a job must be sent) and none when the mark was there."""
    return (
        f"INSERT INTO {_TABLE} (question_id, since) {select} ON CONFLICT (question_id) DO NOTHING RETURNING question_id"
    )


def crowd_mark(*, question_id: int, now: datetime) -> bool:
    """Mark the question's crowd update pending, in the caller's transaction (which holds the
    question's row lock and stores a forecast). True when this call made the mark: the caller
    must then send the job after commit (crowd_send)."""
    alias = router.db_for_write(CrowdPending)
    with connections[alias].cursor() as cur:
        cur.execute(mark_sql("SELECT %s, %s"), [question_id, now])
        return cur.fetchone() is not None


def crowd_send(task, question_id: int) -> None:
    """Send the crowd update marked by this caller (after its commit). When the broker refuses,
    the mark is deleted so that the next forecast tries again."""
    if not enqueue(task, question_id):
        CrowdPending.objects.filter(question_id=question_id).delete()


def crowd_unmark(*, question_id: int) -> None:
    """Delete the question's mark as its crowd update starts, before it reads the forecasts: under
    the question's row lock, so a forecast whose transaction saw the mark has committed first."""
    with transaction.atomic():
        list(Question.objects.select_for_update().filter(pk=question_id).values_list("pk"))
        CrowdPending.objects.filter(question_id=question_id).delete()
