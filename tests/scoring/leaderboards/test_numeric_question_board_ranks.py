"""A numeric or date question's own board ranks by relative CRPS: its relative Brier is 0 (null
mean) for everyone, which would tie them all, so the relative-Brier rank keys rank by the
relative CRPS on a board without a Brier question, the same on every read path. A board with a
Brier question keeps ranking by relative Brier."""

from __future__ import annotations

from datetime import timedelta

import pytest

from forecast_math.continuous import cdf_from_mixture
from scoring.models import LeaderboardEntry
from scoring.selectors import leaderboard_read
from tests.scoring.numeric import T0, forecast, numeric_question, resolve, uniform_cdf

pytestmark = pytest.mark.django_db


def _cdf(centre: float) -> list[float]:
    return cdf_from_mixture([{"centre": centre, "scale": 0.05, "weight": 1.0}], open_lower=False, open_upper=False)


@pytest.fixture
def numeric_board(make_user, django_capture_on_commit_callbacks):
    """Four forecasters on a 0..100 question resolved at 42: near, uniform, far, farther."""
    users = [make_user(f"crps-rank-{i}") for i in range(4)]
    q = numeric_question()
    for user, cdf in zip(users, [_cdf(0.42), uniform_cdf(), _cdf(0.8), _cdf(0.95)], strict=True):
        forecast(user, q, cdf, at=T0 + timedelta(hours=1))
    return resolve(q, 42.0, django_capture_on_commit_callbacks), users


def test_a_numeric_question_board_ranks_by_relative_crps(numeric_board):
    q, users = numeric_board
    rows = {e.user_id: e for e in LeaderboardEntry.objects.filter(scope_key=f"question:{q.pk}", user__isnull=False)}
    assert {e.relative_brier_sum for e in rows.values()} == {0.0}
    by_crps = sorted(rows, key=lambda uid: rows[uid].relative_crps_sum)
    assert by_crps[0] == users[0].pk and by_crps[-1] == users[3].pk
    assert [rows[uid].rank_relative_brier_sum for uid in by_crps] == [1, 2, 3, 4]
    assert [rows[uid].rank_relative_brier_mean for uid in by_crps] == [1, 2, 3, 4]
    # the read paths rank the same way: materialised and windowed
    for extra in ({}, {"resolved_after": "2000-01-01"}):
        for rank_by in ("relative_brier_sum", "relative_brier_mean"):
            body = leaderboard_read(scope="question", question=q, rank_by=rank_by, **extra)
            assert [e["user"]["id"] for e in body["entries"]] == by_crps, (extra, rank_by)
            assert [e["rank"] for e in body["entries"]] == [1, 2, 3, 4]


def test_a_board_with_a_brier_question_keeps_ranking_by_relative_brier(scored, make_user):
    ana, ben = make_user("crps-rank-ana"), make_user("crps-rank-ben")
    q = scored({ana: 0.9, ben: 0.2})
    rows = {e.user_id: e for e in LeaderboardEntry.objects.filter(scope_key=f"question:{q.pk}", user__isnull=False)}
    assert rows[ana.pk].relative_brier_sum < rows[ben.pk].relative_brier_sum
    assert (rows[ana.pk].rank_relative_brier_sum, rows[ben.pk].rank_relative_brier_sum) == (1, 2)
