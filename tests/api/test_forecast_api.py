"""Forecast submission over the API: every rule of scoring.md section 1, and the window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from forecasts.models import Forecast

pytestmark = pytest.mark.django_db


def _post(client, q, body):
    return client.post(f"/api/v1/questions/{q.pk}/forecasts/", body, format="json")


def _assert_refused(resp, field: str):
    assert resp.status_code == 400, resp.content
    err = resp.json()["error"]
    assert field in err["fields"], err
    assert err["fields"][field][0]
    assert err["message"]


def test_binary_forecast_is_stored_with_its_full_vector(client_for, forecaster, binary_q):
    resp = _post(client_for(forecaster), binary_q, {"probability": 0.7, "rationale": "Moscow moves first"})
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["probability"] == 0.7
    assert body["probabilities"] == {"yes": 0.7, "no": pytest.approx(0.3)}
    assert body["rationale"] == "Moscow moves first"
    stored = Forecast.objects.get(pk=body["id"])
    assert stored.probabilities == [0.7, pytest.approx(0.3)]
    assert stored.user == forecaster


@pytest.mark.parametrize("value", [0, 1, -1, 2, 1e-7, 0.9999999, "0.5", None, True, [0.5], {"p": 0.5}])
def test_binary_probability_out_of_rule_is_refused_naming_probability(client_for, forecaster, binary_q, value):
    resp = _post(client_for(forecaster), binary_q, {"probability": value})
    _assert_refused(resp, "probability")
    assert not Forecast.objects.exists()


def test_binary_missing_probability_is_refused(client_for, forecaster, binary_q):
    _assert_refused(_post(client_for(forecaster), binary_q, {}), "probability")


@pytest.mark.parametrize("bound", [0.001, 0.999])
def test_binary_bounds_are_inclusive(client_for, forecaster, binary_q, bound):
    assert _post(client_for(forecaster), binary_q, {"probability": bound}).status_code == 201


def test_multiple_choice_forecast_is_stored_in_option_order(client_for, forecaster, mc_q):
    resp = _post(client_for(forecaster), mc_q, {"probabilities": {"C": 0.3, "A": 0.6, "B": 0.1}})
    assert resp.status_code == 201, resp.content
    assert Forecast.objects.get().probabilities == [0.6, 0.1, 0.3]


@pytest.mark.parametrize(
    "probs, field",
    [
        ({"A": 0.6, "B": 0.2, "C": 0.3}, "probabilities"),  # sums to 1.1
        ({"A": 0.6, "B": 0.4}, "probabilities"),  # missing option
        ({"A": 0.5, "B": 0.2, "C": 0.2, "D": 0.1}, "probabilities"),  # unknown option
        ({"A": 1.2, "B": -0.1, "C": -0.1}, "probabilities.A"),  # out of bounds (A first)
        ({"A": 0.6, "B": -0.1, "C": 0.5}, "probabilities.B"),  # negative value
        ({"A": "0.6", "B": 0.1, "C": 0.3}, "probabilities.A"),  # a string
        ([0.6, 0.1, 0.3], "probabilities"),  # a list instead of an object
        (None, "probabilities"),
    ],
)
def test_multiple_choice_vector_out_of_rule_is_refused(client_for, forecaster, mc_q, probs, field):
    resp = _post(client_for(forecaster), mc_q, {"probabilities": probs})
    _assert_refused(resp, field)
    assert not Forecast.objects.exists()


def test_sum_within_tolerance_is_accepted(client_for, forecaster, mc_q):
    resp = _post(client_for(forecaster), mc_q, {"probabilities": {"A": 0.6, "B": 0.1, "C": 0.3000004}})
    assert resp.status_code == 201


def test_forecast_before_open_is_accepted(client_for, forecaster, make_question):
    now = datetime.now(UTC)
    q = make_question(open_time=now + timedelta(days=2), close_time=now + timedelta(days=20))
    assert _post(client_for(forecaster), q, {"probability": 0.4}).status_code == 201


def test_forecast_after_close_is_refused_and_not_stored(client_for, forecaster, make_question):
    now = datetime.now(UTC)
    q = make_question(open_time=now - timedelta(days=20), close_time=now - timedelta(seconds=1))
    resp = _post(client_for(forecaster), q, {"probability": 0.4})
    assert resp.status_code == 409
    assert resp.json()["error"]["code"] == "closed"
    assert "question" in resp.json()["error"]["fields"]
    assert not Forecast.objects.exists()


def test_forecast_on_resolved_question_is_refused(client_for, forecaster, staff, binary_q):
    from questions.services import question_resolve

    question_resolve(question=binary_q, outcome="yes", by=staff)
    resp = _post(client_for(forecaster), binary_q, {"probability": 0.4})
    assert resp.status_code == 409
    assert resp.json()["error"]["code"] == "resolved"


def test_forecast_on_annulled_question_is_refused(client_for, forecaster, staff, binary_q):
    from questions.services import question_annul

    question_annul(question=binary_q, by=staff)
    assert _post(client_for(forecaster), binary_q, {"probability": 0.4}).json()["error"]["code"] == "annulled"


def test_forecast_on_unknown_question_is_404(client_for, forecaster):
    resp = client_for(forecaster).post("/api/v1/questions/999999/forecasts/", {"probability": 0.5}, format="json")
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "not_found"


def test_updates_append_and_history_lists_them(client_for, forecaster, binary_q):
    c = client_for(forecaster)
    for p in (0.2, 0.5, 0.8):
        assert _post(c, binary_q, {"probability": p}).status_code == 201
    mine = c.get(f"/api/v1/questions/{binary_q.pk}/forecasts/").json()
    assert [f["probability"] for f in mine] == [0.8, 0.5, 0.2]
    assert Forecast.objects.count() == 3


def test_withdraw_ends_the_standing_forecast_and_needs_one(client_for, forecaster, binary_q):
    c = client_for(forecaster)
    assert c.post(f"/api/v1/questions/{binary_q.pk}/withdraw/").status_code == 409
    _post(c, binary_q, {"probability": 0.6})
    resp = c.post(f"/api/v1/questions/{binary_q.pk}/withdraw/")
    assert resp.status_code == 201
    assert resp.json()["kind"] == "withdrawal"
    assert resp.json()["probabilities"] is None
    assert c.post(f"/api/v1/questions/{binary_q.pk}/withdraw/").status_code == 409
    assert list(Forecast.objects.values_list("kind", flat=True)) == ["forecast", "withdrawal"]


def test_me_forecasts_lists_only_mine(client_for, make_user, binary_q):
    ana, ben = make_user("ana2"), make_user("ben2")
    _post(client_for(ana), binary_q, {"probability": 0.3})
    _post(client_for(ben), binary_q, {"probability": 0.9})
    body = client_for(ana).get("/api/v1/me/forecasts/").json()
    assert body["count"] == 1
    assert body["results"][0]["probability"] == 0.3


def test_database_refuses_out_of_bounds_rows_even_without_the_service(forecaster, binary_q):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Forecast.objects.create(
            question=binary_q,
            user=forecaster,
            created_at=datetime.now(UTC),
            probabilities=[1.0, 0.0],
            p_min=0.0,
            p_max=1.0,
            p_sum=1.0,
        )
