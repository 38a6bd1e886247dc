"""Beat's safety net: a resolution whose notification job was lost (here: the commit hooks never
run, as when the broker is down) is announced by notifications_reconcile, once; a notification
whose webhook delivery was never enqueued is found, unless the webhook was set after it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from forecasts.services import forecast_submit
from notifications.models import Notification, WebhookDelivery
from notifications.services import Notice, notifications_create, preferences_update
from notifications.tasks import notifications_reconcile
from questions.services import question_resolve

pytestmark = pytest.mark.django_db


def test_a_lost_resolution_job_is_caught_up_once(make_user, make_question, staff):
    ana = make_user("rec-ana")
    q = make_question(title="Lost job")
    forecast_submit(user=ana, question=q, payload={"probability": 0.3})
    question_resolve(question=q, outcome="no", by=staff)  # no commit hook runs in this test: no job
    assert not Notification.objects.exists()
    assert notifications_reconcile.delay().get()["questions"] == [q.pk]
    assert list(Notification.objects.values_list("user", "kind", "event_key")) == [(ana.pk, "question_resolved", 1)]
    assert notifications_reconcile.delay().get()["questions"] == []


def test_webhooks_never_enqueued_are_found_but_not_older_notifications(make_user, make_question):
    ana = make_user("rec-hook")
    q = make_question(title="Hooked")
    before = timezone.now() - timedelta(hours=1)
    notifications_create(kind="question_closing", notices=[Notice(ana.pk, q.pk, 1, "Before the webhook.")], now=before)
    preferences_update(user=ana, changes={"webhook_url": "https://hooks.example.com/signpost"})
    (after,) = notifications_create(kind="forecast_stale", notices=[Notice(ana.pk, q.pk, 2, "After it.")])
    # Its delivery job was to be enqueued on commit, which never comes in this test.
    assert notifications_reconcile.delay().get()["webhooks"] == [after]
    # Without a worker (tasks run eagerly, here and in the demo) the webhook is not posted at all:
    # it would be posted from inside the request that made the notification.
    assert not WebhookDelivery.objects.exists()
