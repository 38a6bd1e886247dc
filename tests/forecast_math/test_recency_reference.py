"""The recency-weighted median (``forecast_math.recency``) and the order statistics
(``sweep.kth_smallest``) against the implementation they replaced (``recency_reference``, a copy
of the code before issue 11's speed-up), bit for bit.

The inputs are the engine's own: each question is scored on the sweep path and the arguments of
its recency-weighted median are kept, then both implementations evaluate them with the same
constants (the windows, blocks and Taylor settings of ``test_sweep`` that send rows through
every code path: exact windows, tail windows and their fallbacks, Taylor blocks and their
splits, one column or the 201 points of a CDF)."""

import contextlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast_math import AGGREGATES, engine, recency, score_question
from forecast_math.sweep import Changes, kth_smallest, stable_argsort

from . import recency_reference as reference
from .test_recency_columns import cdf_crowd, cdf_questions
from .test_sweep import EXACT, FAST, TAYLOR, TAYLOR_TINY_BLOCKS, TINY, crowds, large_question, scores_difference

#: constants for questions with a few options (the window method's batches and chunks, too)
FEW = [
    {},
    TINY,
    TAYLOR,
    TAYLOR_TINY_BLOCKS,
    EXACT,
    dict(TINY, CHUNK_CELLS=8, BATCH_CELLS=64),
    dict(SUPER_ROWS=3, SUM_BLOCK=2, WINDOW_MIN=3, WINDOW_C=0.5, CHUNK_CELLS=16),
]
#: constants for CDFs (201 columns): Taylor blocks on a few hundred forecasters, crossings
#: outside the fine value blocks, tail windows that fail often (per-column retries), and the
#: column-by-column window method
MANY = [
    {},
    TAYLOR,
    dict(TAYLOR_MIN_N=200, TAYLOR_C=5.0, FINE_VALUES=8, FINE_BLOCKS=3),
    dict(WINDOW_C=1.0, WINDOW_MIN=4, SUPER_ROWS=16, FINE_VALUES=4, FINE_BLOCKS=2),
    dict(TAYLOR, MANY_COLUMNS=10**9, CHUNK_CELLS=4096),
]


@contextlib.contextmanager
def constants(**values):
    """Set the same constants in both implementations (where they exist) for a block."""
    saved = []
    try:
        for module in (recency, reference):
            for name, value in values.items():
                if hasattr(module, name):
                    saved.append((module, name, getattr(module, name)))
                    setattr(module, name, value)
        yield
    finally:
        for module, name, value in reversed(saved):
            setattr(module, name, value)


@contextlib.contextmanager
def sweep_with(recency_median):
    """Score on the sweep path with ``engine.recency_weighted_medians`` replaced."""
    old = engine.DENSE_MAX_CELLS, engine.recency_weighted_medians
    engine.DENSE_MAX_CELLS = -1
    engine.recency_weighted_medians = recency_median
    try:
        yield
    finally:
        engine.DENSE_MAX_CELLS, engine.recency_weighted_medians = old


def engine_calls(spec, fs):
    """The arguments of every recency-weighted median the sweep evaluates for this question."""
    calls = []

    def keep(*args, **kwargs):
        calls.append((args, kwargs))
        return reference.recency_weighted_medians(*args, **kwargs)

    with sweep_with(keep):
        score_question(spec, fs, crowd_methods=AGGREGATES if spec.continuous is None else None)
    return calls


def assert_same(spec, fs, knobs):
    calls = engine_calls(spec, fs)
    assert calls
    for args, kwargs in calls:
        with constants(**knobs):
            new = recency.recency_weighted_medians(*args, **kwargs)
            old = reference.recency_weighted_medians(*args, **kwargs)
        assert new.shape == old.shape
        assert np.array_equal(new, old, equal_nan=True)


@settings(FAST, max_examples=150)
@given(crowds(max_users=200, max_each=4), st.sampled_from(range(len(FEW))))
def test_few_options_equal_the_reference(q, i):
    spec, fs = q
    assert_same(spec, fs, FEW[i])


@settings(FAST, max_examples=20)
@given(cdf_questions(), st.sampled_from(range(len(MANY))))
def test_cdfs_equal_the_reference(q, i):
    spec, fs = q
    assert_same(spec, fs, MANY[i])


@pytest.mark.parametrize(
    "n_users,k,knobs",
    [
        (5000, 2, dict(TAYLOR_MIN_N=1000)),  # binary: Taylor blocks from 2000 standing forecasts
        (2500, 4, {}),  # four options: tail windows, per-option loops
        (900, 3, dict(WINDOW_C=2.0)),  # tail windows failing often, their growing fallbacks
    ],
)
def test_large_questions_equal_the_reference(n_users, k, knobs):
    spec, fs = large_question(n_users, k, seed=n_users + k, mode="continuous")
    assert_same(spec, fs, knobs)


@pytest.mark.parametrize(
    "knobs",
    [
        dict(TAYLOR_MIN_N=400, WINDOW_C=4.0, TAYLOR_C=6.0),  # Taylor blocks and tail windows
        dict(TAYLOR_MIN_N=10**9, WINDOW_C=3.0),  # tail windows only, many retried columns
    ],
)
def test_large_cdf_questions_equal_the_reference(knobs):
    spec, fs = cdf_crowd(1500, 3, seed=5, pool_size=400, tie_times=False, wd_rate=0.05, bounds=(False, True))
    assert_same(spec, fs, knobs)


def test_scores_equal_the_reference_end_to_end():
    """Every score and crowd figure of the engine, with the new and with the old recency-weighted
    median: the same numbers to the last bit."""
    for spec, fs in (
        large_question(1200, 5, seed=2, mode="daily"),
        cdf_crowd(400, 3, seed=9, pool_size=12, tie_times=True, wd_rate=0.1, bounds=(True, True)),
    ):
        methods = AGGREGATES if spec.continuous is None else None
        with sweep_with(recency.recency_weighted_medians):
            new = score_question(spec, fs, crowd_methods=methods)
        with sweep_with(reference.recency_weighted_medians):
            old = score_question(spec, fs, crowd_methods=methods)
        assert scores_difference(new, old) == 0.0


@st.composite
def order_queries(draw):
    """Items active on random segment ranges (distinct ranks) and valid k-th smallest queries."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_seg = draw(st.integers(1, 300))
    m = draw(st.integers(1, 400))
    a = rng.integers(0, n_seg, m)
    b = np.minimum(a + rng.integers(1, n_seg + 1, m), n_seg)
    ranks = rng.permutation(m * draw(st.integers(1, 3)))[:m]
    active = np.zeros(n_seg, dtype=np.int64)
    for x, y in zip(a, b, strict=True):
        active[x:y] += 1
    seg = np.repeat(np.flatnonzero(active), 2)
    k = (rng.random(seg.shape[0]) * active[seg]).astype(np.int64)
    return Changes(a, b, n_seg), ranks, seg, k


@settings(FAST, max_examples=200)
@given(order_queries())
def test_kth_smallest_equals_the_reference(q):
    ch, ranks, seg, k = q
    assert np.array_equal(kth_smallest(ch, ranks, seg, k), reference.kth_smallest(ch, ranks, seg, k))


@settings(FAST, max_examples=150)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(1, 4),
    st.integers(0, 300),
    st.sampled_from(["distinct", "few", "signed zeros", "nan"]),
)
def test_stable_argsort_is_the_stable_sort(seed, rows, n, values):
    rng = np.random.default_rng(seed)
    x = rng.random((rows, n)) if values == "distinct" else rng.choice([0.1, 0.5, 0.9], (rows, n))
    if values == "signed zeros":
        x[rng.random((rows, n)) < 0.3] = -0.0
        x[rng.random((rows, n)) < 0.3] = 0.0
    if values == "nan":
        x[rng.random((rows, n)) < 0.1] = np.nan
    assert np.array_equal(stable_argsort(x), np.argsort(x, axis=-1, kind="stable"))
    for row in x:
        assert np.array_equal(stable_argsort(row), np.argsort(row, kind="stable"))
