"""Numeric and date questions and strategic questions: linking one as an indicator is refused with
its field named (the composite reads a probability or an ordered choice, not a distribution), and a
linked question that became numeric before its first forecast is skipped by the composite and the
detail body instead of breaking them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from config.exceptions import ValidationFailed
from forecasts.crowd import question_crowd_write
from forecasts.services import forecast_submit
from questions.services import question_create, question_resolve, question_update
from strategy.history import strategic_recompute
from strategy.models import IndicatorLink, StrategicPoint
from strategy.selectors import strategic_question_detail
from strategy.services import strategic_links_replace, strategic_links_validate

from .conftest import T0

pytestmark = pytest.mark.django_db


def _numeric(**kw):
    fields = {
        "type": "numeric",
        "title": "How many joint patrols will there be in 2025?",
        "open_time": T0,
        "close_time": T0 + timedelta(days=3650),
        "range_lower": 0.0,
        "range_upper": 50.0,
    }
    fields.update(kw)
    return question_create(**fields)


@pytest.mark.parametrize("kind", ["numeric", "date"])
def test_linking_a_continuous_question_is_refused_naming_the_field(strategic, indicators, kind):
    if kind == "numeric":
        q = _numeric()
    else:
        q = _numeric(
            type="date",
            range_lower=datetime(2025, 1, 1, tzinfo=UTC),
            range_upper=datetime(2026, 1, 1, tzinfo=UTC),
        )
    payload = [{"title": "Security", "indicators": [{"question": indicators["recognise"].pk, "direction": 1}, {"question": q.pk, "direction": 1}]}]  # fmt: skip
    with pytest.raises(ValidationFailed) as e:
        strategic_links_validate(drivers=payload)
    rule = e.value.fields["drivers[0].indicators[1].question"][0]
    assert f"a {kind} question cannot be an indicator" in rule
    before = list(IndicatorLink.objects.filter(strategic_question=strategic).values_list("question_id", flat=True))
    with pytest.raises(ValidationFailed):
        strategic_links_replace(strategic_question=strategic, drivers=payload)
    assert (
        list(IndicatorLink.objects.filter(strategic_question=strategic).values_list("question_id", flat=True)) == before
    )


def test_a_linked_question_that_became_numeric_is_skipped(strategic, indicators, crowd, staff):
    sanctions = indicators["sanctions"]  # linked, no forecast yet: its terms may still change
    for i, user in enumerate(crowd):
        forecast_submit(
            user=user,
            question=indicators["recognise"],
            payload={"probability": 0.2 + 0.1 * i},
            at=T0 + timedelta(days=1),
        )
    question_crowd_write(question_id=indicators["recognise"].pk)
    sanctions = question_update(
        question=sanctions, by=staff, changes={"type": "numeric", "range_lower": 0.0, "range_upper": 9.0}
    )
    for i, user in enumerate(crowd):
        forecast_submit(
            user=user,
            question=sanctions,
            payload={"components": [{"centre": 3 + i, "scale": 1}]},
            at=T0 + timedelta(days=2),
        )
    question_crowd_write(question_id=sanctions.pk)
    question_resolve(question=sanctions, outcome=4.5, by=staff, at=datetime.now(UTC))

    assert strategic_recompute(strategic_question_id=strategic.pk) > 0
    for point in StrategicPoint.objects.filter(strategic_question=strategic):
        assert str(sanctions.pk) not in point.contributions  # never counts in the composite
    detail = strategic_question_detail(strategic_question=strategic, user=staff)
    shown = {i["question"]: i for d in detail["drivers"] for i in d["indicators"]}
    assert shown[sanctions.pk]["type"] == "numeric"
    assert shown[sanctions.pk]["value"] is None and shown[sanctions.pk]["contribution"] is None
    assert shown[sanctions.pk]["crowd_probability"] is None
    assert shown[sanctions.pk]["resolution"] == "4.5"
    assert shown[indicators["recognise"].pk]["value"] is not None
