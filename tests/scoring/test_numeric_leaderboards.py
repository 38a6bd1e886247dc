"""Leaderboards over a mix of binary and numeric questions (issue 15): relative Brier and relative
CRPS are kept apart (each over its own questions, never added), baseline and peer add every
question, `questions` counts all of them; a forecaster with only numeric questions still has an
entry (relative_brier_sum 0, relative_brier_mean null and ranked last on it); the crowd rows
likewise; every read path gives the same figures."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pytest

from forecast_math import build_leaderboard
from forecast_math.continuous import cdf_from_mixture
from scoring.models import LeaderboardEntry, Score
from scoring.selectors import leaderboard_read
from tests.scoring.numeric import AFTER, CLOSE, T0, forecast, numeric_question, resolve, uniform_cdf

pytestmark = pytest.mark.django_db

CENTRED = cdf_from_mixture([{"centre": 0.42, "scale": 0.05, "weight": 1.0}], open_lower=False, open_upper=False)
OFF = cdf_from_mixture([{"centre": 0.8, "scale": 0.05, "weight": 1.0}], open_lower=False, open_upper=False)


@pytest.fixture
def mixed(make_user, django_capture_on_commit_callbacks):
    """A series of two binary and two numeric questions: ana and ben forecast on all four, cy
    only on the numeric ones (so cy has no relative Brier at all)."""
    from forecasts.services import forecast_submit
    from questions.services import question_create, question_resolve, series_create

    series = series_create(slug="mixed", title="Binary and numeric")
    ana, ben, cy = make_user("mix-ana"), make_user("mix-ben"), make_user("mix-cy")
    binary = []
    for p_ana, p_ben in ((0.9, 0.4), (0.6, 0.2)):
        q = question_create(type="binary", title="Will it?", open_time=T0, close_time=CLOSE, series=series)
        forecast_submit(user=ana, question=q, payload={"probability": p_ana}, at=T0)
        forecast_submit(user=ben, question=q, payload={"probability": p_ben}, at=T0)
        with django_capture_on_commit_callbacks(execute=True):
            question_resolve(question=q, outcome="yes", by=None, at=AFTER)
        binary.append(q)
    numeric = []
    for outcome in (42.0, 60.0):
        q = numeric_question(series=series)
        forecast(ana, q, CENTRED)
        forecast(ben, q, uniform_cdf())
        forecast(cy, q, OFF, at=T0 + timedelta(days=5))
        numeric.append(resolve(q, outcome, django_capture_on_commit_callbacks))
    return {"series": series, "users": (ana, ben, cy), "binary": binary, "numeric": numeric}


def _scores(user, questions) -> list[Score]:
    return [Score.objects.get(question=q, user=user) for q in questions]


def test_relative_brier_and_relative_crps_are_kept_apart(mixed):
    ana, ben, cy = mixed["users"]
    key = f"series:{mixed['series'].pk}"
    for user in (ana, ben):
        e = LeaderboardEntry.objects.get(scope_key=key, user=user)
        sb, sn = _scores(user, mixed["binary"]), _scores(user, mixed["numeric"])
        assert e.questions == 4 and e.crps_questions == 2
        # relative Brier: the binary questions only
        assert e.relative_brier_sum == pytest.approx(sum(s.relative_brier for s in sb))
        assert e.relative_brier_mean == pytest.approx(sum(s.relative_brier for s in sb) / 2)
        assert e.brier_mean == pytest.approx(sum(s.brier_mean for s in sb) / 2)
        # relative CRPS: the numeric questions only
        assert e.relative_crps_sum == pytest.approx(sum(s.relative_crps for s in sn))
        assert e.relative_crps_mean == pytest.approx(sum(s.relative_crps for s in sn) / 2)
        # baseline and peer: every question (log scores on one scale)
        assert e.baseline_sum == pytest.approx(sum(s.baseline for s in sb + sn))
        assert e.peer_sum == pytest.approx(sum(s.peer for s in sb + sn))
        assert e.participation_mean == pytest.approx(1.0)
    # the bootstrap interval of the mean relative Brier is over the binary questions only
    e = LeaderboardEntry.objects.get(scope_key=key, user=ana)
    values = sorted(s.relative_brier for s in _scores(ana, mixed["binary"]))
    assert values[0] <= e.relative_brier_mean_ci_low <= e.relative_brier_mean_ci_high <= values[1]


def test_a_forecaster_with_only_numeric_questions_has_an_entry(mixed):
    ana, ben, cy = mixed["users"]
    key = f"series:{mixed['series'].pk}"
    e = LeaderboardEntry.objects.get(scope_key=key, user=cy)
    sn = _scores(cy, mixed["numeric"])
    assert (e.questions, e.crps_questions) == (2, 2)
    assert e.relative_brier_sum == 0.0
    assert e.relative_brier_mean is None and e.relative_brier_mean_ci_low is None and e.brier_mean is None
    assert e.relative_crps_sum == pytest.approx(sum(s.relative_crps for s in sn)) and e.relative_crps_sum > 0
    assert e.participation_mean == pytest.approx(0.5)  # from day 5 of 10
    # the relative-Brier rank keys ignore the numeric questions: no Brier question ranks last
    assert e.rank_relative_brier_mean == 3 and e.rank_brier_mean == 3
    body = leaderboard_read(scope="series", series=mixed["series"], rank_by="relative_brier_mean")
    assert [x["user"]["id"] for x in body["entries"]][-1] == cy.pk
    last = body["entries"][-1]
    assert last["relative_brier_mean"] is None and last["relative_brier_mean_ci"] is None
    assert last["relative_crps_mean"] == pytest.approx(e.relative_crps_mean)
    assert last["crps_questions"] == 2


def test_a_numeric_question_board_and_the_global_board(mixed):
    ana, ben, cy = mixed["users"]
    q = mixed["numeric"][0]
    rows = {e.user_id: e for e in LeaderboardEntry.objects.filter(scope_key=f"question:{q.pk}", user__isnull=False)}
    assert set(rows) == {ana.pk, ben.pk, cy.pk}
    for uid, e in rows.items():
        s = Score.objects.get(question=q, user_id=uid)
        assert (e.questions, e.crps_questions) == (1, 1)
        assert e.relative_crps_sum == pytest.approx(s.relative_crps) and e.relative_crps_mean == pytest.approx(
            s.relative_crps
        )
        assert e.relative_brier_sum == 0.0 and e.relative_brier_mean is None
        assert e.baseline_sum == pytest.approx(s.baseline) and e.peer_sum == pytest.approx(s.peer)
    g = LeaderboardEntry.objects.get(scope_key="global", user=ana)
    assert (g.questions, g.crps_questions) == (4, 2)


def test_crowd_rows_keep_the_families_apart(mixed):
    key = f"series:{mixed['series'].pk}"
    crowd = {e.crowd_method: e for e in LeaderboardEntry.objects.filter(scope_key=key, user__isnull=True)}
    median = crowd["median"]
    assert (median.questions, median.crps_questions) == (4, 2)
    scores = Score.objects.filter(question__series=mixed["series"], crowd_method="median")
    assert median.relative_brier_sum == pytest.approx(sum(s.relative_brier or 0 for s in scores))
    assert median.relative_crps_sum == pytest.approx(sum(s.relative_crps or 0 for s in scores))
    assert median.baseline_sum == pytest.approx(sum(s.baseline for s in scores))
    # the extremized crowd exists for binary and multiple-choice questions only
    extremized = crowd["extremized_log_odds"]
    assert (extremized.questions, extremized.crps_questions) == (2, 0)
    assert extremized.relative_crps_sum == 0.0 and extremized.relative_crps_mean is None


def test_every_read_path_gives_the_same_figures(mixed):
    series = mixed["series"]
    stored = leaderboard_read(scope="series", series=series)
    reranked = leaderboard_read(scope="series", series=series, min_questions=2)
    windowed = leaderboard_read(scope="series", series=series, resolved_before="2100-01-01")
    fields = ("questions", "crps_questions", "relative_crps_sum", "relative_crps_mean", "relative_brier_sum",
              "relative_brier_mean", "relative_brier_mean_ci", "brier_mean", "baseline_sum", "peer_sum")  # fmt: skip

    def figures(body):
        return {e["user"]["id"]: tuple(e[f] for f in fields) for e in body["entries"]}

    assert figures(reranked) == figures(stored)
    _close(figures(windowed), figures(stored))
    assert stored["crowd"]["crps_questions"] == windowed["crowd"]["crps_questions"] == 2
    assert windowed["crowd"]["relative_crps_sum"] == pytest.approx(stored["crowd"]["relative_crps_sum"])


def _close(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        for x, y in zip(a[k], b[k], strict=True):
            if x is None or y is None:
                assert x is y
            else:
                assert x == pytest.approx(y)


def test_build_leaderboard_keeps_the_families_apart():
    """forecast_math.build_leaderboard alone: NaN relative Brier on a numeric row, NaN relative
    CRPS on a binary one; the Brier keys over the binary rows, the CRPS ones over the numeric."""
    nan = math.nan
    user = [1, 1, 1, 2, 3, 3]
    rel = [-0.2, nan, 0.1, nan, 0.3, 0.1]
    bm = [0.1, nan, 0.5, nan, 0.6, 0.4]
    part = [1.0, 0.5, 1.0, 1.0, 1.0, 1.0]
    base = [10.0, 20.0, -5.0, 7.0, 1.0, 2.0]
    peer = [1.0, -2.0, 3.0, 4.0, 0.0, 0.0]
    crps = [nan, -0.05, nan, 0.02, nan, nan]
    board = {e["user"]: e for e in build_leaderboard(user, rel, bm, part, base, peer, crps)}
    one = board[1]
    assert one["n_questions"] == 3 and one["n_crps_questions"] == 1
    assert one["sum_relative_brier"] == pytest.approx(-0.1) and one["mean_relative_brier"] == pytest.approx(-0.05)
    assert one["mean_brier"] == pytest.approx(0.3)
    assert one["sum_relative_crps"] == pytest.approx(-0.05) and one["mean_relative_crps"] == pytest.approx(-0.05)
    assert one["sum_baseline"] == pytest.approx(25.0) and one["sum_peer"] == pytest.approx(2.0)
    assert one["mean_participation"] == pytest.approx(2.5 / 3)
    two = board[2]  # numeric only
    assert two["sum_relative_brier"] == 0.0 and math.isnan(two["mean_relative_brier"])
    assert two["n_crps_questions"] == 1 and two["sum_relative_crps"] == pytest.approx(0.02)
    three = board[3]  # binary only
    assert three["n_crps_questions"] == 0 and three["sum_relative_crps"] == 0.0
    assert math.isnan(three["mean_relative_crps"])
    # ranked by the mean relative Brier: the numeric-only forecaster last
    ranked = build_leaderboard(user, rel, bm, part, base, peer, crps, rank_by="mean_relative_brier")
    assert [e["user"] for e in ranked] == [1, 3, 2] and [e["rank"] for e in ranked] == [1, 2, 3]
    # without the CRPS column (binary and multiple-choice boards) nothing changes for the Brier keys
    plain = {e["user"]: e for e in build_leaderboard(user, rel, bm, part, base, peer)}
    for u in board:
        for k in ("sum_relative_brier", "mean_brier", "sum_baseline", "mean_relative_brier_ci"):
            assert np.allclose(plain[u][k], board[u][k], equal_nan=True)
        assert plain[u]["n_crps_questions"] == 0
