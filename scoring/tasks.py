"""Celery tasks of scoring: thin wrappers that take ids and call services. Every task is
idempotent, so a redelivery after a crash (acks_late) or a duplicate enqueue changes nothing."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError, OperationalError
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from . import leaderboards, selectors, services

RETRYABLE = (DatabaseError, OperationalError, BrokerError)
RETRY = {"autoretry_for": RETRYABLE, "retry_backoff": 2, "retry_backoff_max": 120, "max_retries": 8}


@shared_task(bind=True, retry_jitter=True, **RETRY)
def question_score(self, question_id: int) -> int:
    """Score a resolved question (or clear the scores of one that no longer is: annulment,
    un-resolution) and write its own leaderboard with them, then enqueue the recompute of its
    series and global boards. A failed enqueue retries the whole task (idempotent)."""
    n = services.question_scores_write(question_id=question_id)
    leaderboards_recompute.delay(question_id, question_board=False)
    return n


@shared_task(bind=True, **RETRY)
def leaderboards_recompute(self, question_id: int, question_board: bool = True) -> None:
    """Recompute the materialised leaderboards of a question's scopes (question unless
    `question_board` is False, series, global) from the stored scores, and invalidate their
    cached reads."""
    leaderboards.leaderboards_recompute(question_id=question_id, question_board=question_board)


@shared_task(bind=True, **RETRY)
def scores_write_chunk(self, question_ids: list[int]) -> dict:
    """Score a chunk of questions in one transaction (the fan-out of `rescore --fanout`); the
    leaderboards are recomputed once, by the chord's callback, after every chunk has finished.
    Returns who ran it, so a caller can see the work spread over the workers."""
    rows = services.questions_scores_write(question_ids=question_ids)
    return {"rows": rows, "questions": len(question_ids), "hostname": self.request.hostname or "eager"}


@shared_task(bind=True, **RETRY)
def leaderboards_recompute_all(self, chunk_results: list | None = None, questions: bool = True) -> dict:
    """Recompute every materialised leaderboard (the callback of the rescore fan-out's chord,
    which Celery runs once, after every chunk job of the group has succeeded; with `questions`
    False, as the chord sends it, not the question boards, which the chunk jobs wrote)."""
    started = timezone.now()
    leaderboards.leaderboards_recompute_all(questions=questions)
    return {
        "hostname": self.request.hostname or "eager",
        "chunks": len(chunk_results or []),
        "chunk_hosts": sorted({r["hostname"] for r in chunk_results or [] if isinstance(r, dict)}),
        "started_at": started.isoformat(),
    }


def rescore_fanout(question_ids: list[int], *, chunk_size: int = 50):
    """Enqueue the scoring of `question_ids` as a Celery group of chunk jobs, with the recompute
    of every leaderboard as the chord callback: it runs once, when all chunks are done. Returns
    the chord's AsyncResult (its .get() is the callback's result). Needs a result backend (Redis,
    when REDIS_URL is set), which is how Celery counts the finished chunks."""
    from celery import chord, group

    ids = sorted(question_ids)
    chunks = [ids[i : i + chunk_size] for i in range(0, len(ids), chunk_size)] or [[]]
    return chord(group(scores_write_chunk.s(c) for c in chunks))(leaderboards_recompute_all.s(questions=False))


@shared_task(bind=True, autoretry_for=RETRYABLE, retry_backoff=5, max_retries=3)
def scores_reconcile(self) -> list[int]:
    """Periodic safety net (beat): enqueue scoring for every question whose scores are missing or
    older than its latest resolution change, e.g. one resolved while the broker was down."""
    ids = selectors.questions_needing_scores()
    for question_id in ids:
        question_score.delay(question_id)
    return ids
