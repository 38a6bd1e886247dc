"""The site's probability input (issue 14): a percentage, odds ("3:1") or "1 in N", all turned into
the same stored probability and validated by the same rules (forecasts.validation)."""

from __future__ import annotations

import pytest

from config.exceptions import DomainError
from forecasts.validation import probability_vector
from web.forms import parse_probability


@pytest.mark.parametrize(
    ("typed", "p"),
    [
        ("75", 0.75),
        ("75%", 0.75),
        (" 12.5 % ", 0.125),
        ("3:1", 0.75),
        ("3 : 1", 0.75),
        ("3 to 1", 0.75),
        ("1:3", 0.25),
        ("1.5:1", 0.6),
        ("1 in 4", 0.25),
        ("2 in 5", 0.4),
        ("1 IN 1000", 0.001),
        ("999:1", 0.999),
        ("0.1", 0.001),
        ("99.9%", 0.999),
    ],
)
def test_good_inputs_give_the_same_probability(typed, p):
    value = parse_probability(typed)
    assert value == pytest.approx(p)
    assert probability_vector(question_type="binary", labels=["yes", "no"], payload={"probability": value})[
        0
    ] == pytest.approx(p)


def test_the_three_forms_agree():
    assert parse_probability("25") == parse_probability("1:3") == parse_probability("1 in 4") == 0.25


def test_empty_is_none():
    assert parse_probability("") is None and parse_probability("   ") is None and parse_probability(None) is None


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("0.05", "out_of_bounds"),  # 0.05% < 0.1%
        ("100", "out_of_bounds"),
        ("99.95", "out_of_bounds"),
        ("0", "out_of_bounds"),
        ("1:0", "out_of_bounds"),  # certainty
        ("0:1", "out_of_bounds"),
        ("1 in 1", "out_of_bounds"),
        ("1 in 2000", "out_of_bounds"),
        ("3 in 2", "out_of_bounds"),  # more than certain
        ("1 in 0", "invalid"),
        ("0:0", "invalid"),
        ("abc", "invalid"),
        ("3:1:2", "invalid"),
        ("-3:1", "invalid"),
        ("1 out of 4", "invalid"),
        ("nan", "invalid"),
        ("inf", "invalid"),
        ("1e400", "invalid"),  # Decimal reads it; float makes it inf
    ],
)
def test_bad_inputs_are_refused_by_the_same_rules(typed, code):
    value = parse_probability(typed)
    with pytest.raises(DomainError) as e:
        probability_vector(question_type="binary", labels=["yes", "no"], payload={"probability": value})
    assert e.value.field == "probability"
    assert e.value.code == code


@pytest.mark.django_db
def test_the_site_form_stores_odds_and_one_in_n(make_user, make_question):
    from django.test import Client

    from forecasts.models import Forecast

    q = make_question(title="Odds")
    c = Client()
    c.force_login(make_user("odds-user"))
    assert c.post(f"/questions/{q.pk}/forecast/", {"probability": "3:1"}).status_code == 302
    assert c.post(f"/questions/{q.pk}/forecast/", {"probability": "1 in 4"}).status_code == 302
    assert [f.probabilities[0] for f in Forecast.objects.filter(question=q).order_by("id")] == [0.75, 0.25]
    bad = c.post(f"/questions/{q.pk}/forecast/", {"probability": "1 in 2000"})
    assert bad.status_code == 400 and "between 0.001 and 0.999" in bad.content.decode()
    assert Forecast.objects.filter(question=q).count() == 2
