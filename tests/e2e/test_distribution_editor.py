"""Issue 15 in a real browser: the distribution editor of a numeric question, worked with the
keyboard and the mouse (the centre and the spread), a second component added, the forecast
submitted and found in the history with the quartiles the editor showed, which are those of the
CDF the server stored; a date question's editor and crowd in dates, at a phone's width; and a
resolved question's page with the crowd, the reader's forecast and the outcome."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.support.browser import PHONE, assert_inputs_labelled

pytestmark = pytest.mark.e2e

NBSP = "\u00a0"


def _with_crowd(question, make_user, components) -> None:
    """Forecasters who forecast on earlier days (the crowd has a history to draw)."""
    from forecasts.crowd import question_crowd_write
    from forecasts.services import forecast_submit

    start = question.open_time + timedelta(hours=6)
    for i, comp in enumerate(components):
        at = start + (datetime.now(UTC) - start) * i / len(components)
        forecast_submit(user=make_user(), question=question, payload={"components": [comp]}, at=at)
    question_crowd_write(question_id=question.pk)


def _expected(question, components) -> list[str]:
    """The quartiles of the CDF the server builds from components given in Mt (as the inputs hold them)."""
    from forecast_math.continuous import cdf_from_mixture

    span = question.range_upper - question.range_lower
    in_range_units = [
        {"centre": (c - question.range_lower) / span, "scale": s / span, "weight": w} for c, s, w in components
    ]
    return _quartiles(
        question, cdf_from_mixture(in_range_units, open_lower=question.open_lower, open_upper=question.open_upper)
    )


def _value(question, cdf, q: float) -> float:
    """The q quantile of a CDF in the question's units."""
    from forecast_math.continuous import from_range_units, quantile

    return from_range_units(quantile(cdf, q), question.range_lower, question.range_upper)


def _quartiles(question, cdf) -> list[str]:
    """The 25/50/75 quantiles of a CDF, formatted here (not by the site): whole Mt for 0..200 Mt."""
    return [f"{_value(question, cdf, q):,.0f}{NBSP}Mt" for q in (0.25, 0.5, 0.75)]


def _readout(page) -> list[str]:
    return [page.locator(f"#dist-q{q}").inner_text() for q in (25, 50, 75)]


def _centre_of(locator) -> tuple[float, float]:
    box = locator.bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def _tick_x(page, label: str) -> float:
    """The x of an axis tick label of the editor's chart, in page pixels."""
    tick = page.locator("#dist-editor .dist-tick", has_text=re.compile(rf"^{re.escape(label)}$")).first
    return _centre_of(tick)[0]


def _value_x(page, value: float) -> float:
    """Where a value (Mt) lies on the editor's axis, from its 0 and 100 ticks."""
    x0, x100 = _tick_x(page, "0"), _tick_x(page, "100")
    return x0 + (x100 - x0) * value / 100


def _drag(page, handle, to_x: float) -> None:
    x, y = _centre_of(handle)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move((x + to_x) / 2, y, steps=4)
    page.mouse.move(to_x, y, steps=4)
    page.mouse.up()


def test_edit_a_distribution_by_keyboard_and_mouse_and_submit_it(
    new_session, log_in, screenshot, make_question, make_user
):
    from forecasts.models import CrowdPoint, Forecast

    q = make_question(
        type="numeric",
        title="How much wheat will Kazakhstan export in the 2025/26 season?",
        description="Kazakhstan exported 9.5 Mt of wheat and flour in 2023/24.",
        resolution_criteria="The export figure of the USDA's first report after the season, in million tonnes.",
        range_lower=0,
        range_upper=200,
        unit="Mt",
        open_upper=True,
    )
    _with_crowd(q, make_user, [{"centre": c, "scale": 12} for c in (70, 90, 110)])
    ana = make_user("dist-ana")
    s = new_session()
    page = s.page
    log_in(page, "dist-ana")
    page.goto(f"/questions/{q.pk}/")

    editor = page.locator("#dist-editor")
    expect(editor).to_be_visible()
    expect(page.locator("#component-2")).to_be_hidden()  # until asked for
    assert_inputs_labelled(page)
    centre = page.locator("#handle-centre-1")
    spread = page.locator("#handle-spread-1")
    expect(centre).to_have_attribute("role", "slider")
    expect(centre).to_have_attribute("aria-valuetext", f"100{NBSP}Mt")
    expect(page.locator("#dist-q50")).to_have_text(_expected(q, [(100, 20, 1.0)])[1])
    assert _readout(page) == _expected(q, [(100, 20, 1.0)])
    expect(page.locator("#dist-outside")).to_contain_text("above 200")
    screenshot(page, "distribution-editor-start")

    # 1. The keyboard: the handle is reached with Tab from the heading above the editor; ten steps
    #    to the left (one grid step, 1 Mt, each), then Page Down (ten).
    page.locator("#forecast-h").evaluate("h => { h.tabIndex = -1; h.focus(); }")
    page.keyboard.press("Tab")
    expect(centre).to_be_focused()
    for _ in range(10):
        page.keyboard.press("ArrowLeft")
    expect(page.get_by_label("Centre", exact=True).first).to_have_value("90")
    page.keyboard.press("PageDown")
    expect(page.locator("#centre_1")).to_have_value("80")
    expect(centre).to_have_attribute("aria-valuetext", f"80{NBSP}Mt")
    # The live quartiles are those of the CDF the server would store (its median is above the
    # centre: the closed lower bound cuts the left tail off).
    expect(page.locator("#dist-q50")).to_have_text(_expected(q, [(80, 20, 1.0)])[1])
    spread.focus()
    page.keyboard.press("ArrowDown")
    expect(page.locator("#scale_1")).to_have_value("19")
    expected = _expected(q, [(80, 19, 1.0)])
    assert _readout(page) == expected
    expect(page.locator("#dist-status")).to_have_text(  # announced to screen readers once it settles
        f"Quartiles: 25% {expected[0]}, median {expected[1]}, 75% {expected[2]}."
    )
    editor.scroll_into_view_if_needed()
    screenshot(page, "distribution-editor-keyboard", full_page=False)

    # 2. The mouse: the centre dragged onto the 50 tick, the spread widened.
    _drag(page, centre, _value_x(page, 50))
    assert float(page.locator("#centre_1").input_value()) == pytest.approx(50, abs=1.5)
    narrow = float(page.locator("#scale_1").input_value())
    _drag(page, spread, _centre_of(spread)[0] + 40)
    assert float(page.locator("#scale_1").input_value()) > narrow + 2

    # 3. A second component, moved with the keyboard to 150 Mt, with a weight of 25%.
    page.get_by_label("Add a second component").check()
    expect(page.locator("#component-2")).to_be_visible()
    second = page.locator("#handle-centre-2")
    expect(second).to_be_visible()
    second.focus()
    page.keyboard.press("End")  # the upper bound
    for _ in range(5):
        page.keyboard.press("PageDown")
    expect(page.locator("#centre_2")).to_have_value("150")
    page.locator("#scale_2").fill("8")
    page.locator("#weight_2").fill("25")
    page.get_by_label("Rationale").fill("A record harvest, but the rail corridor to China is the bottleneck.")
    shown = _readout(page)
    first = (float(page.locator("#centre_1").input_value()), float(page.locator("#scale_1").input_value()), 0.75)
    # The editor's quartiles are those of the CDF the server builds from the same components.
    assert shown == _expected(q, [first, (150, 8, 0.25)])
    editor.scroll_into_view_if_needed()
    screenshot(page, "distribution-editor-two-components", full_page=False)

    # 4. Submitted: saved, in the history with those quartiles, and drawn as the standing forecast.
    page.get_by_role("button", name="Save forecast").click()
    expect(page.get_by_text("Your forecast is saved.")).to_be_visible()
    f = Forecast.objects.get(question=q, user=ana)
    assert _quartiles(q, f.cdf) == shown
    standing = page.locator(".history-item.is-standing")
    expect(standing).to_contain_text(f"25% {shown[0]} · median {shown[1]} · 75% {shown[2]}")
    expect(standing).to_contain_text("rail corridor")
    expect(page.locator("#dist-editor .dist-curve.is-standing")).to_have_count(1)
    expect(page.locator("#crowd-distribution .dist-curve.is-standing")).to_have_count(1)
    expect(page.locator("#crowd-distribution .dist-curve.is-crowd")).to_have_count(1)
    expect(page.locator("#crowd-chart")).to_be_visible()
    # The crowd's median over time (charts.js, with distribution.js's formatting): the quartile
    # band and the median of the latest crowd CDF, the reader's median as a dot, the axis in Mt.
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('crowd-chart'))")
    drawn = page.evaluate(
        """() => {
          const c = Chart.getChart(document.getElementById("crowd-chart"));
          return {labels: c.data.datasets.map(d => d.label), ticks: c.scales.y.ticks.map(t => t.label),
                  quartiles: [0, 2, 1].map(k => c.data.datasets[k].data.at(-1).y),
                  mine: c.data.datasets[3].data.map(p => p.y)};
        }"""
    )
    crowd = CrowdPoint.objects.get(question=q, method="median", is_latest=True).probabilities
    assert drawn["labels"] == ["25%", "75%", "Crowd median", "Your medians"]
    assert drawn["ticks"] == ["0", "50", "100", "150", "200"]
    assert drawn["quartiles"] == pytest.approx([_value(q, crowd, p) for p in (0.25, 0.5, 0.75)])
    assert drawn["mine"] == [pytest.approx(_value(q, f.cdf, 0.5))]
    expect(page.get_by_role("button", name="Update forecast")).to_be_visible()
    screenshot(page, "distribution-question-desktop")

    # The list's card gives the crowd's median with the unit.
    page.goto("/")
    card = page.locator(".card", has_text=q.title)
    expect(card).to_contain_text(
        re.compile(rf"Crowd median \d+{NBSP}Mt \(half of it between \d+{NBSP}Mt and \d+{NBSP}Mt\)")
    )
    screenshot(page, "distribution-question-list", full_page=False)

    # 5. At a phone's width the editor fits and still works with a finger.
    phone = new_session(PHONE)
    log_in(phone.page, "dist-ana")
    phone.page.goto(f"/questions/{q.pk}/")
    p = phone.page
    expect(p.locator("#dist-editor")).to_be_visible()
    width = p.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the page scrolls sideways at a phone's width"
    p.locator("#dist-editor").scroll_into_view_if_needed()
    screenshot(p, "distribution-editor-phone", full_page=False)
    screenshot(p, "distribution-question-phone")


def test_a_date_question_in_dates_and_a_resolved_question(new_session, log_in, screenshot, make_question, make_user):
    from questions.services import question_resolve

    now = datetime.now(UTC)
    date_q = make_question(
        type="date",
        title="When will the Kabul–Tashkent railway's first freight train run?",
        range_lower=datetime(2026, 1, 1, tzinfo=UTC),
        range_upper=datetime(2029, 12, 31, tzinfo=UTC),
        open_upper=True,
        open_time=now - timedelta(days=20),
    )
    _with_crowd(date_q, make_user, [{"centre": f"{y}-06-01T00:00:00Z", "scale": 120} for y in (2027, 2028, 2028)])
    make_user("dist-ben")
    s = new_session(PHONE)
    page = s.page
    log_in(page, "dist-ben")
    page.goto(f"/questions/{date_q.pk}/")
    expect(page.locator("#question-range")).to_contain_text("1 Jan 2026")
    expect(page.locator("#question-range")).to_contain_text("31 Dec 2029")
    expect(page.locator("#crowd-now")).to_contain_text(re.compile(r"median \d{1,2} [A-Z][a-z]{2} 202[78]"))
    expect(page.locator("#dist-q50")).to_have_text(re.compile(r"^\d{1,2} [A-Z][a-z]{2} 20\d\d$"))
    # The centre handle moves by whole days with the keyboard: Home is the first day of the range.
    page.locator("#handle-centre-1").focus()
    page.keyboard.press("Home")
    expect(page.locator("#centre_1")).to_have_value("2026-01-01")
    expect(page.locator("#handle-centre-1")).to_have_attribute("aria-valuetext", "1 Jan 2026")
    page.keyboard.press("PageUp")
    expect(page.locator("#centre_1")).not_to_have_value("2026-01-01")
    page.locator("#scale_1").fill("90")
    page.get_by_role("button", name="Save forecast").click()
    expect(page.get_by_text("Your forecast is saved.")).to_be_visible()
    standing = page.locator(".history-item.is-standing")
    expect(standing).to_contain_text(re.compile(r"median \d{1,2} [A-Z][a-z]{2} 2026"))
    # The editor starts again from the saved forecast: the same quartiles as in the history.
    expect(page.locator("#dist-q50")).not_to_have_text("—")
    q25, q50, q75 = _readout(page)
    expect(standing).to_contain_text(f"25% {q25} · median {q50} · 75% {q75}")
    page.locator("#dist-editor").scroll_into_view_if_needed()
    screenshot(page, "distribution-date-phone", full_page=False)
    screenshot(page, "distribution-date-phone-full")

    # Resolved: the outcome as a date on the page, in the crowd's chart, and on the list.
    question_resolve(question=date_q, outcome="2027-09-15T00:00:00Z", by=make_user(staff=True))
    desktop = new_session()
    log_in(desktop.page, "dist-ben")
    desktop.page.goto(f"/questions/{date_q.pk}/")
    d = desktop.page
    expect(d.get_by_role("heading", name="Resolved: 15 Sep 2027")).to_be_visible()
    expect(d.locator("#crowd-distribution .dist-outcome")).to_have_count(1)
    expect(d.locator("#crowd-distribution .dist-curve.is-standing")).to_have_count(1)
    screenshot(d, "distribution-date-resolved")
    d.goto("/?status=resolved")
    expect(d.locator(".card", has_text=date_q.title)).to_contain_text("Outcome: 15 Sep 2027")


# Mixtures in range units and their bounds (open lower, open upper): closed and open, a tail beyond
# an open bound above its cap (MAX_OUTSIDE / 2), a narrow component at the edge, two and three
# components.
MIXTURES = [
    ([{"centre": 0.5, "scale": 0.1, "weight": 1.0}], False, False),
    ([{"centre": 0.5, "scale": 0.1, "weight": 1.0}], True, True),
    ([{"centre": 0.02, "scale": 0.3, "weight": 1.0}], True, False),
    ([{"centre": 0.98, "scale": 0.001, "weight": 1.0}], False, True),
    ([{"centre": 0.25, "scale": 0.05, "weight": 0.7}, {"centre": 0.75, "scale": 0.02, "weight": 0.3}], False, True),
    (
        [
            {"centre": 0.1, "scale": 0.5, "weight": 0.2},
            {"centre": 0.4, "scale": 0.03, "weight": 0.5},
            {"centre": 0.9, "scale": 0.08, "weight": 0.3},
        ],
        True,
        True,
    ),
]
LEVELS = [0.001, 0.05, 0.25, 0.5, 0.75, 0.95, 0.999]


def test_the_editors_maths_is_the_servers(page, make_question):
    """distribution.js's copy of cdf_from_mixture and quantile (what the editor shows while one
    drags) gives the CDF and the quantiles forecast_math.continuous stores, to rounding."""
    from forecast_math.continuous import cdf_from_mixture, quantile

    q = make_question(type="numeric", title="Wheat exports?", range_lower=0, range_upper=200, unit="Mt")
    page.goto(f"/questions/{q.pk}/")
    got = page.evaluate(
        """([mixtures, levels]) => mixtures.map(([components, openLower, openUpper]) => {
          const lib = window.SignpostDistribution;
          const cdf = lib.mixtureCdf(components, openLower, openUpper);
          return {cdf: cdf, quantiles: levels.map(p => lib.quantile(cdf, p))};
        })""",
        [MIXTURES, LEVELS],
    )
    for (components, open_lower, open_upper), out in zip(MIXTURES, got, strict=True):
        expected = cdf_from_mixture(components, open_lower=open_lower, open_upper=open_upper)
        assert out["cdf"] == pytest.approx(expected.tolist(), abs=1e-12)
        assert out["quantiles"] == pytest.approx([quantile(expected, p) for p in LEVELS], abs=1e-12)
