"""The incremental crowd update (one new forecast: O(standing forecasts)) against the full
recompute of the history, on random sequences of forecasts, withdrawals and ties."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest

from forecast_math import AGGREGATES as CROWD_METHODS
from forecasts.crowd import question_crowd_write
from forecasts.models import CrowdPoint
from forecasts.services import forecast_submit, forecast_withdraw
from questions.services import question_create

T0 = datetime(2024, 1, 1, tzinfo=UTC)
pytestmark = pytest.mark.django_db


def _points(q) -> list[tuple]:
    return [
        (p.method, p.time, p.probabilities, p.n_forecasters, p.is_latest)
        for p in CrowdPoint.objects.filter(question=q).order_by("method", "time")
    ]


def _assert_same(a: list[tuple], b: list[tuple]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert x[0] == y[0] and x[1] == y[1] and x[3:] == y[3:], (x, y)
        if x[2] is None or y[2] is None:
            assert x[2] is None and y[2] is None, (x, y)
        else:
            assert all(math.isclose(u, v, rel_tol=0, abs_tol=1e-12) for u, v in zip(x[2], y[2], strict=True)), (x, y)


def _question(kind: str):
    if kind == "binary":
        return question_create(type="binary", title="Will it?", open_time=T0, close_time=T0 + timedelta(days=100))
    return question_create(
        type="multiple_choice",
        options=["A", "B", "C"],
        title="Which?",
        open_time=T0,
        close_time=T0 + timedelta(days=100),
    )


def _payload(rng: random.Random, kind: str) -> dict:
    if kind == "binary":
        return {"probability": rng.choice([0.1, 0.3, 0.5, 0.7, round(rng.uniform(0.01, 0.99), 3)])}
    raw = [rng.randint(1, 20) for _ in range(3)]
    ps = [round(x / sum(raw), 3) for x in raw]
    ps[2] = round(1 - ps[0] - ps[1], 3)
    return {"probabilities": dict(zip("ABC", ps, strict=True))}


@pytest.mark.parametrize("seed", range(6))
def test_incremental_equals_full_recompute_on_random_sequences(make_user, seed):
    rng = random.Random(seed)
    kind = "binary" if seed % 2 == 0 else "mc"
    q = _question(kind)
    users = [make_user() for _ in range(rng.randint(2, 7))]
    standing: set[int] = set()
    at = T0 + timedelta(hours=1)
    written = []  # (points written, whether the batch starts at the instant of the last point)
    last_point_at, batch_start = None, None
    for step in range(40):
        # ties: sometimes two events at one instant (one user twice, or two users)
        if rng.random() > 0.25:
            at += timedelta(seconds=rng.choice([1, 60, 3600, 86400 // 3]))
        u = rng.choice(users)
        batch_start = batch_start or at
        if u.pk in standing and rng.random() < 0.2:
            forecast_withdraw(user=u, question=q, at=at)
            standing.discard(u.pk)
        else:
            forecast_submit(user=u, question=q, payload=_payload(rng, kind), at=at)
            standing.add(u.pk)
        if rng.random() < 0.7 or step == 39:  # sometimes several events arrive before the job runs
            written.append((question_crowd_write(question_id=q.pk), batch_start == last_point_at))
            last_point_at, batch_start = at, None
    incremental = _points(q)
    assert question_crowd_write(question_id=q.pk) == 0  # a duplicate delivery writes nothing
    assert _points(q) == incremental
    question_crowd_write(question_id=q.pk, full=True)
    _assert_same(incremental, _points(q))
    latest = CrowdPoint.objects.filter(question=q, is_latest=True)
    assert sorted(latest.values_list("method", flat=True)) == sorted(CROWD_METHODS)
    # after the first (full) write, every batch later than the last point only appended its points
    # (an event at the very instant of the last point rewrites the history, which is also correct)
    appended = [n for n, tie in written[1:] if not tie]
    assert appended and all(0 < n <= 8 * len(CROWD_METHODS) and n % len(CROWD_METHODS) == 0 for n in appended)


def test_back_dated_event_falls_back_to_the_full_recompute(make_user):
    q = _question("binary")
    a, b, c = make_user(), make_user(), make_user()
    for i, u in enumerate((a, b, c)):
        forecast_submit(user=u, question=q, payload={"probability": 0.2 + 0.2 * i}, at=T0 + timedelta(days=i + 1))
        question_crowd_write(question_id=q.pk)
    assert question_crowd_write(question_id=q.pk) == 0
    # a replayed forecast older than the history's last point
    forecast_submit(user=a, question=q, payload={"probability": 0.9}, at=T0 + timedelta(hours=36))
    n = question_crowd_write(question_id=q.pk)
    assert n == 4 * len(CROWD_METHODS)  # the whole history was rewritten
    rewritten = _points(q)
    question_crowd_write(question_id=q.pk, full=True)
    _assert_same(rewritten, _points(q))


def test_min_forecasters_rule_in_incremental_points(make_user, settings):
    settings.CROWD_MIN_FORECASTERS = 3
    q = _question("binary")
    users = [make_user() for _ in range(3)]
    for i, u in enumerate(users):
        forecast_submit(user=u, question=q, payload={"probability": 0.5}, at=T0 + timedelta(days=i + 1))
        question_crowd_write(question_id=q.pk)
        p = CrowdPoint.objects.get(question=q, method="median", is_latest=True)
        assert p.n_forecasters == i + 1
        assert (p.probabilities is None) == (i + 1 < 3)
    forecast_withdraw(user=users[0], question=q, at=T0 + timedelta(days=5))
    assert question_crowd_write(question_id=q.pk) == len(CROWD_METHODS)
    p = CrowdPoint.objects.get(question=q, method="median", is_latest=True)
    assert p.n_forecasters == 2 and p.probabilities is None
