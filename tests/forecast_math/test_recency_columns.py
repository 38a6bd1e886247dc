"""The recency-weighted median of many columns (the 201 points of a CDF) computed for every
column at once (``recency._ManyColumns`` in the window method; the Taylor blocks' exact weight
matrix) against the column-by-column loop it replaces, the dense engine and the definition."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast_math import ForecastSet, QuestionSpec, crowd_history
from forecast_math.aggregates import recency_weights, row_weighted_median
from forecast_math.continuous import GRID, ContinuousOutcome, cdf_from_mixture

from .test_sweep import DAY, FAST, TAYLOR, TINY, using

T0 = 19700 * DAY
#: the column-by-column loop of the window method (the previous implementation)
COLUMN_LOOP = dict(MANY_COLUMNS=10**9)


def cdf_crowd(n_users, each, seed, *, pool_size, tie_times, wd_rate, bounds):
    """A numeric question: CDFs drawn from a pool (a small pool: many equal values per point),
    times on a coarse grid or continuous, withdrawals, forecasts before the open."""
    rng = np.random.default_rng(seed)
    length = 30 * DAY
    user = np.repeat(np.arange(n_users) * 7 - 3, each)
    n = user.shape[0]
    steps = rng.integers(-1, 12, n) / 10 if tie_times else rng.uniform(-0.1, 1.05, n)
    pool = [
        cdf_from_mixture([{"centre": c, "scale": s, "weight": 1.0}], open_lower=bounds[0], open_upper=bounds[1])
        for c, s in zip(rng.uniform(0, 1, pool_size), rng.uniform(0.005, 0.5, pool_size), strict=True)
    ]
    cdfs = np.stack([pool[i] for i in rng.integers(0, pool_size, n)])
    wd = rng.random(n) < wd_rate
    spec = QuestionSpec(GRID, False, T0, T0 + length, None, 0, "continuous", continuous=ContinuousOutcome(0.3, *bounds))
    return spec, ForecastSet(user, T0 + steps * length, cdfs, wd)


def history(spec, fs, path="sweep", **knobs):
    with using(path, **knobs):
        return crowd_history(spec, fs, "recency_weighted_median")


@st.composite
def cdf_questions(draw):
    return cdf_crowd(
        draw(st.integers(1, 120)),
        draw(st.integers(1, 4)),
        draw(st.integers(0, 2**32 - 1)),
        pool_size=draw(st.sampled_from([1, 2, 3, 12, 400])),
        tie_times=draw(st.booleans()),
        wd_rate=draw(st.sampled_from([0.0, 0.1, 0.4])),
        bounds=(draw(st.booleans()), draw(st.booleans())),
    )


@settings(FAST, max_examples=15)
@given(cdf_questions(), st.sampled_from([{}, TINY, TAYLOR]))
def test_all_columns_at_once_equals_the_column_loop_and_dense(q, knobs):
    spec, fs = q
    t_new, new = history(spec, fs, **knobs)
    t_old, old = history(spec, fs, **knobs, **COLUMN_LOOP)
    assert np.array_equal(t_new, t_old)
    assert np.array_equal(new, old, equal_nan=True)
    t_d, dense = history(spec, fs, path="dense")
    assert np.array_equal(t_d, t_new)
    assert np.array_equal(np.isnan(dense), np.isnan(new))
    assert np.nanmax(np.abs(dense - new), initial=0.0) <= 1e-12


def snapshot_definition(fs, t):
    """The crowd at time t by the definition: every user's last forecast made at or before t
    (none if withdrawn), weighted by recency (time made, then user), per point."""
    latest = {}
    for i in np.lexsort((fs.user, fs.time)):
        if fs.time[i] <= t:
            latest[int(fs.user[i])] = i
    keep = sorted((fs.time[i], u, i) for u, i in latest.items() if not fs.withdrawn[i])
    if not keep:
        return np.full(GRID, np.nan)
    rows = np.array([i for _, _, i in keep])
    m = rows.shape[0]
    w = recency_weights(np.arange(m, dtype=np.float64)[None, :], np.ones((1, m), dtype=bool))[0]
    x = fs.probs[rows].T
    return row_weighted_median(x, np.broadcast_to(w, x.shape))


@pytest.mark.parametrize("knobs", [{}, TINY, TAYLOR, dict(TAYLOR, SUM_BLOCK=2, CHUNK_ROWS=1)])
def test_many_users_rows_are_the_definition(knobs):
    """A few hundred users with continuous times (distinct times made): every history row is the
    weighted median of the standing CDFs at that time, point by point (before make_valid,
    which only repairs rounding here)."""
    spec, fs = cdf_crowd(300, 3, seed=11, pool_size=400, tie_times=False, wd_rate=0.1, bounds=(True, False))
    times, rows = history(spec, fs, **knobs)
    for r in range(0, times.shape[0], 37):
        ref = snapshot_definition(fs, times[r])
        assert np.nanmax(np.abs(rows[r] - ref), initial=0.0) <= 1e-12


def test_large_window_and_taylor_paths_equal_the_column_loop():
    """Thousands of forecasts, the default constants lowered so that Taylor blocks and tail
    windows (not the exact regime) do the work: identical to the column-by-column loop."""
    spec, fs = cdf_crowd(1500, 3, seed=5, pool_size=400, tie_times=False, wd_rate=0.05, bounds=(False, True))
    knobs = dict(TAYLOR_MIN_N=400, WINDOW_C=4.0, TAYLOR_C=6.0)
    t_new, new = history(spec, fs, **knobs)
    t_old, old = history(spec, fs, **knobs, **COLUMN_LOOP)
    assert np.array_equal(t_new, t_old)
    assert np.array_equal(new, old, equal_nan=True)
