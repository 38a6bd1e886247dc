"""The scoring job end to end: resolution -> Celery -> Score rows -> the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from forecasts.services import forecast_submit, forecast_withdraw
from questions.services import question_create, question_resolve, question_unresolve
from scoring.models import Score
from scoring.services import question_scores_write
from tests.support.workers import wait_for

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _history(make_user):
    """ana says 70% from day 0; ben says 40% from day 5 and withdraws on day 8; closes day 10."""
    q = question_create(type="binary", title="Will it?", open_time=T0, close_time=T0 + timedelta(days=10))
    ana, ben = make_user("ana-s"), make_user("ben-s")
    forecast_submit(user=ana, question=q, payload={"probability": 0.7}, at=T0 + timedelta(hours=1))
    forecast_submit(user=ben, question=q, payload={"probability": 0.4}, at=T0 + timedelta(days=5))
    forecast_withdraw(user=ben, question=q, at=T0 + timedelta(days=8))
    return q, ana, ben


def _rows(q):
    return {
        (s.user.username if s.user else s.crowd_method): (
            s.brier_final,
            s.brier_mean,
            round(s.relative_brier, 12),
            s.participation,
        )
        for s in Score.objects.filter(question=q).select_related("user")
    }


@pytest.mark.django_db
def test_scores_match_the_definitions_on_a_hand_computed_question(make_user, staff, django_capture_on_commit_callbacks):
    q, ana, ben = _history(make_user)
    with django_capture_on_commit_callbacks(execute=True):
        question_resolve(question=q, outcome="yes", by=staff, at=T0 + timedelta(days=40))
    rows = {s.user_id: s for s in Score.objects.filter(question=q, user__isnull=False)}
    a, b = rows[ana.pk], rows[ben.pk]
    # ana: 70% standing over [1h, 10d): BS = 0.3^2 + 0.3^2 = 0.18
    assert a.brier_final == pytest.approx(0.18) and a.brier_mean == pytest.approx(0.18)
    assert a.participation == pytest.approx((10 * 24 - 1) / (10 * 24))
    # ben: 40% for days 5..8: BS = 0.6^2 * 2 = 0.72; no standing forecast at close
    assert b.brier_final is None and b.brier_mean == pytest.approx(0.72)
    assert b.participation == pytest.approx(0.3)
    # While both stand (3 days) the crowd-median Brier is (0.18 + 0.72) / 2 = 0.45.
    assert a.relative_brier == pytest.approx((0.18 - 0.45) * 3 / 10)
    assert b.relative_brier == pytest.approx((0.72 - 0.45) * 3 / 10)
    assert Score.objects.filter(question=q, user__isnull=True).count() == 4  # the four crowd aggregates
    q.refresh_from_db()
    assert q.scored_version == q.resolution_version == 1


@pytest.mark.django_db
def test_running_the_job_twice_changes_nothing(make_user, staff, django_capture_on_commit_callbacks):
    q, _, _ = _history(make_user)
    with django_capture_on_commit_callbacks(execute=True):
        question_resolve(question=q, outcome="no", by=staff, at=T0 + timedelta(days=40))
    first = _rows(q)
    count = Score.objects.count()
    question_scores_write(question_id=q.pk)
    assert _rows(q) == first and Score.objects.count() == count


@pytest.mark.django_db
def test_reconciler_finds_a_resolution_whose_job_never_ran(make_user, staff):
    from scoring.selectors import questions_needing_scores
    from scoring.tasks import scores_reconcile

    q, _, _ = _history(make_user)
    question_resolve(question=q, outcome="yes", by=staff, at=T0 + timedelta(days=40))  # on_commit never fires here
    assert questions_needing_scores() == [q.pk]
    assert not Score.objects.filter(question=q).exists()
    scores_reconcile.apply()  # runs the enqueued job eagerly
    assert Score.objects.filter(question=q).exists()
    assert questions_needing_scores() == []


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_resolve_through_the_api_and_the_worker_writes_scores(celery_worker, make_user, client_for):
    q, ana, ben = _history(make_user)
    admin = make_user("scorer-admin", staff=True)
    c = client_for(admin)
    assert c.post(f"/api/v1/questions/{q.pk}/resolve/", {"resolution": "yes"}, format="json").status_code == 200
    wait_for(lambda: Score.objects.filter(question=q, user=ana).exists(), message="scores from the worker")
    body = client_for(None).get(f"/api/v1/questions/{q.pk}/scores/").json()
    people = {r["user"]["id"]: r for r in body["results"] if r["user"]}
    assert people[ana.pk]["brier_final"] == pytest.approx(0.18)
    assert "email" not in str(body)
    mine = client_for(ana).get("/api/v1/me/scores/").json()["results"]
    assert [r["question"] for r in mine] == [q.pk]

    # A correction recomputes: on "no", ana's 70% scores (0.7)^2 * 2 = 0.98.
    assert c.post(f"/api/v1/questions/{q.pk}/resolve/", {"resolution": "no"}, format="json").status_code == 200
    wait_for(lambda: Score.objects.filter(question=q, user=ana, brier_final__gt=0.9).exists(), message="rescored rows")

    # Un-resolving removes them.
    assert c.post(f"/api/v1/questions/{q.pk}/unresolve/", {}, format="json").status_code == 200
    wait_for(lambda: not Score.objects.filter(question=q).exists(), message="scores deleted")
    assert client_for(None).get(f"/api/v1/questions/{q.pk}/scores/").status_code == 409


@pytest.mark.django_db
def test_annulment_deletes_scores(make_user, staff, django_capture_on_commit_callbacks):
    q, _, _ = _history(make_user)
    with django_capture_on_commit_callbacks(execute=True):
        question_resolve(question=q, outcome="yes", by=staff, at=T0 + timedelta(days=40))
    assert Score.objects.filter(question=q).exists()
    with django_capture_on_commit_callbacks(execute=True):
        question_resolve(question=q, outcome="annulled", by=staff)
    assert not Score.objects.filter(question=q).exists()
    with django_capture_on_commit_callbacks(execute=True):
        question_unresolve(question=q, by=staff)
    assert not Score.objects.filter(question=q).exists()
