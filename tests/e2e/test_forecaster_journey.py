"""A forecaster's journey through the site in a real browser, and a staff resolution scored by a
real Celery worker that puts the forecaster on the leaderboard and the calibration chart."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.support.browser import PHONE, assert_inputs_labelled
from tests.support.workers import wait_for

pytestmark = pytest.mark.e2e

ARTICLE_TEXT = (
    "Sino-Russian cooperation in Afghanistan\n\n"
    "Both capitals have kept their embassies in Kabul open. What to look for going forward: "
    "whether Moscow formally recognises the Taliban government before the end of the year. "
    "A second signpost is trade. Watch which of the three mining bids, the Chinese, the Russian "
    "or a joint one, wins the Mes Aynak concession.\n\n"
    "Neither outcome is settled."
)


def _article():
    from questions.models import Article

    return Article.objects.create(
        title="Sino-Russian cooperation in Afghanistan",
        author="A. Analyst",
        text=ARTICLE_TEXT,
        sha256=hashlib.sha256(ARTICLE_TEXT.encode()).hexdigest(),
        source_url="https://example.org/sino-russian",
        published_on=datetime(2024, 11, 16, tzinfo=UTC).date(),
    )


def _questions(make_question, make_user):
    from forecasts.crowd import question_crowd_write
    from forecasts.services import forecast_submit
    from questions.services import series_create

    article = _article()
    series = series_create(slug="afghanistan", title="Afghanistan signposts")
    now = datetime.now(UTC)
    b0 = ARTICLE_TEXT.index("whether Moscow")
    b1 = ARTICLE_TEXT.index(" before the end of the year") + len(" before the end of the year.")
    m0 = ARTICLE_TEXT.index("Watch which")
    m1 = ARTICLE_TEXT.index("concession.") + len("concession.")
    binary = make_question(
        title="Will Russia formally recognise the Taliban government before 2026?",
        description="Russia removed the Taliban from its list of terrorist organisations in 2025.",
        resolution_criteria="Yes if the Russian government formally recognises the Taliban government before 1 January 2026.",
        series=series,
        article=article,
        source_start=b0,
        source_end=b1,
        indicator="Diplomatic recognition",
        open_time=now - timedelta(days=20),
        close_time=now + timedelta(days=60),
    )
    mc = make_question(
        type="multiple_choice",
        options=["Chinese bid", "Russian bid", "Joint bid"],
        title="Which bid will win the Mes Aynak concession?",
        resolution_criteria="The bid named by the Afghan ministry of mines in its award notice.",
        series=series,
        article=article,
        source_start=m0,
        source_end=m1,
        indicator="Trade and resources",
        open_time=now - timedelta(days=20),
        close_time=now + timedelta(days=90),
    )
    # Earlier forecasters, so the crowd chart has a history.
    for i, p in enumerate([0.35, 0.5, 0.42]):
        u = make_user(f"early{i}")
        forecast_submit(user=u, question=binary, payload={"probability": p}, at=now - timedelta(days=18 - 5 * i))
        forecast_submit(
            user=u,
            question=mc,
            payload={"probabilities": {"Chinese bid": 0.5, "Russian bid": 0.2 + 0.05 * i, "Joint bid": 0.3 - 0.05 * i}},
            at=now - timedelta(days=17 - 5 * i),
        )
    question_crowd_write(question_id=binary.pk)
    question_crowd_write(question_id=mc.pk)
    return article, series, binary, mc


def _wait_for_chart(page, canvas_id: str) -> None:
    """The chart scripts are deferred: wait until Chart.js has drawn on the canvas."""
    page.wait_for_function(
        "id => window.Chart && !!Chart.getChart(document.getElementById(id))", arg=canvas_id, timeout=10_000
    )


def _sign_up(page, username: str, display_name: str) -> None:
    page.goto("/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Display name").fill(display_name)
    page.get_by_label("Password", exact=True).fill("a-long-pass-phrase-77")
    page.get_by_label("Password confirmation").fill("a-long-pass-phrase-77")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_text(f"Welcome, {display_name}.")).to_be_visible()


def test_forecaster_signs_up_forecasts_updates_and_withdraws(new_session, screenshot, make_question, make_user):
    article, series, binary, mc = _questions(make_question, make_user)
    s = new_session()
    page = s.page

    page.goto("/")
    expect(page.get_by_role("link", name=binary.title)).to_be_visible()
    assert_inputs_labelled(page)
    screenshot(page, "questions-list")

    # Keyboard: the first Tab reaches the skip link, which moves focus to the content.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()

    _sign_up(page, "carla", "Carla F.")
    screenshot(page, "after-signup")

    # Binary: the slider and the number stay in sync; the form posts P(yes).
    page.get_by_role("link", name=binary.title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(binary.title)
    slider = page.get_by_role("slider", name="Probability of yes, slider")
    number = page.get_by_role("textbox", name="Probability of yes")
    expect(slider).to_be_visible()
    slider.focus()
    slider.fill("70")
    expect(number).to_have_value("70")
    page.keyboard.press("ArrowRight")
    expect(number).to_have_value("70.1")
    number.fill("72.5")
    expect(slider).to_have_value("72.5")
    assert_inputs_labelled(page)
    page.get_by_label("Rationale").fill("Recognition has been edging closer all year.")
    page.get_by_role("button", name="Save forecast").click()
    expect(page.get_by_text("Your forecast is saved.")).to_be_visible()
    history = page.locator("#your-forecasts")
    expect(history.get_by_text("72.5%")).to_be_visible()
    expect(history.get_by_text("Recognition has been edging closer all year.")).to_be_visible()
    expect(page.locator("#crowd-chart")).to_be_visible()
    _wait_for_chart(page, "crowd-chart")
    screenshot(page, "question-binary")

    # The source link jumps to the highlighted passage in the article.
    page.locator("#source-link").click()
    expect(page.locator(f"#passage-{binary.pk}")).to_be_in_viewport()
    expect(page.get_by_role("heading", name="Diplomatic recognition")).to_be_visible()
    screenshot(page, "article")

    # Multiple choice: a sum of 90% is refused with a message next to the inputs.
    page.goto(f"/questions/{mc.pk}/")
    page.get_by_label("Chinese bid").fill("50")
    page.get_by_label("Russian bid").fill("20")
    page.get_by_label("Joint bid").fill("20")
    expect(page.locator("#mc-total")).to_have_text("90")
    assert_inputs_labelled(page)
    expect(page.locator("#mc-sum")).to_contain_text("10% left to assign")
    page.get_by_role("button", name="Save forecast").click()
    error = page.locator("#mc-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("must add up to 100%; they add up to 90%")
    expect(page.get_by_label("Chinese bid")).to_be_focused()
    screenshot(page, "question-mc-sum-refused")
    # The server refuses it too when the script is bypassed (form.submit() fires no submit event).
    page.evaluate("() => document.getElementById('forecast-form').submit()")
    page.wait_for_load_state()
    expect(page.locator("#mc-error")).to_contain_text("must sum to 1")
    from forecasts.models import Forecast

    assert not Forecast.objects.filter(user__username="carla", question=mc).exists()

    page.get_by_label("Joint bid").fill("30")
    expect(page.locator("#mc-sum")).to_contain_text("complete")
    page.get_by_role("button", name="Save forecast").click()
    expect(page.get_by_text("Your forecast is saved.")).to_be_visible()
    expect(page.locator("#your-forecasts")).to_contain_text("Joint bid 30%")

    # Update the binary forecast, then withdraw; the history keeps all three.
    page.goto(f"/questions/{binary.pk}/")
    expect(page.get_by_role("textbox", name="Probability of yes")).to_have_value("72.5")
    page.get_by_role("textbox", name="Probability of yes").fill("60")
    page.get_by_role("button", name="Update forecast").click()
    expect(page.get_by_text("Your forecast is saved.")).to_be_visible()
    items = page.locator("#your-forecasts .history-item")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("60%")
    expect(items.first).to_contain_text("Standing")
    page.get_by_role("button", name="Withdraw forecast").click()
    expect(page.get_by_text("Your forecast is withdrawn.")).to_be_visible()
    expect(items).to_have_count(3)
    expect(items.first).to_contain_text("Withdrawn")
    expect(page.get_by_role("button", name="Withdraw forecast")).to_have_count(0)
    kinds = list(
        Forecast.objects.filter(user__username="carla", question=binary)
        .order_by("created_at", "id")
        .values_list("kind", flat=True)
    )
    assert kinds == ["forecast", "forecast", "withdrawal"]

    # Log out, then log in again on a phone-width screen: the question page still reads and
    # forecasts, and nothing scrolls sideways.
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    phone = new_session(PHONE)
    p = phone.page
    p.goto(f"/questions/{binary.pk}/")
    p.get_by_role("link", name="Log in").first.click()
    p.get_by_label("Username").fill("carla")
    p.get_by_label("Password").fill("a-long-pass-phrase-77")
    p.get_by_role("button", name="Log in").click()
    expect(p.get_by_role("heading", level=1)).to_have_text(binary.title)
    p.get_by_role("textbox", name="Probability of yes").fill("64")
    p.get_by_role("button", name="Save forecast").click()
    expect(p.get_by_text("Your forecast is saved.")).to_be_visible()
    _wait_for_chart(p, "crowd-chart")
    for path, name in [
        (f"/questions/{binary.pk}/", "question-binary-phone"),
        (f"/questions/{mc.pk}/", "question-mc-phone"),
        ("/", "questions-list-phone"),
        (f"/articles/{article.pk}/", "article-phone"),
    ]:
        p.goto(path)
        width = p.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} scrolls sideways at phone width ({width}px)"
        screenshot(p, name)


@pytest.mark.worker
def test_staff_resolves_in_admin_and_the_forecaster_appears_on_leaderboard_and_calibration(
    new_session, screenshot, make_question, make_user, celery_worker
):
    from scoring.models import LeaderboardEntry, Score

    article, series, binary, mc = _questions(make_question, make_user)
    forecaster = new_session()
    _sign_up(forecaster.page, "dana", "Dana R.")
    forecaster.page.goto(f"/questions/{binary.pk}/")
    forecaster.page.get_by_role("textbox", name="Probability of yes").fill("80")
    forecaster.page.get_by_role("button", name="Save forecast").click()
    expect(forecaster.page.get_by_text("Your forecast is saved.")).to_be_visible()

    admin_user = make_user("staffer", staff=True)
    admin_user.is_superuser = True
    admin_user.save(update_fields=["is_superuser"])
    staff = new_session()
    p = staff.page
    p.goto("/admin/login/")
    p.get_by_label("Username").fill("staffer")
    p.get_by_label("Password").fill("correct-horse-battery-9")
    p.get_by_role("button", name="Log in").click()
    p.goto(f"/admin/questions/question/{binary.pk}/change/")
    p.get_by_role("link", name="Resolve…").click()
    p.get_by_label("Resolution").select_option("yes")
    p.get_by_role("button", name="Resolve").click()
    expect(p.get_by_text("Resolved as yes; scoring is queued.")).to_be_visible()

    # The worker scores the question and rebuilds its leaderboards.
    wait_for(
        lambda: Score.objects.filter(question=binary, user__username="dana").exists(),
        timeout=60,
        message="dana's score",
    )
    wait_for(
        lambda: LeaderboardEntry.objects.filter(user__username="dana", scope_key=f"series:{series.pk}").exists(),
        timeout=60,
        message="the series leaderboard row",
    )

    page = forecaster.page
    page.goto(f"/series/{series.slug}/")
    me = page.locator("tr.is-me")
    expect(me).to_have_count(1)
    expect(me).to_contain_text("Dana R.")
    expect(me).to_contain_text("(you)")
    expect(page.locator("tfoot")).to_contain_text("Crowd")
    screenshot(page, "leaderboard-series")

    page.get_by_role("link", name="Dana R.").first.click()
    expect(page.get_by_role("heading", name="Your profile")).to_be_visible()
    canvas = page.locator("#calibration-chart")
    expect(canvas).to_be_visible()
    _wait_for_chart(page, "calibration-chart")
    assert (
        page.evaluate("() => Chart.getChart(document.getElementById('calibration-chart')).data.datasets[0].data.length")
        >= 1
    )
    expect(page.get_by_role("row", name=re.compile(binary.title))).to_be_visible()
    screenshot(page, "profile-calibration")

    page.goto(f"/questions/{binary.pk}/")
    expect(page.get_by_role("heading", name="Resolved: Yes")).to_be_visible()
    expect(page.get_by_text("Your final Brier")).to_be_visible()
    screenshot(page, "question-resolved")
