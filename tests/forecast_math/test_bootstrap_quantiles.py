"""The bootstrap's quantiles without a whole partition (quantile_pair) equal np.quantile's bit for
bit, whatever the thresholds that choose each column's candidates (they decide only the work),
with ties, skew and columns that fall back; and the bootstrap shared in parts (bootstrap_parts,
samples_pack) gives every sample the interval of one call."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast_math import bootstrap_mean_interval, build_leaderboard
from forecast_math import leaderboard_math as lm
from forecast_math.leaderboard_math import (
    bootstrap_mean_intervals,
    bootstrap_parts,
    quantile_pair,
    samples_pack,
    samples_unpack,
)


def _reference(means: np.ndarray, alpha: float) -> np.ndarray:
    return np.quantile(means, [alpha, 1.0 - alpha], axis=0)


def _columns(rng: np.random.Generator, reps: int, users: int, kind: str) -> np.ndarray:
    if kind == "normal":
        return rng.normal(size=(reps, users)) * rng.lognormal(size=users) + rng.normal(size=users)
    if kind == "ties":  # few distinct values (the means of two or three values)
        return rng.integers(0, 4, size=(reps, users)) / 3.0
    if kind == "skew":
        return rng.lognormal(sigma=2.0, size=(reps, users))
    if kind == "zeros":  # +0.0 and -0.0 (equal, told apart by their sign) at the order statistics
        return rng.choice(np.array([-0.0, 0.0, 0.0, -1.0, 1.0]), size=(reps, users), p=[0.3, 0.3, 0.2, 0.1, 0.1])
    return np.full((reps, users), 0.25)  # constant


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    reps=st.sampled_from([99, 199, 999, 1999, 2001]),
    users=st.integers(1, 40),
    kind=st.sampled_from(["normal", "ties", "skew", "constant", "zeros"]),
    level=st.sampled_from([0.95, 0.9, 0.8, 0.99]),
    z=st.floats(-3.0, 5.0),
    scale=st.floats(0.0, 3.0),
)
def test_quantile_pair_equals_numpy(seed, reps, users, kind, level, z, scale):
    rng = np.random.default_rng(seed)
    means = _columns(rng, reps, users, kind)
    alpha = (1.0 - level) / 2.0
    # any thresholds: the sample's centre moved by z and any spread, even nonsense ones
    center = means.mean(axis=0) + z * means.std(axis=0)
    spread = scale * means.std(axis=0)
    got = quantile_pair(means.copy(), alpha, center, spread)
    assert got.tobytes() == _reference(means, alpha).tobytes()


def test_quantile_pair_takes_its_fast_path_on_bootstrap_means():
    """On ordinary bootstrap means the tails' candidates qualify (no fallback), and the result is
    still NumPy's; with a cap too small for any tail, every column falls back."""
    rng = np.random.default_rng(11)
    v = rng.normal(size=(6, 300))
    idx = rng.integers(0, 6, size=(1999, 6))
    means = sum(v[idx[:, j]] for j in range(6)) / 6
    alpha = 0.025000000000000022
    calls = []
    real = np.quantile

    def counting(*a, **k):
        calls.append(a[0].shape)
        return real(*a, **k)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(lm.np, "quantile", counting)
        got = quantile_pair(means.copy(), alpha, v.mean(axis=0), v.std(axis=0) / math.sqrt(6))
        fast_calls = list(calls)
        mp.setattr(lm, "_TAIL_CAP", 120)  # below the low tail's expected ~130 candidates: some fall back
        calls.clear()
        capped = quantile_pair(means.copy(), alpha, v.mean(axis=0), v.std(axis=0) / math.sqrt(6))
    assert fast_calls == [] or all(shape[1] < 10 for shape in fast_calls)
    assert calls  # the capped run fell back on some columns
    ref = _reference(means, alpha)
    assert got.tobytes() == ref.tobytes() and capped.tobytes() == ref.tobytes()


def _samples(rng: np.random.Generator, count: int) -> list[np.ndarray]:
    out = []
    for k in range(count):
        n = int(rng.integers(0, 16))
        v = rng.normal(size=n) * rng.lognormal() if k % 5 else rng.integers(0, 2, size=n).astype(float)
        if k % 7 == 0 and n:
            v[rng.random(n) < 0.3] = np.nan
        if k % 11 == 0 and n:
            v[:] = 1.5  # constant: every replicate mean the same
        out.append(v)
    return out


@pytest.mark.parametrize("parts", [1, 2, 3])
def test_intervals_computed_in_parts_equal_one_call(parts):
    samples = _samples(np.random.default_rng(parts), 700)
    whole = bootstrap_mean_intervals(samples, replicates=1999, seed=0)
    split = bootstrap_parts(samples, parts)
    assert sorted(i for part in split for i in part) == list(range(len(samples)))
    sizes = [sum(len(samples[i]) for i in part) for part in split]
    assert max(sizes) - min(sizes) <= 16  # about equal work
    got: list = [None] * len(samples)
    for part in split:
        flat, lengths = samples_pack([samples[i] for i in part])
        for i, ci in zip(part, bootstrap_mean_intervals(samples_unpack(flat, lengths), seed=0), strict=True):
            got[i] = ci
    assert repr(got) == repr(whole)  # repr: floats bit for bit, NaN equal to NaN


def test_build_leaderboard_with_an_intervals_hook_in_parts_equals_the_default():
    rng = np.random.default_rng(4)
    n = 3000
    user = rng.integers(1, 400, size=n)
    rel = rng.normal(size=n)
    rel[rng.random(n) < 0.05] = np.nan  # a few numeric rows
    bm = rng.uniform(0, 2, size=n)
    part, base, peer = rng.uniform(size=n), rng.normal(size=n), rng.normal(size=n)
    seen = []

    def in_parts(samples, *, replicates, seed):
        seen.append(len(samples))
        out: list = [None] * len(samples)
        for p in bootstrap_parts(samples, 2):
            cis = bootstrap_mean_intervals([samples[i] for i in p], replicates=replicates, seed=seed)
            for i, ci in zip(p, cis, strict=True):
                out[i] = ci
        return out

    default = build_leaderboard(user, rel, bm, part, base, peer)
    hooked = build_leaderboard(user, rel, bm, part, base, peer, intervals=in_parts)
    assert len(seen) == 1 and seen[0] == 2 * sum(1 for e in default if e["n_questions"] > 1)
    assert repr(hooked) == repr(default)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    replicates=st.sampled_from([5, 40, 199, 1999]),
    level=st.sampled_from([0.95, 0.5, 0.99]),
    kind=st.sampled_from(["normal", "binary", "ties", "zeros"]),
)
def test_small_samples_by_distinct_tuples_equal_the_replicates(seed, replicates, level, kind):
    """Samples of 2 to 4 values (resampled by their distinct index tuples, weighted by count) and a
    few larger ones: bit for bit the numbers of the replicate by replicate computation
    (_DISTINCT_MAX 0), and equal (== : NumPy's mean adds a row from +0.0, the batched sums from
    its first value, so a mean of -0.0 values is -0.0 there and 0.0 here) to
    bootstrap_mean_interval one sample at a time."""
    rng = np.random.default_rng(seed)
    samples = []
    for n in [2, 3, 4] * 6 + [5, 9]:
        if kind == "binary":
            v = rng.integers(0, 2, size=n).astype(float)
        elif kind == "ties":
            v = np.round(rng.normal(size=n), 1)  # -0.0 among them, sometimes
        elif kind == "zeros":
            v = rng.choice(np.array([-0.0, 0.0, 0.5, -0.5]), size=n)
        else:
            v = rng.normal(size=n) * 10.0 ** rng.integers(-3, 4)
        samples.append(v)
    kw = {"replicates": replicates, "seed": seed % 1000, "level": level}
    got = bootstrap_mean_intervals(samples, **kw)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(lm, "_DISTINCT_MAX", 0)
        every = bootstrap_mean_intervals(samples, **kw)
    assert repr(got) == repr(every)
    for v, interval in zip(samples, got, strict=True):
        assert interval == bootstrap_mean_interval(v, **kw), v
