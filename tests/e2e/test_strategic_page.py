"""A reader's visit to a strategic question page in a real browser: the composite on its axis, the
drivers and their indicators, the history chart, "what moved it" following a chosen date, an
indicator followed to its question page and back, and the page at phone width."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.support.browser import PHONE, assert_inputs_labelled

pytestmark = pytest.mark.e2e

T0 = datetime(2024, 1, 1, tzinfo=UTC)
TEXT = (
    "Will the two capitals act together in Afghanistan?\n\n"
    "A joint recognition of the Taliban would show real policy coordination. "
    "Russia keeping India at its Afghan talks would show the older partnership comes first.\n\n"
    "Neither is settled."
)
SLUG = "sino-russian-coordination"


def _world(make_question, make_user):
    """Two indicators drawn from an article, a crowd of three that moves one of them, the other
    resolved; the strategic question over both. Every write commits, so the crowd updates and the
    composite's recompute run as in production (eagerly, after each commit)."""
    from forecasts.services import forecast_submit
    from questions.models import Article
    from questions.services import question_resolve
    from strategy.services import strategic_question_create

    article = Article.objects.create(
        title="Signposts of coordination",
        author="A. Analyst",
        text=TEXT,
        sha256=hashlib.sha256(TEXT.encode()).hexdigest(),
    )
    now = datetime.now(UTC)

    def span(sentence: str) -> dict:
        start = TEXT.index(sentence)
        return {"source_start": start, "source_end": start + len(sentence)}

    joint = make_question(
        title="Will Moscow and Beijing recognise the Taliban together?",
        open_time=T0,
        close_time=now + timedelta(days=365),
        article=article,
        indicator="Recognition",
        **span("A joint recognition of the Taliban would show real policy coordination."),
    )
    india = make_question(
        title="Will India keep its seat at the Moscow talks on Afghanistan?",
        open_time=T0,
        close_time=T0 + timedelta(days=100),
        article=article,
        indicator="India",
        **span("Russia keeping India at its Afghan talks would show the older partnership comes first."),
    )
    crowd = [make_user(f"crowd-{i}") for i in range(3)]
    for user, p in zip(crowd, [0.2, 0.3, 0.4], strict=True):
        forecast_submit(user=user, question=joint, payload={"probability": p}, at=T0 + timedelta(days=1))
    for user, p in zip(crowd, [0.5, 0.6, 0.7], strict=True):
        forecast_submit(user=user, question=india, payload={"probability": p}, at=T0 + timedelta(days=2))
    for user, p in zip(crowd, [0.6, 0.7, 0.8], strict=True):
        forecast_submit(user=user, question=joint, payload={"probability": p}, at=T0 + timedelta(days=150))
    question_resolve(question=india, outcome="yes", by=make_user("editor", staff=True), at=T0 + timedelta(days=120))
    strategic_question_create(
        slug=SLUG,
        title="Will Sino-Russian coordination in Afghanistan deepen?",
        description="Whether the Taliban's return brings Moscow and Beijing to act together.",
        pole_less="Less coordination",
        pole_more="More coordination",
        drivers=[
            {
                "title": "Recognition of the Taliban",
                "indicators": [
                    {
                        "question": joint.pk,
                        "direction": 1,
                        "weight": 1,
                        "rationale": "Recognising together is policy coordination.",
                    }
                ],
            },
            {
                "title": "Russia's partnership with India",
                "indicators": [
                    {
                        "question": india.pk,
                        "direction": -1,
                        "weight": 1,
                        "rationale": "India's seat shows Russia's older partner comes first.",
                    }
                ],
            },
        ],
    )
    return article, joint, india


def _wait_for_chart(page) -> None:
    page.wait_for_function(
        "() => window.Chart && !!Chart.getChart(document.getElementById('strategic-chart'))", timeout=10_000
    )


def _moved_titles(page) -> list[str]:
    return page.locator("#moved .moved-title").all_inner_texts()


def test_reader_sees_the_composite_and_drivers_changes_the_date_and_follows_an_indicator(
    new_session, screenshot, make_question, make_user
):
    from strategy.models import StrategicPoint

    article, joint, india = _world(make_question, make_user)
    assert StrategicPoint.objects.filter(strategic_question__slug=SLUG, composite__isnull=False).exists()
    s = new_session()
    page = s.page

    # From the navigation to the list, then to the strategic question.
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Strategic questions").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Strategic questions")
    page.get_by_role("link", name="Will Sino-Russian coordination in Afghanistan deepen?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Will Sino-Russian coordination in Afghanistan deepen?")

    # The composite on its axis: joint at 70% -> +0.4, india resolved YES against the "more"
    # pole -> -1; the weighted mean is -0.30.
    expect(page.locator("#composite-value")).to_have_text("−0.30")
    expect(page.locator(".composite-panel .pole-less")).to_contain_text("Less coordination")
    expect(page.locator(".composite-panel .pole-more")).to_contain_text("More coordination")
    marker = page.locator(".composite-panel .axis-marker")
    expect(marker).to_have_attribute("style", re.compile(r"left: 35\.0%"))

    # The drivers with their indicators: direction in words and colour, crowd, outcome, passage.
    drivers = page.locator(".driver h3")
    expect(drivers).to_have_text(["Recognition of the Taliban", "Russia's partnership with India"])
    joint_card = page.locator(f"#indicator-{joint.pk}")
    expect(joint_card).to_contain_text("YES pushes towards More coordination")
    expect(joint_card).to_contain_text("Crowd: 70% yes")
    expect(joint_card).to_contain_text("A joint recognition of the Taliban would show real policy coordination.")
    india_card = page.locator(f"#indicator-{india.pk}")
    expect(india_card).to_contain_text("YES pushes towards Less coordination")
    expect(india_card).to_contain_text("Resolved: Yes")
    colours = page.evaluate(
        """([a, b]) => [a, b].map(id => getComputedStyle(document.getElementById(id)).borderLeftColor)""",
        [f"indicator-{joint.pk}", f"indicator-{india.pk}"],
    )
    assert colours[0] != colours[1], "the two directions should show in different colours"

    # The history chart is drawn, with a dashed line at the default "since".
    _wait_for_chart(page)
    n_points = page.evaluate(
        "() => Chart.getChart(document.getElementById('strategic-chart')).data.datasets[0].data.length"
    )
    assert n_points >= 4
    assert_inputs_labelled(page)
    screenshot(page, "strategic")

    # What moved it: by keyboard, type a date and press Enter.
    since = page.get_by_label("Changes since", exact=True)
    since.focus()
    expect(since).to_have_value("2024-03-01")  # the default: 90 days before the last point (30 May)
    since.fill("2024-02-01")
    page.keyboard.press("Enter")
    expect(page.locator("#moved-summary")).to_contain_text("1 Feb 2024")
    assert sorted(_moved_titles(page)) == sorted([joint.title, india.title])
    expect(page.locator("#moved")).to_contain_text("+0.400")
    expect(page.locator("#moved")).to_contain_text("−0.400")
    assert "since=2024-02-01" in page.url
    page.locator("#moved").scroll_into_view_if_needed()
    screenshot(page, "strategic-moved", full_page=False)

    # A later date: only the joint recognition moved it after India's question resolved.
    page.get_by_label("Changes since", exact=True).fill("2024-05-01")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#moved-summary")).to_contain_text("1 May 2024")
    expect(page.locator("#moved .moved-title")).to_have_count(1)
    assert _moved_titles(page) == [joint.title]

    # A date typed into the address bar that is not one: a message, not an error page.
    page.goto(f"/strategic/{SLUG}/?since=next-tuesday")
    expect(page.get_by_role("alert")).to_contain_text("is not a date this page can use")

    # Follow an indicator to its question page, and back through its "Part of" link.
    page.goto(f"/strategic/{SLUG}/")
    joint_card.get_by_role("link", name=joint.title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(joint.title)
    part_of = page.locator(".part-of")
    expect(part_of).to_contain_text("Part of:")
    expect(part_of).to_contain_text("YES pushes towards More coordination")
    part_of.get_by_role("link", name="Will Sino-Russian coordination in Afghanistan deepen?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Will Sino-Russian coordination in Afghanistan deepen?")
    assert page.url.endswith(f"/strategic/{SLUG}/#indicator-{joint.pk}")
    expect(page.locator(f"#indicator-{joint.pk}")).to_be_in_viewport()

    # The passage link leads to the highlighted passage in the article, whose page links back.
    page.locator(f"#indicator-{india.pk}").get_by_role("link", name="Read the passage in the article").click()
    expect(page.locator(f"#passage-{india.pk}")).to_be_in_viewport()
    page.get_by_role("link", name="Will Sino-Russian coordination in Afghanistan deepen?").click()
    expect(page.locator("#composite-value")).to_have_text("−0.30")

    # At phone width: nothing scrolls sideways, the chart still draws.
    phone = new_session(PHONE)
    p = phone.page
    p.goto(f"/strategic/{SLUG}/")
    _wait_for_chart(p)
    width = p.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the strategic page scrolls sideways at phone width ({width}px)"
    screenshot(p, "strategic-phone")
    p.goto("/strategic/")
    screenshot(p, "strategic-list-phone")
