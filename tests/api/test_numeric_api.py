"""Numeric and date questions over the API (issue 15): creating them, forecasting a distribution
(the CDF itself, a mixture of components, or five quantiles), resolving by value, "below" or
"above", the crowd's CDF and quartiles once revealed, and the CRPS figures of scores, leaderboards,
calibration and the export, computed by a real Celery worker."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from forecasts.models import Forecast
from questions.models import Question

pytestmark = pytest.mark.django_db

GRID = 201
UNIFORM = [i / 200 for i in range(GRID)]  # closed bounds: 0 at lower, 1 at upper
OPEN_UNIFORM = [0.05 + 0.9 * i / 200 for i in range(GRID)]  # 5% below, 5% above


def _question_body(**kw):
    now = datetime.now(UTC)
    body = {
        "type": "numeric",
        "title": "How many million tonnes of wheat will Russia export in 2025?",
        "open_time": (now - timedelta(days=1)).isoformat(),
        "close_time": (now + timedelta(days=100)).isoformat(),
        "lower": 0,
        "upper": 100,
        "unit": "million t",
    }
    body.update(kw)
    return {k: v for k, v in body.items() if v is not None}


@pytest.fixture
def numeric_q(make_question):
    return make_question(title="Wheat exports", type="numeric", range_lower=0, range_upper=100, unit="million t")


@pytest.fixture
def open_q(make_question):
    return make_question(
        title="Wheat exports, open range", type="numeric", range_lower=0, range_upper=100, open_lower=True,
        open_upper=True,
    )  # fmt: skip


@pytest.fixture
def date_q(make_question):
    return make_question(
        title="When will the border reopen?",
        type="date",
        range_lower=datetime(2025, 1, 1, tzinfo=UTC),
        range_upper=datetime(2026, 1, 1, tzinfo=UTC),
    )


def _post(client, q, body):
    return client.post(f"/api/v1/questions/{q.pk}/forecasts/", body, format="json")


def _refused(resp, field: str, status: int = 400) -> dict:
    assert resp.status_code == status, resp.content
    err = resp.json()["error"]
    assert field in err["fields"], err
    assert err["fields"][field][0] and err["message"]
    return err


# --- Creating questions ---------------------------------------------------------------------------


def test_staff_creates_a_numeric_question_and_everyone_reads_its_range(client_for, staff):
    resp = client_for(staff).post("/api/v1/questions/", _question_body(open_upper=True), format="json")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["type"] == "numeric"
    assert (body["lower"], body["upper"], body["open_lower"], body["open_upper"]) == (0.0, 100.0, False, True)
    assert body["unit"] == "million t"
    assert body["options"] == []
    assert body["resolution"] == {"state": "open", "outcome": None, "resolved_at": None, "known_at": None}
    detail = client_for(None).get(f"/api/v1/questions/{body['id']}/").json()
    assert {k: detail[k] for k in ("lower", "upper", "open_lower", "open_upper", "unit")} == {
        "lower": 0.0, "upper": 100.0, "open_lower": False, "open_upper": True, "unit": "million t",
    }  # fmt: skip
    q = Question.objects.get(pk=body["id"])
    assert (q.range_lower, q.range_upper, q.open_upper) == (0.0, 100.0, True)


def test_staff_creates_a_date_question_with_iso_bounds(client_for, staff):
    body = _question_body(
        type="date", title="When?", lower="2025-01-01T00:00:00Z", upper="2026-01-01T00:00:00+00:00", unit=None
    )
    resp = client_for(staff).post("/api/v1/questions/", body, format="json")
    assert resp.status_code == 201, resp.content
    out = resp.json()
    assert (out["lower"], out["upper"]) == ("2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z")
    assert out["unit"] == ""
    assert Question.objects.get(pk=out["id"]).range_lower == datetime(2025, 1, 1, tzinfo=UTC).timestamp()


def test_binary_and_multiple_choice_questions_show_no_range(client_for, binary_q, mc_q):
    for q in (binary_q, mc_q):
        body = client_for(None).get(f"/api/v1/questions/{q.pk}/").json()
        assert (body["lower"], body["upper"], body["unit"]) == (None, None, None)
        assert (body["open_lower"], body["open_upper"]) == (False, False)
        assert set(body["crowd"]) <= {"revealed", "method", "probabilities", "n_forecasters", "history"}


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"lower": 100, "upper": 100}, "upper"),  # lower >= upper
        ({"lower": 150, "upper": 100}, "upper"),
        ({"lower": "ten"}, "lower"),  # a numeric bound must be a number
        ({"upper": True}, "upper"),
        ({"lower": None}, "lower"),  # required
        ({"upper": None}, "upper"),
        ({"options": ["A", "B"]}, "options"),  # a numeric question has no options
        ({"ordered": True}, "ordered"),
        ({"unit": "u" * 41}, "unit"),  # at most 40 characters
        ({"open_lower": "maybe"}, "open_lower"),
        ({"type": "date", "lower": 5, "upper": "2026-01-01T00:00:00Z", "unit": None}, "lower"),  # not an instant
        ({"type": "date", "lower": "2025-01-01T00:00:00Z", "upper": "soon", "unit": None}, "upper"),
        ({"type": "date", "lower": "2026-01-01T00:00:00Z", "upper": "2025-01-01T00:00:00Z", "unit": None}, "upper"),
        ({"type": "date", "lower": "2025-01-01T00:00:00Z", "upper": "2026-01-01T00:00:00Z"}, "unit"),  # no unit
        ({"type": "binary", "unit": None}, "lower"),  # a binary question has no range
        ({"type": "binary", "lower": None, "upper": None, "unit": "t"}, "unit"),
        ({"type": "binary", "lower": None, "upper": None, "unit": None, "open_upper": True}, "open_upper"),
    ],
)
def test_bad_numeric_question_is_refused_naming_the_field(client_for, staff, overrides, field):
    resp = client_for(staff).post("/api/v1/questions/", _question_body(**overrides), format="json")
    err = _refused(resp, field)
    assert "range_" not in json.dumps(err)  # the API's names: lower and upper
    assert not Question.objects.exists()


# --- Forecasts ------------------------------------------------------------------------------------


def test_a_cdf_forecast_is_stored_as_given_with_its_quartiles(client_for, forecaster, numeric_q):
    resp = _post(client_for(forecaster), numeric_q, {"cdf": UNIFORM, "rationale": "flat"})
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["cdf"] == UNIFORM
    assert body["quartiles"] == {"25": pytest.approx(25), "50": pytest.approx(50), "75": pytest.approx(75)}
    assert (body["probability"], body["probabilities"], body["rationale"]) == (None, None, "flat")
    stored = Forecast.objects.get(pk=body["id"])
    assert stored.cdf == UNIFORM and stored.probabilities is None


def test_a_mixture_forecast_is_made_into_a_cdf_centred_where_asked(client_for, forecaster, numeric_q):
    one = {"components": [{"centre": 40, "scale": 5, "weight": 1}]}
    resp = _post(client_for(forecaster), numeric_q, one)
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert len(body["cdf"]) == GRID and body["cdf"][0] == 0 and body["cdf"][-1] == pytest.approx(1)
    assert body["quartiles"]["50"] == pytest.approx(40, abs=0.5)
    assert body["quartiles"]["25"] < 40 < body["quartiles"]["75"]
    two = {"components": [{"centre": 20, "scale": 3, "weight": 0.5}, {"centre": 80, "scale": 3, "weight": 0.5}]}
    body = _post(client_for(forecaster), numeric_q, two).json()
    assert body["quartiles"]["25"] == pytest.approx(20, abs=2) and body["quartiles"]["75"] == pytest.approx(80, abs=2)


def test_a_quantile_forecast_goes_through_its_quartiles(client_for, forecaster, numeric_q):
    given = {"5": 10, "25": 30, "50": 45, "75": 60, "95": 90}
    resp = _post(client_for(forecaster), numeric_q, {"quantiles": given})
    assert resp.status_code == 201, resp.content
    q = resp.json()["quartiles"]
    assert q == {"25": pytest.approx(30, abs=1), "50": pytest.approx(45, abs=1), "75": pytest.approx(60, abs=1)}


def test_date_forecasts_take_instants_and_days_and_show_instants(client_for, forecaster, date_q):
    c = client_for(forecaster)
    given = {
        "5": "2025-02-01T00:00:00Z", "25": "2025-04-01T00:00:00Z", "50": "2025-06-01T00:00:00Z",
        "75": "2025-08-01T00:00:00Z", "95": "2025-11-01T00:00:00Z",
    }  # fmt: skip
    body = _post(c, date_q, {"quantiles": given}).json()
    median = datetime.fromisoformat(body["quartiles"]["50"])
    assert body["quartiles"]["50"].endswith("Z")
    assert abs(median - datetime(2025, 6, 1, tzinfo=UTC)) < timedelta(days=3)
    resp = _post(c, date_q, {"components": [{"centre": "2025-07-01T00:00:00Z", "scale": 10, "weight": 1}]})
    assert resp.status_code == 201, resp.content
    quartiles = {k: datetime.fromisoformat(v) for k, v in resp.json()["quartiles"].items()}
    assert abs(quartiles["50"] - datetime(2025, 7, 1, tzinfo=UTC)) < timedelta(days=2)
    # a logistic of scale s days has its quartiles at +- s ln 3 days (about 11 days for 10)
    assert timedelta(days=8) < quartiles["75"] - quartiles["50"] < timedelta(days=14)


def _bumped(i: int, value: float) -> list[float]:
    cdf = list(UNIFORM)
    cdf[i] = value
    return cdf


MANY = [{"centre": 10 * (k + 1), "scale": 5, "weight": 0.25} for k in range(4)]


@pytest.mark.parametrize(
    "question, payload, field",
    [
        ("numeric", {"cdf": UNIFORM[:200]}, "cdf"),  # wrong length
        ("numeric", {"cdf": "flat"}, "cdf"),
        ("numeric", {"cdf": _bumped(17, UNIFORM[16])}, "cdf[17]"),  # not increasing
        ("numeric", {"cdf": _bumped(17, UNIFORM[16] + 0.00001)}, "cdf[17]"),  # a step under 0.00005
        ("numeric", {"cdf": _bumped(3, "0.015")}, "cdf[3]"),  # a string
        ("numeric", {"cdf": _bumped(0, 0.001)}, "cdf[0]"),  # a closed lower bound starts at 0
        ("numeric", {"cdf": _bumped(200, 0.999)}, "cdf[200]"),  # a closed upper bound ends at 1
        ("open", {"cdf": UNIFORM}, "cdf[0]"),  # an open bound keeps some mass beyond it
        ("open", {"cdf": [0.15 + 0.7 * i / 200 for i in range(GRID)]}, "cdf"),  # 0.3 outside the range
        ("numeric", {"components": [{"centre": 50, "scale": 0, "weight": 1}]}, "components[0].scale"),
        ("numeric", {"components": [{"centre": 50, "scale": -2, "weight": 1}]}, "components[0].scale"),
        ("numeric", {"components": [{"centre": 20, "scale": 5, "weight": 0.5}, {"centre": 60, "scale": 5, "weight": 0.4}]},
         "components"),  # weights sum to 0.9
        ("numeric", {"components": MANY}, "components"),  # more than 3
        ("numeric", {"components": []}, "components"),
        ("numeric", {"components": [{"centre": "fifty", "scale": 5, "weight": 1}]}, "components[0].centre"),
        ("numeric", {"quantiles": {"5": 10, "25": 30, "50": 20, "75": 60, "95": 90}}, "quantiles.50"),  # not increasing
        ("numeric", {"quantiles": {"5": 10, "25": 30, "50": 45, "75": 60}}, "quantiles.95"),  # one missing
        ("numeric", {"quantiles": [10, 30, 45, 60, 90]}, "quantiles"),
        ("numeric", {"cdf": UNIFORM, "quantiles": {"5": 10, "25": 30, "50": 45, "75": 60, "95": 90}}, "quantiles"),
        ("numeric", {"probability": 0.5, "cdf": UNIFORM}, "cdf"),  # two shapes at once
        ("numeric", {"probability": 0.6}, "probability"),  # a binary payload on a numeric question
        ("numeric", {}, "cdf"),
        ("binary", {"cdf": UNIFORM}, "probability"),  # and a distribution on a binary question
        ("binary", {"probability": 0.6, "probabilities": {"yes": 0.6, "no": 0.4}}, "probabilities"),
        ("date", {"quantiles": {"5": 1, "25": 2, "50": 3, "75": 4, "95": 5}}, "quantiles.5"),  # numbers, not instants
        ("date", {"components": [{"centre": "2025-07-01T00:00:00Z", "scale": "ten", "weight": 1}]}, "components[0].scale"),
    ],
)  # fmt: skip
def test_a_distribution_breaking_a_rule_is_refused_naming_the_field(
    client_for, forecaster, numeric_q, open_q, date_q, binary_q, question, payload, field
):
    q = {"numeric": numeric_q, "open": open_q, "date": date_q, "binary": binary_q}[question]
    err = _refused(_post(client_for(forecaster), q, payload), field)
    assert err["code"] in ("invalid", "required")
    assert not Forecast.objects.exists()


def test_quantiles_beyond_a_closed_bound_are_refused(client_for, forecaster, numeric_q):
    resp = _post(client_for(forecaster), numeric_q, {"quantiles": {"5": -5, "25": 30, "50": 45, "75": 60, "95": 90}})
    assert resp.status_code == 400
    assert next(iter(resp.json()["error"]["fields"])).startswith("quantiles")
    assert not Forecast.objects.exists()


def test_my_forecasts_show_the_cdf_beside_the_existing_fields(client_for, forecaster, numeric_q, binary_q):
    c = client_for(forecaster)
    assert _post(c, numeric_q, {"cdf": UNIFORM}).status_code == 201
    assert _post(c, binary_q, {"probability": 0.3}).status_code == 201
    assert c.post(f"/api/v1/questions/{numeric_q.pk}/withdraw/").status_code == 201
    rows = c.get("/api/v1/me/forecasts/").json()["results"]
    by_kind = {(r["question"], r["kind"]): r for r in rows}
    numeric = by_kind[(numeric_q.pk, "forecast")]
    assert numeric["cdf"] == UNIFORM and numeric["quartiles"]["50"] == pytest.approx(50)
    assert numeric["probability"] is None and numeric["probabilities"] is None
    binary = by_kind[(binary_q.pk, "forecast")]
    assert (binary["cdf"], binary["quartiles"], binary["probability"]) == (None, None, 0.3)
    withdrawal = by_kind[(numeric_q.pk, "withdrawal")]
    assert (withdrawal["cdf"], withdrawal["quartiles"]) == (None, None)
    on_question = c.get(f"/api/v1/questions/{numeric_q.pk}/forecasts/").json()
    assert [r["kind"] for r in on_question] == ["withdrawal", "forecast"]
    assert on_question[1]["cdf"] == UNIFORM


def test_rationales_on_a_numeric_question_show_quartiles(client_for, make_user, numeric_q):
    ana, ben = make_user("why-ana"), make_user("why-ben")
    peaked = {"components": [{"centre": 30, "scale": 4, "weight": 1}], "rationale": "harvest reports"}
    assert _post(client_for(ana), numeric_q, peaked).status_code == 201
    assert _post(client_for(ben), numeric_q, {"cdf": UNIFORM}).status_code == 201
    rows = client_for(ben).get(f"/api/v1/questions/{numeric_q.pk}/rationales/").json()["results"]
    assert [r["user"]["id"] for r in rows] == [ana.pk]
    (row,) = rows
    assert (row["rationale"], row["probability"], row["probabilities"]) == ("harvest reports", None, None)
    assert row["quartiles"]["50"] == pytest.approx(30, abs=0.5)
    assert row["quartiles"]["25"] < 30 < row["quartiles"]["75"]


# --- Resolution -----------------------------------------------------------------------------------


def _resolve(client, q, resolution):
    return client.post(f"/api/v1/questions/{q.pk}/resolve/", {"resolution": resolution}, format="json")


def test_resolve_by_value_below_above_and_annul(client_for, staff, numeric_q, open_q, date_q):
    c = client_for(staff)
    resp = _resolve(c, numeric_q, 42.5)
    assert resp.status_code == 200, resp.content
    assert resp.json()["resolution"]["outcome"] == 42.5 and resp.json()["resolution"]["state"] == "resolved"
    assert Question.objects.get(pk=numeric_q.pk).resolved_value == 42.5
    assert _resolve(c, numeric_q, 42.5).status_code == 409  # the same again
    assert _resolve(c, open_q, "below").json()["resolution"]["outcome"] == "below"
    assert _resolve(c, open_q, 130).json()["resolution"]["outcome"] == "above"  # beyond an open bound
    body = _resolve(c, date_q, "2025-03-01T12:00:00+02:00").json()
    assert body["resolution"]["outcome"] == "2025-03-01T10:00:00Z"
    assert client_for(None).get(f"/api/v1/questions/{date_q.pk}/").json()["resolution"]["outcome"] == (
        "2025-03-01T10:00:00Z"
    )
    annulled = _resolve(c, numeric_q, "annulled").json()["resolution"]
    assert (annulled["state"], annulled["outcome"]) == ("annulled", None)


@pytest.mark.parametrize(
    "question, resolution",
    [
        ("numeric", "below"),  # the lower bound is closed
        ("numeric", "above"),
        ("numeric", 101),  # beyond a closed bound
        ("numeric", -0.5),
        ("numeric", "42"),  # text on a numeric question
        ("numeric", True),
        ("numeric", None),
        ("numeric", [42]),
        ("date", 1740787200),  # a date takes an instant
        ("date", "next spring"),
        ("date", "2027-01-01T00:00:00Z"),  # beyond the closed upper bound
        ("binary", 42),  # a number on a binary question
    ],
)
def test_a_bad_resolution_is_refused_naming_resolution(
    client_for, staff, numeric_q, date_q, binary_q, question, resolution
):
    q = {"numeric": numeric_q, "date": date_q, "binary": binary_q}[question]
    _refused(_resolve(client_for(staff), q, resolution), "resolution")
    assert Question.objects.get(pk=q.pk).state == "open"


# --- The crowd ------------------------------------------------------------------------------------


def test_the_crowd_cdf_and_quartiles_show_once_revealed(
    client_for, make_user, make_question, staff, django_capture_on_commit_callbacks
):
    now = datetime.now(UTC)
    q = make_question(
        title="Hidden crowd", type="numeric", range_lower=0, range_upper=100, crowd_reveal_time=now + timedelta(days=2)
    )
    peaked = {"components": [{"centre": 30, "scale": 4, "weight": 1}]}
    ana, ben, cy = make_user("crowd-ana"), make_user("crowd-ben"), make_user("crowd-cy")
    for user, body in ((ana, {"cdf": UNIFORM}), (ben, peaked), (cy, peaked)):
        with django_capture_on_commit_callbacks(execute=True):
            assert _post(client_for(user), q, body).status_code == 201

    hidden = client_for(ana).get(f"/api/v1/questions/{q.pk}/").json()["crowd"]
    assert hidden == {
        "revealed": False, "method": "median", "probabilities": None, "n_forecasters": 0, "cdf": None, "quartiles": None,
    }  # fmt: skip
    listed = next(r for r in client_for(None).get("/api/v1/questions/").json()["results"] if r["id"] == q.pk)
    assert listed["crowd"]["cdf"] is None

    seen = client_for(staff).get(f"/api/v1/questions/{q.pk}/").json()["crowd"]  # staff see it before
    assert seen["revealed"] is True and seen["n_forecasters"] == 3
    assert len(seen["cdf"]) == GRID and seen["cdf"][0] == 0 and seen["cdf"][-1] == pytest.approx(1)
    assert seen["probabilities"] is None
    assert seen["quartiles"]["50"] == pytest.approx(30, abs=1)  # the per-point median: the peaked pair's
    assert seen["quartiles"]["25"] < seen["quartiles"]["50"] < seen["quartiles"]["75"]
    # The history: the median in the question's units, none while too few forecast to show a crowd.
    assert [p["n_forecasters"] for p in seen["history"]] == [1, 2, 3]
    assert [p["median"] for p in seen["history"][:2]] == [None, None]
    assert seen["history"][-1]["median"] == seen["quartiles"]["50"]
    assert all(p["probabilities"] is None for p in seen["history"])

    Question.objects.filter(pk=q.pk).update(crowd_reveal_time=now - timedelta(minutes=1))
    public = client_for(None).get(f"/api/v1/questions/{q.pk}/").json()["crowd"]
    assert public["cdf"] == seen["cdf"] and public["quartiles"] == seen["quartiles"]
    listed = next(r for r in client_for(None).get("/api/v1/questions/").json()["results"] if r["id"] == q.pk)
    assert listed["crowd"]["cdf"] == seen["cdf"] and "history" not in listed["crowd"]


def test_a_date_crowd_shows_instants(client_for, make_user, date_q, django_capture_on_commit_callbacks):
    for name in ("date-ana", "date-ben", "date-cy"):
        with django_capture_on_commit_callbacks(execute=True):
            assert _post(client_for(make_user(name)), date_q, {"cdf": UNIFORM}).status_code == 201
    crowd = client_for(None).get(f"/api/v1/questions/{date_q.pk}/").json()["crowd"]
    assert crowd["quartiles"]["50"] == "2025-07-02T12:00:00Z"  # the middle of 2025
    assert crowd["history"][-1]["median"] == "2025-07-02T12:00:00Z"


# --- Scores, leaderboards, calibration and the export, from a real worker ----------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_scores_leaderboards_calibration_and_export_carry_crps(celery_worker, make_user, make_question, client_for):
    from scoring.models import Score
    from tests.support.workers import wait_for

    now = datetime.now(UTC)
    q = make_question(title="Scored numeric", type="numeric", range_lower=0, range_upper=100,
                      open_time=now - timedelta(days=10))  # fmt: skip
    b = make_question(title="Scored binary", open_time=now - timedelta(days=10))
    admin = make_user("crps-admin", staff=True)
    ana, ben = make_user("crps-ana"), make_user("crps-ben")
    assert _post(client_for(ana), q, {"cdf": UNIFORM}).status_code == 201
    assert _post(client_for(ben), q, {"components": [{"centre": 42, "scale": 3, "weight": 1}]}).status_code == 201
    assert _post(client_for(ana), b, {"probability": 0.7}).status_code == 201
    assert _resolve(client_for(admin), q, 42).status_code == 200
    assert _resolve(client_for(admin), b, "yes").status_code == 200
    wait_for(lambda: Score.objects.filter(question=q, user=ana).exists()
             and Score.objects.filter(question=b, user=ana).exists(), message="scores from the worker")  # fmt: skip

    rows = client_for(None).get(f"/api/v1/questions/{q.pk}/scores/").json()["results"]
    people = {r["user"]["id"]: r for r in rows if r["user"]}
    # A uniform forecast on a closed range, the outcome at 42% of it: (0.42^3 + 0.58^3) / 3.
    assert people[ana.pk]["crps_final"] == pytest.approx(0.08973, abs=1e-4)
    assert people[ana.pk]["crps_mean"] == pytest.approx(0.08973, abs=1e-4)
    assert people[ben.pk]["crps_final"] < people[ana.pk]["crps_final"]
    assert people[ben.pk]["relative_crps"] < 0 < people[ana.pk]["relative_crps"]
    assert all(r[k] is None for r in rows for k in ("brier_final", "brier_mean", "relative_brier"))
    assert any(r["user"] is None for r in rows)  # the crowd's benchmark rows
    mine = {r["question"]: r for r in client_for(ana).get("/api/v1/me/scores/").json()["results"]}
    assert mine[b.pk]["brier_final"] == pytest.approx(0.18)
    assert (mine[b.pk]["crps_final"], mine[b.pk]["crps_mean"], mine[b.pk]["relative_crps"]) == (None, None, None)
    assert mine[q.pk]["crps_final"] == people[ana.pk]["crps_final"]
    scores_csv = list(
        csv.DictReader(io.StringIO(client_for(ana).get("/api/v1/me/scores/?format=csv").content.decode()))
    )
    assert float(next(r for r in scores_csv if r["question"] == str(q.pk))["crps_final"]) == pytest.approx(
        0.08973, abs=1e-4
    )

    board = client_for(ana).get(f"/api/v1/leaderboards/questions/{q.pk}/").json()
    entries = {e["user"]["id"]: e for e in board["entries"]}
    assert entries[ana.pk]["crps_questions"] == 1 and entries[ana.pk]["questions"] == 1
    assert entries[ana.pk]["relative_crps_sum"] == pytest.approx(people[ana.pk]["relative_crps"])
    assert entries[ana.pk]["relative_crps_mean"] == pytest.approx(people[ana.pk]["relative_crps"])
    assert entries[ana.pk]["relative_brier_sum"] == 0 and entries[ana.pk]["relative_brier_mean"] is None
    assert board["crowd"]["crps_questions"] == 1 and board["me"]["user"]["id"] == ana.pk
    overall = client_for(None).get("/api/v1/leaderboards/global/?min_questions=1").json()
    whole = {e["user"]["id"]: e for e in overall["entries"]}[ana.pk]
    assert (whole["questions"], whole["crps_questions"]) == (2, 1)  # relative CRPS never joins relative Brier:
    assert whole["relative_brier_sum"] == pytest.approx(mine[b.pk]["relative_brier"])
    assert whole["relative_crps_sum"] == pytest.approx(people[ana.pk]["relative_crps"])
    board_csv = client_for(None).get("/api/v1/leaderboards/global/?min_questions=1&format=csv").content.decode()
    assert "relative_crps_sum" in board_csv.splitlines()[0]

    calibration = client_for(None).get(f"/api/v1/users/{ana.pk}/calibration/").json()
    assert calibration["n_events"] == 1  # the binary question
    assert calibration["pit"]["n"] == 1 and len(calibration["pit"]["bins"]) == 10
    assert calibration["pit"]["bins"][4]["count"] == 1  # F(42) = 0.42 for the uniform forecast
    crowd_calibration = client_for(None).get("/api/v1/crowd/calibration/").json()
    assert crowd_calibration["pit"]["n"] == 1

    export = client_for(ana).get("/api/v1/me/export/").json()
    forecast = next(f for f in export["forecasts"] if f["question"] == q.pk)
    assert forecast["cdf"] == UNIFORM and forecast["probabilities"] is None
    assert next(f for f in export["forecasts"] if f["question"] == b.pk)["cdf"] is None
    score = next(s for s in export["scores"] if s["question"] == q.pk)
    assert score["crps_final"] == people[ana.pk]["crps_final"] and score["relative_brier"] is None
    table = list(csv.DictReader(io.StringIO(client_for(ana).get("/api/v1/me/export/?format=csv").content.decode())))
    row = next(r for r in table if r["record"] == "forecast" and r["question"] == str(q.pk))
    assert json.loads(row["cdf"]) == UNIFORM
    row = next(r for r in table if r["record"] == "score" and r["question"] == str(q.pk))
    assert float(row["relative_crps"]) == pytest.approx(people[ana.pk]["relative_crps"])


def _candidate(staff, text: str, phrase: str, **draft):
    """An article of `text` ingested by `staff`, and a new candidate on its passage at `phrase`."""
    from questions.articles import article_ingest
    from questions.models import Candidate

    article, _ = article_ingest(data=text.encode(), filename="c.md", title="Candidate article", by=staff)
    start = text.index(phrase)
    return Candidate.objects.create(
        article=article, start=start, end=start + 40, passage=text[start : start + 40], kind="explicit_question",
        score=0.9, rank=99, draft={"close_time": "2030-01-01T00:00:00Z", **draft},
    )  # fmt: skip


def test_a_candidate_is_approved_as_a_numeric_question_with_its_range(client_for, staff):
    text = "# Outlook\n\nWhat to look for: how many embassies reopen in Kabul by 2026.\n"
    candidate = _candidate(staff, text, "how many")
    article = candidate.article
    c = client_for(staff)
    url = f"/api/v1/candidates/{candidate.pk}/approve/"
    edits = {"type": "numeric", "title": "How many embassies will reopen in Kabul by 2026?", "lower": 0}
    _refused(c.post(url, {**edits, "upper": 0}, format="json"), "upper")  # the API's name, not the column's
    resp = c.post(url, {**edits, "upper": 40, "open_upper": True, "unit": "embassies"}, format="json")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert (body["type"], body["lower"], body["upper"], body["open_upper"], body["unit"]) == (
        "numeric", 0.0, 40.0, True, "embassies",
    )  # fmt: skip
    assert body["source"]["article"] == article.pk


def test_a_date_candidate_takes_its_edited_range_as_instants_as_a_new_question_does(client_for, staff):
    from questions.models import Candidate

    text = "# Outlook\n\nWhat to look for: when India restores full embassy status in Kabul.\n"
    candidate = _candidate(staff, text, "when India", type="date")
    c = client_for(staff)
    url = f"/api/v1/candidates/{candidate.pk}/approve/"
    edits = {"title": "When will India restore full embassy status in Kabul?", "upper": "2028-01-01T00:00:00Z"}
    # POSIX seconds are refused here as by POST /questions/, naming the field; nothing is created
    _refused(c.post(url, {**edits, "lower": 1735689600}, format="json"), "lower")
    candidate.refresh_from_db()
    assert candidate.status == Candidate.Status.NEW
    resp = c.post(url, {**edits, "lower": "2025-01-01T00:00:00Z"}, format="json")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert (body["type"], body["lower"], body["upper"]) == ("date", "2025-01-01T00:00:00Z", "2028-01-01T00:00:00Z")


def test_the_schema_documents_the_distribution_shapes_and_crps_fields(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    parts = schema["components"]["schemas"]
    body = schema["paths"]["/api/v1/questions/{id}/forecasts/"]["post"]["requestBody"]["content"]["application/json"]
    shapes = [parts[ref["$ref"].rsplit("/", 1)[1]] for ref in parts[body["schema"]["$ref"].rsplit("/", 1)[1]]["oneOf"]]
    assert [s["required"] for s in shapes] == [
        ["probability"],
        ["probabilities"],
        ["cdf"],
        ["components"],
        ["quantiles"],
    ]
    cdf = shapes[2]["properties"]["cdf"]
    assert (cdf["minItems"], cdf["maxItems"], cdf["items"]["minimum"], cdf["items"]["maximum"]) == (201, 201, 0, 1)
    components = shapes[3]["properties"]["components"]
    assert (components["minItems"], components["maxItems"]) == (1, 3)
    assert components["items"]["properties"]["scale"]["exclusiveMinimum"] is True
    assert shapes[4]["properties"]["quantiles"]["required"] == ["5", "25", "50", "75", "95"]
    assert {"crps_final", "crps_mean", "relative_crps"} <= set(parts["Score"]["required"])
    entry = parts["LeaderboardEntryOut"]["properties"]
    assert "range units" in entry["relative_crps_sum"]["description"]
    assert "never added to relative Brier" in entry["relative_crps_sum"]["description"]
    assert {"lower", "upper", "open_lower", "open_upper", "unit"} <= set(parts["Question"]["required"])
    assert "pit" in parts["CalibrationOut"]["required"]
