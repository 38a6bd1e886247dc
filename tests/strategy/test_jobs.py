"""The composite's recompute job end to end: a forecast -> the real crowd update -> crowd_changed
-> strategic_recompute -> StrategicPoint rows; a resolution -> resolution_changed -> the same; and
running the job again changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from forecasts.services import forecast_submit
from questions.services import question_resolve, question_unresolve, question_update
from strategy.history import strategic_recompute
from strategy.models import StrategicPoint
from strategy.tasks import strategic_recompute as strategic_recompute_task

from .conftest import T0

pytestmark = pytest.mark.django_db


def _points(sq):
    return [
        (p.time, p.composite, p.contributions)
        for p in StrategicPoint.objects.filter(strategic_question=sq).order_by("time")
    ]


def _latest(sq):
    return StrategicPoint.objects.filter(strategic_question=sq).order_by("-time").first()


def _forecast(users, question, probabilities, day, capture):
    """Each user forecasts on `day` (an hour apart), with on-commit work (the crowd update and
    what it triggers) run as in production."""
    for i, (user, p) in enumerate(zip(users, probabilities, strict=True)):
        payload = {"probability": p} if isinstance(p, float) else {"probabilities": p}
        with capture(execute=True):
            forecast_submit(user=user, question=question, payload=payload, at=T0 + timedelta(days=day, hours=i))


def test_a_link_edit_computes_the_history_with_no_value_yet(strategic, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        strategic_recompute_task.delay(strategic.pk)
    assert _points(strategic) == [(T0, None, {})]


def test_forecasts_move_the_composite_through_the_real_crowd_update(
    strategic, indicators, crowd, django_capture_on_commit_callbacks
):
    recognise, sanctions = indicators["recognise"], indicators["sanctions"]
    _forecast(crowd, recognise, [0.6, 0.7, 0.8], 1, django_capture_on_commit_callbacks)
    # Three forecasters: the crowd (median 0.7) is published from the third one on; before it,
    # the composite has no value. recognise: 2 * 0.7 - 1 = 0.4 alone.
    latest = _latest(strategic)
    assert latest.time == T0 + timedelta(days=1, hours=2)
    assert latest.composite == pytest.approx(0.4)
    assert latest.contributions == {
        str(recognise.pk): {"value": pytest.approx(0.4), "contribution": pytest.approx(0.4)}
    }

    _forecast(crowd, sanctions, [0.1, 0.2, 0.3], 2, django_capture_on_commit_callbacks)
    # sanctions: direction -1, median 0.2 -> -(2 * 0.2 - 1) = 0.6, weight 1; recognise weight 2
    latest = _latest(strategic)
    assert latest.composite == pytest.approx((2 * 0.4 + 1 * 0.6) / 3)
    composites = [c for _, c, _ in _points(strategic)]
    assert composites[0] is None and composites[-2] == pytest.approx(0.4)

    exercises = indicators["exercises"]
    _forecast(crowd, exercises, [{"0": 0.2, "1-2": 0.3, "3+": 0.5}] * 3, 3, django_capture_on_commit_callbacks)
    # ordered: E[index] = 1.3 of 0..2 -> 0.3, weight 1
    assert _latest(strategic).composite == pytest.approx((0.8 + 0.6 + 0.3) / 4)


def test_a_resolution_replaces_the_crowd_and_an_unresolution_restores_it(
    strategic, indicators, crowd, staff, django_capture_on_commit_callbacks
):
    recognise = indicators["recognise"]
    _forecast(crowd, recognise, [0.6, 0.7, 0.8], 1, django_capture_on_commit_callbacks)
    assert _latest(strategic).composite == pytest.approx(0.4)
    with django_capture_on_commit_callbacks(execute=True):
        question_resolve(question=recognise, outcome="no", by=staff, at=T0 + timedelta(days=5))
    latest = _latest(strategic)
    assert latest.time == T0 + timedelta(days=5) and latest.composite == pytest.approx(-1.0)
    with django_capture_on_commit_callbacks(execute=True):
        question_unresolve(question=recognise, by=staff, at=T0 + timedelta(days=6))
    assert _latest(strategic).composite == pytest.approx(0.4)


def test_an_annulled_indicator_stops_counting(strategic, indicators, crowd, staff, django_capture_on_commit_callbacks):
    _forecast(crowd, indicators["recognise"], [0.6, 0.7, 0.8], 1, django_capture_on_commit_callbacks)
    _forecast(crowd, indicators["sanctions"], [0.1, 0.2, 0.3], 2, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        question_resolve(question=indicators["recognise"], outcome="annulled", by=staff, at=T0 + timedelta(days=4))
    latest = _latest(strategic)
    assert latest.composite == pytest.approx(0.6) and list(latest.contributions) == [str(indicators["sanctions"].pk)]


def test_running_the_job_twice_gives_the_same_points(
    strategic, indicators, crowd, staff, django_capture_on_commit_callbacks
):
    _forecast(crowd, indicators["recognise"], [0.6, 0.7, 0.8], 1, django_capture_on_commit_callbacks)
    _forecast(crowd, indicators["sanctions"], [0.1, 0.2, 0.3], 2, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        question_resolve(question=indicators["sanctions"], outcome="yes", by=staff, at=T0 + timedelta(days=5))
    first = _points(strategic)
    assert len(first) >= 4
    ids = set(StrategicPoint.objects.filter(strategic_question=strategic).values_list("id", flat=True))
    assert strategic_recompute(strategic_question_id=strategic.pk) == len(first)
    assert _points(strategic) == first
    strategic_recompute_task.apply(args=[strategic.pk])
    assert _points(strategic) == first
    # Rebuilt wholesale: new rows, the same content.
    assert not ids & set(StrategicPoint.objects.filter(strategic_question=strategic).values_list("id", flat=True))


def test_a_deleted_strategic_question_is_nothing_to_do(strategic):
    pk = strategic.pk
    strategic.delete()
    assert strategic_recompute(strategic_question_id=pk) == 0


def test_the_hidden_crowd_counts_only_from_its_reveal_time(
    strategic, indicators, crowd, staff, django_capture_on_commit_callbacks
):
    recognise = indicators["recognise"]
    reveal = T0 + timedelta(days=10)
    with django_capture_on_commit_callbacks(execute=True):
        question_update(question=recognise, by=staff, changes={"crowd_reveal_time": reveal})
    _forecast(crowd, recognise, [0.6, 0.7, 0.8], 1, django_capture_on_commit_callbacks)
    # Before the reveal the composite must not give the hidden crowd away.
    assert [(t, c) for t, c, _ in _points(strategic)] == [(T0, None), (reveal, pytest.approx(0.4))]


def test_editing_a_linked_question_recomputes(strategic, indicators, crowd, staff, django_capture_on_commit_callbacks):
    recognise = indicators["recognise"]
    _forecast(crowd, recognise, [0.6, 0.7, 0.8], 1, django_capture_on_commit_callbacks)
    assert _latest(strategic).composite == pytest.approx(0.4)
    with django_capture_on_commit_callbacks(execute=True):
        question_update(question=recognise, by=staff, changes={"published": False})
    assert _latest(strategic).composite is None  # a draft question does not count
    # An edit of something the composite does not read enqueues nothing.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        question_update(question=recognise, by=staff, changes={"title": "Will Russia recognise the Taliban?"})
    assert callbacks == []
