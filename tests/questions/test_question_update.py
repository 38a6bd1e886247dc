"""question_update: free fields stay editable, the terms freeze once a forecast exists (asked of
forecasts through questions.signals.terms_frozen_query, under the question's row lock), and the
admin's change and add forms save through the services."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from config.exceptions import Conflict, DomainError, ValidationFailed
from forecasts.services import forecast_submit
from questions.models import Question
from questions.services import question_resolve, question_terms_frozen, question_update
from questions.signals import terms_frozen_query

pytestmark = pytest.mark.django_db

FROZEN = "cannot change once the question has forecasts"


def _labels(question: Question) -> list[str]:
    return list(question.options.order_by("position").values_list("label", flat=True))


def _snapshot(question: Question) -> dict:
    row = Question.objects.values().get(pk=question.pk)
    return {**row, "options": _labels(question)}


@pytest.fixture
def forecast_on(make_user):
    def submit(question: Question) -> None:
        if question.type == Question.Type.BINARY:
            payload = {"probability": 0.7}
        else:
            labels = _labels(question)
            payload = {"probabilities": {label: 1 / len(labels) for label in labels}}
        forecast_submit(user=make_user(), question=question, payload=payload)

    return submit


# --- The service ----------------------------------------------------------------------------


def test_the_terms_freeze_with_the_first_forecast(binary_q, forecast_on):
    assert question_terms_frozen(binary_q) is False
    forecast_on(binary_q)
    assert question_terms_frozen(binary_q) is True


def test_free_fields_change_after_forecasts(binary_q, forecast_on, staff, make_question):
    forecast_on(binary_q)
    other = make_question(title="Another")
    from questions.services import series_create

    series = series_create(slug="tour", title="Tour")
    q = question_update(
        question=binary_q,
        by=staff,
        changes={
            "title": "  Will Russia recognise the Taliban by 2027?  ",
            "description": "Context.",
            "resolution_criteria": "An official decree.",
            "indicator": "Diplomacy",
            "series": series,
            "slug": "russia-taliban",
            "crowd_reveal_time": binary_q.open_time + timedelta(days=1),
            "published": False,
        },
    )
    q.refresh_from_db()
    assert q.title == "Will Russia recognise the Taliban by 2027?"
    assert (q.description, q.resolution_criteria, q.indicator) == ("Context.", "An official decree.", "Diplomacy")
    assert q.series == series and q.slug == "russia-taliban"
    assert q.crowd_reveal_time == binary_q.open_time + timedelta(days=1)
    assert q.published_at is None
    assert q.close_time == binary_q.close_time
    assert other.title == "Another"

    question_update(question=q, by=staff, changes={"published": True})
    q.refresh_from_db()
    assert q.published_at is not None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("close_time", lambda q: q.close_time + timedelta(days=7)),
        ("open_time", lambda q: q.open_time - timedelta(days=1)),
        ("type", lambda q: "multiple_choice"),
        ("ordered", lambda q: True),
        ("scoring_mode", lambda q: "daily"),
    ],
)
def test_a_term_is_refused_once_a_forecast_exists(binary_q, forecast_on, staff, field, value):
    forecast_on(binary_q)
    before = _snapshot(binary_q)
    with pytest.raises(Conflict) as e:
        question_update(question=binary_q, by=staff, changes={field: value(binary_q), "title": "New title"})
    assert e.value.field == field
    assert e.value.http_status == 409
    assert e.value.code == "terms_frozen"
    assert FROZEN in e.value.message
    assert _snapshot(binary_q) == before  # not even the title


def test_options_are_refused_once_a_forecast_exists(mc_q, forecast_on, staff):
    forecast_on(mc_q)
    before = _snapshot(mc_q)
    for options in (["A", "B", "C", "D"], ["A", "B"], ["C", "B", "A"], ["A", "B", "Z"]):
        with pytest.raises(Conflict) as e:
            question_update(question=mc_q, by=staff, changes={"options": options})
        assert e.value.field == "options"
    assert _snapshot(mc_q) == before


def test_unchanged_terms_are_not_a_change(mc_q, forecast_on, staff):
    forecast_on(mc_q)
    q = question_update(
        question=mc_q,
        by=staff,
        changes={
            "close_time": mc_q.close_time,
            "type": "multiple_choice",
            "options": [" A", "B ", "C"],
            "ordered": False,
            "title": "Which one?",
        },
    )
    assert q.title == "Which one?"
    assert _labels(q) == ["A", "B", "C"]


def test_terms_change_before_any_forecast(mc_q, binary_q, staff):
    new_close = mc_q.close_time + timedelta(days=3)
    q = question_update(
        question=mc_q,
        by=staff,
        changes={"close_time": new_close, "options": ["Low", "Mid", "High"], "ordered": True, "scoring_mode": "daily"},
    )
    q.refresh_from_db()
    assert (q.close_time, q.ordered, q.scoring_mode) == (new_close, True, "daily")
    assert _labels(q) == ["Low", "Mid", "High"]

    q = question_update(question=binary_q, by=staff, changes={"type": "multiple_choice", "options": ["X", "Y", "Z"]})
    assert q.type == "multiple_choice"
    assert _labels(q) == ["X", "Y", "Z"]
    q = question_update(question=q, by=staff, changes={"type": "binary"})
    assert _labels(q) == ["yes", "no"]


def test_any_receiver_answering_true_freezes_the_terms(binary_q, staff):
    def frozen(sender, question_id, **kwargs):
        return question_id == binary_q.pk

    terms_frozen_query.connect(frozen, sender=Question, dispatch_uid="test.frozen")
    try:
        assert question_terms_frozen(binary_q) is True
        with pytest.raises(Conflict):
            question_update(question=binary_q, by=staff, changes={"close_time": binary_q.close_time + timedelta(1)})
    finally:
        terms_frozen_query.disconnect(sender=Question, dispatch_uid="test.frozen")
    assert question_terms_frozen(binary_q) is False


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (lambda q: {"close_time": q.open_time - timedelta(hours=1)}, "close_time"),
        (lambda q: {"open_time": q.close_time + timedelta(hours=1)}, "close_time"),
        (lambda q: {"close_time": None}, "close_time"),
        (lambda q: {"close_time": "tomorrow"}, "close_time"),
        (lambda q: {"close_time": q.close_time.replace(tzinfo=None)}, "close_time"),
        (lambda q: {"title": "   "}, "title"),
        (lambda q: {"title": "x" * 301}, "title"),
        (lambda q: {"type": "ranked"}, "type"),
        (lambda q: {"type": "multiple_choice"}, "options"),
        (lambda q: {"type": "multiple_choice", "options": ["only"]}, "options"),
        (lambda q: {"type": "multiple_choice", "options": ["a", "a"]}, "options"),
        (lambda q: {"options": ["maybe", "no"]}, "options"),
        (lambda q: {"ordered": True}, "ordered"),
        (lambda q: {"scoring_mode": "hourly"}, "scoring_mode"),
        (lambda q: {"crowd_reveal_time": q.open_time - timedelta(days=1)}, "crowd_reveal_time"),
        (lambda q: {"slug": "not a slug"}, "slug"),
        (lambda q: {"series": "tour"}, "series"),
    ],
)
def test_validation_errors_name_the_field(binary_q, staff, changes, field):
    before = _snapshot(binary_q)
    with pytest.raises(ValidationFailed) as e:
        question_update(question=binary_q, by=staff, changes=changes(binary_q))
    assert field in e.value.fields
    assert e.value.http_status == 400
    assert _snapshot(binary_q) == before


@pytest.mark.parametrize("field", ["state", "known_at", "resolved_at", "resolution_version", "article", "nonsense"])
def test_resolution_provenance_and_unknown_fields_are_not_edited_here(binary_q, staff, field):
    with pytest.raises(DomainError) as e:
        question_update(question=binary_q, by=staff, changes={field: None})
    assert e.value.field == field
    assert e.value.code == "not_editable"


def test_a_taken_slug_is_refused(make_question, staff):
    make_question(slug="taken")
    q = make_question(title="Mine")
    with pytest.raises(DomainError) as e:
        question_update(question=q, by=staff, changes={"slug": "taken"})
    assert e.value.field == "slug"


def test_a_resolved_question_keeps_its_options(mc_q, staff):
    question_resolve(question=mc_q, outcome="B", by=staff)
    with pytest.raises(Conflict) as e:
        question_update(question=mc_q, by=staff, changes={"options": ["A", "B", "D"]})
    assert e.value.field == "options"
    assert _labels(mc_q) == ["A", "B", "C"]


# --- The admin ------------------------------------------------------------------------------


class _FormData(HTMLParser):
    """What a browser would post from the page's <form id="question_form">."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self.inputs: set[str] = set()
        self._in_form = False
        self._select: list | None = None  # [name, selected value, first value]
        self._textarea: list | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id") == "question_form":
            self._in_form = True
        if not self._in_form or "disabled" in a:
            return
        if tag == "input" and a.get("name"):
            self.inputs.add(a["name"])
            kind = a.get("type", "text")
            if kind in ("submit", "button", "reset", "image", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value") or ("on" if kind == "checkbox" else "")))
        elif tag == "select" and a.get("name"):
            self.inputs.add(a["name"])
            self._select = [a["name"], None, None]
        elif tag == "option" and self._select is not None:
            value = a.get("value") or ""
            if self._select[2] is None:
                self._select[2] = value
            if "selected" in a:
                self._select[1] = value
        elif tag == "textarea" and a.get("name"):
            self.inputs.add(a["name"])
            self._textarea = [a["name"], ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "select" and self._select is not None:
            name, selected, first = self._select
            self.fields.append((name, selected if selected is not None else first or ""))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            name, text = self._textarea
            self.fields.append((name, text.removeprefix("\r\n").removeprefix("\n")))
            self._textarea = None


def _form(response) -> tuple[dict[str, list[str]], set[str]]:
    parser = _FormData()
    parser.feed(response.content.decode())
    data: dict[str, list[str]] = {}
    for name, value in parser.fields:
        data.setdefault(name, []).append(value)
    return data, parser.inputs


def _change_url(question: Question) -> str:
    return reverse("admin:questions_question_change", args=[question.pk])


def test_the_change_form_shows_frozen_terms_read_only(admin_client, mc_q, forecast_on):
    data, inputs = _form(admin_client.get(_change_url(mc_q)))
    assert {"close_time_0", "type", "scoring_mode", "options-0-label"} <= inputs
    forecast_on(mc_q)
    response = admin_client.get(_change_url(mc_q))
    assert response.status_code == 200
    data, inputs = _form(response)
    assert "title" in inputs
    assert not {"close_time_0", "close_time_1", "open_time_0", "type", "ordered", "scoring_mode"} & inputs
    assert "options-0-label" not in inputs  # the options inline is read-only too


def test_a_term_posted_after_the_first_forecast_is_refused(admin_client, binary_q, forecast_on):
    # The page was loaded while the terms were editable; a forecast arrives before the save.
    data, _ = _form(admin_client.get(_change_url(binary_q)))
    forecast_on(binary_q)
    before = _snapshot(binary_q)
    later = binary_q.close_time + timedelta(days=30)
    data["close_time_0"] = [later.strftime("%Y-%m-%d")]
    data["title"] = ["A new title"]
    response = admin_client.post(_change_url(binary_q), data)
    assert response.status_code == 200  # the form again, not the redirect after a save
    body = response.content.decode()
    assert f"close_time: {FROZEN}" in body
    assert 'class="errornote"' in body
    assert _snapshot(binary_q) == before  # neither the close time nor the title
    # Shown again with the terms read-only, keeping what was typed elsewhere.
    data, inputs = _form(response)
    assert "close_time_0" not in inputs and data["title"] == ["A new title"]


def test_a_crafted_term_on_the_frozen_form_is_refused(admin_client, binary_q, forecast_on):
    forecast_on(binary_q)
    data, _ = _form(admin_client.get(_change_url(binary_q)))
    later = binary_q.close_time + timedelta(days=30)
    data.update(close_time_0=[later.strftime("%Y-%m-%d")], close_time_1=[later.strftime("%H:%M:%S")])
    before = _snapshot(binary_q)
    response = admin_client.post(_change_url(binary_q), data)
    assert response.status_code == 200
    assert f"close_time: {FROZEN}" in response.content.decode()
    assert _snapshot(binary_q) == before


def test_a_title_change_is_saved_on_a_frozen_question(admin_client, mc_q, forecast_on):
    forecast_on(mc_q)
    before = _snapshot(mc_q)
    data, _ = _form(admin_client.get(_change_url(mc_q)))
    data["title"] = ["Which of A, B or C, by June?"]
    response = admin_client.post(_change_url(mc_q), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    after = _snapshot(mc_q)
    assert after["title"] == "Which of A, B or C, by June?"
    assert {k: v for k, v in after.items() if k != "title"} == {k: v for k, v in before.items() if k != "title"}

    from django.contrib.admin.models import LogEntry

    entry = LogEntry.objects.filter(object_id=str(mc_q.pk)).latest("action_time")
    assert "Title" in entry.get_change_message()


def test_terms_and_options_change_through_the_admin_before_forecasts(admin_client, mc_q):
    data, _ = _form(admin_client.get(_change_url(mc_q)))
    later = mc_q.close_time + timedelta(days=10)
    data["close_time_0"] = [later.strftime("%Y-%m-%d")]
    data["close_time_1"] = [later.strftime("%H:%M:%S")]
    data["options-2-label"] = ["Neither"]
    response = admin_client.post(_change_url(mc_q), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    mc_q.refresh_from_db()
    assert mc_q.close_time == later.replace(microsecond=0)
    assert _labels(mc_q) == ["A", "B", "Neither"]


def test_a_service_validation_error_is_shown_on_the_form(admin_client, binary_q):
    data, _ = _form(admin_client.get(_change_url(binary_q)))
    early = binary_q.open_time - timedelta(days=2)
    data["crowd_reveal_time_0"] = [early.strftime("%Y-%m-%d")]
    data["crowd_reveal_time_1"] = [early.strftime("%H:%M:%S")]
    data["title"] = ["Changed"]
    before = _snapshot(binary_q)
    response = admin_client.post(_change_url(binary_q), data)
    assert response.status_code == 200
    assert "must not be before open_time" in response.content.decode()
    assert _snapshot(binary_q) == before


def test_the_add_form_creates_through_question_create(admin_client):
    url = reverse("admin:questions_question_add")
    data, inputs = _form(admin_client.get(url))
    assert "state" not in inputs and "known_at_0" not in inputs
    data.update(
        title=["Which city hosts the 2036 Olympics?"],
        type=["multiple_choice"],
        open_time_0=["2026-01-01"],
        open_time_1=["00:00:00"],
        close_time_0=["2030-01-01"],
        close_time_1=["00:00:00"],
        published_at_0=["2026-01-02"],
        published_at_1=["12:00:00"],
    )
    data["options-TOTAL_FORMS"] = ["3"]
    for i, label in enumerate(["Doha", "Ahmedabad", "Istanbul"]):
        data[f"options-{i}-position"] = [str(i)]
        data[f"options-{i}-label"] = [label]
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    q = Question.objects.get(title="Which city hosts the 2036 Olympics?")
    assert _labels(q) == ["Doha", "Ahmedabad", "Istanbul"]
    assert q.scoring_mode == "continuous"  # the series' mode, without a series
    assert q.published_at.isoformat() == "2026-01-02T12:00:00+00:00"


def test_the_add_form_shows_question_create_refusals(admin_client):
    url = reverse("admin:questions_question_add")
    data, _ = _form(admin_client.get(url))
    data.update(
        title=["Two options at least"],
        type=["multiple_choice"],
        open_time_0=["2026-01-01"],
        open_time_1=["00:00:00"],
        close_time_0=["2030-01-01"],
        close_time_1=["00:00:00"],
    )
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "options: a multiple-choice question needs at least 2 options" in response.content.decode()
    assert not Question.objects.filter(title="Two options at least").exists()
