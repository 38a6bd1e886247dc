"""Builders for scored questions: real forecasts (back-dated with `at=`), a real resolution, and
the real scoring job and leaderboard recompute, run in-process when the resolution commits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest


@pytest.fixture
def t0() -> datetime:
    return (datetime.now(UTC) - timedelta(days=20)).replace(microsecond=0)


@pytest.fixture
def series(db):
    from questions.services import series_create

    return series_create(slug="lb-series", title="Leaderboard series")


@pytest.fixture
def scored(make_question, django_capture_on_commit_callbacks, t0):
    """scored({user: p_yes or {label: p}}, outcome="yes", series=None, resolve_at=None, ...) -> question.

    Every forecast is made at the open time, so every user is active over the whole window; the
    question resolves (early) at `resolve_at`, default ten days after the open."""
    from forecasts.services import forecast_submit
    from questions.services import question_resolve

    counter = {"n": 0}

    def make(
        forecasts: dict, *, outcome: str = "yes", series=None, resolve_at=None, options=None, open_time=None, **kw
    ):
        counter["n"] += 1
        opened = open_time or t0
        fields = {
            "title": f"Question {counter['n']}",
            "open_time": opened,
            "close_time": opened + timedelta(days=60),
            "series": series,
        }
        if options:
            fields.update(type="multiple_choice", options=options)
        fields.update(kw)
        q = make_question(**fields)
        for user, p in forecasts.items():
            payload = {"probabilities": p} if isinstance(p, dict) else {"probability": p}
            forecast_submit(user=user, question=q, payload=payload, at=opened)
        with django_capture_on_commit_callbacks(execute=True):
            question_resolve(question=q, outcome=outcome, by=None, at=resolve_at or opened + timedelta(days=10))
        q.refresh_from_db()
        return q

    return make
