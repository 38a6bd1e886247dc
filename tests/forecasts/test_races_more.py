"""More races on PostgreSQL with real row locks: submissions around the close time and against an
early resolution, double resolution, resolution against un-resolution.

The promises: nothing accepted at or after the close is stored or scored, every acknowledged
forecast is stored, and the final state (and its scores) is that of the last committed action."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from config.exceptions import Conflict
from forecasts.models import Forecast
from forecasts.services import forecast_submit
from questions.models import Question, ResolutionEvent
from questions.services import question_create, question_resolve, question_unresolve
from scoring.models import Score
from scoring.services import question_scores_write
from tests.support.workers import wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


def _run(fns, timeout: float = 60) -> list:
    """Run the callables in threads released together; returns their results or exceptions."""
    barrier = threading.Barrier(len(fns))
    results: list = [None] * len(fns)

    def run(i, fn):
        try:
            barrier.wait(timeout=10)
            results[i] = fn()
        except BaseException as e:
            results[i] = e
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
        assert not t.is_alive(), "a racing thread hung"
    return results


def _submit_until_refused(user, q, acks: list, refusals: list, lock, now=lambda: datetime.now(UTC)):
    """Submit forecasts until one is refused; every acknowledged one is recorded."""
    n = 0
    give_up = time.monotonic() + 60  # a safety net only: the loop ends with the refusal
    while time.monotonic() < give_up:
        n += 1
        p = round(0.05 + (n % 90) / 100, 2)
        try:
            f = forecast_submit(user=user, question=q, payload={"probability": p})
        except Conflict as e:
            with lock:
                refusals.append((user.pk, e.code, now()))
            return
        with lock:
            acks.append((f.pk, user.pk, f.created_at, p))
    raise AssertionError(f"user {user.pk} was never refused")


def _acks_per_user(acks: list, lock) -> dict[int, int]:
    with lock:
        return dict(Counter(uid for _, uid, _, _ in acks))


class SteppedClock:
    """django.utils.timezone.now for a race with the close time: it runs a microsecond per call
    from `start` until the test calls `pass_close()`, then from `close` on (the first call after
    is exactly the close). The close passes when the test chooses, while submissions are running,
    and not when the wall clock gets there."""

    def __init__(self, start: datetime, close: datetime):
        self.start, self.close = start, close
        self.ticks = 0
        self.closed_at_tick: int | None = None
        self.lock = threading.Lock()

    def now(self) -> datetime:
        with self.lock:
            self.ticks += 1
            if self.closed_at_tick is None:
                return self.start + timedelta(microseconds=self.ticks)
            return self.close + timedelta(microseconds=self.ticks - self.closed_at_tick)

    def pass_close(self) -> None:
        with self.lock:
            self.closed_at_tick = self.ticks + 1


def _check_acknowledged(q, acks):
    stored = {f.pk: (f.user_id, f.created_at) for f in Forecast.objects.filter(question=q)}
    assert set(stored) == {a[0] for a in acks}, "stored forecasts are exactly the acknowledged ones"
    return stored


def test_submissions_racing_the_close_time_are_accepted_only_before_it_and_only_those_are_scored(
    make_user, staff, monkeypatch
):
    users = [make_user(f"closer{i}") for i in range(8)]
    start = datetime.now(UTC).replace(microsecond=0)
    close = start + timedelta(hours=1)
    q = question_create(
        type="binary", title="Closes while they submit", open_time=start - timedelta(days=1), close_time=close
    )
    clock = SteppedClock(start, close)
    monkeypatch.setattr(timezone, "now", clock.now)  # what the services read "now" from, under the lock
    acks: list = []
    refusals: list = []
    lock = threading.Lock()

    def everyone_has_two():
        per_user = _acks_per_user(acks, lock)
        return len(per_user) == len(users) and min(per_user.values()) >= 2

    def close_while_submitting():
        # The close passes once every user has had two forecasts acknowledged: submissions race it.
        wait_for(everyone_has_two, message="two acknowledged forecasts per user")
        clock.pass_close()

    fns = [lambda u=u: _submit_until_refused(u, q, acks, refusals, lock, now=clock.now) for u in users]
    results = _run([*fns, close_while_submitting])
    assert not [r for r in results if isinstance(r, BaseException)], results
    stored = _check_acknowledged(q, acks)
    assert len(acks) >= 2 * len(users), "submissions really raced"
    assert all(created < close for _, created in stored.values()), "nothing at or after the close"
    assert {code for _, code, _ in refusals} == {"closed"} and len(refusals) == len(users)
    assert all(at >= close for _, _, at in refusals)

    question_resolve(question=q, outcome="yes", by=staff)
    question_scores_write(question_id=q.pk)
    people = {s.user_id: s for s in Score.objects.filter(question=q, user__isnull=False)}
    assert set(people) == {u.pk for u in users}
    # Each user's final standing forecast is their last acknowledged one.
    last = {}
    for _, uid, created, p in sorted(acks, key=lambda a: (a[2], a[0])):
        last[uid] = p
    for uid, s in people.items():
        assert s.final_probabilities == pytest.approx([last[uid], 1 - last[uid]])


def test_submissions_racing_an_early_resolution_are_scored_only_if_they_committed_first(make_user, staff):
    now = datetime.now(UTC)
    q = question_create(
        type="binary", title="Resolved early", open_time=now - timedelta(days=1), close_time=now + timedelta(days=5)
    )
    users = [make_user(f"early{i}") for i in range(6)]
    acks: list = []
    refusals: list = []
    lock = threading.Lock()

    def resolver():
        # Resolve once every user has had a forecast acknowledged, while they keep submitting.
        wait_for(lambda: len(_acks_per_user(acks, lock)) == len(users), message="every user to be submitting")
        return question_resolve(question=q, outcome="no", by=staff)

    fns = [lambda u=u: _submit_until_refused(u, q, acks, refusals, lock) for u in users]
    results = _run([*fns, resolver])
    assert not [r for r in results if isinstance(r, BaseException)], results
    stored = _check_acknowledged(q, acks)
    q.refresh_from_db()
    assert q.state == Question.State.RESOLVED and q.known_at is not None
    assert all(created <= q.known_at for _, created in stored.values())
    assert {code for _, code, _ in refusals} == {"resolved"} and len(refusals) == len(users)
    question_scores_write(question_id=q.pk)
    scored_users = set(Score.objects.filter(question=q, user__isnull=False).values_list("user_id", flat=True))
    assert scored_users == {uid for _, uid, _, _ in acks}


def test_double_resolution_with_the_same_outcome_records_one_resolution(make_user):
    now = datetime.now(UTC)
    q = question_create(
        type="binary", title="Twice", open_time=now - timedelta(days=3), close_time=now - timedelta(days=1)
    )
    admins = [make_user(f"double{i}", staff=True) for i in range(4)]
    results = _run([lambda a=a: question_resolve(question=q, outcome="yes", by=a) for a in admins])
    ok = [r for r in results if isinstance(r, Question)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(ok) == 1 and len(refused) == 3, results
    assert {r.code for r in refused} == {"already_resolved"}
    q.refresh_from_db()
    assert q.resolution_version == 1 and ResolutionEvent.objects.filter(question=q).count() == 1


def test_concurrent_resolutions_with_different_outcomes_end_in_the_last_committed_one(make_user):
    now = datetime.now(UTC)
    q = question_create(
        type="multiple_choice", options=["A", "B", "C"], title="Which?",
        open_time=now - timedelta(days=3), close_time=now - timedelta(days=1),
    )  # fmt: skip
    fc = make_user("mc-forecaster")
    forecast_submit(
        user=fc, question=q, payload={"probabilities": {"A": 0.5, "B": 0.3, "C": 0.2}}, at=now - timedelta(days=2)
    )
    admins = [make_user(f"mc{i}", staff=True) for i in range(3)]
    results = _run([lambda a=a, o=o: question_resolve(question=q, outcome=o, by=a) for a, o in zip(admins, "ABC")])
    assert all(isinstance(r, Question) for r in results), results  # each later one is a correction
    q.refresh_from_db()
    last = ResolutionEvent.objects.filter(question=q).order_by("-version").first()
    assert q.resolution_version == 3 == last.version
    assert q.resolved_option.label == last.to_outcome
    # The scoring jobs ran as each commit happened (in-process): the rows are the final outcome's.
    s = Score.objects.get(question=q, user=fc)
    assert s.resolution_version == 3
    truth = [1.0 if label == last.to_outcome else 0.0 for label in "ABC"]
    assert s.brier_final == pytest.approx(sum((p - o) ** 2 for p, o in zip([0.5, 0.3, 0.2], truth)))


@pytest.mark.parametrize("round_", range(4))
def test_resolve_racing_unresolve_ends_in_the_last_committed_action_with_matching_scores(make_user, round_):
    now = datetime.now(UTC)
    q = question_create(
        type="binary", title=f"Flip {round_}", open_time=now - timedelta(days=3), close_time=now - timedelta(days=1)
    )
    fc = make_user(f"flip-forecaster-{round_}")
    forecast_submit(user=fc, question=q, payload={"probability": 0.8}, at=now - timedelta(days=2))
    a, b = make_user(f"flip-a-{round_}", staff=True), make_user(f"flip-b-{round_}", staff=True)
    question_resolve(question=q, outcome="yes", by=a)
    results = _run([
        lambda: question_resolve(question=q, outcome="no", by=a),
        lambda: question_unresolve(question=q, by=b),
    ])  # fmt: skip
    assert not [r for r in results if not isinstance(r, (Question, Conflict))], results
    q.refresh_from_db()
    last = ResolutionEvent.objects.filter(question=q).order_by("-version").first()
    assert q.resolution_version == last.version
    assert q.state == last.to_state
    rows = Score.objects.filter(question=q)
    if q.state == Question.State.RESOLVED:
        assert q.resolved_option.label == last.to_outcome
        assert {r.resolution_version for r in rows} == {q.resolution_version}
        expected = 0.08 if last.to_outcome == "yes" else 1.28
        assert rows.get(user=fc).brier_final == pytest.approx(expected)
    else:
        assert not rows.exists()
    assert q.scored_version == q.resolution_version
