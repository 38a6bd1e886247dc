"""Forecasts on numeric and date questions: a CDF given as 201 points, as a logistic mixture or as
five quantiles (in the question's units; dates as ISO instants, scales in days) is stored as a
valid CDF on the range's grid; every refusal names its field; the database refuses a half-written
forecast row; withdrawals, the API's fast path and forecasts_import store the same; the crowd
history holds the crowd CDF, the incremental update equal to the full recompute."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.db import IntegrityError, transaction

from config.exceptions import Conflict, DomainError
from forecast_math.continuous import (
    CONTINUOUS_AGGREGATES,
    GRID,
    aggregate_cdfs,
    cdf_at,
    from_range_units,
    quantile,
    validate_cdf,
)
from forecasts.crowd import question_crowd_write
from forecasts.models import CrowdPoint, Forecast
from forecasts.selectors import cdf_summary, forecast_set_for_question
from forecasts.services import (
    ForecastRow,
    forecast_submit,
    forecast_submit_checked,
    forecast_withdraw,
    forecasts_import,
)
from questions.services import question_create, question_resolve

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 1, 1, tzinfo=UTC)
DAY = 86400.0


def numeric(**kw):
    fields = {
        "type": "numeric",
        "title": "How many kt of grain will leave Odesa in March?",
        "open_time": T0,
        "close_time": datetime.now(UTC) + timedelta(days=60),
        "range_lower": 100.0,
        "range_upper": 300.0,
        "unit": "kt",
    }
    fields.update(kw)
    return question_create(**fields)


def date_q(**kw):
    fields = {
        "type": "date",
        "title": "When will the embassy reopen?",
        "open_time": T0,
        "close_time": datetime.now(UTC) + timedelta(days=60),
        "range_lower": datetime(2025, 1, 1, tzinfo=UTC),
        "range_upper": datetime(2025, 12, 27, tzinfo=UTC),  # 360 days
    }
    fields.update(kw)
    return question_create(**fields)


def uniform(open_lower=False, open_upper=False) -> list[float]:
    lo = 0.05 if open_lower else 0.0
    hi = 0.95 if open_upper else 1.0
    return [lo + (hi - lo) * i / 200 for i in range(GRID)]


def _value(q, x: float) -> float:
    return from_range_units(x, q.range_lower, q.range_upper)


# --- The three shapes -----------------------------------------------------------------------------


def test_cdf_is_stored_as_given(forecaster):
    q = numeric()
    cdf = uniform()
    f = forecast_submit(user=forecaster, question=q, payload={"cdf": cdf}, rationale="flat")
    f.refresh_from_db()
    assert f.cdf == cdf
    assert (f.probabilities, f.p_min, f.p_max, f.p_sum) == (None, None, None, None)
    assert f.kind == "forecast" and f.rationale == "flat"


def test_components_in_question_units_become_a_valid_cdf(forecaster):
    q = numeric(open_upper=True)
    payload = {"components": [{"centre": 180, "scale": 10, "weight": 0.7}, {"centre": 260, "scale": 20, "weight": 0.3}]}
    f = forecast_submit(user=forecaster, question=q, payload=payload)
    f.refresh_from_db()
    validate_cdf(f.cdf, open_lower=False, open_upper=True)  # passes the submission rules
    assert f.cdf[0] == 0.0 and f.cdf[-1] < 1.0  # closed lower bound, some mass above the open upper one
    # most of the mass is near the heavier component: its centre is close to the 35th percentile
    assert _value(q, quantile(f.cdf, 0.35)) == pytest.approx(180, abs=6)
    assert 0.65 < cdf_at(f.cdf, (220 - 100) / 200) < 0.75


def test_a_single_component_may_leave_out_its_weight(forecaster):
    q = numeric()
    f = forecast_submit(user=forecaster, question=q, payload={"components": [{"centre": 200, "scale": 15}]})
    assert _value(q, quantile(f.cdf, 0.5)) == pytest.approx(200, abs=1)


def test_quantiles_in_question_units_become_a_valid_cdf(forecaster):
    q = numeric(open_lower=True, open_upper=True)
    given = {"5": 120, "25": 160, "50": 190, "75": 220, "95": 280}
    f = forecast_submit(user=forecaster, question=q, payload={"quantiles": given})
    validate_cdf(f.cdf, open_lower=True, open_upper=True)
    for key in ("25", "50", "75"):
        # the uniform mix (1%) moves each quantile a little
        assert _value(q, quantile(f.cdf, int(key) / 100)) == pytest.approx(given[key], abs=3)
    summary = cdf_summary(question=q, cdf=f.cdf)
    assert summary["quartiles"]["50"] == pytest.approx(190, abs=3)
    assert summary["below"] == f.cdf[0] and summary["above"] == pytest.approx(1 - f.cdf[-1])


def test_date_question_takes_instants_and_scales_in_days(forecaster, make_user):
    q = date_q()
    f = forecast_submit(
        user=forecaster, question=q, payload={"components": [{"centre": "2025-07-01T00:00:00Z", "scale": 10}]}
    )
    median = _value(q, quantile(f.cdf, 0.5))
    assert abs(median - datetime(2025, 7, 1, tzinfo=UTC).timestamp()) < 2 * DAY
    # a logistic of scale s days has its quartiles at centre +- s ln 3
    upper_quartile = _value(q, quantile(f.cdf, 0.75))
    assert (upper_quartile - median) / DAY == pytest.approx(10 * math.log(3), rel=0.1)
    quantiles = {
        "5": "2025-02-01T00:00:00Z",
        "25": "2025-04-01T00:00:00Z",
        "50": "2025-06-01",
        "75": "2025-08-01T00:00:00+02:00",
        "95": "2025-11-01T00:00:00Z",
    }
    g = forecast_submit(user=make_user(), question=q, payload={"quantiles": quantiles})
    summary = cdf_summary(question=q, cdf=g.cdf)
    assert summary["quartiles"]["50"].startswith("2025-0")  # shown as an ISO instant
    assert abs(_value(q, quantile(g.cdf, 0.5)) - datetime(2025, 6, 1, tzinfo=UTC).timestamp()) < 3 * DAY


# --- Refusals name the field ----------------------------------------------------------------------


def _bad_cdfs():
    flat = uniform()
    yield {}, "cdf"
    yield {"probability": 0.4}, "probability"
    yield {"cdf": flat, "quantiles": {}}, "quantiles"
    yield {"cdf": flat[:200]}, "cdf"
    yield {"cdf": "0,1"}, "cdf"
    yield {"cdf": [*flat[:17], "0.1", *flat[18:]]}, "cdf[17]"
    yield {"cdf": [*flat[:17], True, *flat[18:]]}, "cdf[17]"
    yield {"cdf": [*flat[:17], float("nan"), *flat[18:]]}, "cdf[17]"
    yield {"cdf": [*flat[:17], flat[16], *flat[18:]]}, "cdf[17]"  # not strictly increasing
    yield {"cdf": [*flat[:17], flat[16] + 1e-6, *flat[18:]]}, "cdf[17]"  # a step below the minimum slope
    yield {"cdf": [0.002, *flat[1:]]}, "cdf[0]"  # closed lower bound: must start at 0
    yield {"cdf": [*flat[:200], 0.99]}, "cdf[200]"  # closed upper bound: must end at 1
    yield {"cdf": [*flat[:100], *[min(1.0, v + 1) for v in flat[100:]]]}, "cdf[101]"  # above 1


@pytest.mark.parametrize(("payload", "field"), list(_bad_cdfs()))
def test_cdf_refusals_name_the_field(forecaster, payload, field):
    q = numeric()
    with pytest.raises(DomainError) as e:
        forecast_submit(user=forecaster, question=q, payload=payload)
    assert e.value.field == field, e.value.message
    assert e.value.http_status == 400
    assert not Forecast.objects.exists()


def test_open_bound_rules(forecaster):
    q = numeric(open_lower=True, open_upper=True)
    flat = uniform(open_lower=True, open_upper=True)
    cases = [
        ([0.0, *flat[1:]], "cdf[0]"),  # an open bound keeps some mass beyond it
        ([*flat[:200], 1.0], "cdf[200]"),
        ([0.15 + 0.7 * i / 200 for i in range(GRID)], "cdf"),  # 0.3 outside: more than 0.2
    ]
    for cdf, field in cases:
        with pytest.raises(DomainError) as e:
            forecast_submit(user=forecaster, question=q, payload={"cdf": cdf})
        assert e.value.field == field, e.value.message
    forecast_submit(user=forecaster, question=q, payload={"cdf": flat})


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"components": []}, "components"),
        ({"components": [{"centre": 150, "scale": 5, "weight": 0.5}] * 4}, "components"),
        ({"components": ["x"]}, "components[0]"),
        ({"components": [{"centre": "150", "scale": 5}]}, "components[0].centre"),
        ({"components": [{"centre": 400, "scale": 5}]}, "components[0].centre"),
        ({"components": [{"centre": 150, "scale": 0}]}, "components[0].scale"),
        ({"components": [{"centre": 150, "scale": -3}]}, "components[0].scale"),
        ({"components": [{"centre": 150, "scale": "wide"}]}, "components[0].scale"),
        ({"components": [{"centre": 150}]}, "components[0].scale"),
        (
            {"components": [{"centre": 150, "scale": 5, "weight": 0.5}, {"centre": 200, "scale": 5, "weight": 0.4}]},
            "components",
        ),
        (
            {"components": [{"centre": 150, "scale": 5, "weight": 0.5}, {"centre": 200, "scale": 5, "weight": -0.5}]},
            "components[1].weight",
        ),
        ({"components": [{"centre": 150, "scale": 5, "spread": 1}]}, "components[0].spread"),
        ({"quantiles": [1, 2, 3, 4, 5]}, "quantiles"),
        ({"quantiles": {"5": 110, "25": 150, "50": 190, "75": 220}}, "quantiles.95"),
        ({"quantiles": {"5": 110, "25": 150, "50": 190, "75": 220, "95": 250, "99": 290}}, "quantiles.99"),
        ({"quantiles": {"5": 110, "25": 150, "50": 140, "75": 220, "95": 250}}, "quantiles.50"),
        ({"quantiles": {"5": 110, "25": "x", "50": 190, "75": 220, "95": 250}}, "quantiles.25"),
        ({"quantiles": {"5": 90, "25": 150, "50": 190, "75": 220, "95": 250}}, "quantiles.5"),  # closed lower
        ({"quantiles": {"5": 110, "25": 150, "50": 190, "75": 220, "95": 310}}, "quantiles.95"),  # closed upper
    ],
)
def test_component_and_quantile_refusals_name_the_field(forecaster, payload, field):
    q = numeric()
    with pytest.raises(DomainError) as e:
        forecast_submit(user=forecaster, question=q, payload=payload)
    assert e.value.field == field, e.value.message
    assert not Forecast.objects.exists()


def test_date_inputs_must_be_instants(forecaster):
    q = date_q()
    with pytest.raises(DomainError) as e:
        forecast_submit(user=forecaster, question=q, payload={"components": [{"centre": 1751328000, "scale": 3}]})
    assert e.value.field == "components[0].centre"
    with pytest.raises(DomainError) as e:
        forecast_submit(
            user=forecaster,
            question=q,
            payload={"quantiles": {"5": "2025-02-01T00:00:00Z", "25": "April", "50": "2025-06-01", "75": "2025-08-01",
                                   "95": "2025-11-01"}},
        )  # fmt: skip
    assert e.value.field == "quantiles.25"


def test_binary_payload_keys_are_not_a_numeric_forecast_and_vice_versa(forecaster, binary_q):
    with pytest.raises(DomainError) as e:
        forecast_submit(user=forecaster, question=binary_q, payload={"cdf": uniform()})
    assert e.value.field == "probability"


@pytest.mark.parametrize(
    "question, payload, field",
    [
        ("binary", {"probability": 0.6, "cdf": uniform()}, "cdf"),
        ("binary", {"probability": 0.6, "probabilities": {"yes": 0.6, "no": 0.4}}, "probabilities"),
        ("numeric", {"cdf": uniform(), "quantiles": {}}, "quantiles"),
        ("numeric", {"probability": 0.6, "components": []}, "components"),
    ],
)
def test_two_shapes_at_once_are_refused_whatever_the_type(forecaster, binary_q, question, payload, field):
    q = binary_q if question == "binary" else numeric()
    with pytest.raises(DomainError) as e:
        forecast_submit(user=forecaster, question=q, payload=payload)
    assert e.value.field == field and "only one of" in e.value.message
    assert not Forecast.objects.filter(question=q).exists()


def test_closed_and_resolved_questions_refuse_forecasts(forecaster, staff):
    q = numeric()
    question_resolve(question=q, outcome=150, by=staff)
    with pytest.raises(Conflict) as e:
        forecast_submit(user=forecaster, question=q, payload={"cdf": uniform()})
    assert e.value.code == "resolved"


# --- The database refuses a half-written row --------------------------------------------------------


def test_forecast_constraint_refuses_half_written_rows(forecaster):
    q = numeric()
    now = datetime.now(UTC)
    bad = [
        {"kind": "forecast"},  # neither a vector nor a CDF
        {"kind": "forecast", "cdf": uniform(), "probabilities": [0.5, 0.5], "p_min": 0.5, "p_max": 0.5, "p_sum": 1},
        {"kind": "forecast", "cdf": uniform(), "p_min": 0.5},
        {"kind": "withdrawal", "cdf": uniform()},
        {"kind": "forecast", "probabilities": [0.5, 0.5]},  # a vector without its bounds and sum
    ]
    for fields in bad:
        with pytest.raises(IntegrityError), transaction.atomic():
            Forecast.objects.create(question=q, user=forecaster, created_at=now, **fields)
    Forecast.objects.create(question=q, user=forecaster, created_at=now, kind="forecast", cdf=uniform())


# --- Withdrawal, the fast path, imports -------------------------------------------------------------


def test_withdraw_a_numeric_forecast(forecaster):
    q = numeric()
    forecast_submit(user=forecaster, question=q, payload={"cdf": uniform()})
    w = forecast_withdraw(user=forecaster, question=q)
    assert w.kind == "withdrawal" and w.cdf is None
    with pytest.raises(Conflict):
        forecast_withdraw(user=forecaster, question=q)


def test_fast_path_stores_the_cdf(forecaster, django_assert_max_num_queries):
    q = numeric(open_upper=True)
    payload = {"quantiles": {"5": 120, "25": 160, "50": 190, "75": 220, "95": 320}}
    with django_assert_max_num_queries(8):
        forecast, locked, labels = forecast_submit_checked(
            user=forecaster, question_id=q.pk, check=lambda question: (payload, "why")
        )
    assert labels == [] and locked.is_continuous and locked.unit == "kt"
    forecast.refresh_from_db()
    validate_cdf(forecast.cdf, open_lower=False, open_upper=True)
    assert forecast.rationale == "why"
    with pytest.raises(DomainError) as e:
        forecast_submit_checked(user=forecaster, question_id=q.pk, check=lambda question: ({"cdf": [0.5]}, ""))
    assert e.value.field == "cdf"


def test_forecasts_import_stores_cdfs_and_names_the_row(make_user):
    q = numeric()
    a, b = make_user(), make_user()
    rows = [
        ForecastRow(user=a, at=T0 + timedelta(days=1), payload={"cdf": uniform()}),
        ForecastRow(user=b, at=T0 + timedelta(days=2), payload={"components": [{"centre": 200, "scale": 9}]}),
        ForecastRow(user=a, at=T0 + timedelta(days=3), withdraw=True),
    ]
    created = forecasts_import(question=q, rows=rows)
    assert [f.kind for f in created] == ["forecast", "forecast", "withdrawal"]
    assert created[0].cdf == uniform() and len(created[1].cdf) == GRID and created[2].cdf is None
    bad = [ForecastRow(user=b, at=T0 + timedelta(days=4), payload={"cdf": uniform()[:-1]})]
    with pytest.raises(DomainError) as e:
        forecasts_import(question=q, rows=bad)
    assert e.value.field == "rows[0].cdf"
    assert Forecast.objects.filter(question=q).count() == 3


# --- The crowd ---------------------------------------------------------------------------------------


def _points(q) -> list[tuple]:
    return [
        (p.method, p.time, p.probabilities, p.n_forecasters, p.is_latest)
        for p in CrowdPoint.objects.filter(question=q).order_by("method", "time")
    ]


def _random_payload(rng: random.Random) -> dict:
    shape = rng.choice(["cdf", "components", "quantiles"])
    if shape == "cdf":
        k = rng.uniform(0.5, 3)
        return {"cdf": [0.99 * (i / 200) ** k + 0.01 * i / 200 for i in range(GRID)]}
    if shape == "components":
        return {"components": [{"centre": rng.uniform(110, 290), "scale": rng.uniform(3, 60)}]}
    m = rng.uniform(150, 250)
    return {"quantiles": {"5": m - 45, "25": m - 20, "50": m, "75": m + 20, "95": m + 45}}


def test_crowd_history_holds_the_crowd_cdf(make_user):
    q = numeric()
    users = [make_user() for _ in range(3)]
    cdfs = []
    for i, u in enumerate(users):
        f = forecast_submit(user=u, question=q, payload=_random_payload(random.Random(i)), at=T0 + timedelta(days=i))
        cdfs.append(f.cdf)
    question_crowd_write(question_id=q.pk, full=True)
    latest = {p.method: p for p in CrowdPoint.objects.filter(question=q, is_latest=True)}
    assert sorted(latest) == sorted(CONTINUOUS_AGGREGATES)
    for method, point in latest.items():
        assert point.n_forecasters == 3
        validate_cdf(point.probabilities, open_lower=False, open_upper=False)
        expected = aggregate_cdfs(np.array(cdfs), method) if method != "recency_weighted_median" else None
        if expected is not None:
            assert point.probabilities == pytest.approx(expected.tolist(), abs=1e-12)
    median = latest["median"].probabilities
    assert median == pytest.approx(np.median(np.array(cdfs), axis=0).tolist(), abs=1e-9)
    fs = forecast_set_for_question(question=q, n_options=GRID)
    assert fs.probs.shape == (3, GRID) and not np.isnan(fs.probs).any()


@pytest.mark.parametrize("seed", range(3))
def test_incremental_crowd_equals_the_full_recompute(make_user, seed):
    rng = random.Random(seed)
    q = numeric()
    users = [make_user() for _ in range(rng.randint(2, 5))]
    standing: set[int] = set()
    at = T0 + timedelta(hours=1)
    for step in range(20):
        if rng.random() > 0.25:
            at += timedelta(seconds=rng.choice([1, 3600, 86400]))
        u = rng.choice(users)
        if u.pk in standing and rng.random() < 0.2:
            forecast_withdraw(user=u, question=q, at=at)
            standing.discard(u.pk)
        else:
            forecast_submit(user=u, question=q, payload=_random_payload(rng), at=at)
            standing.add(u.pk)
        if rng.random() < 0.7 or step == 19:
            question_crowd_write(question_id=q.pk)
    incremental = _points(q)
    assert question_crowd_write(question_id=q.pk) == 0
    question_crowd_write(question_id=q.pk, full=True)
    full = _points(q)
    assert len(incremental) == len(full)
    for x, y in zip(incremental, full, strict=True):
        assert x[0] == y[0] and x[1] == y[1] and x[3:] == y[3:], (x, y)
        if x[2] is None or y[2] is None:
            assert x[2] is None and y[2] is None
        else:
            assert max(abs(a - b) for a, b in zip(x[2], y[2], strict=True)) < 1e-12
    assert {p.method for p in CrowdPoint.objects.filter(question=q)} == set(CONTINUOUS_AGGREGATES)


def test_crowd_task_after_submission_on_a_date_question(make_user, django_capture_on_commit_callbacks, settings):
    settings.CROWD_MIN_FORECASTERS = 2
    q = date_q()
    for i in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            forecast_submit(
                user=make_user(),
                question=q,
                payload={"components": [{"centre": f"2025-0{i + 5}-01T00:00:00Z", "scale": 20}]},
            )
    point = CrowdPoint.objects.get(question=q, method="median", is_latest=True)
    assert point.n_forecasters == 2 and len(point.probabilities) == GRID
    median = _value(q, quantile(point.probabilities, 0.5))
    assert datetime(2025, 5, 1, tzinfo=UTC).timestamp() < median < datetime(2025, 6, 1, tzinfo=UTC).timestamp()
