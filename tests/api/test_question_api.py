from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from questions.models import Question, ResolutionEvent

pytestmark = pytest.mark.django_db


def _new_question_body(**kw):
    now = datetime.now(UTC)
    body = {
        "slug": "q-russia-recognises",
        "type": "binary",
        "title": "Will Russia formally recognise the Taliban government by 2025-12-31?",
        "resolution_criteria": "Yes if the Russian foreign ministry announces formal recognition.",
        "open_time": (now - timedelta(days=1)).isoformat(),
        "close_time": (now + timedelta(days=100)).isoformat(),
    }
    body.update(kw)
    return body


def test_staff_creates_a_binary_question_with_yes_no_options(client_for, staff):
    resp = client_for(staff).post("/api/v1/questions/", _new_question_body(), format="json")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert [o["label"] for o in body["options"]] == ["yes", "no"]
    assert body["status"] == "open"
    assert body["resolution"]["state"] == "open"


def test_staff_creates_an_ordered_multiple_choice_question(client_for, staff):
    body = _new_question_body(slug="bins", type="multiple_choice", ordered=True, options=["< 10", "10-20", "> 20"])
    resp = client_for(staff).post("/api/v1/questions/", body, format="json")
    assert resp.status_code == 201, resp.content
    assert resp.json()["ordered"] is True


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"type": "ranked"}, "type"),
        ({"type": "numeric"}, "lower"),  # a numeric question needs its range
        ({"title": ""}, "title"),
        ({"close_time": (datetime.now(UTC) - timedelta(days=5)).isoformat()}, "close_time"),
        ({"type": "multiple_choice", "options": ["only one"]}, "options"),
        ({"type": "multiple_choice", "options": ["A", "A"]}, "options"),
        ({"open_time": "not a date"}, "open_time"),
        ({"series": "no-such-series"}, "series"),
    ],
)
def test_bad_question_is_refused_naming_the_field(client_for, staff, overrides, field):
    resp = client_for(staff).post("/api/v1/questions/", _new_question_body(**overrides), format="json")
    assert resp.status_code == 400, resp.content
    assert field in resp.json()["error"]["fields"]
    assert not Question.objects.exists()


def test_list_filters_by_status_series_and_search(client_for, make_question, staff):
    from questions.services import question_resolve, series_create

    s = series_create(slug="afghanistan", title="Afghanistan")
    now = datetime.now(UTC)
    open_q = make_question(title="Will the SCO admit Afghanistan?", series=s)
    closed_q = make_question(title="Closed one", open_time=now - timedelta(days=9), close_time=now - timedelta(days=1))
    resolved_q = make_question(title="Resolved one", series=s)
    question_resolve(question=resolved_q, outcome="no", by=staff)
    c = client_for(None)

    def ids(**params):
        return {r["id"] for r in c.get("/api/v1/questions/", params).json()["results"]}

    assert ids(status="open") == {open_q.pk}
    assert ids(status="closed") == {closed_q.pk}
    assert ids(status="resolved") == {resolved_q.pk}
    assert ids(series="afghanistan") == {open_q.pk, resolved_q.pk}
    assert ids(search="sco") == {open_q.pk}
    resp = c.get("/api/v1/questions/", {"status": "bogus"})
    assert resp.status_code == 400 and "status" in resp.json()["error"]["fields"]


def test_list_is_paginated(client_for, make_question):
    for i in range(3):
        make_question(title=f"Q{i}")
    body = client_for(None).get("/api/v1/questions/", {"page_size": 2}).json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]


def test_resolve_records_an_audit_event_and_correction_is_recorded_too(client_for, staff, binary_q):
    c = client_for(staff)
    resp = c.post(
        f"/api/v1/questions/{binary_q.pk}/resolve/", {"resolution": "yes", "note": "MFA statement"}, format="json"
    )
    assert resp.status_code == 200, resp.content
    assert resp.json()["resolution"]["outcome"] == "yes"
    assert resp.json()["resolution"]["known_at"] is not None  # resolved before the scheduled close
    again = c.post(
        f"/api/v1/questions/{binary_q.pk}/resolve/",
        {"resolution": "yes", "known_at": resp.json()["resolution"]["known_at"]},
        format="json",
    )
    assert again.status_code == 409
    fix = c.post(f"/api/v1/questions/{binary_q.pk}/resolve/", {"resolution": "no", "note": "misread"}, format="json")
    assert fix.status_code == 200
    events = list(
        ResolutionEvent.objects.filter(question=binary_q).values_list("action", "from_outcome", "to_outcome", "by")
    )
    assert events == [("resolve", "", "yes", staff.pk), ("resolve", "yes", "no", staff.pk)]


def test_resolve_refuses_an_unknown_outcome(client_for, staff, binary_q):
    resp = client_for(staff).post(f"/api/v1/questions/{binary_q.pk}/resolve/", {"resolution": "maybe"}, format="json")
    assert resp.status_code == 400
    assert "resolution" in resp.json()["error"]["fields"]
    binary_q.refresh_from_db()
    assert binary_q.state == "open" and binary_q.resolution_version == 0


def test_resolve_refuses_known_at_in_the_future_or_before_open(client_for, staff, binary_q):
    c = client_for(staff)
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    early = (binary_q.open_time - timedelta(days=1)).isoformat()
    for value in (future, early):
        resp = c.post(
            f"/api/v1/questions/{binary_q.pk}/resolve/", {"resolution": "yes", "known_at": value}, format="json"
        )
        assert resp.status_code == 400 and "known_at" in resp.json()["error"]["fields"]


def test_annul_and_unresolve(client_for, staff, binary_q):
    c = client_for(staff)
    assert c.post(f"/api/v1/questions/{binary_q.pk}/unresolve/").status_code == 409
    assert (
        c.post(f"/api/v1/questions/{binary_q.pk}/resolve/", {"resolution": "annulled"}, format="json").json()["status"]
        == "annulled"
    )
    resp = c.post(f"/api/v1/questions/{binary_q.pk}/unresolve/", {"note": "annulled by mistake"}, format="json")
    assert resp.status_code == 200 and resp.json()["status"] == "open"
    assert list(ResolutionEvent.objects.values_list("action", flat=True)) == ["annul", "unresolve"]


def test_drafts_are_hidden_from_forecasters(client_for, forecaster, staff, make_question):
    draft = make_question(title="Draft", published=False)
    assert client_for(forecaster).get(f"/api/v1/questions/{draft.pk}/").status_code == 404
    assert client_for(staff).get(f"/api/v1/questions/{draft.pk}/").status_code == 200
    resp = client_for(forecaster).post(f"/api/v1/questions/{draft.pk}/forecasts/", {"probability": 0.5}, format="json")
    assert resp.status_code == 404


def test_database_keeps_one_resolution_state(binary_q):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Question.objects.filter(pk=binary_q.pk).update(state="resolved")  # resolved without an outcome
