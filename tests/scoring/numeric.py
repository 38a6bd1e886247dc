"""Builders for scored numeric and date questions in the scoring tests: real questions, forecasts
submitted through forecast_submit (back-dated with `at=`), real resolutions, and the real scoring
job and leaderboard recompute, run in-process when the resolution commits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from forecast_math.continuous import GRID

T0 = datetime(2024, 3, 1, tzinfo=UTC)
CLOSE = T0 + timedelta(days=10)
AFTER = T0 + timedelta(days=40)  # a resolution after the close: the whole scheduled window counts


def uniform_cdf(*, below: float = 0.0, above: float = 0.0) -> list[float]:
    """The uniform forecast over the range, with `below` / `above` of the mass beyond the bounds."""
    inside = 1.0 - below - above
    cdf = [below + inside * i / (GRID - 1) for i in range(GRID)]
    cdf[-1] = 1.0 - above
    return cdf


def numeric_question(*, lower=0.0, upper=100.0, open_lower=False, open_upper=False, series=None, **kw):
    from questions.services import question_create

    fields = {
        "type": "numeric",
        "title": "How many?",
        "open_time": T0,
        "close_time": CLOSE,
        "range_lower": lower,
        "range_upper": upper,
        "open_lower": open_lower,
        "open_upper": open_upper,
        "series": series,
    }
    fields.update(kw)
    return question_create(**fields)


def forecast(user, question, cdf, *, at=T0) -> None:
    from forecasts.services import forecast_submit

    forecast_submit(user=user, question=question, payload={"cdf": list(cdf)}, at=at)


def resolve(question, outcome, capture, *, at=AFTER):
    """Resolve (or, with "annulled", annul) and run the scoring job and the recompute on commit."""
    from questions.services import question_resolve

    with capture(execute=True):
        question_resolve(question=question, outcome=outcome, by=None, at=at)
    question.refresh_from_db()
    return question


def uniform_scored(user, capture, *, value: float = 42.0):
    """A closed 0..100 numeric question on which `user` forecast the uniform, resolved as `value`."""
    q = numeric_question()
    forecast(user, q, uniform_cdf())
    return resolve(q, value, capture)
