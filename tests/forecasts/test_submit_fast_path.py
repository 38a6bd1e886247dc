"""The API's forecast submission fast path: one locked fetch of the question, the crowd update
coalesced per question, the query count, and the refusals in their usual order."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accounts.services import token_create
from forecasts.models import Forecast
from forecasts.selectors import crowd_update_pending, questions_needing_crowd
from forecasts.tasks import crowd_update


def _url(q) -> str:
    return f"/api/v1/questions/{q.pk}/forecasts/"


@pytest.fixture
def queued(monkeypatch):
    """crowd_update.apply_async records the job instead of running it: a job queued on a broker
    that no worker has taken yet."""
    calls: list[tuple] = []
    monkeypatch.setattr(crowd_update, "apply_async", lambda args, **kw: calls.append(tuple(args)))
    return calls


def test_a_burst_enqueues_one_crowd_update_and_the_history_ends_complete(
    make_user, client_for, binary_q, queued, monkeypatch, django_capture_on_commit_callbacks
):
    users = [make_user() for _ in range(5)]
    for i, u in enumerate(users):
        with django_capture_on_commit_callbacks(execute=True):
            r = client_for(u).post(_url(binary_q), {"probability": 0.1 + 0.1 * i}, format="json")
        assert r.status_code == 201, r.content
    assert queued == [(binary_q.pk,)]  # one job for the burst
    assert crowd_update_pending(question_id=binary_q.pk)
    assert binary_q.pk in questions_needing_crowd()

    # The worker takes the job: it deletes the mark first, then brings the history up to date.
    monkeypatch.undo()
    crowd_update.apply(args=(binary_q.pk,))
    assert not crowd_update_pending(question_id=binary_q.pk)
    assert binary_q.pk not in questions_needing_crowd()

    # The next forecast enqueues (and here, eagerly, runs) an update of its own.
    with django_capture_on_commit_callbacks(execute=True):
        r = client_for(users[0]).post(_url(binary_q), {"probability": 0.9}, format="json")
    assert r.status_code == 201
    assert binary_q.pk not in questions_needing_crowd()
    assert not crowd_update_pending(question_id=binary_q.pk)
    assert Forecast.objects.filter(question=binary_q).count() == 6


def test_coalescing_is_per_question_and_a_failed_send_does_not_hold_the_mark(
    make_user, client_for, make_question, monkeypatch, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    a, b = make_question(title="A?"), make_question(title="B?")
    u = make_user()
    sent: list[tuple] = []

    def down(args, **kw):
        raise OperationalError("broker down")

    monkeypatch.setattr(crowd_update, "apply_async", down)
    with django_capture_on_commit_callbacks(execute=True):
        assert client_for(u).post(_url(a), {"probability": 0.3}, format="json").status_code == 201
    assert not crowd_update_pending(question_id=a.pk)  # not enqueued: the next forecast tries again
    monkeypatch.setattr(crowd_update, "apply_async", lambda args, **kw: sent.append(tuple(args)))
    for q in (a, b, a, b):
        with django_capture_on_commit_callbacks(execute=True):
            assert client_for(u).post(_url(q), {"probability": 0.4}, format="json").status_code == 201
    assert sent == [(a.pk,), (b.pk,)]


def test_withdrawals_and_imports_are_coalesced_with_submissions(
    make_user, binary_q, queued, django_capture_on_commit_callbacks
):
    from forecasts.services import forecast_submit, forecast_withdraw

    u = make_user()
    with django_capture_on_commit_callbacks(execute=True):
        forecast_submit(user=u, question=binary_q, payload={"probability": 0.5})
    with django_capture_on_commit_callbacks(execute=True):
        forecast_withdraw(user=u, question=binary_q)
    assert queued == [(binary_q.pk,)]


def test_a_token_submission_is_one_statement_once_the_process_knows_the_token(
    make_user, api, binary_q, queued, django_capture_on_commit_callbacks
):
    """The API's fast path (api.forecasts.fast_submit): on a token and a question new to this
    process, the token's check, its last_used_at and the question's terms (read once, unlocked, to
    validate against) first, then one statement that locks the question, checks the token again at
    that instant, checks the terms and inserts; afterwards that one statement alone. (It was 8
    queries before the locked fetch of 6 December, 3-5 after it.)"""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    u = make_user()
    token = token_create(user=u)[0]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    counts = []
    for p in (0.2, 0.3, 0.4):
        with CaptureQueriesContext(connection) as ctx, django_capture_on_commit_callbacks(execute=True):
            r = api.post(_url(binary_q), {"probability": p, "rationale": "why"}, format="json")
        assert r.status_code == 201, r.content
        assert r.json()["probabilities"] == pytest.approx({"yes": p, "no": 1 - p})
        assert r.json()["question_title"] == binary_q.title and r.json()["probability"] == p
        counts.append(len(ctx.captured_queries))
    assert counts == [4, 1, 1], counts
    assert Forecast.objects.filter(user=u, question=binary_q).count() == 3


def test_multiple_choice_response_uses_the_locked_options(make_user, client_for, mc_q, queued):
    r = client_for(make_user()).post(_url(mc_q), {"probabilities": {"A": 0.5, "B": 0.3, "C": 0.2}}, format="json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["probabilities"] == pytest.approx({"A": 0.5, "B": 0.3, "C": 0.2}) and body["probability"] is None
    f = Forecast.objects.get(pk=body["id"])
    assert f.probabilities == pytest.approx([0.5, 0.3, 0.2]) and f.p_sum == pytest.approx(1.0)
    assert f.question_id == mc_q.pk and f.kind == "forecast"


def test_refusals_keep_their_order_404_then_400_then_409(make_user, client_for, make_question, now, queued):
    u = make_user()
    c = client_for(u)
    hidden = make_question(title="Draft?", published=False)
    closed = make_question(title="Closed?", open_time=now - timedelta(days=10), close_time=now - timedelta(days=1))
    assert c.post("/api/v1/questions/999999999/forecasts/", {"probability": 2}, format="json").status_code == 404
    assert c.post(_url(hidden), {"probability": 2}, format="json").status_code == 404
    assert client_for(make_user(staff=True)).post(_url(hidden), {"probability": 2}, format="json").status_code == 400
    r = c.post(_url(closed), {"probability": 2}, format="json")
    assert r.status_code == 400 and "probability" in str(r.json())
    r = c.post(_url(closed), ["not", "an", "object"], format="json")
    assert r.status_code == 400
    r = c.post(_url(closed), {"probability": 0.5}, format="json")
    assert r.status_code == 409 and "closed" in str(r.json())
    assert not Forecast.objects.filter(user=u).exists()
