"""scoring.md section 3, daily mode, log-score family: "the same days as the Brier family (a
forecast made during a day counts for the whole day; averages are over the scheduled days;
coverage is the share of scheduled days with a standing forecast)". Hand-computed values."""

from __future__ import annotations

import math

import pytest

from forecast_math import QuestionSpec, score_question

from .test_examples import DAY, check_reference, fset, row

JAN1 = 1704067200.0  # 2024-01-01T00:00Z


def _spec(mode: str) -> QuestionSpec:
    return QuestionSpec(2, False, JAN1, JAN1 + 4 * DAY, None, 0, mode=mode)  # Jan 1..4, "yes" happened


FORECASTS = [
    (1, JAN1 + DAY + 23 * 3600, 0.8),  # ana, Jan 2 at 23:00: in daily mode, all of Jan 2 (and on)
    (2, JAN1 + 10 * 3600, 0.5),  # ben, Jan 1 at 10:00: all of Jan 1 (and on)
]


def test_daily_log_scores_count_a_forecast_for_its_whole_day_over_the_scheduled_days():
    qs = score_question(_spec("daily"), fset(FORECASTS))
    ana, ben = row(qs.users, 1), row(qs.users, 2)
    per_day_baseline = 100 * math.log2(2 * 0.8)  # ana's instant baseline; ben's is 100*log2(1) = 0
    per_day_peer = 100 * (math.log(0.8) - math.log(0.5))  # on the three days both stand
    assert ana["coverage"] == 0.75 and ben["coverage"] == 1.0  # 3 of 4 days; 4 of 4 days
    assert ana["baseline"] == pytest.approx(3 * per_day_baseline / 4, abs=1e-9)
    assert ben["baseline"] == pytest.approx(0.0, abs=1e-9)
    assert ana["peer"] == pytest.approx(3 * per_day_peer / 4, abs=1e-9)
    assert ben["peer"] == pytest.approx(-3 * per_day_peer / 4, abs=1e-9)  # 0 on Jan 1: nobody else
    check_reference(_spec("daily"), fset(FORECASTS))


def test_the_same_forecasts_in_continuous_mode_count_from_their_instant():
    qs = score_question(_spec("continuous"), fset(FORECASTS))
    ana = row(qs.users, 1)
    active = (4 * DAY - (DAY + 23 * 3600)) / (4 * DAY)  # from Jan 2 23:00 to the end of Jan 4
    assert ana["coverage"] == pytest.approx(active)
    assert ana["baseline"] == pytest.approx(active * 100 * math.log2(1.6), abs=1e-9)
    check_reference(_spec("continuous"), fset(FORECASTS))
