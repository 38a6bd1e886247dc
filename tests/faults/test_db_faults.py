"""A database error in the middle of a scoring job: the partial write is rolled back (readers
keep seeing the previous complete set of rows), and the retry writes the right ones.

The fault raises an OperationalError after the new rows are inserted and before the transaction
commits, once: in this process by wrapping scoring.services.score_rows_insert (monkeypatch), in a
worker through SIGNPOST_FAULT_SCORING_DB_ERROR_ONCE=<path> (tests/support/fault_worker.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import OperationalError

from questions.models import Question
from questions.services import question_resolve
from scoring import services
from scoring.models import Score
from scoring.services import question_scores_write
from tests.support.fault_worker import failing_once_after
from tests.support.faults import T0, build_question, log_count, resolve_clean, score_snapshot, scored
from tests.support.signals import rescoring_paused
from tests.support.workers import wait_for


def _versions(question_id: int) -> set[int]:
    return set(Score.objects.filter(question_id=question_id).values_list("resolution_version", flat=True))


@pytest.mark.django_db(transaction=True)
def test_a_database_error_after_a_partial_write_leaves_the_previous_rows_and_the_rerun_succeeds(
    make_user, tmp_path, monkeypatch
):
    q = build_question(make_user)
    admin = make_user("db-fault-admin", staff=True)
    clean_no = resolve_clean(q, "no", by=admin)
    clean_yes = resolve_clean(q, "yes", by=admin)  # a correction: version 2
    assert clean_yes != clean_no
    marker = tmp_path / "fail-once"
    marker.touch()
    inserted = services.score_rows_insert
    written: list[set[int]] = []  # the versions of the question's rows, seen inside the job's transaction

    def insert_and_look(rows):
        inserted(rows)
        written.append(_versions(q.pk))

    monkeypatch.setattr(services, "score_rows_insert", failing_once_after(insert_and_look, marker))
    # Correct back to "no" without running the job, then run it by hand: it fails after writing.
    with rescoring_paused():
        question_resolve(question=q, outcome="no", by=admin, at=T0 + timedelta(days=41))
    with pytest.raises(OperationalError):
        question_scores_write(question_id=q.pk)
    assert not marker.exists()
    assert written == [{3}], "the failing attempt had replaced the rows before the error"
    assert score_snapshot(q.pk) == clean_yes, "the failed attempt left no trace"
    q.refresh_from_db()
    assert q.scored_version == 2 < q.resolution_version == 3  # the reconciler would find it
    question_scores_write(question_id=q.pk)
    rerun = score_snapshot(q.pk)
    assert _versions(q.pk) == {3}
    assert {k: v[1:] for k, v in rerun.items()} == {k: v[1:] for k, v in clean_no.items()}


@pytest.mark.worker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_worker_retries_a_job_that_hit_a_database_error_and_readers_never_see_a_mix(
    make_user, tmp_path, start_worker
):
    q = build_question(make_user)
    admin = make_user("db-fault-admin", staff=True)
    clean_no = resolve_clean(q, "no", by=admin)
    clean_yes = resolve_clean(q, "yes", by=admin)
    marker = tmp_path / "fail-once"
    marker.touch()
    w = start_worker(SIGNPOST_FAULT_SCORING_DB_ERROR_ONCE=str(marker))
    question_resolve(question=q, outcome="no", by=admin, at=T0 + timedelta(days=41))  # enqueued on commit

    seen: list[set[int]] = []

    def settled() -> bool:
        # Every observation is one complete set of rows: the old version's or the new one's.
        versions = _versions(q.pk)
        seen.append(versions)
        assert len(versions) == 1, f"a mix of versions is visible: {versions}"
        assert Score.objects.filter(question=q).count() == len(clean_yes)
        return versions == {3}

    wait_for(settled, timeout=60, interval=0.05, message="the retried job")
    assert not marker.exists(), "the first attempt failed"
    assert log_count(w, "fault injection: scoring question") == 1
    assert log_count(w, "Retry in") >= 1, "the task retried"
    assert {2} in seen, "readers saw the old rows while the job failed and waited to retry"
    final = score_snapshot(q.pk)
    assert {k: v[1:] for k, v in final.items()} == {k: v[1:] for k, v in clean_no.items()}
    assert scored(q.pk) and Question.objects.get(pk=q.pk).resolution_version == 3
