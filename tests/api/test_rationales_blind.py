"""Rationales as a discussion, blind series and rationale moderation (issue 14), over the API and
the site; and nobody reads another user's notifications, preferences or export."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def blind_world(make_user, make_question, django_capture_on_commit_callbacks):
    from forecasts.services import forecast_submit
    from questions.services import series_create

    series = series_create(slug="blind-series", title="Blind series")
    series.blind = True
    series.save(update_fields=["blind"])
    q = make_question(title="Blind question", series=series)
    users = {name: make_user(f"bl-{name}") for name in ("ana", "ben", "cyd", "reader")}
    with django_capture_on_commit_callbacks(execute=True):
        forecast_submit(
            user=users["ana"], question=q, payload={"probability": 0.23}, rationale="Ana: base rate is low."
        )
        forecast_submit(user=users["ben"], question=q, payload={"probability": 0.27}, rationale="Ben: talks stalled.")
        forecast_submit(user=users["cyd"], question=q, payload={"probability": 0.25})
    return {"q": q, "series": series, **users}


def _site(user) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def test_blind_series_hide_crowd_and_rationales_until_the_reader_forecasts(
    blind_world, client_for, django_capture_on_commit_callbacks
):
    from forecasts.services import forecast_submit

    q, reader = blind_world["q"], blind_world["reader"]
    for user in (None, reader):
        body = client_for(user).get(f"/api/v1/questions/{q.pk}/").json()
        assert body["crowd"]["revealed"] is False and body["crowd"]["probabilities"] is None
        assert "history" not in body["crowd"] and "0.25" not in str(body)
        listed = next(x for x in client_for(user).get("/api/v1/questions/").json()["results"] if x["id"] == q.pk)
        assert listed["crowd"]["probabilities"] is None
        resp = client_for(user).get(f"/api/v1/questions/{q.pk}/rationales/")
        assert resp.status_code == 409 and resp.json()["error"]["code"] == "forecast_first"
        page = _site(user).get(f"/questions/{q.pk}/").content.decode()
        assert "crowd-chart" not in page and "25%" not in page
        assert "base rate is low" not in page and "talks stalled" not in page
    assert "blind-note" in _site(reader).get(f"/questions/{q.pk}/").content.decode()
    # A forecaster of the question sees both.
    ana_view = client_for(blind_world["ana"]).get(f"/api/v1/questions/{q.pk}/").json()["crowd"]
    assert ana_view["revealed"] is True and ana_view["probabilities"]["yes"] == pytest.approx(0.25)
    # The reader forecasts: now they see the crowd and the others' rationales (never their own).
    with django_capture_on_commit_callbacks(execute=True):
        forecast_submit(user=reader, question=q, payload={"probability": 0.6}, rationale="Mine.")
    body = client_for(reader).get(f"/api/v1/questions/{q.pk}/").json()
    assert body["crowd"]["revealed"] is True and body["crowd"]["history"]
    rows = client_for(reader).get(f"/api/v1/questions/{q.pk}/rationales/").json()["results"]
    assert [r["rationale"] for r in rows] == ["Ben: talks stalled.", "Ana: base rate is low."]
    assert rows[0]["user"] == {"id": blind_world["ben"].pk, "name": blind_world["ben"].public_name}
    assert rows[0]["probability"] == 0.27 and rows[0]["probabilities"]["no"] == pytest.approx(0.73)
    page = _site(reader).get(f"/questions/{q.pk}/").content.decode()
    assert "crowd-chart" in page and "talks stalled" in page and "27%" in page and "Mine." in page


def test_rationales_of_an_open_question_need_a_forecast_and_a_closed_one_does_not(make_user, make_question, client_for):
    from forecasts.services import forecast_submit
    from questions.services import question_resolve

    ana, reader = make_user("rat-ana"), make_user("rat-reader")
    q = make_question(title="Open, not blind")
    forecast_submit(user=ana, question=q, payload={"probability": 0.7}, rationale="Ana's reasons")
    assert client_for(reader).get(f"/api/v1/questions/{q.pk}/rationales/").status_code == 409
    # Not blind: the crowd itself is public.
    assert client_for(reader).get(f"/api/v1/questions/{q.pk}/").json()["crowd"]["revealed"] is True
    question_resolve(question=q, outcome="yes", by=make_user("rat-admin", staff=True))
    for user in (None, reader):
        rows = client_for(user).get(f"/api/v1/questions/{q.pk}/rationales/").json()["results"]
        assert [r["rationale"] for r in rows] == ["Ana's reasons"]
    assert "Ana&#x27;s reasons" in _site(None).get(f"/questions/{q.pk}/").content.decode()


def test_staff_hide_a_rationale_kept_and_audited(blind_world, client_for, make_user):
    from forecasts.models import Forecast, RationaleHide

    q, ben = blind_world["q"], blind_world["ben"]
    admin = make_user("bl-admin", staff=True)
    f = Forecast.objects.get(question=q, user=ben)
    url = f"/api/v1/forecasts/{f.pk}/hide-rationale/"
    assert client_for(None).post(url, {"reason": "x"}, format="json").status_code == 401
    assert client_for(blind_world["ana"]).post(url, {"reason": "x"}, format="json").status_code == 403
    resp = client_for(admin).post(url, {"reason": ""}, format="json")
    assert resp.status_code == 400 and "reason" in resp.json()["error"]["fields"]
    resp = client_for(admin).post(url, {"reason": "Personal attack"}, format="json")
    assert resp.status_code == 200, resp.content
    assert resp.json()["hidden_by"] == admin.pk and resp.json()["reason"] == "Personal attack"
    assert client_for(admin).post(url, {"reason": "again"}, format="json").status_code == 409
    hide = RationaleHide.objects.get(forecast=f)
    assert hide.hidden_by == admin and hide.hidden_at is not None
    f.refresh_from_db()
    assert f.rationale == "Ben: talks stalled."  # kept
    rows = client_for(blind_world["ana"]).get(f"/api/v1/questions/{q.pk}/rationales/").json()["results"]
    assert "talks stalled" not in str(rows) and rows == []  # Ana's own is never listed to her
    cyd_rows = client_for(blind_world["cyd"]).get(f"/api/v1/questions/{q.pk}/rationales/").json()["results"]
    assert [r["rationale"] for r in cyd_rows] == ["Ana: base rate is low."]
    assert "talks stalled" not in _site(blind_world["cyd"]).get(f"/questions/{q.pk}/").content.decode()
    # Its author still has it in their own export.
    assert "talks stalled" in client_for(ben).get("/api/v1/me/export/").content.decode()
    no_text = Forecast.objects.get(question=q, user=blind_world["cyd"])
    assert (
        client_for(admin)
        .post(f"/api/v1/forecasts/{no_text.pk}/hide-rationale/", {"reason": "x"}, format="json")
        .status_code
        == 409
    )


def test_the_admin_action_hides_rationales(blind_world, make_user):
    from forecasts.models import Forecast, RationaleHide

    admin = make_user("bl-admin2", staff=True)
    admin.is_superuser = True
    admin.save()
    f = Forecast.objects.get(question=blind_world["q"], user=blind_world["ana"])
    c = _site(admin)
    resp = c.post("/admin/forecasts/forecast/", {"action": "hide_rationale", "_selected_action": [f.pk]})
    assert resp.status_code == 302
    assert RationaleHide.objects.get(forecast=f).hidden_by == admin


def test_nobody_reads_another_users_notifications_preferences_or_export(make_user, make_question, client_for):
    from forecasts.services import forecast_submit
    from notifications.services import Notice, notifications_create, preferences_update

    ana, ben = make_user("priv-ana"), make_user("priv-ben")
    q = make_question(title="Private")
    forecast_submit(user=ana, question=q, payload={"probability": 0.31}, rationale="ana-private-reasoning")
    (nid,) = notifications_create(kind="forecast_stale", notices=[Notice(ana.pk, q.pk, 1, "ana-secret-message")])
    preferences_update(user=ana, changes={"stale_days": 99})
    b = client_for(ben)
    assert "ana-secret-message" not in b.get("/api/v1/me/notifications/").content.decode()
    assert b.post(f"/api/v1/me/notifications/{nid}/read/").status_code == 404
    assert b.get("/api/v1/me/preferences/").json()["stale_days"] != 99
    assert "ana-private-reasoning" not in b.get("/api/v1/me/export/").content.decode()
    assert "ana-private-reasoning" not in b.get("/api/v1/me/export/?format=csv").content.decode()
    site = _site(ben)
    assert "ana-secret-message" not in site.get("/inbox/").content.decode()
    assert site.post(f"/inbox/{nid}/read/").status_code == 404
    assert 'value="99"' not in site.get("/settings/notifications/").content.decode()
    from notifications.models import Notification

    assert Notification.objects.get(pk=nid).read_at is None
    for url in ("/inbox/", "/settings/notifications/"):
        assert _site(None).get(url).status_code == 302


def test_the_inbox_badge_mark_read_and_mark_all_read(make_user, make_question, django_assert_max_num_queries):
    from notifications.services import Notice, notifications_create

    ana = make_user("inbox-ana")
    qs = [make_question(title=f"Inbox {i}") for i in range(3)]
    ids = notifications_create(
        kind="forecast_stale", notices=[Notice(ana.pk, q.pk, i, f"Stale {i}") for i, q in enumerate(qs)]
    )
    c = Client(enforce_csrf_checks=False)
    c.force_login(ana)
    page = c.get("/").content.decode()
    assert 'id="unread-badge"' in page and 'aria-label="3 unread"' in page
    inbox = c.get("/inbox/").content.decode()
    assert all(f"Stale {i}" in inbox for i in range(3)) and "csrfmiddlewaretoken" in inbox
    assert c.get(f"/inbox/{ids[0]}/read/").status_code == 405  # POST only
    assert c.post(f"/inbox/{ids[0]}/read/").status_code == 302
    assert 'aria-label="2 unread"' in c.get("/").content.decode()
    assert c.post("/inbox/read-all/").status_code == 302
    assert "unread-badge" not in c.get("/").content.decode()
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(ana)
    assert strict.post("/inbox/read-all/").status_code == 403


def test_the_badge_costs_one_query_per_page(make_user, make_question):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from notifications.services import Notice, notifications_create

    ana = make_user("badge-ana")
    q = make_question(title="Badge")
    notifications_create(kind="forecast_stale", notices=[Notice(ana.pk, q.pk, 1, "m")])
    c = Client()
    c.force_login(ana)
    with CaptureQueriesContext(connection) as ctx:
        c.get("/leaderboard/")
    assert sum("notifications_notification" in x["sql"] for x in ctx.captured_queries) == 1


def test_the_settings_page_saves_through_the_service_and_shows_errors_by_field(make_user):
    from notifications.selectors import preference_for

    ana = make_user("set-ana")
    c = _site(ana)
    page = c.get("/settings/notifications/").content.decode()
    assert 'name="stale_days"' in page and 'value="14"' in page
    ok = {"email_question_resolved": "on", "stale_days": "7", "move_threshold": "15", "webhook_url": ""}
    assert c.post("/settings/notifications/", ok).status_code == 302
    pref = preference_for(user=ana)
    assert (pref.stale_days, pref.move_threshold, pref.email_crowd_moved, pref.email_question_resolved) == (
        7,
        15,
        False,
        True,
    )
    bad = c.post(
        "/settings/notifications/", {"stale_days": "400", "move_threshold": "abc", "webhook_url": "http://x.test/"}
    )
    assert bad.status_code == 400
    html = bad.content.decode()
    assert 'id="id_move_threshold_error"' in html
    bad2 = c.post("/settings/notifications/", {"stale_days": "400", "move_threshold": "10", "webhook_url": ""})
    html2 = bad2.content.decode()
    assert bad2.status_code == 400 and 'id="id_stale_days_error"' in html2 and "365" in html2
    bad3 = c.post(
        "/settings/notifications/", {"stale_days": "5", "move_threshold": "10", "webhook_url": "http://hook.test/"}
    )
    assert bad3.status_code == 400 and 'id="id_webhook_url_error"' in bad3.content.decode()
    assert preference_for(user=ana).stale_days == 7  # nothing changed by the refused posts
    assert "/settings/notifications/" in c.get("/profile/").content.decode()


def test_blind_does_not_hide_after_the_close(blind_world, client_for):
    from questions.models import Question

    q = blind_world["q"]
    Question.objects.filter(pk=q.pk).update(
        open_time=datetime.now(UTC) - timedelta(days=20), close_time=datetime.now(UTC) - timedelta(days=1)
    )
    body = client_for(blind_world["reader"]).get(f"/api/v1/questions/{q.pk}/").json()
    assert body["crowd"]["revealed"] is True
    assert client_for(blind_world["reader"]).get(f"/api/v1/questions/{q.pk}/rationales/").status_code == 200
