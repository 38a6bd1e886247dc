"""Hypothesis property tests: the vectorised engine against the slow reference."""

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecast_math import AGGREGATES, ForecastSet, QuestionSpec, aggregate, crowd_history, score_question

from .reference import FIELDS, max_difference, ref_aggregate, reference_scores

DAY = 86400.0
SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
USERS = [-7, 0, 3, 11, 42, 10**12]
GRID = [0.001, 0.05, 0.2, 0.3, 0.5, 0.62, 0.7, 0.8, 0.999]


def draw_action(draw, t0, length, coarse):
    """One action: its user, time (on a coarse grid of the window, for ties, or anywhere, a few
    before the open) and whether it is a withdrawal."""
    user = draw(st.sampled_from(USERS))
    step = draw(st.integers(-2, 9)) / 8 if coarse else draw(st.floats(-0.3, 0.999))
    return user, t0 + step * length, draw(st.integers(0, 5)) == 0


@st.composite
def questions(draw, perfect=False):
    k = draw(st.sampled_from([2, 2, 3, 4, 5]))
    ordered = k > 2 and draw(st.booleans())
    mode = draw(st.sampled_from(["continuous", "daily"]))
    t0 = 19700 * DAY + draw(st.integers(0, 86399))
    length = draw(st.sampled_from([1.0, 600.0, 3 * 3600.0, DAY, 2.5 * DAY, 7 * DAY]))
    ts = t0 + length
    known_at = None
    if draw(st.booleans()):
        known_at = t0 + draw(st.floats(0.05, 1.2)) * length
    outcome = draw(st.integers(0, k - 1))
    n = draw(st.integers(0, 24))
    coarse = draw(st.booleans())  # a coarse time grid produces many ties
    rows_user, rows_time, rows_probs, rows_wd = [], [], [], []
    for _ in range(n):
        user, t, wd = draw_action(draw, t0, length, coarse)
        rows_user.append(user)
        rows_time.append(t)
        rows_wd.append(wd)
        if perfect:
            vec = [1.0 if j == outcome else 0.0 for j in range(k)]
        elif k == 2:
            p = draw(st.sampled_from(GRID) | st.floats(0.001, 0.999))
            vec = [p, 1.0 - p]
        else:
            w = [draw(st.integers(1, 30)) for _ in range(k)]
            vec = [x / sum(w) for x in w]
        rows_probs.append([math.nan] * k if wd and draw(st.booleans()) else vec)
    spec = QuestionSpec(k, ordered, t0, ts, known_at, outcome, mode)
    fs = ForecastSet(
        np.array(rows_user, dtype=np.int64),
        np.array(rows_time, dtype=float),
        np.array(rows_probs, dtype=float).reshape(n, k),
        np.array(rows_wd, dtype=bool),
    )
    return spec, fs


@SETTINGS
@given(questions())
def test_engine_matches_reference(q):
    spec, fs = q
    qs = score_question(spec, fs, crowd_methods=AGGREGATES)
    ref = reference_scores(spec, fs, AGGREGATES)
    assert max_difference(qs, ref) <= 1e-9


@SETTINGS
@given(questions(), st.randoms(use_true_random=False))
def test_input_order_does_not_matter(q, rnd):
    spec, fs = q
    n = len(fs.user)
    perm = list(range(n))
    rnd.shuffle(perm)
    perm = np.array(perm, dtype=np.int64)
    shuffled = ForecastSet(fs.user[perm], fs.time[perm], fs.probs[perm], fs.withdrawn[perm])
    a = score_question(spec, fs)
    b = score_question(spec, shuffled)
    for f in FIELDS + ("final_probs",):
        np.testing.assert_allclose(getattr(a.users, f), getattr(b.users, f), rtol=0, atol=1e-12)
    for m in AGGREGATES:
        for f in FIELDS:
            x, y = getattr(a.crowd[m], f), getattr(b.crowd[m], f)
            assert (math.isnan(x) and math.isnan(y)) or abs(x - y) <= 1e-12


@SETTINGS
@given(questions())
def test_ranges(q):
    spec, fs = q
    qs = score_question(spec, fs)
    t = qs.users
    for arr in (t.brier_final, t.brier_mean):
        v = arr[~np.isnan(arr)]
        assert ((v >= 0) & (v <= 2)).all()
    assert ((t.participation >= 0) & (t.participation <= 1 + 1e-12)).all()
    assert (t.coverage <= t.participation + 1e-12).all()
    assert (np.abs(t.relative_brier) <= 2 + 1e-12).all()
    never = t.participation == 0
    assert np.isnan(t.brier_mean[never]).all()
    assert (t.relative_brier[never] == 0).all() and (t.peer[never] == 0).all()
    for c in qs.crowd.values():
        for v in (c.brier_final, c.brier_mean):
            assert math.isnan(v) or 0 <= v <= 2
        assert c.participation >= t.participation.max(initial=0) - 1e-12  # union of active times


@SETTINGS
@given(questions(perfect=True))
def test_perfect_forecasts_score_zero(q):
    spec, fs = q
    qs = score_question(spec, fs, crowd_methods=("median", "recency_weighted_median", "mean"))
    t = qs.users
    assert np.all((t.brier_mean == 0) | np.isnan(t.brier_mean))
    assert np.all((t.brier_final == 0) | np.isnan(t.brier_final))
    assert np.all(t.relative_brier == 0)
    for c in qs.crowd.values():
        assert math.isnan(c.brier_mean) or abs(c.brier_mean) <= 1e-15


def standing_at(spec, fs, t):
    """The standing forecasts at t, from first principles: [(time made, user, vector)]."""
    stand = []
    for u in np.unique(fs.user):
        rows = [
            i
            for i in range(len(fs.user))
            if fs.user[i] == u and fs.time[i] < spec.actual_close and max(fs.time[i], spec.open_time) <= t
        ]
        if not rows:
            continue
        # latest action; ties at one instant: withdrawal last, then by vector
        rows.sort(
            key=lambda i: (
                fs.time[i],
                bool(fs.withdrawn[i]),
                tuple(0.0 if fs.withdrawn[i] else x for x in fs.probs[i]),
            )
        )
        last = rows[-1]
        if not fs.withdrawn[last]:
            stand.append((float(fs.time[last]), int(u), [float(x) for x in fs.probs[last]]))
    return stand


@SETTINGS
@given(questions(), st.sampled_from(AGGREGATES))
def test_crowd_history_matches_reference_aggregate(q, method):
    spec, fs = q
    times, probs = crowd_history(spec, fs, method)
    for t, p in zip(times, probs):
        stand = standing_at(spec, fs, t)
        if not stand:
            assert np.isnan(p).all()
        else:
            assert np.allclose(p, ref_aggregate(stand, method, math.sqrt(3)), rtol=0, atol=1e-12)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0.001, 0.999), min_size=1, max_size=12), st.sampled_from(AGGREGATES))
def test_aggregate_is_a_distribution(ps, method):
    p = np.array([[x, 1 - x] for x in ps])
    out = aggregate(p, np.arange(len(ps), dtype=float), method)
    assert abs(out.sum() - 1) <= 1e-12
    assert min(ps) - 1e-12 <= out[0] <= max(ps) + 1e-12 or method == "extremized_log_odds"


@settings(max_examples=80, deadline=None)
@given(questions())
def test_row_blocks_carry_state(q):
    """Force tiny row blocks so the forward fill has to carry state across blocks."""
    from forecast_math import engine

    spec, fs = q
    old = engine._MAX_BLOCK
    engine._MAX_BLOCK = 1
    try:
        qs = score_question(spec, fs)
        times, probs = crowd_history(spec, fs, "recency_weighted_median")
    finally:
        engine._MAX_BLOCK = old
    assert max_difference(qs, reference_scores(spec, fs)) <= 1e-9
    t2, p2 = crowd_history(spec, fs, "recency_weighted_median")
    assert np.array_equal(times, t2) and np.allclose(probs, p2, rtol=0, atol=0, equal_nan=True)


def test_realistic_questions_match_reference():
    """A few benchmark-sized questions (~600 forecasts, ~60 users each)."""
    from benchmarks.bench_engine import make_dataset

    for spec, fs in make_dataset(6, 3600, seed=7):
        assert max_difference(score_question(spec, fs), reference_scores(spec, fs)) <= 1e-9
