"""Calibration of numeric and date questions (issue 15): the PIT histogram of each (forecaster,
resolved question)'s final standing CDF at the outcome, in ten bins of width 0.1, per forecaster
and for the crowd, under the calibration bodies' new "pit" key; the binary keys are unchanged."""

from __future__ import annotations

from datetime import timedelta

import pytest

from forecast_math.continuous import cdf_from_mixture
from scoring.selectors import calibration_for_crowd, calibration_for_user
from tests.scoring.numeric import AFTER, T0, forecast, numeric_question, resolve, uniform_cdf

pytestmark = pytest.mark.django_db


def _counts(body) -> list[int]:
    return [b["count"] for b in body["pit"]["bins"]]


def test_pit_histogram_counts_where_each_outcome_fell(make_user, django_capture_on_commit_callbacks):
    ana = make_user("pit-ana")
    # a uniform forecast on a closed range puts the outcome at F(x) = x
    for value in (5.0, 15.0, 42.0, 47.0, 99.0, 100.0):
        q = numeric_question()
        forecast(ana, q, uniform_cdf())
        resolve(q, value, django_capture_on_commit_callbacks)
    # beyond an open bound: below -> cdf[0] / 2 = 0.05, above -> (1 + cdf[200]) / 2 = 0.95
    q = numeric_question(open_lower=True)
    forecast(ana, q, uniform_cdf(below=0.1))
    resolve(q, "below", django_capture_on_commit_callbacks)
    q = numeric_question(open_upper=True)
    forecast(ana, q, uniform_cdf(above=0.1))
    resolve(q, "above", django_capture_on_commit_callbacks)
    # a date question: the outcome 70% of the way through the range
    q = numeric_question(type="date", lower=T0 + timedelta(days=20), upper=T0 + timedelta(days=120))
    forecast(ana, q, uniform_cdf())
    resolve(q, (T0 + timedelta(days=90)).isoformat(), django_capture_on_commit_callbacks)

    body = calibration_for_user(user=ana)
    pit = body["pit"]
    assert pit["n"] == 9
    assert [b["lower"] for b in pit["bins"]] == pytest.approx([i / 10 for i in range(10)])
    assert [b["upper"] for b in pit["bins"]] == pytest.approx([(i + 1) / 10 for i in range(10)])
    # 0.05 (5), 0.05 (below) | 0.15 | 0.42, 0.47 | 0.7 (date) | 0.99, 1.0 (in the last bin), 0.95 (above)
    assert _counts(body) == [2, 1, 0, 0, 2, 0, 0, 1, 0, 3]
    # numeric questions are not binary events: the existing keys see none of them
    assert body["n_events"] == 0 and body["murphy"] is None
    assert [b["count"] for b in body["bins"]] == [0] * 10


def test_the_final_standing_forecast_counts_and_a_withdrawal_leaves_none(make_user, django_capture_on_commit_callbacks):
    from forecasts.services import forecast_withdraw

    ana, ben = make_user("pit-final-ana"), make_user("pit-final-ben")
    q = numeric_question()
    early = cdf_from_mixture([{"centre": 0.9, "scale": 0.02, "weight": 1.0}], open_lower=False, open_upper=False)
    forecast(ana, q, early)  # F(0.3) near 0 ...
    forecast(ana, q, uniform_cdf(), at=T0 + timedelta(days=3))  # ... but the final forecast has F(0.3) = 0.3
    forecast(ben, q, uniform_cdf())
    forecast_withdraw(user=ben, question=q, at=T0 + timedelta(days=4))
    resolve(q, 30.0, django_capture_on_commit_callbacks)
    assert _counts(calibration_for_user(user=ana)) == [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    assert calibration_for_user(user=ben)["pit"]["n"] == 0


def test_binary_and_numeric_questions_side_by_side(make_user, django_capture_on_commit_callbacks):
    from forecasts.services import forecast_submit
    from questions.services import question_create, question_resolve

    ana = make_user("pit-mix")
    qb = question_create(type="binary", title="Will it?", open_time=T0, close_time=T0 + timedelta(days=10))
    forecast_submit(user=ana, question=qb, payload={"probability": 0.75}, at=T0)
    with django_capture_on_commit_callbacks(execute=True):
        question_resolve(question=qb, outcome="yes", by=None, at=AFTER)
    q = numeric_question()
    forecast(ana, q, uniform_cdf())
    resolve(q, 65.0, django_capture_on_commit_callbacks)
    body = calibration_for_user(user=ana)
    assert body["n_events"] == 1 and [b["count"] for b in body["bins"]][7] == 1  # 0.75, as before
    assert body["murphy"]["brier"] == pytest.approx(0.0625)
    assert body["pit"]["n"] == 1 and _counts(body)[6] == 1  # 0.65


def test_the_crowd_pit(make_user, django_capture_on_commit_callbacks):
    ana, ben = make_user("pit-crowd-a"), make_user("pit-crowd-b")
    for value in (25.0, 85.0):
        q = numeric_question()
        forecast(ana, q, uniform_cdf())
        forecast(ben, q, uniform_cdf())
        resolve(q, value, django_capture_on_commit_callbacks)
    # both forecast the uniform: every crowd aggregate is the uniform too
    for method in ("median", "recency_weighted_median", "mean"):
        body = calibration_for_crowd(method=method)
        assert body["subject"]["method"] == method
        assert body["pit"]["n"] == 2 and _counts(body) == [0, 0, 1, 0, 0, 0, 0, 0, 1, 0]
    # the extremized crowd has no continuous rows
    assert calibration_for_crowd(method="extremized_log_odds")["pit"]["n"] == 0


def test_no_numeric_questions_gives_an_empty_histogram(make_user):
    body = calibration_for_user(user=make_user("pit-nobody"))
    assert body["pit"]["n"] == 0 and _counts(body) == [0] * 10
    assert len(body["pit"]["bins"]) == 10
