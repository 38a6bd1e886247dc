"""Issue 14 in a real browser: a forecaster sets a notification preference, forecasts blind with
odds, reads the others' rationales once they have forecast, sees the inbox badge after a
resolution (resolved through the service; the notification job runs in-process, eagerly, after
the commit), reads the inbox, and downloads their export from the profile."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.browser import assert_inputs_labelled

pytestmark = pytest.mark.e2e


def _world(make_question, make_user):
    from forecasts.services import forecast_submit
    from questions.services import series_create

    series = series_create(slug="blind-e2e", title="Blind signposts")
    series.blind = True
    series.save(update_fields=["blind"])
    now = datetime.now(UTC)
    blind_q = make_question(
        title="Will the CSTO adopt its Afghan border programme this year?",
        series=series,
        open_time=now - timedelta(days=5),
        close_time=now + timedelta(days=40),
    )
    other_q = make_question(title="Will Kabul host a regional summit before June?", open_time=now - timedelta(days=5))
    ana, ben = make_user("wf-ana"), make_user("wf-ben")
    forecast_submit(
        user=ana, question=blind_q, payload={"probability": 0.3}, rationale="The programme has slipped twice already."
    )
    forecast_submit(
        user=ben, question=blind_q, payload={"probability": 0.4}, rationale="Funding was approved in the spring."
    )
    forecast_submit(user=ana, question=other_q, payload={"probability": 0.6})
    return blind_q, other_q


def test_preferences_blind_rationales_inbox_badge_and_export(new_session, log_in, screenshot, make_question, make_user):
    from forecasts.models import Forecast
    from notifications.selectors import preference_for
    from questions.services import question_resolve

    blind_q, other_q = _world(make_question, make_user)
    erin = make_user("wf-erin")
    s = new_session()
    page = s.page
    log_in(page, "wf-erin")

    # 1. A preference, through the settings page linked from the profile.
    page.goto("/profile/")
    page.get_by_role("link", name="Notification settings").click()
    expect(page.get_by_role("heading", name="Notification settings")).to_be_visible()
    assert_inputs_labelled(page)
    page.get_by_label("Remind me when my forecast is older than (days)").fill("400")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#id_stale_days_error")).to_contain_text("365")
    screenshot(page, "workflow-settings-error")
    page.get_by_label("Remind me when my forecast is older than (days)").fill("7")
    page.get_by_label("The crowd moved past my threshold").uncheck()
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Your notification settings are saved.")).to_be_visible()
    pref = preference_for(user=erin)
    assert pref.stale_days == 7 and pref.email_crowd_moved is False
    screenshot(page, "workflow-settings")

    # 2. Blind: no crowd and no rationales until Erin forecasts; then both, her odds stored as 75%.
    page.goto(f"/questions/{blind_q.pk}/")
    expect(page.locator("#blind-note")).to_be_visible()
    expect(page.locator("#crowd-chart")).to_have_count(0)
    expect(page.get_by_text("slipped twice")).to_have_count(0)
    screenshot(page, "workflow-blind-before")
    page.get_by_role("textbox", name="Probability of yes").fill("3:1")
    page.get_by_label("Rationale").fill("Both sponsors want it done before the summit.")
    page.get_by_role("button", name="Save forecast").click()
    expect(page.get_by_text("Your forecast is saved.")).to_be_visible()
    assert Forecast.objects.get(question=blind_q, user=erin).probabilities[0] == 0.75
    rationales = page.locator("#rationales")
    expect(rationales).to_contain_text("The programme has slipped twice already.")
    expect(rationales).to_contain_text("Funding was approved in the spring.")
    expect(rationales).to_contain_text("30%")
    expect(rationales).not_to_contain_text("Both sponsors")  # her own is in her history, not here
    expect(page.locator("#crowd-chart")).to_be_visible()
    rationales.scroll_into_view_if_needed()
    screenshot(page, "workflow-rationales")

    # 3. A resolution notifies her: the badge shows in the header.
    page.goto(f"/questions/{other_q.pk}/")
    page.get_by_role("textbox", name="Probability of yes").fill("1 in 4")
    page.get_by_role("button", name="Save forecast").click()
    expect(page.get_by_text("Your forecast is saved.")).to_be_visible()
    expect(page.locator("#unread-badge")).to_have_count(0)
    question_resolve(question=other_q, outcome="no", by=make_user("wf-admin", staff=True))
    page.goto("/")
    badge = page.locator("#unread-badge")
    expect(badge).to_have_text("1")
    screenshot(page, "workflow-badge", full_page=False)
    page.get_by_role("link", name="Inbox").click()
    expect(page.locator(".inbox-item.unread")).to_have_count(1)
    expect(page.locator(".inbox-item")).to_contain_text(other_q.title)
    screenshot(page, "workflow-inbox")
    page.get_by_role("button", name="Mark read").click()
    expect(page.locator(".inbox-item.unread")).to_have_count(0)
    expect(page.locator("#unread-badge")).to_have_count(0)

    # 4. The export, downloaded from the profile.
    page.goto("/profile/")
    screenshot(page, "workflow-profile")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV").click()
    download = info.value
    assert download.suggested_filename == "signpost-export.csv"
    text = Path(download.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    forecasts = [r for r in rows if r["record"] == "forecast"]
    assert {(r["question"], r["probability"]) for r in forecasts} == {
        (str(blind_q.pk), "0.75"),
        (str(other_q.pk), "0.25"),
    }
    assert any(r["rationale"] == "Both sponsors want it done before the summit." for r in forecasts)
    assert "slipped twice" not in text
