"""Numeric and date questions on the site (issue 15), through Django's test client: the page shows
the range and its bounds, forecasts as quartiles, the crowd's distribution only once revealed, the
outcome, and dates as dates; the form's components reach forecasts.services and its refusals are
shown next to the input they name."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from forecast_math.continuous import from_range_units, quantile
from forecasts.crowd import question_crowd_write
from forecasts.models import CrowdPoint, Forecast
from forecasts.services import forecast_submit
from questions.services import question_resolve

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"
JAN_2025 = datetime(2025, 1, 1, tzinfo=UTC)
END_2026 = datetime(2026, 12, 31, tzinfo=UTC)


@pytest.fixture
def numeric_q(make_question):
    return make_question(
        type="numeric",
        title="How much wheat will Kazakhstan export in 2025?",
        range_lower=0,
        range_upper=200,
        unit="Mt",
        open_upper=True,
    )


@pytest.fixture
def date_q(make_question):
    return make_question(
        type="date", title="When will the embassy in Kabul reopen?", range_lower=JAN_2025, range_upper=END_2026
    )


def _visible_text(html: str) -> str:
    """The page without its scripts (the JSON a chart reads carries raw numbers on purpose)."""
    return re.sub(r"<script\b.*?</script>", "", html, flags=re.S)


def _json(html: str, element_id: str):
    m = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(m.group(1)) if m else None


def _numeric(v: float) -> str:
    """A value of the 0..200 Mt questions, written independently of the site's formatter: its grid
    step is 1 Mt, so whole numbers, with the unit after a no-break space."""
    return f"{v:,.0f}{NBSP}Mt"


def _quartile_texts(cdf, lower: float, upper: float, fmt) -> list[str]:
    return [fmt(from_range_units(quantile(cdf, q), lower, upper)) for q in (0.25, 0.5, 0.75)]


def _date(seconds: float) -> str:
    d = datetime.fromtimestamp(round(seconds), UTC)
    return f"{d.day} {d:%b} {d.year}"


def _post(client, q, **fields):
    return client.post(f"/questions/{q.pk}/forecast/", fields)


def _field_error(html: str, name: str) -> str:
    m = re.search(rf'<div class="field-error" id="{name}-error">(.*?)</div>', html, re.S)
    return m.group(1) if m else ""


# --- The page --------------------------------------------------------------------------------------


def test_numeric_page_shows_the_range_unit_and_bounds_and_the_editor(client_as, numeric_q, make_user):
    page = client_as(make_user()).get(f"/questions/{numeric_q.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    text = _visible_text(html)
    assert "Numeric (Mt)" in text
    assert f"Range <strong>0{NBSP}Mt</strong> to <strong>200{NBSP}Mt</strong>" in text
    assert "closed below" in text and f"open above: the outcome may be higher than 200{NBSP}Mt" in text
    # The form: the inputs work without the script, which draws the editor from the meta.
    for name in ("centre_1", "scale_1", "centre_2", "scale_2", "weight_2", "second"):
        assert f'name="{name}"' in html
    assert 'id="dist-editor"' in html and "js/distribution.js" in html
    meta = _json(html, "distribution-meta")
    assert (meta["lower"], meta["upper"], meta["open_lower"], meta["open_upper"], meta["unit"]) == (
        0,
        200,
        False,
        True,
        "Mt",
    )
    assert meta["crowd"] is None and meta["standing"] is None
    # Without a forecast the editor starts centred on the range.
    assert re.search(r'<input type="number" id="centre_1" name="centre_1" [^>]*value="100"', html)


def test_date_page_shows_the_range_as_dates(client_as, date_q, make_user):
    html = client_as(make_user()).get(f"/questions/{date_q.pk}/").content.decode()
    text = _visible_text(html)
    assert "Range <strong>1 Jan 2025</strong> to <strong>31 Dec 2026</strong>" in text
    assert str(int(JAN_2025.timestamp())) not in text  # no POSIX seconds outside the chart data
    assert '<input type="date" id="centre_1" name="centre_1" value="2026-01-01"' in html
    assert "days" in text  # the spread is given in days


def test_binary_page_keeps_its_probability_form(client_as, binary_q, make_user):
    html = client_as(make_user()).get(f"/questions/{binary_q.pk}/").content.decode()
    assert 'name="probability"' in html
    assert "distribution-meta" not in html and "centre_1" not in html


# --- Submitting ----------------------------------------------------------------------------------------


def test_a_valid_numeric_forecast_is_stored_and_shown_as_quartiles(client_as, numeric_q, make_user):
    ana = make_user("ana-numeric")
    c = client_as(ana)
    response = _post(c, numeric_q, centre_1="80", scale_1="10", rationale="Harvest up, rail capacity flat.")
    assert response.status_code == 302
    f = Forecast.objects.get(question=numeric_q, user=ana)
    assert f.probabilities is None and len(f.cdf) == 201
    assert from_range_units(quantile(f.cdf, 0.5), 0, 200) == pytest.approx(80, abs=0.5)
    html = c.get(response["Location"]).content.decode()
    q25, q50, q75 = _quartile_texts(f.cdf, 0, 200, _numeric)
    assert q50 == f"80{NBSP}Mt"
    assert f"25% <strong>{q25}</strong> · median <strong>{q50}</strong> · 75% <strong>{q75}</strong>" in html
    assert "Harvest up, rail capacity flat." in html
    # The editor starts again from the standing forecast (drawn dashed): the same component.
    meta = _json(html, "distribution-meta")
    assert meta["standing"] == f.cdf
    assert re.search(r'id="centre_1" name="centre_1" [^>]*value="80"', html)
    assert re.search(r'id="scale_1" name="scale_1" [^>]*value="10"', html)
    # The profile's recent forecasts give its median.
    assert f"median {q50}" in c.get("/profile/").content.decode()


def test_two_components_are_stored_as_one_bimodal_forecast(client_as, numeric_q, make_user):
    ana = make_user()
    response = _post(
        client_as(ana), numeric_q, centre_1="50", scale_1="2", second="1", centre_2="150", scale_2="2", weight_2="30"
    )
    assert response.status_code == 302
    cdf = Forecast.objects.get(question=numeric_q, user=ana).cdf
    # 70% around 50, 30% around 150, almost nothing between.
    assert cdf[100] == pytest.approx(0.70, abs=0.02)  # at 100 Mt
    assert cdf[140] - cdf[60] < 0.02  # 60..140 Mt


def test_the_second_component_counts_only_when_ticked(client_as, numeric_q, make_user):
    ana = make_user()
    _post(client_as(ana), numeric_q, centre_1="50", scale_1="5", centre_2="150", scale_2="5", weight_2="30")
    cdf = Forecast.objects.get(question=numeric_q, user=ana).cdf
    assert cdf[100] > 0.99  # no mass near 150 Mt: the unticked second component was left out


def test_a_date_forecast_is_stored_and_shown_as_dates(client_as, date_q, make_user):
    ana = make_user()
    c = client_as(ana)
    response = _post(c, date_q, centre_1="2025-09-01", scale_1="30")
    assert response.status_code == 302
    f = Forecast.objects.get(question=date_q, user=ana)
    lower, upper = JAN_2025.timestamp(), END_2026.timestamp()
    median = from_range_units(quantile(f.cdf, 0.5), lower, upper)
    assert abs(median - datetime(2025, 9, 1, tzinfo=UTC).timestamp()) < 4 * 86400  # within a grid step
    html = c.get(response["Location"]).content.decode()
    q25, q50, q75 = _quartile_texts(f.cdf, lower, upper, _date)
    assert f"25% <strong>{q25}</strong> · median <strong>{q50}</strong> · 75% <strong>{q75}</strong>" in html
    assert re.search(r"\d{1,2} (Aug|Sep) 2025", q50)


@pytest.mark.parametrize(
    ("fields", "name", "words"),
    [
        ({"centre_1": "80", "scale_1": "-5"}, "scale_1", "Spread must be greater than 0"),
        ({"centre_1": "80", "scale_1": ""}, "scale_1", "Spread must be a number"),
        ({"centre_1": "500", "scale_1": "10"}, "centre_1", "Centre must lie within the range"),
        ({"centre_1": "lots", "scale_1": "10"}, "centre_1", "Centre must be a number"),
        (
            {"centre_1": "50", "scale_1": "5", "second": "1", "centre_2": "150", "scale_2": "0", "weight_2": "30"},
            "scale_2",
            "Spread must be greater than 0",
        ),
        (
            {"centre_1": "50", "scale_1": "5", "second": "1", "centre_2": "150", "scale_2": "5", "weight_2": "150"},
            "weight_2",
            "Weight must be less than 100%",
        ),
        (
            {"centre_1": "50", "scale_1": "5", "second": "1", "centre_2": "150", "scale_2": "5", "weight_2": "0"},
            "weight_2",
            "Weight must be greater than 0",
        ),
    ],
)
def test_a_bad_numeric_forecast_is_refused_next_to_its_field(client_as, numeric_q, make_user, fields, name, words):
    ana = make_user()
    response = _post(client_as(ana), numeric_q, **fields)
    assert response.status_code == 400
    html = response.content.decode()
    assert words in _field_error(html, name)
    assert f'aria-describedby="{name}-help {name}-error" aria-invalid="true"' in html
    for field, value in fields.items():  # what was typed is kept
        if field != "second":
            assert f'name="{field}"' in html and f'value="{value}"' in html
    assert not Forecast.objects.filter(question=numeric_q, user=ana).exists()


def test_a_bad_date_is_refused_next_to_the_centre(client_as, date_q, make_user):
    ana = make_user()
    response = _post(client_as(ana), date_q, centre_1="next spring", scale_1="30")
    assert response.status_code == 400
    assert "Centre must be an ISO 8601 date-time" in _field_error(response.content.decode(), "centre_1")
    assert not Forecast.objects.filter(question=date_q).exists()


def test_a_forecast_on_a_resolved_numeric_question_is_refused(client_as, numeric_q, make_user):
    question_resolve(question=numeric_q, outcome=42.5, by=make_user(staff=True))
    response = _post(client_as(make_user()), numeric_q, centre_1="80", scale_1="10")
    assert response.status_code == 409
    assert "This question no longer takes forecasts." in response.content.decode()
    assert not Forecast.objects.filter(question=numeric_q).exists()


# --- The crowd --------------------------------------------------------------------------------------


def _crowd(question, users, centres):
    for u, centre in zip(users, centres, strict=True):
        forecast_submit(user=u, question=question, payload={"components": [{"centre": centre, "scale": 8}]})
    question_crowd_write(question_id=question.pk)
    return CrowdPoint.objects.get(question=question, method="median", is_latest=True).probabilities


def test_the_crowd_distribution_is_hidden_before_reveal(client_as, make_question, make_user):
    q = make_question(
        type="numeric",
        title="Refugees returning in 2025 (thousands)?",
        range_lower=0,
        range_upper=2000,
        unit="thousand",
        crowd_reveal_time=datetime.now(UTC) + timedelta(days=5),
    )
    _crowd(q, [make_user(), make_user(), make_user()], [600, 800, 1000])
    reader = make_user()
    html = client_as(reader).get(f"/questions/{q.pk}/").content.decode()
    assert "crowd forecast is hidden until" in html
    assert "crowd-data" not in html and 'id="crowd-distribution"' not in html
    assert _json(html, "distribution-meta")["crowd"] is None
    assert "Crowd median" not in client_as(reader).get("/").content.decode()
    staff = client_as(make_user(staff=True)).get(f"/questions/{q.pk}/").content.decode()
    assert "Shown to staff only" in staff and _json(staff, "distribution-meta")["crowd"] is not None


def test_the_crowd_distribution_median_history_and_list_card_after_reveal(client_as, numeric_q, make_user):
    crowd = _crowd(numeric_q, [make_user(), make_user(), make_user()], [60, 80, 100])
    reader = make_user()
    html = client_as(reader).get(f"/questions/{numeric_q.pk}/").content.decode()
    q25, q50, q75 = _quartile_texts(crowd, 0, 200, _numeric)
    assert (
        f"Now: median <strong>{q50}</strong>, half of it between <strong>{q25}</strong> and <strong>{q75}</strong>"
        in html
    )
    assert "median of 3 forecasters" in html
    assert "above 200" in html  # the open bound's share is written out
    assert 'id="crowd-distribution" data-curves="crowd standing"' in html
    assert _json(html, "distribution-meta")["crowd"] == crowd
    history = _json(html, "crowd-data")
    assert history["type"] == "numeric"
    last = history["points"][-1]["q"]
    assert [f"{v:,.0f}{NBSP}Mt" for v in last] == [q25, q50, q75]
    # The table beside the chart has the same quartiles.
    assert f'<td class="num">{q25}</td><td class="num">{q50}</td><td class="num">{q75}</td>' in html
    card = client_as(reader).get("/").content.decode()
    assert f"Crowd median <strong>{q50}</strong>" in card


def test_a_date_crowd_is_shown_as_dates(client_as, date_q, make_user):
    days = [datetime(2025, m, 1, tzinfo=UTC).isoformat() for m in (6, 8, 10)]
    users = [make_user(), make_user(), make_user()]
    for u, d in zip(users, days, strict=True):
        forecast_submit(user=u, question=date_q, payload={"components": [{"centre": d, "scale": 20}]})
    question_crowd_write(question_id=date_q.pk)
    crowd = CrowdPoint.objects.get(question=date_q, method="median", is_latest=True).probabilities
    q25, q50, q75 = _quartile_texts(crowd, JAN_2025.timestamp(), END_2026.timestamp(), _date)
    html = client_as(make_user()).get(f"/questions/{date_q.pk}/").content.decode()
    assert f"Now: median <strong>{q50}</strong>" in html
    card = client_as(make_user()).get("/").content.decode()
    assert f"Crowd median <strong>{q50}</strong>" in card and "2025" in q50


def _page_queries(client, question) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(f"/questions/{question.pk}/").status_code == 200
    return len(ctx.captured_queries)


def test_the_question_page_reads_a_fixed_number_of_queries(client_as, numeric_q, binary_q, make_user):
    """Nothing is read per forecast, crowd point or rationale, and a numeric page reads no more
    than a binary one: the crowd history once for the chart and the table, the latest crowd once."""
    reader = make_user()
    c = client_as(reader)
    payloads = {
        numeric_q: lambda i: {"components": [{"centre": 50 + 10 * i, "scale": 8}]},
        binary_q: lambda i: {"probability": 0.3 + 0.05 * i},
    }
    counts = {}
    for q, payload in payloads.items():
        for start, n in ((0, 3), (3, 8)):  # three forecasters (and the reader's three forecasts), then eight
            for i in range(start, n):
                forecast_submit(user=make_user(), question=q, payload=payload(i), rationale="Because.")
                forecast_submit(user=reader, question=q, payload=payload(i), rationale="Mine.")
            question_crowd_write(question_id=q.pk)
            counts[q.type, n] = _page_queries(c, q)
    assert counts["numeric", 3] == counts["numeric", 8] == counts["binary", 3] == counts["binary", 8], counts


# --- The outcome ------------------------------------------------------------------------------------


def test_a_resolved_numeric_question_shows_its_outcome(client_as, numeric_q, make_user):
    ana = make_user()
    forecast_submit(user=ana, question=numeric_q, payload={"components": [{"centre": 80, "scale": 10}]})
    question_resolve(question=numeric_q, outcome=42.5, by=make_user(staff=True))
    html = client_as(ana).get(f"/questions/{numeric_q.pk}/").content.decode()
    assert f"Resolved: 42.5{NBSP}Mt" in html  # as given, not at the grid's precision
    assert "no longer takes forecasts" in html
    assert _json(html, "distribution-meta")["outcome"] == {"x": pytest.approx(42.5 / 200)}
    listing = client_as(ana).get("/?status=resolved").content.decode()
    assert f"Outcome: <strong>42.5{NBSP}Mt</strong>" in listing


def test_an_outcome_beyond_the_open_bound_and_a_date_outcome(client_as, numeric_q, date_q, make_user):
    admin = make_user(staff=True)
    question_resolve(question=numeric_q, outcome="above", by=admin)
    question_resolve(question=date_q, outcome="2025-03-03T00:00:00Z", by=admin)
    c = client_as(make_user())
    numeric_html = c.get(f"/questions/{numeric_q.pk}/").content.decode()
    assert f"Resolved: Above 200{NBSP}Mt" in numeric_html
    assert _json(numeric_html, "distribution-meta")["outcome"] == {"side": "above"}
    assert "Resolved: 3 Mar 2025" in c.get(f"/questions/{date_q.pk}/").content.decode()
    listing = c.get("/?status=resolved").content.decode()
    assert "Outcome: <strong>3 Mar 2025</strong>" in listing


def test_scores_of_a_numeric_question_are_given_as_crps_on_the_page_and_the_profile(
    client_as, make_question, make_user
):
    from forecast_math.continuous import crps
    from scoring.models import Score
    from scoring.services import question_scores_write

    now = datetime.now(UTC)
    q = make_question(
        type="numeric",
        title="Tonnes of wheat through Hairatan in 2025?",
        range_lower=0,
        range_upper=200,
        unit="Mt",
        open_time=now - timedelta(days=10),
        close_time=now - timedelta(days=1),
    )
    ana = make_user()
    forecast_submit(
        user=ana, question=q, payload={"components": [{"centre": 40, "scale": 10}]}, at=now - timedelta(days=9)
    )
    question_resolve(question=q, outcome=42.5, by=make_user(staff=True))
    question_scores_write(question_id=q.pk)
    score = Score.objects.get(question=q, user=ana)
    # The final CRPS is that of her only forecast at the outcome, in range units.
    cdf = Forecast.objects.get(question=q, user=ana).cdf
    assert score.crps_final == pytest.approx(float(crps(cdf, 42.5 / 200)))
    c = client_as(ana)
    html = c.get(f"/questions/{q.pk}/").content.decode()
    assert "Your final CRPS" in html and f"{score.crps_final:.3f}" in html
    assert "Your final Brier" not in html
    profile = c.get("/profile/").content.decode()
    assert f"<td>42.5{NBSP}Mt</td>" in profile
    assert f'{score.crps_final:.3f} <span class="ci">CRPS</span>' in profile
