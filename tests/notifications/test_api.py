"""The notification endpoints (contracts.md, "Notifications and exports"): the inbox, marking read,
the preferences and their validation, and that nobody reads or changes another user's."""

from __future__ import annotations

import pytest

from notifications.models import Notification, Preference
from notifications.services import Notice, notifications_create

pytestmark = pytest.mark.django_db

DEFAULTS = {
    "email": {"question_resolved": True, "forecast_stale": True, "crowd_moved": True, "question_closing": True},
    "stale_days": 14,
    "move_threshold": 10,
    "webhook_url": None,
}


@pytest.fixture
def inbox(make_user, make_question):
    ana, ben = make_user("inbox-ana"), make_user("inbox-ben")
    q1, q2 = make_question(title="First"), make_question(title="Second")
    notifications_create(kind="question_resolved", notices=[Notice(ana.pk, q1.pk, 1, "First resolved.")])
    notifications_create(kind="forecast_stale", notices=[Notice(ana.pk, q2.pk, 7, "Second is stale.")])
    notifications_create(kind="question_closing", notices=[Notice(ana.pk, q2.pk, 9, "Second closes soon.")])
    notifications_create(kind="crowd_moved", notices=[Notice(ben.pk, q1.pk, 3, "Ben's crowd moved.")])
    return ana, ben, q1, q2


def test_the_inbox_lists_the_callers_notifications_newest_first(inbox, client_for):
    ana, ben, q1, q2 = inbox
    body = client_for(ana).get("/api/v1/me/notifications/").json()
    assert body["count"] == 3
    assert [n["message"] for n in body["results"]] == ["Second closes soon.", "Second is stale.", "First resolved."]
    first = body["results"][0]
    assert set(first) == {"id", "kind", "created", "read", "question", "message"}
    assert first["kind"] == "question_closing" and first["question"] == q2.pk and first["read"] is False
    page = client_for(ana).get("/api/v1/me/notifications/?page_size=2&page=2").json()
    assert [n["message"] for n in page["results"]] == ["First resolved."] and page["previous"]
    assert [n["message"] for n in client_for(ben).get("/api/v1/me/notifications/").json()["results"]] == [
        "Ben's crowd moved."
    ]


def test_marking_read_is_the_owners_alone(inbox, client_for):
    ana, ben, _, _ = inbox
    mine = Notification.objects.filter(user=ana).order_by("id").first()
    resp = client_for(ben).post(f"/api/v1/me/notifications/{mine.pk}/read/")
    assert resp.status_code == 404 and set(resp.json()["error"]) == {"code", "message", "fields"}
    mine.refresh_from_db()
    assert mine.read_at is None
    resp = client_for(ana).post(f"/api/v1/me/notifications/{mine.pk}/read/")
    assert resp.status_code == 200 and resp.json()["read"] is True and resp.json()["id"] == mine.pk
    first_read = Notification.objects.get(pk=mine.pk).read_at
    assert client_for(ana).post(f"/api/v1/me/notifications/{mine.pk}/read/").json()["read"] is True
    assert Notification.objects.get(pk=mine.pk).read_at == first_read
    listed = client_for(ana).get("/api/v1/me/notifications/").json()["results"]
    assert [n["read"] for n in listed] == [False, False, True]


def test_anonymous_callers_read_nothing(api, inbox):
    n = Notification.objects.first()
    for method, url in (
        ("get", "/api/v1/me/notifications/"),
        ("post", f"/api/v1/me/notifications/{n.pk}/read/"),
        ("get", "/api/v1/me/preferences/"),
        ("patch", "/api/v1/me/preferences/"),
    ):
        resp = getattr(api, method)(url, {}, format="json") if method != "get" else api.get(url)
        assert resp.status_code == 401, (method, url)
        assert "First resolved" not in resp.content.decode()


def test_preferences_default_then_change_per_user(make_user, client_for):
    ana, ben = make_user("pref-ana"), make_user("pref-ben")
    assert client_for(ana).get("/api/v1/me/preferences/").json() == DEFAULTS
    assert not Preference.objects.exists()  # reading creates nothing
    change = {
        "email": {"crowd_moved": False},
        "stale_days": 7,
        "move_threshold": 15,
        "webhook_url": "https://hooks.slack.com/services/T000/B000/XXXX",
    }
    resp = client_for(ana).patch("/api/v1/me/preferences/", change, format="json")
    assert resp.status_code == 200
    want = {**DEFAULTS, **change, "email": {**DEFAULTS["email"], "crowd_moved": False}}
    assert resp.json() == want
    assert client_for(ana).get("/api/v1/me/preferences/").json() == want
    assert client_for(ben).get("/api/v1/me/preferences/").json() == DEFAULTS  # ben's are his own
    resp = client_for(ana).patch("/api/v1/me/preferences/", {"webhook_url": None}, format="json")
    assert resp.json()["webhook_url"] is None and resp.json()["stale_days"] == 7


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"stale_days": 0}, "stale_days"),
        ({"stale_days": 366}, "stale_days"),
        ({"stale_days": "7"}, "stale_days"),
        ({"stale_days": True}, "stale_days"),
        ({"stale_days": 7.5}, "stale_days"),
        ({"stale_days": None}, "stale_days"),
        ({"move_threshold": 0}, "move_threshold"),
        ({"move_threshold": 100}, "move_threshold"),
        ({"webhook_url": "http://hooks.example.com/x"}, "webhook_url"),
        ({"webhook_url": "https://"}, "webhook_url"),
        ({"webhook_url": ""}, "webhook_url"),
        ({"webhook_url": 5}, "webhook_url"),
        ({"webhook_url": "https://user:secret@hooks.example.com/x"}, "webhook_url"),
        ({"webhook_url": "https://127.0.0.1/hook"}, "webhook_url"),
        ({"webhook_url": "https://10.0.0.8/hook"}, "webhook_url"),
        ({"webhook_url": "https://[::1]/hook"}, "webhook_url"),
        ({"webhook_url": "https://localhost/hook"}, "webhook_url"),
        ({"webhook_url": "https://hooks.example.com/" + "x" * 500}, "webhook_url"),
        ({"email": {"crowd_moved": "no"}}, "email.crowd_moved"),
        ({"email": {"weekly": True}}, "email.weekly"),
        ({"email": True}, "email"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_preferences_are_refused_naming_the_field(body, field, make_user, client_for):
    c = client_for(make_user("pref-bad"))
    resp = c.patch("/api/v1/me/preferences/", body, format="json")
    assert resp.status_code == 400, resp.content
    error = resp.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert field in error["fields"] or any(f.startswith(field.split(".")[0]) for f in error["fields"]), error
    assert c.get("/api/v1/me/preferences/").json() == DEFAULTS


def test_a_refused_change_changes_nothing(make_user, client_for):
    c = client_for(make_user("pref-atomic"))
    resp = c.patch("/api/v1/me/preferences/", {"stale_days": 7, "move_threshold": 0}, format="json")
    assert resp.status_code == 400 and set(resp.json()["error"]["fields"]) == {"move_threshold"}
    assert c.get("/api/v1/me/preferences/").json()["stale_days"] == 14
    assert c.patch("/api/v1/me/preferences/", [1, 2], format="json").status_code == 400
    assert c.patch("/api/v1/me/preferences/", "stale_days=7", content_type="text/plain").status_code == 415
