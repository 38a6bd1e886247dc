"""Ranks, bootstrap intervals, leaderboard aggregation and calibration tables."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast_math import (
    binary_events,
    bootstrap_mean_interval,
    build_leaderboard,
    calibration_table,
    rank_with_ties,
    wilson_interval,
)


def test_competition_ranks():
    assert rank_with_ties([0.1, 0.1, 0.3]).tolist() == [1, 1, 3]
    assert rank_with_ties([0.3, 0.1, 0.1 + 5e-10, 0.2]).tolist() == [4, 1, 1, 3]
    assert rank_with_ties([0.1, 0.1 + 2e-9]).tolist() == [1, 2]
    assert rank_with_ties([5.0, 7.0, 7.0], ascending=False).tolist() == [3, 1, 1]
    assert rank_with_ties([]).tolist() == []
    assert rank_with_ties([np.nan, 1.0, np.nan]).tolist() == [2, 1, 2]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(-5, 5), max_size=20))
def test_ranks_on_distinct_integers_match_definition(xs):
    ranks = rank_with_ties(np.array(xs, dtype=float))
    for i, x in enumerate(xs):
        assert ranks[i] == 1 + sum(1 for y in xs if y < x)


def test_bootstrap_reproducible_and_sensible():
    v = np.array([0.1, -0.2, 0.05, 0.3, -0.1, 0.0, 0.12])
    a = bootstrap_mean_interval(v, seed=3)
    b = bootstrap_mean_interval(v, seed=3)
    assert a == b
    assert a[0] <= v.mean() <= a[1]
    assert v.min() <= a[0] and a[1] <= v.max()
    assert bootstrap_mean_interval(np.full(5, 0.25)) == (0.25, 0.25)
    assert bootstrap_mean_interval([0.4]) == (0.4, 0.4)
    lo, hi = bootstrap_mean_interval([])
    assert math.isnan(lo) and math.isnan(hi)
    narrow = bootstrap_mean_interval(v, level=0.5)
    assert a[0] <= narrow[0] <= narrow[1] <= a[1]


def test_build_leaderboard():
    user = [1, 1, 2, 2, 3]
    rel = [-0.1, -0.2, -0.15, -0.15, -0.5]
    bm = [0.2, 0.3, 0.25, 0.25, 0.1]
    part = [1.0, 0.5, 1.0, 1.0, 0.2]
    base = [10.0, 20.0, 5.0, 5.0, 50.0]
    peer = [1.0, -1.0, 0.0, 0.0, 3.0]
    board = build_leaderboard(user, rel, bm, part, base, peer, rank_by="sum_relative_brier", min_questions=2)
    assert [(e["user"], e["rank"]) for e in board] == [(1, 1), (2, 1)]  # -0.3 and -0.3 tie
    e1 = board[0]
    assert e1["n_questions"] == 2
    assert e1["mean_relative_brier"] == pytest.approx(-0.15)
    assert e1["mean_brier"] == pytest.approx(0.25)
    assert e1["sum_baseline"] == pytest.approx(30.0)
    assert len(e1["mean_relative_brier_ci"]) == 2
    board = build_leaderboard(user, rel, bm, part, base, peer, rank_by="sum_peer", min_questions=1)
    assert [(e["user"], e["rank"]) for e in board] == [(3, 1), (1, 2), (2, 2)]


def test_calibration_bins():
    p = [0.05, 0.1, 0.15, 0.3, 0.95, 1.0, 0.999]
    y = [0, 1, 0, 1, 1, 1, 0]
    t = calibration_table(p, y)
    assert t["n"] == 7
    counts = [b["count"] for b in t["bins"]]
    assert counts == [1, 2, 0, 1, 0, 0, 0, 0, 0, 3]
    empty = t["bins"][2]
    assert empty["mean_forecast"] is None and empty["observed_frequency"] is None
    assert empty["wilson_low"] is None and empty["wilson_high"] is None
    b1 = t["bins"][1]
    assert b1["lower"] == pytest.approx(0.1) and b1["upper"] == pytest.approx(0.2)
    assert b1["mean_forecast"] == pytest.approx(0.125)
    assert b1["observed_frequency"] == 0.5
    lo, hi = wilson_interval(1, 2)
    assert (b1["wilson_low"], b1["wilson_high"]) == (lo, hi)
    assert lo == pytest.approx(0.0945312, abs=1e-6) and hi == pytest.approx(0.9054688, abs=1e-6)
    assert calibration_table([], [])["murphy"]["brier"] is None


def test_binary_events():
    fp = np.array([[0.7, 0.3], [np.nan, np.nan], [0.2, 0.8]])
    p, y = binary_events(fp, 1)
    assert p.tolist() == [0.7, 0.2] and y.tolist() == [0.0, 0.0]
    fp3 = np.array([[0.5, 0.3, 0.2]])
    p, y = binary_events(fp3, 2)
    assert p.tolist() == [0.5, 0.3, 0.2] and y.tolist() == [0.0, 0.0, 1.0]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0.05, 0.2, 0.35, 0.6, 0.9]), st.integers(0, 1)), min_size=1, max_size=40))
def test_murphy_identity(events):
    p = [e[0] for e in events]
    y = [e[1] for e in events]
    m = calibration_table(p, y)["murphy"]
    assert m["reliability"] - m["resolution"] + m["uncertainty"] == pytest.approx(m["brier"], abs=1e-12)
