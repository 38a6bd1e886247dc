"""scoring.md section 7 examples and hand-derived cases (no database)."""

import math

import numpy as np
import pytest

from forecast_math import (
    AGGREGATES,
    ForecastSet,
    QuestionSpec,
    aggregate,
    brier,
    calibration_table,
    crowd_history,
    instant_baseline,
    score_question,
)

from .reference import max_difference, reference_scores

DAY = 86400.0
approx = pytest.approx


def fset(rows, k=2):
    """rows: (user, time, p_yes | vector | "withdraw")."""
    user, time, probs, wd = [], [], [], []
    for u, t, p in rows:
        user.append(u)
        time.append(t)
        if isinstance(p, str):
            probs.append([np.nan] * k)  # rows of withdrawals may hold anything
            wd.append(True)
        else:
            probs.append([p, 1 - p] if np.isscalar(p) else list(p))
            wd.append(False)
    return ForecastSet(
        np.array(user, dtype=np.int64),
        np.array(time, dtype=float),
        np.array(probs, dtype=float).reshape(-1, k),
        np.array(wd, dtype=bool),
    )


def row(table, uid):
    i = int(np.flatnonzero(table.user == uid)[0])
    return {
        f: getattr(table, f)[i]
        for f in ("brier_final", "brier_mean", "relative_brier", "participation", "baseline", "peer", "coverage")
    }


def check_reference(spec, fs):
    assert max_difference(score_question(spec, fs), reference_scores(spec, fs)) <= 1e-9


# ------------------------------------------------------------------ section 7
def test_gj_open_examples():
    assert brier([0.7, 0.3], 0) == approx(0.18)
    assert brier([0.6, 0.1, 0.3], 0) == approx(0.26)


def test_perfect_and_worst():
    assert brier([1.0, 0.0], 0) == 0.0
    assert brier([0.0, 1.0], 0) == 2.0
    assert brier([0.0, 0.0, 1.0], 2) == 0.0
    assert brier([1.0, 0.0, 0.0], 2) == 2.0
    assert brier([0.0, 0.0, 1.0, 0.0], 0, ordered=True) == approx(2 * (1 + 1 + 0) / 3)


def test_ordered_example():
    assert brier([0.25, 0.25, 0.30, 0.20], 1, ordered=True) == approx(0.235)
    # equals 2 * RPS / (K - 1)
    f = np.cumsum([0.25, 0.25, 0.30, 0.20])[:-1]
    o = np.cumsum([0, 1, 0, 0])[:-1]
    assert brier([0.25, 0.25, 0.30, 0.20], 1, ordered=True) == approx(2 * np.sum((f - o) ** 2) / 3)


def test_brier_vectorised_over_rows():
    p = np.array([[0.7, 0.3], [0.4, 0.6]])
    assert brier(p, 0) == approx([0.18, 0.72])
    assert brier(p, np.array([0, 1])) == approx([0.18, 0.32])


@pytest.mark.parametrize("p,expected", [(0.9, 84.79969066), (0.1, -232.19280949)])
def test_baseline_examples(p, expected):
    assert instant_baseline(p, 2) == approx(expected, abs=1e-8)
    spec = QuestionSpec(2, False, 0.0, 1000.0, None, 0)
    qs = score_question(spec, fset([(1, 0.0, p)]))
    assert qs.users.baseline[0] == approx(expected, abs=1e-8)
    assert qs.users.coverage[0] == 1.0


def test_sklearn_one_sided_vs_two_sided():
    y = np.array([0, 1, 1, 0])
    p = np.array([0.1, 0.9, 0.8, 0.4])
    assert np.mean((p - y) ** 2) == approx(0.055)
    two_sided = brier(np.stack([p, 1 - p], axis=1), np.where(y == 1, 0, 1))
    assert two_sided.mean() == approx(0.11)
    assert calibration_table(p, y)["murphy"]["brier"] == approx(0.055)


def test_murphy_example():
    p = [0.2] * 4 + [0.6] * 4 + [0.9] * 2
    y = [1, 0, 0, 0] + [1, 1, 1, 0] + [1, 1]
    m = calibration_table(p, y)["murphy"]
    assert m["brier"] == approx(0.162)
    assert m["reliability"] == approx(0.012)
    assert m["resolution"] == approx(0.09)
    assert m["uncertainty"] == approx(0.24)
    assert m["reliability"] - m["resolution"] + m["uncertainty"] == approx(m["brier"], abs=1e-15)


def test_extremized_example():
    out = aggregate(np.array([[0.6, 0.4], [0.7, 0.3], [0.8, 0.2]]), None, "extremized_log_odds", a=1.0)
    assert out[0] == approx(0.70676, abs=5e-6)
    assert out.sum() == approx(1.0)


# ------------------------------------------------------------------ aggregates
def test_median_mean_aggregates():
    p = np.array([[0.2, 0.8], [0.6, 0.4], [0.7, 0.3]])
    assert aggregate(p, None, "median") == approx([0.6, 0.4])
    assert aggregate(p, None, "mean") == approx([0.5, 0.5])
    multi = np.array([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4], [0.2, 0.2, 0.6]])
    med = np.array([0.25, 0.25, 0.5])
    assert aggregate(multi, None, "median") == approx(med / med.sum())


def test_recency_weighted_median_hand_case():
    # N = 4, weights exp(sqrt(i) - 2): .368, .557, .765, 1 (oldest first); half = 1.345
    p = np.array([[0.1, 0.9], [0.2, 0.8], [0.7, 0.3], [0.8, 0.2]])
    made = np.array([1.0, 2.0, 3.0, 4.0])
    assert aggregate(p, made, "recency_weighted_median") == approx([0.7, 0.3])
    assert aggregate(p, made, "median") == approx([0.45, 0.55])
    # input order does not matter, only the times
    perm = [2, 0, 3, 1]
    assert aggregate(p[perm], made[perm], "recency_weighted_median") == approx([0.7, 0.3])
    # N <= 2: equal weights -> the ordinary median
    assert aggregate(p[:2], made[:2], "recency_weighted_median") == approx([0.15, 0.85])


def test_extremized_multi():
    p = np.array([[0.5, 0.3, 0.2], [0.2, 0.3, 0.5]])
    a = math.sqrt(3)
    raw = np.exp(a * np.log(p).mean(axis=0))
    assert aggregate(p, None, "extremized_log_odds") == approx(raw / raw.sum())


# ------------------------------------------------------------------ hand-derived questions
def test_continuous_late_joiner():
    spec = QuestionSpec(2, False, 0.0, 100.0, None, 0)
    fs = fset([(1, 0.0, 0.7), (2, 50.0, 0.4)])
    qs = score_question(spec, fs)
    ana, ben = row(qs.users, 1), row(qs.users, 2)
    # crowd median Brier: .18 on [0,50), median(.18,.72)=.45 on [50,100)
    assert ana["brier_final"] == approx(0.18) and ana["brier_mean"] == approx(0.18)
    assert ana["participation"] == 1.0
    assert ana["relative_brier"] == approx((0.18 - 0.45) * 50 / 100)
    assert ben["brier_mean"] == approx(0.72)  # over active time only
    assert ben["participation"] == 0.5
    assert ben["relative_brier"] == approx((0.72 - 0.45) * 50 / 100)
    assert ana["baseline"] == approx(100 * math.log2(1.4))
    assert ben["baseline"] == approx(0.5 * 100 * math.log2(0.8))
    assert ana["peer"] == approx(0.5 * 100 * (math.log(0.7) - math.log(0.4)))
    assert ben["peer"] == approx(-ana["peer"])
    assert ben["coverage"] == 0.5
    med = qs.crowd["median"]
    assert med.brier_mean == approx((0.18 * 50 + 2 * 0.45**2 * 50) / 100)
    assert med.brier_final == approx(2 * 0.45**2)
    assert med.relative_brier == approx((2 * 0.45**2 - 0.45) * 50 / 100)
    assert med.peer == approx(0.5 * 100 * (math.log(0.55) - (math.log(0.7) + math.log(0.4)) / 2))
    assert med.participation == 1.0
    assert set(qs.crowd) == set(AGGREGATES)
    check_reference(spec, fs)


def test_withdrawal():
    spec = QuestionSpec(2, False, 0.0, 100.0, None, 0)
    fs = fset([(1, 0.0, 0.7), (1, 40.0, "withdraw"), (2, 20.0, 0.4)])
    qs = score_question(spec, fs)
    ana, ben = row(qs.users, 1), row(qs.users, 2)
    assert math.isnan(ana["brier_final"])
    assert ana["brier_mean"] == approx(0.18)
    assert ana["participation"] == approx(0.4)
    assert ana["relative_brier"] == approx((0.18 - 0.45) * 20 / 100)
    assert ben["relative_brier"] == approx((0.72 - 0.45) * 20 / 100)
    assert ben["participation"] == approx(0.8)
    assert np.isnan(qs.users.final_probs[0]).all()
    check_reference(spec, fs)


def test_early_close_known_at():
    spec = QuestionSpec(2, False, 0.0, 100.0, 50.0, 0)
    fs = fset([(1, 0.0, 0.7), (2, 25.0, 0.4), (3, 60.0, 0.9)])
    qs = score_question(spec, fs)
    ana, ben, cid = row(qs.users, 1), row(qs.users, 2), row(qs.users, 3)
    assert ana["participation"] == 1.0
    assert ana["relative_brier"] == approx((0.18 - 0.45) * 25 / 50)
    assert ben["participation"] == 0.5
    # baseline truncated: averaged over the scheduled window, 0 after the early close
    assert ana["baseline"] == approx(0.5 * 100 * math.log2(1.4))
    assert ana["coverage"] == 0.5 and ben["coverage"] == 0.25
    # the forecast after the early close is ignored
    assert math.isnan(cid["brier_final"]) and math.isnan(cid["brier_mean"])
    assert cid["participation"] == 0 and cid["relative_brier"] == 0 and cid["peer"] == 0
    check_reference(spec, fs)


def test_daily_mode():
    t0 = 1704110400.0  # 2024-01-01T12:00Z
    d = 1704067200.0  # 2024-01-01T00:00Z
    spec = QuestionSpec(2, False, t0, t0 + 3 * DAY, None, 0, mode="daily")  # days Jan 1..4
    fs = fset(
        [
            (1, d + 18 * 3600, 0.7),  # ana, Jan 1 evening: counts for the whole of Jan 1
            (2, d + 2 * DAY + 6 * 3600, 0.4),  # ben from Jan 3
            (3, d + DAY + 10 * 3600, 0.9),  # cid forecasts and withdraws on Jan 2
            (3, d + DAY + 20 * 3600, "withdraw"),
            (4, d + DAY + 9 * 3600, 0.2),  # dan revises on Jan 2: the last one of the day counts
            (4, d + DAY + 15 * 3600, 0.6),
        ]
    )
    qs = score_question(spec, fs)
    assert qs.window_length == 4 and qs.scheduled_length == 4
    ana, ben, cid, dan = (row(qs.users, u) for u in (1, 2, 3, 4))
    # crowd median Brier per day: .18, median(.18,.32)=.25, .32, .32
    assert ana["relative_brier"] == approx((0 + (0.18 - 0.25) + 2 * (0.18 - 0.32)) / 4)
    assert ana["participation"] == 1.0
    assert dan["brier_mean"] == approx(0.32)
    assert dan["relative_brier"] == approx((0.32 - 0.25) / 4)
    assert dan["participation"] == 0.75
    assert ben["relative_brier"] == approx(2 * (0.72 - 0.32) / 4)
    assert ben["coverage"] == 0.5
    assert cid["participation"] == 0 and math.isnan(cid["brier_mean"])
    check_reference(spec, fs)


def test_daily_mode_early_close_truncates_baseline():
    t0 = 1704067200.0  # midnight
    spec = QuestionSpec(2, False, t0, t0 + 10 * DAY, t0 + 4.5 * DAY, 0, mode="daily")
    fs = fset([(1, t0 + 3600, 0.9)])
    qs = score_question(spec, fs)
    assert qs.window_length == 5 and qs.scheduled_length == 10
    assert qs.users.participation[0] == 1.0
    assert qs.users.coverage[0] == 0.5
    assert qs.users.baseline[0] == approx(0.5 * 84.79969066, abs=1e-7)
    check_reference(spec, fs)


def test_ordered_single_forecaster():
    spec = QuestionSpec(3, True, 0.0, 10.0, None, 1)
    fs = fset([(9, 2.0, (0.2, 0.5, 0.3))], k=3)
    qs = score_question(spec, fs)
    u = row(qs.users, 9)
    assert u["brier_final"] == approx(0.13)  # F=(.2,.7), O=(0,1): 2*(.04+.09)/2
    assert u["relative_brier"] == 0.0
    assert u["peer"] == 0.0
    assert u["participation"] == approx(0.8)
    assert u["baseline"] == approx(0.8 * 100 * math.log(1.5) / math.log(3))
    for m in ("median", "mean", "recency_weighted_median"):
        assert qs.crowd[m].brier_final == approx(0.13)
        assert qs.crowd[m].relative_brier == approx(0.0, abs=1e-15)
        assert qs.crowd[m].peer == approx(0.0, abs=1e-12)
    check_reference(spec, fs)


def test_forecast_before_open():
    spec = QuestionSpec(2, False, 100.0, 200.0, None, 1)
    fs = fset([(1, 20.0, 0.3), (1, 50.0, 0.2), (2, 150.0, 0.5)])
    qs = score_question(spec, fs)
    u = row(qs.users, 1)
    # the latest pre-open forecast (0.2 yes -> 0.8 on the true "no") stands from T0
    assert u["participation"] == 1.0
    assert u["brier_mean"] == approx(0.08)
    assert u["relative_brier"] == approx((0.08 - (0.08 + 0.5) / 2) * 50 / 100)
    check_reference(spec, fs)


def test_no_forecasts_and_unknown_late_user():
    spec = QuestionSpec(2, False, 0.0, 10.0, 5.0, 0)
    qs = score_question(spec, ForecastSet.empty(2))
    assert len(qs.users) == 0
    assert math.isnan(qs.crowd["median"].brier_final)
    assert qs.crowd["median"].participation == 0.0


def test_crowd_history_step_function():
    spec = QuestionSpec(2, False, 0.0, 100.0, None, 0)
    fs = fset([(1, -5.0, 0.8), (2, 10.0, 0.4), (1, 30.0, "withdraw"), (3, 120.0, 0.5)])
    times, probs = crowd_history(spec, fs, "median")
    assert times.tolist() == [0.0, 10.0, 30.0]
    assert probs == approx(np.array([[0.8, 0.2], [0.6, 0.4], [0.4, 0.6]]))
    times, probs = crowd_history(2, fs, "mean")
    assert times.tolist() == [-5.0, 10.0, 30.0, 120.0]
    assert probs[-1] == approx([0.45, 0.55])
    spec2 = QuestionSpec(2, False, 0.0, 100.0, None, 0)
    fs2 = fset([(1, 0.0, 0.8), (1, 10.0, "withdraw"), (2, 20.0, 0.3)])
    times, probs = crowd_history(spec2, fs2)
    assert np.isnan(probs[1]).all() and probs[2] == approx([0.3, 0.7])


def test_same_instant_tie_break_with_seq():
    spec = QuestionSpec(2, False, 0.0, 10.0, None, 0)
    base = fset([(1, 5.0, 0.9), (1, 5.0, 0.2)])
    base.seq = np.array([2, 1])  # the 0.9 one is the later action
    qs = score_question(spec, base)
    assert qs.users.final_probs[0] == approx([0.9, 0.1])
    base.seq = np.array([1, 2])
    qs = score_question(spec, base)
    assert qs.users.final_probs[0] == approx([0.2, 0.8])
