"""A test-only Celery app: the project's app (config.celery.app) with fault injection, for the
reliability tests (tests/faults, tests/scoring/test_fanout.py). Workers started with
`celery -A tests.support.fault_worker worker` run the project's tasks; when one of these variables
is set in their environment, the scoring services misbehave on purpose:

SIGNPOST_FAULT_SCORING_SLEEP=<seconds>
    After the engine has scored (question row locked, no row written yet), the job sleeps, once
    per task run, so a test can kill or stop the worker while the job is mid-flight. Logs
    "fault injection: scoring question <id> sleeps <s>s before writing".
SIGNPOST_FAULT_SCORING_DB_ERROR_ONCE=<path>
    After the new score rows are inserted (transaction not committed), the job raises
    django.db.OperationalError if <path> exists, deleting it first: exactly one attempt fails
    after a partial write and the retry succeeds. Logs "fault injection: scoring question <id>
    fails after writing".

Nothing in the product reads these variables: the hooks wrap the public functions of
scoring.services (`score_question`, the engine call it imports; `score_rows_insert`) when the
worker starts, before its pool processes fork, and `question_spec` only to learn which question
is being scored."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from functools import wraps
from pathlib import Path
from typing import Any

from celery import signals

from config.celery import app

__all__ = ["app", "failing_once_after", "install", "sleeping_after"]

SLEEP_VAR = "SIGNPOST_FAULT_SCORING_SLEEP"
DB_ERROR_VAR = "SIGNPOST_FAULT_SCORING_DB_ERROR_ONCE"

logger = logging.getLogger(__name__)


class _Job:
    """What the running task has done so far (each pool process runs one task at a time)."""

    question_id: int | None = None
    slept = False


def _reset(**_kw: Any) -> None:
    _Job.question_id = None
    _Job.slept = False


def recording_question(question_spec: Callable[..., Any]) -> Callable[..., Any]:
    """question_spec, noting the question it is called for (for the fault messages)."""

    @wraps(question_spec)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _Job.question_id = kwargs["question"].pk
        return question_spec(*args, **kwargs)

    return wrapper


def sleeping_after(score_question: Callable[..., Any], seconds: float) -> Callable[..., Any]:
    """The engine call, then a sleep: once per task run (a bulk job scores several questions)."""

    @wraps(score_question)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = score_question(*args, **kwargs)
        if not _Job.slept:
            _Job.slept = True
            logger.warning("fault injection: scoring question %s sleeps %gs before writing", _Job.question_id, seconds)
            time.sleep(seconds)
        return result

    return wrapper


def failing_once_after(score_rows_insert: Callable[[list[tuple]], None], marker: Path) -> Callable[[list[tuple]], None]:
    """The insert of the score rows, then an OperationalError if `marker` exists (deleted first,
    so only the attempt that removes it fails)."""
    from django.db import OperationalError

    @wraps(score_rows_insert)
    def wrapper(rows: list[tuple]) -> None:
        score_rows_insert(rows)
        try:
            marker.unlink()
        except FileNotFoundError:
            return
        question_id = rows[0][0] if rows else _Job.question_id  # rows are SCORE_COLUMNS tuples
        logger.warning("fault injection: scoring question %s fails after writing", question_id)
        raise OperationalError("fault injection: database error in the middle of a scoring job")

    return wrapper


def install(environ: Mapping[str, str] = os.environ) -> list[str]:
    """Wrap the scoring services as `environ` asks; returns the names wrapped."""
    import django

    django.setup()
    from scoring import services

    wrapped: list[str] = []
    if delay := environ.get(SLEEP_VAR):
        services.question_spec = recording_question(services.question_spec)
        services.score_question = sleeping_after(services.score_question, float(delay))
        wrapped += ["question_spec", "score_question"]
    if path := environ.get(DB_ERROR_VAR):
        services.score_rows_insert = failing_once_after(services.score_rows_insert, Path(path))
        wrapped.append("score_rows_insert")
    if wrapped:
        signals.task_prerun.connect(_reset, weak=False, dispatch_uid="fault_worker.reset")
        logger.warning("fault injection installed: scoring.services.%s", ", ".join(wrapped))
    return wrapped


@signals.worker_init.connect(weak=False, dispatch_uid="fault_worker.install")
def _install_in_the_worker(**_kw: Any) -> None:
    """In the worker's main process, before the pool forks: every pool process (and the ones
    that replace a killed one) inherits the wrapped functions."""
    install()
