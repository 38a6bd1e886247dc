"""Scoring fanned out per chunk of questions: the bulk job equals the per-question job, and with
two real worker processes the chunks spread over both and the leaderboards are rebuilt once,
after every chunk has finished, with the rows of a sequential run."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from forecasts.services import forecast_submit, forecast_withdraw
from questions.services import question_create, question_resolve, series_create
from scoring.models import LeaderboardEntry, Score
from scoring.services import question_scores_write, questions_scores_write
from tests.support.signals import rescoring_paused
from tests.support.workers import FAULT_APP, WorkerProcess

T0 = datetime(2024, 1, 1, tzinfo=UTC)
SCORE_FIELDS = ("question_id", "user_id", "crowd_method", "brier_final", "brier_mean", "participation",
                "relative_brier", "baseline", "peer", "coverage", "final_probabilities", "resolution_version")  # fmt: skip
ENTRY_FIELDS = ("scope_key", "user_id", "crowd_method", "questions", "relative_brier_sum", "relative_brier_mean",
                "relative_brier_mean_ci_low", "rank_relative_brier_sum", "baseline_sum", "peer_sum")  # fmt: skip


def _scores():
    return sorted(Score.objects.values_list(*SCORE_FIELDS), key=repr)


def _entries():
    return sorted(LeaderboardEntry.objects.values_list(*ENTRY_FIELDS), key=repr)


def _world(make_user, n_questions: int = 8, seed: int = 3) -> list[int]:
    with rescoring_paused():
        return _build_world(make_user, n_questions, seed)


def _build_world(make_user, n_questions: int, seed: int) -> list[int]:
    """Resolved questions of several kinds (binary, multiple choice, ordered, daily, early close,
    withdrawals), with their scoring jobs not enqueued: the test scores them itself."""
    rng = random.Random(seed)
    users = [make_user() for _ in range(6)]
    series = series_create(slug=f"fan-{seed}", title="Fan-out")
    ids = []
    for k in range(n_questions):
        mc = k % 3 == 1
        q = question_create(
            type="multiple_choice" if mc else "binary", options=["A", "B", "C"] if mc else None,
            title=f"Fan-out {k}", open_time=T0, close_time=T0 + timedelta(days=20),
            series=series if k % 2 == 0 else None, ordered=mc and k % 2 == 0,
            scoring_mode="daily" if k % 4 == 3 else "continuous",
        )  # fmt: skip
        for u in rng.sample(users, rng.randint(2, 6)):
            for _ in range(rng.randint(1, 3)):
                at = T0 + timedelta(hours=rng.uniform(0, 400))
                if mc:
                    payload = {"probabilities": {"A": 0.5, "B": 0.3, "C": 0.2} if rng.random() < 0.5 else
                               {"A": 0.1, "B": 0.6, "C": 0.3}}  # fmt: skip
                else:
                    payload = {"probability": round(rng.uniform(0.05, 0.95), 3)}
                forecast_submit(user=u, question=q, payload=payload, at=at)
            if rng.random() < 0.2:
                forecast_withdraw(user=u, question=q, at=T0 + timedelta(hours=450))
        outcome = "B" if mc else rng.choice(["yes", "no"])
        known = T0 + timedelta(days=15) if k % 5 == 2 else None
        question_resolve(question=q, outcome=outcome, by=None, known_at=known, at=T0 + timedelta(days=21))
        ids.append(q.pk)
    return ids


@pytest.mark.django_db
def test_bulk_scoring_equals_the_per_question_job(make_user, monkeypatch):
    ids = _world(make_user)
    for qid in ids:
        question_scores_write(question_id=qid)
    one_by_one = _scores()
    Score.objects.all().delete()
    assert questions_scores_write(question_ids=ids) == len(one_by_one)
    assert _scores() == one_by_one
    assert questions_scores_write(question_ids=ids) == len(one_by_one)  # idempotent
    assert _scores() == one_by_one


@pytest.mark.worker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_fanout_spreads_over_two_workers_and_recomputes_leaderboards_once(make_user, monkeypatch, worker_env):
    import uuid

    from scoring.tasks import rescore_fanout

    ids = _world(make_user)
    # Each chunk job holds for 0.4 s after computing (the fault app's SIGNPOST_FAULT_SCORING_SLEEP,
    # tests/support/fault_worker.py): while one worker is busy the other takes the next chunk, so
    # both must run some.
    env = {**worker_env, "SIGNPOST_FAULT_SCORING_SLEEP": "0.4"}
    workers = [WorkerProcess(env, f"fan{i}-{uuid.uuid4().hex[:6]}", app=FAULT_APP).start() for i in range(2)]
    try:
        result = rescore_fanout(ids, chunk_size=1)
        callback = result.get(timeout=120)
    finally:
        for w in workers:
            w.stop()
    assert callback["chunks"] == len(ids)
    names = {w.name for w in workers}
    assert {h.split("@")[0] for h in callback["chunk_hosts"]} == names  # both workers ran chunks
    logs = "".join(w.log.read_text() for w in workers)
    assert logs.count("scoring.tasks.scores_write_chunk[") >= 2 * len(ids)  # received + succeeded
    assert logs.count("scoring.tasks.leaderboards_recompute_all[") == 2  # once: received + succeeded
    # the global and series boards were rebuilt after the last score was written; each question's
    # own board was written with its scores, by the chunk job that scored it
    last_score = max(Score.objects.values_list("computed_at", flat=True))
    assert datetime.fromisoformat(callback["started_at"]) >= last_score
    boards = LeaderboardEntry.objects.exclude(scope_key__startswith="question:")
    assert min(boards.values_list("updated_at", flat=True)) >= last_score
    computed = dict(Score.objects.values_list("question_id", "computed_at"))
    question_boards = LeaderboardEntry.objects.filter(scope_key__startswith="question:")
    assert {key for key, _ in question_boards.values_list("scope_key", "updated_at")} == {
        f"question:{qid}" for qid in computed
    }
    for key, updated in question_boards.values_list("scope_key", "updated_at"):
        assert updated == computed[int(key.partition(":")[2])]
    fanned = _scores(), _entries()
    assert fanned[0] and fanned[1]
    call_command("rescore", "--quiet")  # the sequential run, in this process
    assert (_scores(), _entries()) == fanned
