"""The O(E log E) sweep engine (forecast_math.sweep, forecast_math.recency) against the dense
engine and the plain-loop reference.

``score_question`` picks the dense state matrix for small questions and the sweep for large
ones; these tests force each path (``engine.DENSE_MAX_CELLS``) and shrink the recency-weighted
median's windows and blocks (``recency.*``) so that its certified window, its fallbacks and its
Taylor blocks all run on questions of a few hundred forecasters.
"""

import contextlib
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecast_math import AGGREGATES, ForecastSet, QuestionSpec, crowd_history, engine, recency, score_question
from forecast_math.sweep import Changes, accurate_cumsum, active_counts, kth_smallest, running_sums, segment_medians

from .reference import FIELDS, max_difference, reference_scores
from .test_properties import questions

DAY = 86400.0
FAST = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

#: recency-median settings that send almost every segment through every code path: tiny windows
#: (so the tail matters and certification fails, forcing the growing-window fallbacks), Taylor
#: blocks from 6 standing forecasts on, tiny blocks of every kind
TINY = dict(
    WINDOW_C=0.2,
    WINDOW_MIN=2,
    TAYLOR_MIN_N=6,
    TAYLOR_C=0.5,
    BLOCK_ROWS=7,
    VALUE_BLOCK=5,
    SUPER_ROWS=5,
    CHUNK_ROWS=3,
    SUM_BLOCK=4,
)
#: Taylor blocks that mostly certify on a few hundred forecasters
TAYLOR = dict(WINDOW_C=2.0, WINDOW_MIN=8, TAYLOR_MIN_N=30, TAYLOR_C=4.0, BLOCK_ROWS=16, VALUE_BLOCK=8, SUM_BLOCK=8)
#: Taylor blocks on (almost) every standing forecast, with tiny blocks of rows and of values
TAYLOR_TINY_BLOCKS = dict(TAYLOR_MIN_N=3, TAYLOR_C=50.0, BLOCK_ROWS=5, VALUE_BLOCK=3)
#: the window method holding every standing forecast: the definition itself
EXACT = dict(WINDOW_C=1e9, TAYLOR_MIN_N=10**12)


@contextlib.contextmanager
def using(path: str = "sweep", **knobs):
    """Force the dense or the sweep path, and set recency-median constants, for a block."""
    saved = {name: getattr(recency, name) for name in knobs}
    old = engine.DENSE_MAX_CELLS
    engine.DENSE_MAX_CELLS = -1 if path == "sweep" else 10**18
    try:
        for name, value in knobs.items():
            setattr(recency, name, value)
        yield
    finally:
        engine.DENSE_MAX_CELLS = old
        for name, value in saved.items():
            setattr(recency, name, value)


def score(spec, fs, path="sweep", **knobs):
    with using(path, **knobs):
        return score_question(spec, fs, crowd_methods=AGGREGATES)


def history(spec_or_k, fs, method, path="sweep", **knobs):
    with using(path, **knobs):
        return crowd_history(spec_or_k, fs, method)


def _diff(x, y) -> float:
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or not np.array_equal(np.isnan(x), np.isnan(y)):
        return math.inf
    ok = ~np.isnan(x)
    return float(np.max(np.abs(x[ok] - y[ok]), initial=0.0))


def scores_difference(a, b) -> float:
    """Largest absolute difference between two QuestionScores (inf on a NaN mismatch)."""
    if not np.array_equal(a.users.user, b.users.user):
        return math.inf
    worst = 0.0
    for f in FIELDS + ("final_probs",):
        worst = max(worst, _diff(getattr(a.users, f), getattr(b.users, f)))
    assert set(a.crowd) == set(b.crowd)
    for m in a.crowd:
        for f in FIELDS + ("final_probs",):
            worst = max(worst, _diff(getattr(a.crowd[m], f), getattr(b.crowd[m], f)))
    worst = max(worst, abs(a.window_length - b.window_length), abs(a.scheduled_length - b.scheduled_length))
    return worst


# --------------------------------------------------------------------------
# questions with many forecasters
# --------------------------------------------------------------------------
GRID = np.array([0.001, 0.05, 0.2, 0.3, 0.5, 0.62, 0.7, 0.8, 0.999])


@st.composite
def crowds(draw, max_users=200, max_each=4):
    """One question with up to ``max_users`` forecasters: ties in time (a coarse time grid) and in
    value (values from a small set), withdrawals, forecasts before the open and after the close,
    early closes, daily mode, multiple choice and ordered questions, explicit tie-breaking seq.
    Structure is drawn by Hypothesis, the bulk by a seeded generator."""
    k = draw(st.sampled_from([2, 2, 2, 3, 4, 5]))
    ordered = k > 2 and draw(st.booleans())
    mode = draw(st.sampled_from(["continuous", "continuous", "daily"]))
    t0 = 19700 * DAY + draw(st.integers(0, 86399))
    length = draw(st.sampled_from([600.0, 3 * 3600.0, DAY, 2.5 * DAY, 7 * DAY, 30 * DAY]))
    known_at = None if draw(st.booleans()) else t0 + draw(st.floats(0.05, 1.2)) * length
    outcome = draw(st.integers(0, k - 1))
    n_users = draw(st.integers(1, max_users))
    each = draw(st.integers(1, max_each))
    grid = draw(st.sampled_from([0, 0, 3, 8, 40]))  # 0: continuous times, else ties on a grid
    values = draw(st.sampled_from(["grid", "uniform", "few"]))
    wd_rate = draw(st.sampled_from([0.0, 0.05, 0.3]))
    use_seq = draw(st.booleans())
    free_binary = k == 2 and draw(st.integers(0, 7)) == 0  # second column not exactly 1 - first
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))

    counts = rng.integers(1, each + 1, n_users)
    ids = rng.choice(10**6, n_users, replace=False) - 1000
    user = np.repeat(ids, counts)
    n = user.shape[0]
    steps = rng.integers(-1, grid + 2, n) * (length / grid) if grid else rng.uniform(-0.2, 1.05, n) * length
    time = t0 + steps
    wd = rng.random(n) < wd_rate
    if k == 2:
        if values == "grid":
            p = rng.choice(GRID, n)
        elif values == "few":
            p = rng.choice([0.2, 0.5, 0.8], n)
        else:
            p = rng.uniform(0.001, 0.999, n)
        q = rng.uniform(0.001, 0.999, n) if free_binary else 1.0 - p
        probs = np.stack([p, q], axis=1)
    else:
        if values == "uniform":
            probs = 0.001 + (1 - 0.001 * k) * rng.dirichlet(np.ones(k), size=n)
        else:
            w = rng.integers(1, 4 if values == "few" else 30, (n, k)).astype(np.float64)
            probs = w / w.sum(axis=1, keepdims=True)
    probs[wd & (rng.random(n) < 0.5)] = np.nan  # rows of withdrawals may hold anything
    seq = rng.permutation(n).astype(np.int64) if use_seq else None
    spec = QuestionSpec(k, ordered, t0, t0 + length, known_at, outcome, mode)
    return spec, ForecastSet(user.astype(np.int64), time, probs, wd, seq)


# --------------------------------------------------------------------------
# the sweep against the reference and the dense engine
# --------------------------------------------------------------------------
@settings(FAST, max_examples=120)
@given(questions())
def test_sweep_matches_reference_on_the_property_questions(q):
    spec, fs = q
    assert max_difference(score(spec, fs), reference_scores(spec, fs)) <= 1e-9


@settings(FAST, max_examples=60)
@given(questions(), st.sampled_from(["TINY", "TAYLOR", "TAYLOR_TINY_BLOCKS"]))
def test_sweep_with_tiny_windows_matches_reference(q, knobs):
    spec, fs = q
    assert max_difference(score(spec, fs, **globals()[knobs]), reference_scores(spec, fs)) <= 1e-9


@settings(FAST, max_examples=8)
@given(crowds(max_users=60, max_each=3))
def test_many_forecasters_match_reference(q):
    spec, fs = q
    ref = reference_scores(spec, fs)
    assert max_difference(score(spec, fs), ref) <= 1e-9
    assert max_difference(score(spec, fs, **TINY), ref) <= 1e-9


@settings(FAST, max_examples=30)
@given(crowds())
def test_many_forecasters_sweep_matches_dense(q):
    spec, fs = q
    dense = score(spec, fs, path="dense")
    assert scores_difference(score(spec, fs), dense) <= 1e-9


@settings(FAST, max_examples=40)
@given(crowds(), st.sampled_from(["TINY", "TAYLOR", "TAYLOR_TINY_BLOCKS"]))
def test_recency_median_paths_match_dense(q, knobs):
    """Certified windows, their fallbacks and the Taylor blocks give the dense results."""
    spec, fs = q
    dense = score(spec, fs, path="dense")
    assert scores_difference(score(spec, fs, **globals()[knobs]), dense) <= 1e-9


@settings(FAST, max_examples=30)
@given(crowds(max_users=120), st.sampled_from(AGGREGATES), st.booleans(), st.sampled_from(["default", "TINY"]))
def test_crowd_history_sweep_matches_dense(q, method, with_spec, knobs):
    spec, fs = q
    target = spec if with_spec else spec.n_options
    t_dense, p_dense = history(target, fs, method, path="dense")
    t_sweep, p_sweep = history(target, fs, method, **({} if knobs == "default" else TINY))
    assert np.array_equal(t_dense, t_sweep)
    assert _diff(p_dense, p_sweep) <= 1e-12


@settings(FAST, max_examples=40)
@given(questions())
def test_sweep_input_order_does_not_matter(q):
    spec, fs = q
    perm = np.random.default_rng(len(fs.user)).permutation(len(fs.user))
    shuffled = ForecastSet(fs.user[perm], fs.time[perm], fs.probs[perm], fs.withdrawn[perm])
    assert scores_difference(score(spec, fs), score(spec, shuffled)) <= 1e-12


def large_question(n_users, k, seed, mode="continuous", each=5):
    rng = np.random.default_rng(seed)
    t0 = 1_600_000_000.0
    ts = t0 + 60 * DAY
    user = np.repeat(np.arange(n_users), each)
    n = user.shape[0]
    time = rng.uniform(t0 - DAY, ts, n)
    wd = rng.random(n) < 0.03
    if k == 2:
        p = rng.uniform(0.001, 0.999, n)
        probs = np.stack([p, 1 - p], axis=1)
    else:
        probs = 0.001 + (1 - 0.001 * k) * rng.dirichlet(np.ones(k), size=n)
    spec = QuestionSpec(k, k > 3, t0, ts, ts - 5 * DAY, int(rng.integers(0, k)), mode)
    return spec, ForecastSet(user, time, probs, wd)


@pytest.mark.parametrize(
    "n_users,k,mode",
    [(5000, 2, "continuous"), (2500, 4, "continuous"), (5000, 2, "daily")],
)
def test_large_question_windows_and_taylor_blocks_are_exact(n_users, k, mode):
    """Thousands of forecasters, production windows (the tail regime) and Taylor blocks forced
    on, against the window holding every standing forecast (the definition itself)."""
    spec, fs = large_question(n_users, k, seed=n_users + k, mode=mode)
    exact = score(spec, fs, **EXACT)
    assert scores_difference(score(spec, fs), exact) <= 1e-9
    assert scores_difference(score(spec, fs, TAYLOR_MIN_N=1000), exact) <= 1e-9
    t_exact, p_exact = history(spec, fs, "recency_weighted_median", **EXACT)
    t_fast, p_fast = history(spec, fs, "recency_weighted_median", TAYLOR_MIN_N=1000)
    assert np.array_equal(t_exact, t_fast) and _diff(p_exact, p_fast) == 0.0


def test_large_question_matches_dense():
    """The production sweep (windows in the tail regime) against the dense engine."""
    spec, fs = large_question(900, 2, seed=3, each=2)
    assert scores_difference(score(spec, fs), score(spec, fs, path="dense")) <= 1e-9


def test_crowd_of_one_after_many_is_exact():
    """Running sums stay exact after thousands of additions and removals: when one forecaster is
    left, the mean and extremized crowds are their forecast to the last digit."""
    spec = QuestionSpec(2, False, 0.0, 10_000.0, None, 0)
    n = 4000
    user = np.concatenate([np.arange(n), np.arange(n), [n]])
    time = np.concatenate([np.arange(n) + 0.5, np.arange(n) + 4000.5, [1.0]])
    rng = np.random.default_rng(5)
    p = np.concatenate([rng.uniform(0.001, 0.999, n), np.zeros(n), [0.3]])
    wd = np.concatenate([np.zeros(n, bool), np.ones(n, bool), [False]])
    fs = ForecastSet(user, time, np.stack([p, 1 - p], axis=1), wd)
    times, mean = history(spec, fs, "mean")
    assert mean[-1].tolist() == [0.3, 0.7]
    _, ext = history(spec, fs, "extremized_log_odds")
    expected = 1.0 / (1.0 + math.exp(-math.sqrt(3) * math.log(0.3 / 0.7)))
    assert abs(ext[-1][0] - expected) <= 1e-15
    assert score(spec, fs).crowd["mean"].brier_final == 2 * 0.7**2


def test_daily_mode_with_everyone_on_the_first_day():
    """All forecasts on one day (the standing set jumps from 0 to thousands in one segment),
    then revisions: exact and tail-regime rows share blocks."""
    rng = np.random.default_rng(11)
    t0 = 19700 * DAY
    n = 3000
    user = np.concatenate([np.arange(n), rng.integers(0, n, n)])
    time = np.concatenate([t0 + rng.uniform(0, DAY, n), t0 + rng.uniform(DAY, 20 * DAY, n)])
    p = rng.choice(GRID, 2 * n)
    spec = QuestionSpec(2, False, t0, t0 + 20 * DAY, None, 1, "daily")
    fs = ForecastSet(user, time, np.stack([p, 1 - p], axis=1), np.zeros(2 * n, bool))
    exact = score(spec, fs, **EXACT)
    for knobs in ({}, TINY, TAYLOR):
        assert scores_difference(score(spec, fs, **knobs), exact) <= 1e-9


# --------------------------------------------------------------------------
# the primitives
# --------------------------------------------------------------------------
@settings(FAST, max_examples=100)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False) | st.sampled_from([1e-17, -3.5, 7e5]), max_size=300))
def test_accurate_cumsum(xs):
    got = accurate_cumsum(np.array(xs, dtype=np.float64))
    for i in range(len(xs)):
        exact = math.fsum(xs[: i + 1])
        assert abs(got[i] - exact) <= 2.5e-16 * abs(exact) + 1e-22


@st.composite
def intervals(draw):
    n_seg = draw(st.integers(1, 40))
    m = draw(st.integers(0, 60))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    a = rng.integers(0, n_seg, m)
    b = np.minimum(n_seg, a + rng.integers(1, n_seg + 1, m))
    values = rng.choice([0.1, 0.2, 0.5], m) if draw(st.booleans()) else rng.random(m)
    return n_seg, a, b, values


@settings(FAST, max_examples=150)
@given(intervals())
def test_order_statistics_and_running_sums_match_brute_force(data):
    n_seg, a, b, values = data
    ch = Changes(a, b, n_seg)
    n = active_counts(a, b, n_seg)
    seg, lo, hi = segment_medians(ch, values, n)
    sums = running_sums(ch, values)
    ranks = np.argsort(np.argsort(values, kind="stable"), kind="stable")
    q_seg = np.repeat(np.arange(n_seg), n)
    q_k = np.concatenate([np.arange(c) for c in n]) if len(n) else np.zeros(0, np.int64)
    kth = kth_smallest(ch, ranks, q_seg, q_k)
    j = 0
    for q in range(n_seg):
        act = (a <= q) & (b > q)
        v = np.sort(values[act])
        assert n[q] == act.sum()
        assert abs(sums[q] - values[act].sum()) <= 1e-12
        for c in range(n[q]):
            assert values[ranks == kth[j]][0] == v[c]
            j += 1
        if n[q]:
            i = int(np.searchsorted(seg, q))
            assert 0.5 * (values[lo[i]] + values[hi[i]]) == np.median(v)
    assert set(seg.tolist()) == set(np.flatnonzero(n).tolist())
