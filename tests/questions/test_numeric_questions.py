"""Numeric and date questions in the questions layer: creating and editing them (the range rules,
each refusal naming its field), resolving them by a value, a date, "below"/"above", correcting and
annulling them (the audit trail shows the outcome readably), and the database's own check
constraints refusing a half-written row."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, transaction

from config.exceptions import Conflict, DomainError, ValidationFailed
from forecasts.services import forecast_submit
from questions.models import Question, ResolutionEvent
from questions.selectors import continuous_outcome, outcome_json, outcome_text, value_json, value_text
from questions.services import question_annul, question_create, question_resolve, question_unresolve, question_update
from questions.signals import resolution_changed

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def numeric(**kw) -> Question:
    fields = {
        "type": "numeric",
        "title": "How many tonnes of grain will leave Odesa in March?",
        "open_time": T0,
        "close_time": datetime.now(UTC) + timedelta(days=30),
        "range_lower": 0.0,
        "range_upper": 200.0,
        "unit": "kt",
    }
    fields.update(kw)
    return question_create(**fields)


def date_q(**kw) -> Question:
    fields = {
        "type": "date",
        "title": "When will the embassy reopen?",
        "open_time": T0,
        "close_time": datetime.now(UTC) + timedelta(days=30),
        "range_lower": datetime(2025, 1, 1, tzinfo=UTC),
        "range_upper": datetime(2026, 1, 1, tzinfo=UTC),
    }
    fields.update(kw)
    return question_create(**fields)


# --- Creating -------------------------------------------------------------------------------------


def test_numeric_question_is_stored_with_its_range_and_no_options():
    q = numeric(open_upper=True)
    q.refresh_from_db()
    assert q.is_continuous
    assert (q.range_lower, q.range_upper, q.open_lower, q.open_upper, q.unit) == (0.0, 200.0, False, True, "kt")
    assert q.options.count() == 0


def test_date_question_bounds_are_stored_as_posix_seconds():
    q = date_q()
    q.refresh_from_db()
    assert q.range_lower == datetime(2025, 1, 1, tzinfo=UTC).timestamp()
    assert q.range_upper == datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    assert value_json(q, q.range_lower) == "2025-01-01T00:00:00Z"
    # ISO 8601 text (as the API, the importer and the demo give it) and POSIX seconds do as well
    for lower, upper in (("2025-01-01T00:00:00Z", "2026-01-01"), (q.range_lower, q.range_upper)):
        same = date_q(range_lower=lower, range_upper=upper)
        assert (same.range_lower, same.range_upper) == (q.range_lower, q.range_upper)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"range_lower": None}, "range_lower"),
        ({"range_upper": None}, "range_upper"),
        ({"range_lower": "0"}, "range_lower"),
        ({"range_lower": True}, "range_lower"),
        ({"range_upper": math.inf}, "range_upper"),
        ({"range_lower": math.nan}, "range_lower"),
        ({"range_upper": 1e301}, "range_upper"),
        ({"range_lower": 200.0, "range_upper": 200.0}, "range_upper"),
        ({"range_lower": 300.0}, "range_upper"),
        ({"unit": "x" * 41}, "unit"),
        ({"unit": 7}, "unit"),
        ({"open_lower": "yes"}, "open_lower"),
        ({"options": ["a", "b"]}, "options"),
        ({"ordered": True}, "ordered"),
    ],
)
def test_numeric_question_rules_name_the_field(kw, field):
    with pytest.raises(ValidationFailed) as e:
        numeric(**kw)
    assert field in e.value.fields
    assert e.value.http_status == 400
    assert not Question.objects.exists()


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"range_lower": datetime(2025, 1, 1)}, "range_lower"),  # naive
        ({"range_upper": "next year"}, "range_upper"),
        ({"range_upper": datetime(2024, 1, 1, tzinfo=UTC)}, "range_upper"),  # before the lower bound
        ({"unit": "days"}, "unit"),
    ],
)
def test_date_question_rules_name_the_field(kw, field):
    with pytest.raises(ValidationFailed) as e:
        date_q(**kw)
    assert field in e.value.fields
    assert not Question.objects.exists()


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"range_lower": 0.0}, "range_lower"),
        ({"range_upper": 1.0}, "range_upper"),
        ({"open_upper": True}, "open_upper"),
        ({"unit": "kt"}, "unit"),
    ],
)
def test_binary_question_has_no_range(kw, field):
    with pytest.raises(ValidationFailed) as e:
        question_create(type="binary", title="Will it?", open_time=T0, close_time=T0 + timedelta(days=9), **kw)
    assert field in e.value.fields


def test_unknown_type_names_every_type():
    with pytest.raises(ValidationFailed) as e:
        question_create(type="ranked", title="?", open_time=T0, close_time=T0 + timedelta(days=1))
    assert "numeric" in e.value.fields["type"][0] and "date" in e.value.fields["type"][0]


# --- Editing --------------------------------------------------------------------------------------


def test_range_is_editable_until_the_first_forecast_then_frozen(staff, forecaster):
    q = numeric()
    q = question_update(question=q, by=staff, changes={"range_upper": 250.0, "open_upper": True})
    assert (q.range_upper, q.open_upper) == (250.0, True)
    forecast_submit(
        user=forecaster, question=q, payload={"quantiles": {"5": 10, "25": 40, "50": 60, "75": 90, "95": 150}}
    )
    for changes in ({"range_upper": 300.0}, {"range_lower": -5.0}, {"open_lower": True}, {"type": "binary"}):
        with pytest.raises(Conflict) as e:
            question_update(question=q, by=staff, changes=changes)
        assert e.value.code == "terms_frozen"
        assert e.value.field == next(iter(changes))
    q.refresh_from_db()
    assert (q.range_lower, q.range_upper, q.open_lower, q.open_upper) == (0.0, 250.0, False, True)
    # the unit is wording, editable at any time
    q = question_update(question=q, by=staff, changes={"unit": "thousand tonnes"})
    assert q.unit == "thousand tonnes"


def test_changing_the_type_moves_between_options_and_range(staff):
    q = question_create(type="binary", title="Will it?", open_time=T0, close_time=T0 + timedelta(days=400))
    q = question_update(
        question=q, by=staff, changes={"type": "numeric", "range_lower": 1.0, "range_upper": 9.0, "unit": "%"}
    )
    assert q.type == "numeric" and q.options.count() == 0 and q.range_upper == 9.0
    q = question_update(question=q, by=staff, changes={"type": "binary"})
    q.refresh_from_db()
    assert [o.label for o in q.options.all()] == ["yes", "no"]
    assert (q.range_lower, q.range_upper, q.unit) == (None, None, "")


def test_update_names_the_range_field_at_fault(staff):
    q = numeric()
    with pytest.raises(ValidationFailed) as e:
        question_update(question=q, by=staff, changes={"range_lower": 500.0})
    assert "range_upper" in e.value.fields
    with pytest.raises(ValidationFailed) as e:
        question_update(question=q, by=staff, changes={"open_lower": 1})
    assert "open_lower" in e.value.fields
    with pytest.raises(DomainError) as e:
        question_update(question=q, by=staff, changes={"resolved_value": 3.0})
    assert e.value.field == "resolved_value"


def test_resolved_question_keeps_its_range(staff):
    q = numeric()
    question_resolve(question=q, outcome=50, by=staff)
    with pytest.raises(Conflict) as e:
        question_update(question=q, by=staff, changes={"range_upper": 40.0})
    assert e.value.field == "range_upper"


# --- Resolving ------------------------------------------------------------------------------------


def test_resolve_numeric_by_value_records_a_readable_outcome(staff, django_capture_on_commit_callbacks):
    q = numeric()
    sent = []
    resolution_changed.connect(lambda sender, question_id, **kw: sent.append(question_id), weak=False, dispatch_uid="t")
    try:
        with django_capture_on_commit_callbacks() as callbacks:
            q = question_resolve(question=q, outcome=42.5, by=staff)
        for callback in callbacks:
            if callback.__qualname__.startswith("_announce_resolution_change"):
                callback()
    finally:
        resolution_changed.disconnect(dispatch_uid="t")
    q.refresh_from_db()
    assert (q.state, q.resolved_value, q.resolved_outside, q.resolved_option_id) == ("resolved", 42.5, "", None)
    event = ResolutionEvent.objects.get(question=q)
    assert (event.from_outcome, event.to_outcome) == ("", "42.5 kt")
    assert outcome_text(q) == "42.5 kt" and outcome_json(q) == 42.5
    assert continuous_outcome(q).x == pytest.approx(42.5 / 200)
    assert sent == [q.pk]  # scoring and the rest hear of it, as for any resolution


def test_resolve_date_by_instant(staff):
    q = date_q()
    q = question_resolve(question=q, outcome="2025-07-02T12:00:00Z", by=staff)
    q.refresh_from_db()
    assert q.resolved_value == datetime(2025, 7, 2, 12, tzinfo=UTC).timestamp()
    assert outcome_text(q) == "2025-07-02T12:00:00Z" and outcome_json(q) == "2025-07-02T12:00:00Z"
    assert ResolutionEvent.objects.get(question=q).to_outcome == "2025-07-02T12:00:00Z"
    # an aware datetime does as well, and a bare date is its midnight UTC
    question_resolve(question=q, outcome=datetime(2025, 8, 1, tzinfo=UTC), by=staff)
    q.refresh_from_db()
    assert outcome_text(q) == "2025-08-01T00:00:00Z"
    question_resolve(question=q, outcome="2025-09-01", by=staff)
    q.refresh_from_db()
    assert outcome_json(q) == "2025-09-01T00:00:00Z"


def test_value_beyond_an_open_bound_resolves_as_below_or_above(staff):
    q = numeric(open_lower=True, open_upper=True)
    question_resolve(question=q, outcome=250.0, by=staff)
    q.refresh_from_db()
    assert (q.resolved_value, q.resolved_outside) == (None, "above")
    assert outcome_text(q) == "above 200 kt" and outcome_json(q) == "above"
    assert continuous_outcome(q).x == math.inf
    question_resolve(question=q, outcome="below", by=staff)
    q.refresh_from_db()
    assert q.resolved_outside == "below" and continuous_outcome(q).x == -math.inf
    events = list(ResolutionEvent.objects.filter(question=q).order_by("version"))
    assert [(e.from_outcome, e.to_outcome) for e in events] == [("", "above 200 kt"), ("above 200 kt", "below 0 kt")]


@pytest.mark.parametrize(
    ("outcome", "rule"),
    [
        (250.0, "closed upper bound"),
        (-1, "closed lower bound"),
        ("above", "upper bound is closed"),
        ("below", "lower bound is closed"),
        ("42", "finite number"),
        (True, "finite number"),
        (math.nan, "finite number"),
        (None, "finite number"),
    ],
)
def test_resolution_refusals_name_the_field(staff, outcome, rule):
    q = numeric()
    with pytest.raises(DomainError) as e:
        question_resolve(question=q, outcome=outcome, by=staff)
    assert e.value.field == "resolution" and rule in e.value.message
    q.refresh_from_db()
    assert q.state == "open" and not ResolutionEvent.objects.filter(question=q).exists()


def test_date_resolution_refuses_a_number_and_a_date_beyond_a_closed_bound(staff):
    q = date_q()
    for outcome in (1735689600.0, "2027-01-01T00:00:00Z", "soon"):
        with pytest.raises(DomainError) as e:
            question_resolve(question=q, outcome=outcome, by=staff)
        assert e.value.field == "resolution"


def test_the_bounds_themselves_are_in_range(staff):
    q = numeric()
    question_resolve(question=q, outcome=200, by=staff)
    q.refresh_from_db()
    assert q.resolved_value == 200.0 and continuous_outcome(q).x == 1.0


def test_correction_annulment_and_unresolve(staff):
    q = numeric()
    question_resolve(question=q, outcome=10, by=staff)
    with pytest.raises(Conflict) as e:
        question_resolve(question=q, outcome=10.0, by=staff)
    assert e.value.code == "already_resolved"
    question_resolve(question=q, outcome=12.25, by=staff, note="typo")
    question_resolve(question=q, outcome="annulled", by=staff)
    q.refresh_from_db()
    assert q.state == "annulled" and q.resolved_value is None and outcome_text(q) == ""
    assert continuous_outcome(q) is None
    question_unresolve(question=q, by=staff)
    q.refresh_from_db()
    assert q.state == "open"
    trail = [
        (e.action, e.from_outcome, e.to_outcome) for e in ResolutionEvent.objects.filter(question=q).order_by("version")
    ]
    assert trail == [
        ("resolve", "", "10 kt"),
        ("resolve", "10 kt", "12.25 kt"),
        ("annul", "12.25 kt", ""),
        ("unresolve", "", ""),
    ]
    assert q.resolution_version == 4


def test_annul_directly(staff):
    q = date_q()
    question_annul(question=q, by=staff)
    q.refresh_from_db()
    assert q.state == "annulled"


def test_value_text_formats_numbers_and_dates():
    q = numeric(unit="")
    assert value_text(q, 1200000.0) == "1200000"
    assert value_text(q, 0.1 + 0.2) == "0.3"
    assert value_text(q, 210.236471298613, approximate=True) == "210.2"  # a thousandth of the 0..200 range
    d = date_q()
    instant = datetime(2025, 3, 1, 6, 30, 12, tzinfo=UTC).timestamp()
    assert value_text(d, instant) == "2025-03-01T06:30:12Z"
    assert value_text(d, instant, approximate=True) == "2025-03-01"


# --- The database's own rules ---------------------------------------------------------------------


def _refused(q: Question, **fields) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Question.objects.filter(pk=q.pk).update(**fields)


def test_constraints_refuse_half_written_rows():
    q = numeric()
    now = datetime.now(UTC)
    _refused(q, state="resolved", resolved_at=now)  # resolved without any outcome
    _refused(q, state="resolved", resolved_at=now, resolved_value=3.0, resolved_outside="above")  # two outcomes
    _refused(q, state="resolved", resolved_at=now, resolved_outside="above")  # above a closed bound
    _refused(q, state="open", resolved_value=3.0)  # an outcome on an open question
    _refused(q, state="annulled", resolved_at=now, resolved_value=3.0)
    _refused(q, range_upper=None)  # a numeric question without its range
    _refused(q, range_upper=-1.0)  # upper below lower
    _refused(q, range_upper=float("nan"))
    _refused(q, range_upper=float("inf"))
    b = question_create(type="binary", title="Will it?", open_time=T0, close_time=T0 + timedelta(days=9))
    _refused(b, range_lower=0.0, range_upper=1.0)  # a binary question has no range
    _refused(b, open_upper=True)
    Question.objects.filter(pk=q.pk).update(state="resolved", resolved_at=now, resolved_value=3.0)  # whole: accepted
