"""The scores of numeric and date questions: CRPS, Metaculus's continuous baseline and peer
scores, the continuous crowd; the engine (both paths, both time modes) against the plain-loop
reference (continuous_reference.py)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast_math import ForecastSet, QuestionSpec, crowd_history, score_question
from forecast_math.continuous import (
    CONTINUOUS_AGGREGATES,
    GRID,
    MIN_STEP,
    ContinuousOutcome,
    aggregate_cdfs,
    baseline_bucket_probability,
    cdf_from_mixture,
    crps,
    log_density,
    make_valid,
    outcome_bucket,
    pit,
    pit_histogram,
    pmf,
    validate_cdf,
)

from .continuous_reference import (
    METHODS,
    continuous_reference_scores,
    crps_midpoint,
    ref_aggregate_cdfs,
    ref_crps,
)
from .reference import max_difference
from .test_properties import draw_action, standing_at
from .test_sweep import DAY, FAST, TAYLOR, TINY, scores_difference, using

T0 = 19700 * DAY
UNIFORM = np.linspace(0.0, 1.0, GRID)


def spec_for(x, *, open_lower=False, open_upper=False, length=100.0, known_at=None, mode="continuous"):
    outcome = ContinuousOutcome(x, open_lower, open_upper)
    return QuestionSpec(GRID, False, T0, T0 + length, known_at, 0, mode, continuous=outcome)


def one(cdf, t=T0):
    return ForecastSet(np.array([1]), np.array([t]), np.array([cdf]), np.array([False]))


def sharp(centre, width, open_lower=False, open_upper=False):
    return cdf_from_mixture(
        [{"centre": centre, "scale": width, "weight": 1.0}], open_lower=open_lower, open_upper=open_upper
    )


# ------------------------------------------------------------------ single forecasts
def test_crps_contract_example():
    # uniform forecast on a closed range, outcome at 42% of it: (0.42^3 + 0.58^3) / 3
    assert crps(UNIFORM, 0.42) == pytest.approx(0.08973333333333333, abs=1e-15)
    assert crps(UNIFORM, 0.42) == pytest.approx((0.42**3 + 0.58**3) / 3, rel=1e-14)
    qs = score_question(spec_for(0.42), one(UNIFORM))
    assert qs.accuracy == "crps"
    assert qs.users.brier_final[0] == pytest.approx(0.08973333333333333, abs=1e-15)
    assert qs.users.brier_mean[0] == pytest.approx(0.08973333333333333, abs=1e-15)


@pytest.mark.parametrize("x", [0.0, 0.0025, 0.42, 0.5, 0.777, 1.0, -math.inf, math.inf])
def test_crps_closed_form_against_integration(x):
    cdf = sharp(0.3, 0.1, open_lower=True, open_upper=True)
    assert crps(cdf, x) == pytest.approx(ref_crps(list(cdf), x), abs=1e-13)
    if math.isfinite(x):
        assert crps(cdf, x) == pytest.approx(crps_midpoint(list(cdf), x), abs=1e-6)


def test_crps_below_and_above_use_the_whole_range():
    cdf = np.linspace(0.05, 0.95, GRID)
    # below: (1 - F)^2 over [0, 1] = integral of (0.95 - 0.9 t)^2
    assert crps(cdf, -math.inf) == pytest.approx((0.95**3 - 0.05**3) / (3 * 0.9), rel=1e-12)
    assert crps(cdf, math.inf) == pytest.approx((0.95**3 - 0.05**3) / (3 * 0.9), rel=1e-12)
    assert crps(cdf, -math.inf) == crps(cdf, -0.5)  # any x below the range
    # rows
    both = crps(np.stack([UNIFORM, cdf]), 0.3)
    assert both.shape == (2,) and both[0] == pytest.approx(crps(UNIFORM, 0.3))


def test_uniform_closed_forecast_has_baseline_zero():
    qs = score_question(spec_for(0.42), one(UNIFORM))
    assert qs.users.baseline[0] == pytest.approx(0.0, abs=1e-9)
    assert qs.users.peer[0] == 0.0  # nobody else
    assert qs.users.coverage[0] == 1.0


def test_uniform_with_open_bounds_has_baseline_zero_everywhere():
    """Metaculus's baseline: 5% beyond each open bound, the rest uniform (scores FAQ)."""
    base = np.concatenate([[0.05], 0.05 + 0.9 * np.arange(1, GRID) / (GRID - 1)])
    base[-1] = 0.95
    for x in (-math.inf, 0.3, 1.0, math.inf):
        qs = score_question(spec_for(x, open_lower=True, open_upper=True), one(base))
        assert qs.users.baseline[0] == pytest.approx(0.0, abs=1e-9), x
    one_open = np.linspace(0.0, 0.95, GRID)
    for x in (0.0, 0.61, math.inf):
        qs = score_question(spec_for(x, open_upper=True), one(one_open))
        assert qs.users.baseline[0] == pytest.approx(0.0, abs=1e-9), x


def test_forecast_centred_on_the_outcome_scores_well():
    cdf = sharp(0.42, 0.02)
    qs = score_question(spec_for(0.42), one(cdf))
    assert qs.users.baseline[0] > 0
    # the density there: ln(200 p) / 2, p = the outcome bucket's probability
    p = pmf(cdf)[outcome_bucket(0.42)]
    assert qs.users.baseline[0] == pytest.approx(50 * math.log(p * 200), rel=1e-12)
    assert qs.users.brier_final[0] < crps(UNIFORM, 0.42) / 3
    far = score_question(spec_for(0.9), one(cdf))
    assert far.users.baseline[0] < 0 and far.users.brier_final[0] > 0.2


def test_open_bound_outcomes_score_through_the_outside_buckets():
    cdf = sharp(0.5, 0.2, open_lower=True, open_upper=True)
    below = score_question(spec_for(-math.inf, open_lower=True, open_upper=True), one(cdf)).users
    assert below.baseline[0] == pytest.approx(50 * math.log(cdf[0] / 0.05), rel=1e-12)
    above = score_question(spec_for(math.inf, open_lower=True, open_upper=True), one(cdf)).users
    assert above.baseline[0] == pytest.approx(50 * math.log((1 - cdf[-1]) / 0.05), rel=1e-12)
    assert below.brier_final[0] == pytest.approx(crps(cdf, -math.inf))
    assert log_density(cdf, -math.inf, True, True) == pytest.approx(math.log(cdf[0]))
    # an outcome beyond a closed bound is not an outcome
    with pytest.raises(ValueError, match="open lower"):
        ContinuousOutcome(-math.inf, open_lower=False, open_upper=True)


def test_baseline_bucket_probabilities():
    assert baseline_bucket_probability(7, False, False) == 1 / 200
    assert baseline_bucket_probability(7, True, False) == pytest.approx(0.95 / 200)
    assert baseline_bucket_probability(7, True, True) == pytest.approx(0.9 / 200)
    assert baseline_bucket_probability(0, True, True) == 0.05
    assert baseline_bucket_probability(201, False, True) == 0.05
    # a proper distribution in every case
    for lo in (False, True):
        for hi in (False, True):
            total = 200 * baseline_bucket_probability(5, lo, hi) + 0.05 * (lo + hi)
            assert total == pytest.approx(1.0)


def test_peer_score_two_forecasters_by_hand():
    """Metaculus's continuous peer score: 100 (ln p - mean ln p of the others) / 2."""
    a = sharp(0.4, 0.05)
    b = UNIFORM
    fs = ForecastSet(np.array([1, 2]), np.array([T0, T0 + 50.0]), np.stack([a, b]), np.array([False, False]))
    qs = score_question(spec_for(0.42), fs)
    pa, pb = pmf(a)[84], pmf(b)[84]
    # both active on the second half of the window [T0, T0 + 100)
    assert qs.users.peer[0] == pytest.approx(0.5 * 50 * math.log(pa / pb), rel=1e-12)
    assert qs.users.peer[1] == pytest.approx(-0.5 * 50 * math.log(pa / pb), rel=1e-12)
    assert qs.users.baseline[0] == pytest.approx(50 * math.log(200 * pa), rel=1e-12)
    assert qs.users.baseline[1] == pytest.approx(0.5 * 50 * math.log(200 * pb), abs=1e-9)
    # relative CRPS: on the shared half each is measured against the median of the two
    ca, cb = crps(a, 0.42), crps(b, 0.42)
    assert qs.users.relative_brier[0] == pytest.approx(0.5 * (ca - (ca + cb) / 2), rel=1e-12)
    assert set(qs.crowd) == set(CONTINUOUS_AGGREGATES)


def test_continuous_refuses_the_extremized_crowd():
    with pytest.raises(ValueError, match="extremized_log_odds"):
        score_question(spec_for(0.4), one(UNIFORM), crowd_methods=("extremized_log_odds",))
    with pytest.raises(ValueError, match="201"):
        QuestionSpec(3, False, T0, T0 + 1, None, 0, continuous=ContinuousOutcome(0.4))


# ------------------------------------------------------------------ the crowd
def test_aggregates_are_valid_cdfs():
    rng = np.random.default_rng(3)
    for bounds in ((False, False), (True, False), (True, True)):
        cdfs = np.stack([sharp(c, s, *bounds) for c, s in zip(rng.uniform(0, 1, 7), rng.uniform(0.01, 0.3, 7))])
        for method in CONTINUOUS_AGGREGATES:
            out = aggregate_cdfs(cdfs, method, made_at=rng.uniform(0, 10, 7))
            validate_cdf(list(out), open_lower=bounds[0], open_upper=bounds[1])
        med = aggregate_cdfs(cdfs, "median")
        assert med[100] == pytest.approx(np.median(cdfs[:, 100]))
    assert np.isnan(aggregate_cdfs(np.zeros((0, GRID)), "mean")).all()
    with pytest.raises(ValueError):
        aggregate_cdfs(np.zeros((2, GRID)), "extremized_log_odds")


def test_recency_weighted_median_follows_the_newest():
    old = np.stack([sharp(0.2, 0.05)] * 3)
    new = np.stack([sharp(0.8, 0.05)] * 2)
    cdfs = np.concatenate([old, new])
    # made oldest first: weights e^(sqrt(i) - sqrt(5)); the two newest weigh more than half
    out = aggregate_cdfs(cdfs, "recency_weighted_median", made_at=[1, 2, 3, 4, 5])
    assert np.allclose(out, new[0])
    assert np.allclose(aggregate_cdfs(cdfs, "median"), old[0])
    ref = ref_aggregate_cdfs(
        [(t, u, list(c)) for u, (t, c) in enumerate(zip([1, 2, 3, 4, 5], cdfs))], "recency_weighted_median"
    )
    assert np.allclose(out, ref, rtol=0, atol=1e-15)


def test_make_valid_repairs_only_rounding():
    a = np.linspace(0, 1, GRID)
    b = a.copy()
    b[1:-1] += MIN_STEP / 2 * np.sin(np.arange(1, GRID - 1))  # still valid, steps vary
    out = aggregate_cdfs(np.stack([a, b]), "median")
    assert np.allclose(out, (a + b) / 2, atol=1e-15)
    assert np.diff(out).min() >= MIN_STEP - 1e-15


def test_make_valid_raises_short_steps_as_little_as_needed():
    c = np.linspace(0, 1, GRID)
    c[50:60] = c[50]  # flat: no density in nine buckets
    out = make_valid(c)
    validate_cdf(list(out), open_lower=False, open_upper=False)
    assert np.array_equal(out[:51], c[:51]) and np.array_equal(out[60:], c[60:])
    assert np.allclose(np.diff(out[50:60]), MIN_STEP, rtol=1e-5)
    top = c.copy()
    top[195:] = 1.0  # raising the flat top would pass 1: kept at most 1
    assert make_valid(top).max() == 1.0
    assert np.isnan(make_valid(np.full(GRID, np.nan))).all()


# ------------------------------------------------------------------ PIT
def test_pit():
    assert pit(UNIFORM, 0.42) == pytest.approx(0.42)
    cdf = np.linspace(0.1, 0.9, GRID)
    assert pit(cdf, -math.inf) == pytest.approx(0.05)
    assert pit(cdf, math.inf) == pytest.approx(0.95)
    assert pit(cdf, 0.5) == pytest.approx(0.5)
    assert pit(cdf, 0.0) == pytest.approx(0.1)


def test_pit_histogram():
    assert pit_histogram([]) == [0] * 10
    counts = pit_histogram([0.0, 0.05, 0.1, 0.3, 0.95, 1.0, 0.999])
    assert counts == [2, 1, 0, 1, 0, 0, 0, 0, 0, 3]
    assert sum(pit_histogram(np.random.default_rng(1).uniform(0, 1, 1000))) == 1000
    with pytest.raises(ValueError):
        pit_histogram([1.2])


# ------------------------------------------------------------------ the engine against the reference
SHAPES = [(0.1, 0.05), (0.42, 0.02), (0.5, 0.3), (0.8, 0.1), (0.95, 0.01), (0.3, 0.5)]


@st.composite
def continuous_questions(draw, max_forecasts=16):
    open_lower = draw(st.booleans())
    open_upper = draw(st.booleans())
    mode = draw(st.sampled_from(["continuous", "daily"]))
    t0 = T0 + draw(st.integers(0, 86399))
    length = draw(st.sampled_from([1.0, 600.0, 3 * 3600.0, DAY, 2.5 * DAY]))
    known_at = None if draw(st.booleans()) else t0 + draw(st.floats(0.05, 1.2)) * length
    choices = [0.0, 0.005, 0.42, 0.5, 1.0, 0.7171]
    if open_lower:
        choices.append(-math.inf)
    if open_upper:
        choices.append(math.inf)
    x = draw(st.sampled_from(choices) | st.floats(0.0, 1.0))
    n = draw(st.integers(0, max_forecasts))
    coarse = draw(st.booleans())
    shapes = [
        sharp(c, s, open_lower, open_upper) for c, s in draw(st.lists(st.sampled_from(SHAPES), min_size=1, max_size=4))
    ]
    users, times, cdfs, wds = [], [], [], []
    for _ in range(n):
        user, t, wd = draw_action(draw, t0, length, coarse)
        users.append(user)
        times.append(t)
        wds.append(wd)
        cdfs.append(np.full(GRID, np.nan) if wd else shapes[draw(st.integers(0, len(shapes) - 1))])
    outcome = ContinuousOutcome(x, open_lower, open_upper)
    spec = QuestionSpec(GRID, False, t0, t0 + length, known_at, 0, mode, continuous=outcome)
    fs = ForecastSet(
        np.array(users, dtype=np.int64),
        np.array(times, dtype=float),
        np.array(cdfs, dtype=float).reshape(n, GRID),
        np.array(wds, dtype=bool),
    )
    return spec, fs


@settings(FAST, max_examples=60)
@given(continuous_questions(), st.sampled_from(["dense", "sweep"]))
def test_engine_matches_reference(q, path):
    spec, fs = q
    qs = score_question(spec, fs, path=path)
    assert qs.accuracy == "crps"
    assert max_difference(qs, continuous_reference_scores(spec, fs)) <= 1e-9


@settings(FAST, max_examples=60)
@given(continuous_questions(max_forecasts=30))
def test_dense_equals_sweep(q):
    spec, fs = q
    assert scores_difference(score_question(spec, fs, path="dense"), score_question(spec, fs, path="sweep")) <= 1e-9
    for method in CONTINUOUS_AGGREGATES:
        td, pd = crowd_history(spec, fs, method, path="dense")
        ts, ps = crowd_history(spec, fs, method, path="sweep")
        assert np.array_equal(td, ts)
        assert np.array_equal(np.isnan(pd), np.isnan(ps))
        assert np.nanmax(np.abs(pd - ps), initial=0.0) <= 1e-12


@settings(FAST, max_examples=40)
@given(continuous_questions(), st.randoms(use_true_random=False))
def test_scores_do_not_depend_on_input_order(q, rnd):
    spec, fs = q
    perm = list(range(len(fs.user)))
    rnd.shuffle(perm)
    perm = np.array(perm, dtype=np.int64)
    shuffled = ForecastSet(fs.user[perm], fs.time[perm], fs.probs[perm], fs.withdrawn[perm])
    assert scores_difference(score_question(spec, fs), score_question(spec, shuffled)) <= 1e-12


@settings(FAST, max_examples=40)
@given(continuous_questions(), st.sampled_from(CONTINUOUS_AGGREGATES))
def test_crowd_history_rows_are_the_snapshot_aggregates(q, method):
    spec, fs = q
    times, rows = crowd_history(spec, fs, method)
    for t, row in zip(times, rows):
        stand = standing_at(spec, fs, t)
        if not stand:
            assert np.isnan(row).all()
            continue
        c = spec.continuous
        validate_cdf(list(row), open_lower=c.open_lower, open_upper=c.open_upper)
        ref = ref_aggregate_cdfs(stand, method)
        assert np.allclose(row, ref, rtol=0, atol=1e-12)
        stand.sort(key=lambda s: (s[0], s[1]))
        snap = aggregate_cdfs(np.stack([s[2] for s in stand]), method, made_at=[s[0] for s in stand])
        assert np.allclose(row, snap, rtol=0, atol=1e-12)


@settings(FAST, max_examples=100)
@given(st.sampled_from(SHAPES), st.booleans(), st.booleans(), st.floats(0, 1) | st.sampled_from([-math.inf, math.inf]))
def test_crps_is_non_negative(shape, lo, hi, x):
    cdf = sharp(*shape, lo, hi)
    if (x == -math.inf and not lo) or (x == math.inf and not hi):
        x = 0.5
    assert crps(cdf, x) >= 0


@settings(FAST, max_examples=60)
@given(st.floats(0.01, 0.99))
def test_sharp_cdf_around_the_outcome_has_crps_near_zero(x):
    cdf = sharp(x, 1e-5)
    # what is left: the mass spread over the (at most two) buckets around x by the grid's
    # linear interpolation, and the 1% uniform mix (about 0.01^2 / 3): below one bucket's width
    assert crps(cdf, x) <= 1.0 / 200
    assert crps(cdf, x) < crps(sharp(x, 0.01), x) < crps(sharp(x, 0.05), x)
    # a sharper grid CDF (no uniform mix): the step at the grid point just above x
    j = int(math.ceil(x * 200))
    step = np.where(np.arange(GRID) >= j, 1.0, 0.0)
    assert crps(step, x) <= 1.0 / 200 + 1e-12


# ------------------------------------------------------------------ many forecasters
def crowd_question(n_users, each, seed, *, mode="continuous", x=0.42, bounds=(False, False), tie_times=False):
    rng = np.random.default_rng(seed)
    length = 30 * DAY
    user = np.repeat(np.arange(n_users) * 3 - 50, each)
    n = user.shape[0]
    steps = rng.integers(-1, 20, n) / 16 if tie_times else rng.uniform(-0.1, 1.05, n)
    time = T0 + steps * length
    pool = [sharp(c, s, *bounds) for c, s in zip(rng.uniform(0, 1, 12), rng.uniform(0.005, 0.4, 12))]
    cdfs = np.stack([pool[i] for i in rng.integers(0, len(pool), n)])
    wd = rng.random(n) < 0.08
    known_at = T0 + 0.9 * length
    spec = QuestionSpec(GRID, False, T0, T0 + length, known_at, 0, mode, continuous=ContinuousOutcome(x, *bounds))
    return spec, ForecastSet(user, time, cdfs, wd, rng.permutation(n))


@pytest.mark.parametrize("mode", ["continuous", "daily"])
@pytest.mark.parametrize("tie_times", [False, True])
def test_many_users_match_reference(mode, tie_times):
    spec, fs = crowd_question(25, 3, seed=4, mode=mode, tie_times=tie_times, x=-math.inf, bounds=(True, False))
    ref = continuous_reference_scores(spec, fs)
    for path in ("dense", "sweep"):
        assert max_difference(score_question(spec, fs, path=path), ref) <= 1e-9


@pytest.mark.parametrize("knobs", [TINY, TAYLOR])
def test_recency_median_windows_and_taylor_blocks_on_cdfs(knobs):
    """The sweep's recency-weighted median (certified windows, fallbacks, Taylor blocks) on 201
    columns gives the dense engine's crowd."""
    spec, fs = crowd_question(300, 3, seed=9, tie_times=True, bounds=(True, True))
    dense = score_question(spec, fs, path="dense")
    with using("sweep", **knobs):
        sweep = score_question(spec, fs)
        t_s, p_s = crowd_history(spec, fs, "recency_weighted_median")
    assert scores_difference(dense, sweep) <= 1e-9
    t_d, p_d = crowd_history(spec, fs, "recency_weighted_median", path="dense")
    assert np.array_equal(t_d, t_s) and np.nanmax(np.abs(p_d - p_s)) <= 1e-12


def test_crowd_history_of_open_question_by_number_of_points():
    spec, fs = crowd_question(10, 2, seed=1)
    t_a, p_a = crowd_history(GRID, fs, "median", continuous=True)
    assert p_a.shape[1] == GRID
    ok = ~np.isnan(p_a[:, 0])
    assert np.allclose(p_a[ok, 0], 0.0) and np.allclose(p_a[ok, -1], 1.0)
    with pytest.raises(ValueError, match="extremized"):
        crowd_history(GRID, fs, "extremized_log_odds", continuous=True)


def test_methods_default_to_the_continuous_aggregates():
    spec, fs = crowd_question(5, 1, seed=2)
    assert tuple(score_question(spec, fs).crowd) == CONTINUOUS_AGGREGATES
    assert METHODS == CONTINUOUS_AGGREGATES
