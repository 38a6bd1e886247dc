"""Scores of numeric and date questions (issue 15): resolution -> the scoring job -> Score rows with
the CRPS family (and baseline, peer, participation, coverage), equal to the engine's on the same
input; hand-checked values; open bounds; annulment, un-resolution and corrections; the bulk path,
`rescore` and a real worker; and the migration that added the columns keeps every row."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pytest

from forecast_math import ForecastSet, QuestionSpec, score_question
from forecast_math.continuous import CONTINUOUS_AGGREGATES, GRID, ContinuousOutcome, cdf_from_mixture
from scoring.models import LeaderboardEntry, Score
from scoring.services import question_scores_write, questions_scores_write
from tests.scoring.numeric import AFTER, CLOSE, T0, forecast, numeric_question, resolve, uniform_cdf, uniform_scored
from tests.support.workers import wait_for

#: a forecast centred on 42 (of 0..100), the outcome of the first tests
CENTRED = cdf_from_mixture([{"centre": 0.42, "scale": 0.05, "weight": 1.0}], open_lower=False, open_upper=False)


def _uniform_crps(x: float) -> float:
    """CRPS of the uniform forecast on a closed range at x (range units): (x^3 + (1 - x)^3) / 3."""
    return (x**3 + (1 - x) ** 3) / 3


def _by_who(q) -> dict:
    return {(s.user_id or s.crowd_method): s for s in Score.objects.filter(question=q)}


@pytest.mark.django_db
def test_a_uniform_forecast_scores_baseline_0_and_the_contract_crps(make_user, django_capture_on_commit_callbacks):
    ana, ben = make_user("num-ana"), make_user("num-ben")
    q = numeric_question()
    forecast(ana, q, uniform_cdf())
    forecast(ben, q, CENTRED)
    resolve(q, 42.0, django_capture_on_commit_callbacks)
    rows = _by_who(q)
    a, b = rows[ana.pk], rows[ben.pk]
    # the contract's example: uniform on a closed range, outcome at 42% of it
    assert a.crps_final == pytest.approx(0.08973, abs=5e-6)
    assert a.crps_final == pytest.approx(_uniform_crps(0.42))
    assert a.crps_mean == pytest.approx(a.crps_final)  # one forecast, standing all the time
    assert a.baseline == pytest.approx(0.0, abs=1e-9)  # the uniform forecast is the baseline
    assert b.baseline > 50 and b.crps_final < a.crps_final  # centred on the outcome: better on both
    # both active over the whole window: the crowd median CRPS is their mean
    assert a.relative_crps == pytest.approx((a.crps_mean - b.crps_mean) / 2)
    assert b.relative_crps == pytest.approx(-a.relative_crps)
    assert a.peer == pytest.approx(-b.peer) and a.peer < 0
    # a continuous question has no Brier figures
    assert a.brier_final is None and a.brier_mean is None and a.relative_brier is None
    assert a.participation == pytest.approx(1.0) and a.coverage == pytest.approx(1.0)
    assert a.final_probabilities == pytest.approx(uniform_cdf())
    # the crowd rows: the continuous aggregates, no extremized crowd
    assert sorted(k for k in rows if isinstance(k, str)) == sorted(CONTINUOUS_AGGREGATES)
    median = rows["median"]
    assert len(median.final_probabilities) == GRID
    assert median.final_probabilities == pytest.approx(((np.array(uniform_cdf()) + CENTRED) / 2).tolist())
    assert median.relative_brier is None and median.relative_crps is not None
    q.refresh_from_db()
    assert q.scored_version == q.resolution_version == 1


@pytest.mark.django_db
def test_rows_equal_the_engine_on_the_same_input(make_user, django_capture_on_commit_callbacks):
    """Three forecasters with moves and a withdrawal, scored by the job and by the engine called
    directly on the same CDFs, times and outcome."""
    ana, ben, cy = make_user("eng-ana"), make_user("eng-ben"), make_user("eng-cy")
    q = numeric_question(lower=-50.0, upper=150.0, open_upper=True)
    wide = cdf_from_mixture([{"centre": 0.5, "scale": 0.2, "weight": 1.0}], open_lower=False, open_upper=True)
    two = cdf_from_mixture(
        [{"centre": 0.3, "scale": 0.05, "weight": 0.6}, {"centre": 0.7, "scale": 0.1, "weight": 0.4}],
        open_lower=False,
        open_upper=True,
    )
    late = uniform_cdf(above=0.05)
    history = [
        (ana, wide, T0 + timedelta(hours=3)),
        (ben, two, T0 + timedelta(days=1)),
        (cy, late, T0 + timedelta(days=2)),
        (ana, two, T0 + timedelta(days=6)),
    ]
    for user, cdf, at in history:
        forecast(user, q, cdf, at=at)
    from forecasts.services import forecast_withdraw

    forecast_withdraw(user=ben, question=q, at=T0 + timedelta(days=8))
    resolve(q, 71.5, django_capture_on_commit_callbacks, at=T0 + timedelta(days=9))  # early: known_at day 9

    spec = QuestionSpec(
        n_options=GRID, ordered=False, open_time=T0.timestamp(), close_time=CLOSE.timestamp(),
        known_at=(T0 + timedelta(days=9)).timestamp(), outcome=0,
        continuous=ContinuousOutcome((71.5 + 50) / 200, open_lower=False, open_upper=True),
    )  # fmt: skip
    users = [u.pk for u, _, _ in history] + [ben.pk]
    times = [at.timestamp() for _, _, at in history] + [(T0 + timedelta(days=8)).timestamp()]
    probs = np.array([np.asarray(c, dtype=float) for _, c, _ in history] + [np.full(GRID, np.nan)])
    fs = ForecastSet(user=np.array(users), time=np.array(times), probs=probs, withdrawn=np.array([False] * 4 + [True]))
    result = score_question(spec, fs, crowd_methods=CONTINUOUS_AGGREGATES)

    rows = _by_who(q)
    assert len(rows) == 3 + len(CONTINUOUS_AGGREGATES)
    for rec in result.users.records():
        s = rows[rec["user"]]
        for field, engine in (("crps_final", "brier_final"), ("crps_mean", "brier_mean"),
                              ("relative_crps", "relative_brier")):  # fmt: skip
            if math.isnan(rec[engine]):
                assert getattr(s, field) is None
            else:
                assert getattr(s, field) == pytest.approx(rec[engine], rel=1e-12, abs=1e-12)
        for field in ("participation", "baseline", "peer", "coverage"):
            assert getattr(s, field) == pytest.approx(rec[field], rel=1e-12, abs=1e-12)
        assert s.brier_final is None and s.brier_mean is None and s.relative_brier is None
    assert rows[ben.pk].crps_final is None  # withdrawn at the close: no final forecast
    assert rows[ben.pk].final_probabilities is None
    assert rows[ana.pk].final_probabilities == pytest.approx(two.tolist())
    for method, c in result.crowd.items():
        s = rows[method]
        assert s.crps_final == pytest.approx(c.brier_final) and s.crps_mean == pytest.approx(c.brier_mean)
        assert s.relative_crps == pytest.approx(c.relative_brier, abs=1e-12)
        assert (s.baseline, s.peer, s.participation) == pytest.approx((c.baseline, c.peer, c.participation))
        assert s.final_probabilities == pytest.approx(c.final_probs.tolist())


@pytest.mark.django_db
def test_a_date_question_scores_in_range_units(make_user, django_capture_on_commit_callbacks):
    ana = make_user("date-ana")
    lower, upper = T0 + timedelta(days=30), T0 + timedelta(days=130)
    q = numeric_question(type="date", title="When will it open?", lower=lower, upper=upper)
    assert q.range_lower == lower.timestamp()
    forecast(ana, q, uniform_cdf())
    resolve(q, "2024-05-10T00:00:00Z", django_capture_on_commit_callbacks)  # day 70 of T0: x = 40 / 100
    s = Score.objects.get(question=q, user=ana)
    assert s.crps_final == pytest.approx(_uniform_crps(0.4))
    assert s.baseline == pytest.approx(0.0, abs=1e-9)
    assert s.relative_crps == pytest.approx(0.0)  # alone: the crowd median is herself


@pytest.mark.django_db
def test_an_outcome_below_an_open_lower_bound(make_user, django_capture_on_commit_callbacks):
    ana, ben = make_user("below-ana"), make_user("below-ben")
    q = numeric_question(open_lower=True)
    forecast(ana, q, uniform_cdf(below=0.1))  # 10% below the range, the rest uniform inside
    forecast(ben, q, uniform_cdf(below=0.05))
    resolve(q, "below", django_capture_on_commit_callbacks)
    assert q.resolved_outside == "below"
    rows = _by_who(q)
    a, b = rows[ana.pk], rows[ben.pk]
    # the indicator is 1 on the whole range: integral of (0.9 (1 - t))^2 = 0.81 / 3
    assert a.crps_final == pytest.approx(0.27)
    assert b.crps_final == pytest.approx(0.95**2 / 3)
    # Metaculus's uniform baseline puts 0.05 below a single open bound: 50 ln(0.1 / 0.05)
    assert a.baseline == pytest.approx(50 * math.log(2))
    assert b.baseline == pytest.approx(0.0, abs=1e-9)
    assert a.peer == pytest.approx(50 * math.log(0.1 / 0.05))


@pytest.mark.django_db
def test_a_value_beyond_an_open_upper_bound_is_above(make_user, django_capture_on_commit_callbacks):
    ana = make_user("above-ana")
    q = numeric_question(open_upper=True)
    forecast(ana, q, uniform_cdf(above=0.1))
    resolve(q, 250.0, django_capture_on_commit_callbacks)
    s = Score.objects.get(question=q, user=ana)
    # the indicator is 0 on the whole range: integral of (0.9 t)^2 = 0.81 / 3
    assert s.crps_final == pytest.approx(0.27)
    assert s.baseline == pytest.approx(50 * math.log(0.1 / 0.05))


@pytest.mark.django_db
def test_correction_recomputes_and_annul_or_unresolve_delete(make_user, django_capture_on_commit_callbacks):
    from questions.services import question_unresolve

    ana = make_user("corr-ana")
    q = uniform_scored(ana, django_capture_on_commit_callbacks)
    assert Score.objects.get(question=q, user=ana).crps_final == pytest.approx(_uniform_crps(0.42))
    assert LeaderboardEntry.objects.filter(scope_key=f"question:{q.pk}").exists()
    resolve(q, 80.0, django_capture_on_commit_callbacks)  # a correction
    assert Score.objects.get(question=q, user=ana).crps_final == pytest.approx(_uniform_crps(0.8))
    resolve(q, "annulled", django_capture_on_commit_callbacks)
    assert not Score.objects.filter(question=q).exists()
    assert not LeaderboardEntry.objects.filter(scope_key=f"question:{q.pk}").exists()
    resolve(q, 10.0, django_capture_on_commit_callbacks)
    assert Score.objects.get(question=q, user=ana).crps_final == pytest.approx(_uniform_crps(0.1))
    with django_capture_on_commit_callbacks(execute=True):
        question_unresolve(question=q, by=None)
    assert not Score.objects.filter(question=q).exists()


def _snapshot(q) -> list[tuple]:
    fields = ("user_id", "crowd_method", "crps_final", "crps_mean", "relative_crps", "relative_brier",
              "brier_final", "baseline", "peer", "participation", "coverage", "final_probabilities")  # fmt: skip
    return sorted(Score.objects.filter(question=q).values_list(*fields), key=repr)


@pytest.mark.django_db
def test_the_bulk_job_and_rescore_write_the_same_rows(make_user, django_capture_on_commit_callbacks):
    """questions_scores_write (the rescore's chunks: bulk reads) equals the per-question job, on
    a chunk mixing a binary and two numeric questions; `rescore` repairs damaged CRPS rows."""
    from django.core.management import call_command

    from forecasts.services import forecast_submit
    from questions.services import question_create, question_resolve

    ana, ben = make_user("bulk-ana"), make_user("bulk-ben")
    q1 = numeric_question()
    forecast(ana, q1, uniform_cdf())
    forecast(ben, q1, CENTRED, at=T0 + timedelta(days=2))
    q2 = numeric_question(open_lower=True, open_upper=True)
    forecast(ana, q2, uniform_cdf(below=0.05, above=0.05))
    qb = question_create(type="binary", title="Will it?", open_time=T0, close_time=CLOSE)
    forecast_submit(user=ana, question=qb, payload={"probability": 0.7}, at=T0)
    forecast_submit(user=ben, question=qb, payload={"probability": 0.2}, at=T0)
    resolve(q1, 42.0, django_capture_on_commit_callbacks)
    resolve(q2, "above", django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        question_resolve(question=qb, outcome="yes", by=None, at=AFTER)
    per_question = [_snapshot(q) for q in (q1, q2, qb)]
    assert questions_scores_write(question_ids=[q1.pk, q2.pk, qb.pk]) == Score.objects.count()
    assert [_snapshot(q) for q in (q1, q2, qb)] == per_question

    Score.objects.filter(question=q1, user=ana).update(relative_crps=5.0, crps_final=0.9)
    Score.objects.filter(question=q2).delete()
    call_command("rescore", "--quiet")
    assert [_snapshot(q) for q in (q1, q2, qb)] == per_question
    # and the per-question job once more, after the rescore: still the same rows
    question_scores_write(question_id=q2.pk)
    assert _snapshot(q2) == per_question[1]


@pytest.mark.django_db
def test_the_database_refuses_a_score_with_both_families_or_neither(make_user, django_capture_on_commit_callbacks):
    from django.db import IntegrityError, transaction

    ana = make_user("check-ana")
    q = uniform_scored(ana, django_capture_on_commit_callbacks)
    row = Score.objects.filter(question=q, user=ana)
    with pytest.raises(IntegrityError), transaction.atomic():
        row.update(relative_brier=0.1)  # both relative figures
    with pytest.raises(IntegrityError), transaction.atomic():
        row.update(relative_crps=None)  # neither
    with pytest.raises(IntegrityError), transaction.atomic():
        row.update(crps_final=1.5)  # the CRPS in range units is at most 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_writes_crps_scores_and_leaderboards(celery_worker, make_user):
    """The resolution commits, resolution_changed enqueues the job, a real worker scores it."""
    from questions.services import question_resolve, question_unresolve

    ana = make_user("wrk-ana")
    q = numeric_question()
    forecast(ana, q, uniform_cdf())
    question_resolve(question=q, outcome=42.0, by=None, at=AFTER)
    s = wait_for(lambda: Score.objects.filter(question=q, user=ana).first(), message="CRPS scores from the worker")
    assert s.crps_final == pytest.approx(0.08973, abs=5e-6) and s.relative_brier is None
    wait_for(
        lambda: LeaderboardEntry.objects.filter(scope_key="global", user=ana, crps_questions=1).exists(),
        message="the global leaderboard with the numeric question",
    )
    # a correction recomputes; un-resolving removes the rows
    question_resolve(question=q, outcome=80, by=None, at=AFTER + timedelta(days=1))
    wait_for(lambda: Score.objects.filter(question=q, user=ana, crps_final__gt=0.17).exists(), message="rescored rows")
    question_unresolve(question=q, by=None)
    wait_for(lambda: not Score.objects.filter(question=q).exists(), message="scores deleted")


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_every_existing_row(make_user, django_capture_on_commit_callbacks):
    """Back to the schema before numeric questions with scored binary rows and leaderboards in
    place, then forward again: every row is still there with its values, the new figures empty."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from forecasts.services import forecast_submit
    from questions.services import question_create, question_resolve

    users = [make_user(f"mig-{i}") for i in range(3)]
    for p_yes in (0.8, 0.3):
        q = question_create(type="binary", title="Will it?", open_time=T0, close_time=CLOSE)
        for u, p in zip(users, (p_yes, 0.5, 1 - p_yes), strict=True):
            forecast_submit(user=u, question=q, payload={"probability": p}, at=T0)
        with django_capture_on_commit_callbacks(execute=True):
            question_resolve(question=q, outcome="yes", by=None, at=AFTER)
    score_fields = ("id", "question_id", "user_id", "crowd_method", "brier_final", "brier_mean", "relative_brier",
                    "baseline", "peer", "participation", "coverage", "final_probabilities")  # fmt: skip
    entry_fields = ("id", "scope_key", "user_id", "crowd_method", "questions", "relative_brier_sum",
                    "relative_brier_mean", "relative_brier_mean_ci_low", "brier_mean", "baseline_sum",
                    "rank_relative_brier_sum")  # fmt: skip
    scores = sorted(Score.objects.values_list(*score_fields))
    entries = sorted(LeaderboardEntry.objects.values_list(*entry_fields))
    assert len(scores) == 2 * (3 + 4) and len(entries) > 6

    executor = MigrationExecutor(connection)
    before = [("scoring", "0001_initial")]
    after = executor.loader.graph.leaf_nodes("scoring")
    try:
        executor.migrate(before)
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM forecasts_score")
            assert cur.fetchone()[0] == len(scores)
            columns = [c.name for c in connection.introspection.get_table_description(cur, "forecasts_score")]
            assert "crps_final" not in columns
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(after)
    assert sorted(Score.objects.values_list(*score_fields)) == scores
    assert sorted(LeaderboardEntry.objects.values_list(*entry_fields)) == entries
    assert not Score.objects.exclude(crps_final=None, crps_mean=None, relative_crps=None).exists()
    assert set(LeaderboardEntry.objects.values_list("crps_questions", "relative_crps_sum", "relative_crps_mean")) == {
        (0, 0.0, None)
    }
