"""`manage.py rescore --processes 2`: the global board's bootstrap shared between the command's
process and a helper process gives, bit for bit, the board of one process (every row of every
scope, and the scores), on a world with enough forecasters that the samples are actually split."""

from __future__ import annotations

import math
import os
import random
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from accounts.models import User
from forecasts.models import Forecast
from questions.services import question_create, question_resolve, series_create
from scoring.leaderboards import ENTRY_FIELDS
from scoring.management.commands import rescore
from scoring.models import LeaderboardEntry, Score
from tests.support.signals import rescoring_paused

T0 = datetime(2024, 3, 1, tzinfo=UTC)
N_USERS = 240
N_QUESTIONS = 14


def _world(seed: int = 5) -> None:
    """N_QUESTIONS resolved questions (binary and multiple choice, half in a series), each
    answered by a random half of N_USERS forecasters, one to three forecasts each: most
    forecasters have several questions (their intervals are bootstrapped), some one."""
    rng = random.Random(seed)
    users = User.objects.bulk_create(
        [User(username=f"split{i:04d}", display_name=f"Split {i}", password="!") for i in range(N_USERS)]
    )
    series = series_create(slug="split", title="Split")
    with rescoring_paused():
        for k in range(N_QUESTIONS):
            mc = k % 4 == 3
            q = question_create(
                type="multiple_choice" if mc else "binary", options=["A", "B", "C"] if mc else None,
                title=f"Split {k}", open_time=T0, close_time=T0 + timedelta(days=30),
                series=series if k % 2 else None,
            )  # fmt: skip
            rows = []
            for u in rng.sample(users, N_USERS // 2):
                for _ in range(rng.randint(1, 3)):
                    if mc:
                        a, b = rng.uniform(0.05, 0.6), rng.uniform(0.05, 0.3)
                        p = [round(a, 3), round(b, 3), round(1 - round(a, 3) - round(b, 3), 3)]
                    else:
                        yes = round(rng.uniform(0.02, 0.98), 3)
                        p = [yes, round(1 - yes, 3)]
                    at = T0 + timedelta(hours=rng.uniform(0, 600))
                    rows.append(Forecast(question=q, user=u, created_at=at, probabilities=p, p_min=min(p),
                                         p_max=max(p), p_sum=sum(p)))  # fmt: skip
            Forecast.objects.bulk_create(rows)
            question_resolve(
                question=q, outcome="B" if mc else rng.choice(["yes", "no"]), by=None, at=T0 + timedelta(days=31)
            )


def _boards() -> list[tuple]:
    names = [n for n in ENTRY_FIELDS if n != "updated_at"]
    return sorted(LeaderboardEntry.objects.values_list(*names), key=repr)


def _scores() -> list[tuple]:
    return sorted(
        Score.objects.values_list("question_id", "user_id", "crowd_method", "relative_brier", "brier_mean", "peer"),
        key=repr,
    )


@pytest.mark.django_db(transaction=True)
def test_rescore_in_two_processes_writes_the_one_process_boards(monkeypatch):
    _world()
    calls: list[tuple[int, dict]] = []
    shared = rescore.SharedIntervals.__call__

    def recording(self, samples, *, replicates, seed):
        out = shared(self, samples, replicates=replicates, seed=seed)
        calls.append((len(samples), dict(self.peaks)))
        return out

    monkeypatch.setattr(rescore.SharedIntervals, "__call__", recording)
    call_command("rescore", "--quiet", "--processes", "2")
    two = _boards(), _scores()
    # the global board's people: one call with both families' samples, shared with a helper process
    # (its pid recorded), then the crowd's
    assert calls and calls[0][0] > 300
    assert calls[0][1] and os.getpid() not in calls[0][1]
    glob = [r for r in two[0] if r[0] == "global"]
    ci_low = ENTRY_FIELDS.index("relative_brier_mean_ci_low")
    ci_high = ENTRY_FIELDS.index("relative_brier_mean_ci_high")
    spread = [r for r in glob if r[ci_low] is not None and r[ci_low] < r[ci_high]]
    assert len(spread) > 150  # intervals really bootstrapped, not one-question degenerate ones
    assert {r[0] for r in two[0]} >= {"global", f"series:{_series_id()}"}

    LeaderboardEntry.objects.all().delete()  # nothing of the first run can survive into the second
    Score.objects.all().delete()
    call_command("rescore", "--quiet")  # one process: no pool, no helper
    one = _boards(), _scores()
    assert one[0] == two[0]  # repr-sorted tuples: equal floats bit for bit (NaN, None alike)
    assert one[1] == two[1]
    assert all(not (isinstance(v, float) and math.isnan(v)) for row in one[0] for v in row)


def _series_id() -> int:
    from questions.models import Series

    return Series.objects.get(slug="split").pk
