"""strategy.services on their own: the payload rules shared by the API and the admin, the
updates of a strategic question, and forecasts' crowd_changed signal that drives the job."""

from __future__ import annotations

from datetime import timedelta

import pytest

from config.exceptions import DomainError, ValidationFailed
from forecasts.crowd import question_crowd_write
from forecasts.services import forecast_submit
from forecasts.signals import crowd_changed
from strategy.models import IndicatorLink
from strategy.services import strategic_links_replace, strategic_links_validate, strategic_question_update

from .conftest import T0

pytestmark = pytest.mark.django_db


def _fields(payload) -> dict:
    with pytest.raises(ValidationFailed) as caught:
        strategic_links_validate(drivers=payload)
    return caught.value.fields


def test_the_shape_of_the_payload_is_checked_field_by_field(indicators):
    q = indicators["recognise"].pk
    assert _fields("drivers") == {"drivers": ["must be a list"]}
    assert set(_fields([1, {"title": " ", "indicators": "x"}])) == {
        "drivers[0]",
        "drivers[1].title",
        "drivers[1].indicators",
    }
    fields = _fields([{"title": "D", "indicators": [{"question": str(q), "direction": 1, "rationale": 3}, 7]}])
    assert set(fields) == {
        "drivers[0].indicators[0].question",
        "drivers[0].indicators[0].rationale",
        "drivers[0].indicators[1]",
    }


def test_a_valid_payload_is_normalised_with_defaults(indicators):
    q = indicators["recognise"]
    out = strategic_links_validate(drivers=[{"title": " D ", "indicators": [{"question": q.pk, "direction": -1}]}])
    assert out == [{"title": "D", "indicators": [{"question": q, "direction": -1, "weight": 1.0, "rationale": ""}]}]


def test_links_replace_is_all_or_nothing(strategic, indicators):
    before = list(IndicatorLink.objects.filter(strategic_question=strategic).values_list("question_id", "weight"))
    bad = [{"title": "D", "indicators": [{"question": indicators["recognise"].pk, "direction": 1, "weight": -2}]}]
    with pytest.raises(ValidationFailed):
        strategic_links_replace(strategic_question=strategic, drivers=bad)
    assert (
        list(IndicatorLink.objects.filter(strategic_question=strategic).values_list("question_id", "weight")) == before
    )
    strategic_links_replace(strategic_question=strategic, drivers=[])
    assert not strategic.links.exists() and not strategic.drivers.exists()


def test_the_strategic_question_is_updated_field_by_field(strategic):
    sq = strategic_question_update(strategic_question=strategic, changes={"title": " New title ", "published": False})
    assert sq.title == "New title" and sq.published_at is None
    with pytest.raises(DomainError) as caught:
        strategic_question_update(strategic_question=strategic, changes={"computed_at": None})
    assert caught.value.field == "computed_at"
    with pytest.raises(ValidationFailed) as caught:
        strategic_question_update(strategic_question=strategic, changes={"pole_more": ""})
    assert set(caught.value.fields) == {"pole_more"}


def test_the_crowd_write_announces_a_change_after_commit_only_when_it_wrote(
    indicators, crowd, django_capture_on_commit_callbacks
):
    q = indicators["recognise"]
    heard: list[int] = []

    def listen(sender, question_id, **kwargs):
        heard.append(question_id)

    crowd_changed.connect(listen, dispatch_uid="test.listen")
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            forecast_submit(user=crowd[0], question=q, payload={"probability": 0.3}, at=T0 + timedelta(days=1))
        assert heard == []  # nothing before the commit
        for callback in callbacks:  # the commit: the crowd update runs, then announces
            with django_capture_on_commit_callbacks(execute=True):
                callback()
        assert heard == [q.pk]
        with django_capture_on_commit_callbacks(execute=True):
            assert question_crowd_write(question_id=q.pk) == 0  # nothing new: nothing announced
        assert heard == [q.pk]
    finally:
        crowd_changed.disconnect(dispatch_uid="test.listen")


def test_the_detail_body_reads_each_indicators_crowd_without_a_query_each(strategic, indicators, crowd, make_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from questions.services import question_create, question_update
    from strategy.selectors import strategic_question_detail

    staff = make_user("detail-staff", staff=True)
    reader = make_user("detail-reader")

    def publish_with_crowd(q, p):
        question_update(question=q, by=staff, changes={"published": True})
        for user in crowd:
            forecast_submit(user=user, question=q, payload={"probability": p}, at=T0 + timedelta(days=1))
        question_crowd_write(question_id=q.pk)

    def read() -> tuple[int, dict]:
        with CaptureQueriesContext(connection) as queries:
            body = strategic_question_detail(strategic_question=strategic, user=reader)
        shown = {i["question"]: i["crowd_probability"] for d in body["drivers"] for i in d["indicators"]}
        return len(queries), shown

    publish_with_crowd(indicators["recognise"], 0.3)
    publish_with_crowd(indicators["sanctions"], 0.6)
    question_update(question=indicators["exercises"], by=staff, changes={"published": True})
    few, shown = read()
    assert shown == {indicators["recognise"].pk: 0.3, indicators["sanctions"].pk: 0.6, indicators["exercises"].pk: None}

    more = [question_create(type="binary", title=f"Indicator {i}?", open_time=T0, close_time=T0 + timedelta(days=3650))
            for i in range(4)]  # fmt: skip
    for i, q in enumerate(more):
        publish_with_crowd(q, 0.1 * (i + 2))
    links = [{"question": q.pk, "direction": 1} for q in (indicators["recognise"], indicators["sanctions"], *more)]
    strategic_links_replace(strategic_question=strategic, drivers=[{"title": "All", "indicators": links}])
    many, shown = read()
    assert shown[more[3].pk] == pytest.approx(0.5)
    assert many == few  # the same queries whatever the number of indicators
