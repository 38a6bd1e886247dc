"""The batched leaderboard arithmetic gives the per-user numbers bit for bit: bootstrap intervals
of many samples at once (bootstrap_mean_intervals) against bootstrap_mean_interval one by one,
and build_leaderboard's entries of several questions against a per-user reference (the
computation it replaced), with NaN (numeric rows, missing Brier means) and 8 or more rows."""

from __future__ import annotations

import math

import numpy as np
import pytest

from forecast_math import bootstrap_mean_interval, build_leaderboard
from forecast_math.leaderboard_math import bootstrap_mean_intervals


def _same(a, b) -> bool:
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b or (isinstance(a, float) and math.isnan(a) and isinstance(b, float) and math.isnan(b))


def _samples(rng: np.random.Generator, count: int) -> list[np.ndarray]:
    out = []
    for k in range(count):
        n = int(rng.integers(0, 30)) if k % 40 else int(rng.integers(900, 1100))
        v = rng.normal(size=n) * rng.lognormal(size=n)
        if k % 3 == 0 and n:
            v[rng.random(n) < 0.3] = np.nan
        out.append(v)
    return out


@pytest.mark.parametrize("seed", [0, 7])
def test_bootstrap_mean_intervals_equal_the_one_by_one_intervals(seed):
    samples = _samples(np.random.default_rng(seed), 400)
    batched = bootstrap_mean_intervals(samples, replicates=1999, seed=seed)
    for v, got in zip(samples, batched, strict=True):
        assert _same(got, bootstrap_mean_interval(v, replicates=1999, seed=seed)), v
    assert any(not math.isnan(lo) and lo < hi for lo, hi in batched)


def test_bootstrap_mean_intervals_of_large_samples_fall_back_to_steps():
    rng = np.random.default_rng(3)
    samples = [rng.normal(size=2500), rng.normal(size=2500), np.array([0.5])]
    got = bootstrap_mean_intervals(samples, replicates=999, seed=1)
    assert got[2] == (0.5, 0.5)
    for v, interval in zip(samples[:2], got, strict=False):
        assert interval == bootstrap_mean_interval(v, replicates=999, seed=1)


def _reference_entry(rows: dict[str, np.ndarray], has_crps: bool, replicates: int, seed: int) -> dict:
    """One user's figures as build_leaderboard computed them, user by user, before batching."""

    def nanmean(x):
        x = x[~np.isnan(x)]
        return float(x.mean()) if x.size else math.nan

    rel, bm = rows["relative_brier"], rows["brier_mean"]
    ent = {
        "sum_relative_brier": float(np.nansum(rel)),
        "mean_relative_brier": nanmean(rel),
        "mean_brier": nanmean(bm),
        "mean_participation": nanmean(rows["participation"]),
        "sum_baseline": float(np.nansum(rows["baseline"])),
        "sum_peer": float(np.nansum(rows["peer"])),
        "mean_relative_brier_ci": list(bootstrap_mean_interval(rel, replicates=replicates, seed=seed)),
        "mean_brier_ci": list(bootstrap_mean_interval(bm, replicates=replicates, seed=seed)),
        "n_crps_questions": 0,
        "sum_relative_crps": 0.0,
        "mean_relative_crps": math.nan,
    }
    crps = rows["relative_crps"]
    if has_crps and np.count_nonzero(~np.isnan(crps)):
        ent.update(
            n_crps_questions=int(np.count_nonzero(~np.isnan(crps))),
            sum_relative_crps=float(np.nansum(crps)),
            mean_relative_crps=nanmean(crps),
        )
    return ent


@pytest.mark.parametrize("with_crps", [False, True])
def test_entries_of_several_questions_equal_the_per_user_computation(with_crps):
    rng = np.random.default_rng(11)
    counts = rng.integers(1, 20, size=300)
    counts[:5] = [8, 9, 16, 17, 130]  # NumPy's pairwise sums change shape at 8 and 128 values
    user = np.repeat(np.arange(1, counts.size + 1), counts)
    rng.shuffle(user)
    n = user.size
    numeric = rng.random(n) < (0.25 if with_crps else 0.0)
    cols = {
        "relative_brier": np.where(numeric, np.nan, rng.normal(size=n)),
        "brier_mean": np.where(numeric | (rng.random(n) < 0.1), np.nan, rng.random(n) * 2),
        "participation": rng.random(n),
        "baseline": rng.normal(size=n) * 50,
        "peer": rng.normal(size=n) * 20,
        "relative_crps": np.where(numeric, rng.normal(size=n), np.nan),
    }
    board = build_leaderboard(
        user, cols["relative_brier"], cols["brier_mean"], cols["participation"], cols["baseline"], cols["peer"],
        cols["relative_crps"] if with_crps else None, min_questions=1, bootstrap=True, replicates=499, seed=5,
    )  # fmt: skip
    assert len(board) == counts.size
    for e in board:
        if e["n_questions"] == 1:
            continue
        mine = user == e["user"]
        ref = _reference_entry({k: v[mine] for k, v in cols.items()}, with_crps, 499, 5)
        for key, value in ref.items():
            assert _same(e[key], value), (e["user"], e["n_questions"], key, e[key], value)
