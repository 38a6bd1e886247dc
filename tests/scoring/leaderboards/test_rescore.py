"""`manage.py rescore`: every score and leaderboard recomputed from the forecasts."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from scoring.models import LeaderboardEntry, Score

pytestmark = pytest.mark.django_db


def _snapshot():
    scores = sorted(
        Score.objects.values_list("question_id", "user_id", "crowd_method", "relative_brier", "brier_mean", "peer"),
        key=repr,
    )
    entries = sorted(
        LeaderboardEntry.objects.values_list(
            "scope_key",
            "user_id",
            "crowd_method",
            "relative_brier_sum",
            "relative_brier_mean_ci_low",
            "rank_relative_brier_sum",
        ),
        key=repr,
    )
    return scores, entries


def test_rescore_rebuilds_scores_and_leaderboards_from_the_forecasts(scored, make_user, series, capsys):
    a, b, c = (make_user(f"zq_rescore_{i}") for i in range(3))
    q1 = scored({a: 0.9, b: 0.4, c: 0.2}, series=series)
    scored({a: 0.3, b: 0.6}, series=series, outcome="no")
    scored({c: 0.8, b: 0.5})  # no series
    good = _snapshot()
    # damage the derived data: a wrong score, a lost question, a stray leaderboard scope
    Score.objects.filter(question=q1, user=a).update(relative_brier=5.0)
    Score.objects.filter(question=q1, user=b).delete()
    LeaderboardEntry.objects.filter(scope_key="global").delete()
    LeaderboardEntry.objects.create(scope_key="question:999999", user=a, questions=1, relative_brier_sum=0, relative_brier_mean=0,
                                    relative_brier_mean_ci_low=0, relative_brier_mean_ci_high=0, participation_mean=1,
                                    baseline_sum=0, peer_sum=0, updated_at=q1.resolved_at)  # fmt: skip
    assert _snapshot() != good
    call_command("rescore")
    captured = capsys.readouterr()
    assert "rescored 3 questions" in captured.out
    assert "scores" in captured.err and "[" in captured.err and "3/3" in captured.err  # the progress bar
    assert _snapshot() == good
    call_command("rescore", "--quiet")
    assert capsys.readouterr().err == ""
    assert _snapshot() == good
