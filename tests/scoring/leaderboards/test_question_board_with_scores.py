"""The scoring job writes the question's own board with its scores, in the same transaction: the
same rows as a recompute from the stored scores, dropped when the question is no longer resolved,
and the follow-up recompute (series, global) leaves it alone."""

from __future__ import annotations

import pytest

from questions.services import question_unresolve
from scoring.cache import scope_key
from scoring.leaderboards import ENTRY_FIELDS, leaderboards_recompute
from scoring.models import LeaderboardEntry
from scoring.services import question_scores_write, questions_scores_write
from tests.support.signals import rescoring_paused

pytestmark = pytest.mark.django_db

_COMPARED = [f for f in ENTRY_FIELDS if f != "updated_at"]


def _board(key: str) -> list[tuple]:
    return sorted(LeaderboardEntry.objects.filter(scope_key=key).values_list(*_COMPARED), key=repr)


def test_the_scoring_job_writes_the_question_board_a_recompute_would(scored, make_user, series):
    users = [make_user(f"zq_qb_{i}") for i in range(6)]
    q = scored({u: 0.15 + 0.13 * i for i, u in enumerate(users)}, series=series)
    scored({u: 0.5 for u in users[:3]}, series=series, outcome="no")
    key = scope_key("question", q.pk)
    LeaderboardEntry.objects.filter(scope_key=key).delete()
    question_scores_write(question_id=q.pk)
    written = _board(key)
    assert len(written) == len(users) + 4  # the people and the crowd aggregates
    assert {r[_COMPARED.index("rank_relative_brier_sum")] for r in written if r[1] is not None} != {None}
    leaderboards_recompute(question_id=q.pk)  # from the stored Score rows
    assert _board(key) == written
    questions_scores_write(question_ids=[q.pk])  # the chunk job: the same rows again
    assert _board(key) == written


def test_the_follow_up_recompute_leaves_the_question_board_and_rebuilds_the_others(scored, make_user, series):
    users = [make_user(f"zq_qb2_{i}") for i in range(3)]
    q = scored({u: 0.2 + 0.3 * i for i, u in enumerate(users)}, series=series)
    LeaderboardEntry.objects.filter(scope_key="global").delete()
    marker = LeaderboardEntry.objects.filter(scope_key=scope_key("question", q.pk))
    marker.update(questions=99)  # not what a recompute would write
    leaderboards_recompute(question_id=q.pk, question_board=False)
    assert set(marker.values_list("questions", flat=True)) == {99}
    assert LeaderboardEntry.objects.filter(scope_key="global").count() == len(users) + 4


def test_a_question_no_longer_resolved_loses_its_board_with_its_scores(scored, make_user):
    users = [make_user(f"zq_qb3_{i}") for i in range(3)]
    q = scored({u: 0.3 + 0.2 * i for i, u in enumerate(users)})
    key = scope_key("question", q.pk)
    assert LeaderboardEntry.objects.filter(scope_key=key).exists()
    with rescoring_paused():
        question_unresolve(question=q, by=None)
    assert question_scores_write(question_id=q.pk) == 0
    assert not LeaderboardEntry.objects.filter(scope_key=key).exists()
