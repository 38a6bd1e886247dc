"""Resolution notices with a real worker: the resolution commits here, questions announces it on
commit, the receiver enqueues the job, and the worker stores one notification per forecaster and
resolution change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from forecasts.services import forecast_submit, forecast_withdraw
from notifications.models import Notification
from notifications.tasks import notify_resolution
from questions.services import question_resolve, question_unresolve
from tests.support.workers import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _messages(q, user):
    return list(
        Notification.objects.filter(question=q, user=user, kind="question_resolved")
        .order_by("event_key")
        .values_list("event_key", "message")
    )


def test_each_forecaster_is_told_once_per_resolution_change(celery_worker, make_user, make_question, staff):
    now = datetime.now(UTC)
    q = make_question(title="Will the summit take place?", open_time=now - timedelta(days=20))
    other = make_question(title="Another question")
    ana, ben, cat = make_user("res-ana"), make_user("res-ben"), make_user("res-cat")
    forecast_submit(user=ana, question=q, payload={"probability": 0.7}, at=now - timedelta(days=5))
    forecast_submit(user=ana, question=q, payload={"probability": 0.8}, at=now - timedelta(days=4))
    forecast_submit(user=ben, question=q, payload={"probability": 0.3}, at=now - timedelta(days=3))
    forecast_withdraw(user=ben, question=q, at=now - timedelta(days=2))  # withdrew: still a forecaster
    forecast_submit(user=cat, question=other, payload={"probability": 0.5})  # not on q

    def count():
        return Notification.objects.filter(question=q, kind="question_resolved").count()

    question_resolve(question=q, outcome="yes", by=staff)
    wait_for(lambda: count() == 2, timeout=60, message="a notice for each of the two forecasters")
    assert _messages(q, ana) == [
        (1, "\u201cWill the summit take place?\u201d resolved as yes. Your score is on its page.")
    ]
    assert [k for k, _ in _messages(q, ben)] == [1]
    assert not Notification.objects.filter(user=cat).exists()

    # The job delivered twice (a redelivery, a duplicate enqueue) stores nothing more.
    assert notify_resolution.delay(q.pk).get(timeout=60) == 0
    assert count() == 2

    question_resolve(question=q, outcome="no", by=staff)  # a correction: once more each
    wait_for(lambda: count() == 4, timeout=60, message="the correction's notices")
    assert _messages(q, ana)[1] == (
        2,
        "\u201cWill the summit take place?\u201d: the resolution was corrected to no (it was yes). Your score is updated.",
    )
    question_unresolve(question=q, by=staff)  # un-resolution is a resolution change too
    wait_for(lambda: count() == 6, timeout=60, message="the un-resolution's notices")
    assert "unresolved again (it was no)" in _messages(q, ben)[2][1]
    assert not Notification.objects.filter(user=cat).exists()
    assert Notification.objects.filter(question=q, kind="question_resolved").values("user").distinct().count() == 2


def test_a_resolution_of_a_question_without_forecasters_notifies_nobody(celery_worker, make_user, make_question, staff):
    q = make_question(title="Nobody forecast this")
    make_user("res-idle")
    question_resolve(question=q, outcome="no", by=staff)
    assert notify_resolution.delay(q.pk).get(timeout=60) == 0
    assert not Notification.objects.exists()
