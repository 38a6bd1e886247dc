"""Webhooks with a real worker and a real HTTPS receiver on 127.0.0.1: a notification is POSTed
as Slack-compatible JSON by the worker; a receiver that hangs, fails or is not there is retried
with backoff, and the request that caused the notification is not slowed or failed by it."""

from __future__ import annotations

import time

import pytest

from forecasts.services import forecast_submit
from notifications.models import Notification, WebhookDelivery
from notifications.webhooks import webhook_post
from tests.notifications.conftest import free_port
from tests.support.workers import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _subscribe(client, url: str) -> None:
    resp = client.patch("/api/v1/me/preferences/", {"webhook_url": url}, format="json")
    assert resp.status_code == 200, resp.content
    assert resp.json()["webhook_url"] == url


def _resolve(client_for, staff, q):
    started = time.monotonic()
    resp = client_for(staff).post(f"/api/v1/questions/{q.pk}/resolve/", {"resolution": "yes"}, format="json")
    return resp, time.monotonic() - started


def _delivery(q, user) -> WebhookDelivery | None:
    return WebhookDelivery.objects.filter(notification__question=q, notification__user=user).first()


def test_a_notification_is_posted_to_the_users_webhook(
    webhook_worker, webhook_receiver, make_user, make_question, staff, client_for
):
    receiver = webhook_receiver()
    ana, ben = make_user("hook-ana"), make_user("hook-ben")
    q = make_question(title="Will the ceasefire hold?")
    forecast_submit(user=ana, question=q, payload={"probability": 0.6})
    forecast_submit(user=ben, question=q, payload={"probability": 0.4})  # ben has no webhook
    _subscribe(client_for(ana), receiver.url)
    resp, _ = _resolve(client_for, staff, q)
    assert resp.status_code == 200
    d = wait_for(lambda: (x := _delivery(q, ana)) is not None and x.delivered_at and x, timeout=60, message="delivery")
    assert d.attempts == 1 and d.last_status == 200 and d.last_error == ""
    assert len(receiver.bodies) == 1
    body = receiver.bodies[0]
    assert set(body) == {"text"}
    assert body["text"].startswith("\u201cWill the ceasefire hold?\u201d resolved as yes.")
    assert body["text"].endswith(f"/questions/{q.pk}/")
    assert Notification.objects.filter(user=ben, question=q).exists() and _delivery(q, ben) is None


def test_a_failing_webhook_is_retried_with_backoff_and_never_slows_the_request(
    webhook_worker, webhook_receiver, make_user, make_question, staff, client_for
):
    # The receiver first hangs past the worker's 2 s timeout, then answers 500, then 200.
    receiver = webhook_receiver([("hang", 4), 500])
    ana = make_user("hook-retry")
    q = make_question(title="Will the border reopen?")
    forecast_submit(user=ana, question=q, payload={"probability": 0.6})
    _subscribe(client_for(ana), receiver.url)
    resp, elapsed = _resolve(client_for, staff, q)
    assert resp.status_code == 200 and resp.json()["resolution"]["outcome"] == "yes"
    assert elapsed < 2.0  # the request never waited for the webhook (its first attempt alone takes 2 s)
    d = wait_for(
        lambda: (x := _delivery(q, ana)) is not None and x.delivered_at and x, timeout=90, message="the third attempt"
    )
    assert d.attempts == 3 and d.last_status == 200
    assert len(receiver.bodies) == 3 and receiver.bodies[0] == receiver.bodies[2]


def test_an_unreachable_webhook_is_retried_then_given_up(webhook_worker, make_user, make_question, staff, client_for):
    ana = make_user("hook-closed")
    q = make_question(title="Will the port open?")
    forecast_submit(user=ana, question=q, payload={"probability": 0.6})
    _subscribe(client_for(ana), f"https://127.0.0.1:{free_port()}/hook")  # nothing listens there
    resp, elapsed = _resolve(client_for, staff, q)
    assert resp.status_code == 200 and elapsed < 2.0
    # NOTIFICATIONS_WEBHOOK_RETRIES=3 in this worker: four attempts, then it gives up.
    d = wait_for(lambda: (x := _delivery(q, ana)) is not None and x.gave_up_at and x, timeout=90, message="giving up")
    assert d.attempts == 4 and d.delivered_at is None and d.last_status is None
    assert "refused" in d.last_error.lower()
    assert Notification.objects.get(user=ana, question=q).read_at is None  # the inbox has it all the same


def test_webhooks_never_call_private_addresses_unless_allowed(settings, monkeypatch):
    import socket

    settings.NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE = False
    assert webhook_post("https://127.0.0.1:9/hook", {"text": "x"})[1].startswith("refused:")
    assert webhook_post("http://hooks.example.com/hook", {"text": "x"})[1].startswith("refused:")
    # A public-looking name that resolves to a private address is refused when called.
    monkeypatch.setattr(
        socket, "getaddrinfo", lambda *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", 443))]
    )
    status, error = webhook_post("https://hooks.example.com/hook", {"text": "x"})
    assert status is None and "non-public address (10.1.2.3)" in error
