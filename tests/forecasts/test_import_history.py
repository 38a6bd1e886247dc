"""`manage.py import_history` and its service forecasts.importing.history_import: validated whole
before anything is written, idempotent, and writing through the same services and jobs as the site
and an admin (forecasts.services.forecasts_import for the rows)."""

from __future__ import annotations

import json
from copy import deepcopy
from datetime import UTC, datetime

import pytest
from django.core.management import call_command

from accounts.models import User
from accounts.services import user_create
from config.exceptions import Conflict, DomainError
from forecasts.importing import ImportFault, history_import
from forecasts.models import CrowdPoint, Forecast
from forecasts.services import ForecastRow, forecasts_import
from questions.models import Question, ResolutionEvent, Series
from questions.services import question_create
from scoring.models import LeaderboardEntry, Score

pytestmark = pytest.mark.django_db

DOC = {
    "series": [{"slug": "imp-series", "title": "Imported series"}],
    "questions": [
        {
            "slug": "imp-q1", "series": "imp-series", "type": "binary", "title": "Will it rain?",
            "resolution_criteria": "Rain gauge.", "open_time": "2024-01-01T00:00:00Z", "close_time": "2024-12-31T00:00:00Z",
            "known_at": None, "resolution": "yes", "resolved_at": "2024-07-01T00:00:00Z", "resolution_note": "It rained.",
            "indicator": "Weather", "confidence": "High", "source": {"start": 0, "end": 10, "passage_sha256": "x"},
            "forecasts": [
                {"user": "imp_ana", "time": "2024-01-02T00:00:00Z", "probability": 0.7},
                {"user": "imp_ben", "time": "2024-01-03T00:00:00Z", "probability": 0.2},
                {"user": "imp_ana", "time": "2024-03-01T00:00:00Z", "probability": 0.9},
                {"user": "imp_ben", "time": "2024-04-01T00:00:00Z", "withdraw": True},
            ],
        },
        {
            "slug": "imp-q2", "series": "imp-series", "type": "multiple_choice", "options": ["A", "B", "C"],
            "title": "Which?", "open_time": "2024-01-01T00:00:00Z", "close_time": "2025-12-31T00:00:00Z",
            "forecasts": [
                {"user": "imp_ana", "time": "2024-02-01T00:00:00Z", "probabilities": {"A": 0.6, "B": 0.1, "C": 0.3}},
                {"user": "imp_cy", "time": "2024-02-02T00:00:00Z", "probabilities": {"A": 0.2, "B": 0.5, "C": 0.3}},
            ],
        },
    ],
}  # fmt: skip


def _write(tmp_path, doc, name="history.json"):
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


def _counts():
    return {
        "series": Series.objects.count(), "questions": Question.objects.count(), "users": User.objects.count(),
        "forecasts": Forecast.objects.count(), "events": ResolutionEvent.objects.count(), "scores": Score.objects.count(),
    }  # fmt: skip


def _run(path, capsys, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_history", path)
    return capsys.readouterr().out


def test_import_creates_everything_and_resolves_through_the_service(
    tmp_path, capsys, django_capture_on_commit_callbacks
):
    out = _run(_write(tmp_path, DOC), capsys, django_capture_on_commit_callbacks)
    assert "created: 1 series, 2 questions, 3 users, 6 forecasts, 1 resolutions" in out
    q1 = Question.objects.get(slug="imp-q1")
    assert q1.state == "resolved" and q1.resolved_option.label == "yes" and q1.indicator == "Weather"
    assert q1.series.slug == "imp-series"
    event = ResolutionEvent.objects.get(question=q1)
    assert event.action == "resolve" and event.note == "It rained." and event.at.isoformat().startswith("2024-07-01")
    # the scoring job ran on commit, and the leaderboard recompute after it
    assert Score.objects.filter(question=q1, user__username="imp_ana").exists()
    assert q1.scored_version == q1.resolution_version
    assert LeaderboardEntry.objects.filter(scope_key=f"series:{q1.series_id}", user__username="imp_ana").exists()
    assert CrowdPoint.objects.filter(question__slug="imp-q2").exists()  # one crowd update per question
    ana = User.objects.get(username="imp_ana")
    assert not ana.has_usable_password()
    f = Forecast.objects.filter(question__slug="imp-q2", user=ana).get()
    assert f.probabilities == [0.6, 0.1, 0.3]
    assert Forecast.objects.filter(question=q1, kind="withdrawal").count() == 1


def test_second_run_creates_nothing_new(tmp_path, capsys, django_capture_on_commit_callbacks):
    path = _write(tmp_path, DOC)
    _run(path, capsys, django_capture_on_commit_callbacks)
    before = _counts()
    scores = sorted(Score.objects.values_list("question_id", "user_id", "crowd_method", "relative_brier"), key=repr)
    out = _run(path, capsys, django_capture_on_commit_callbacks)
    assert "created: 0 series, 0 questions, 0 users, 0 forecasts, 0 resolutions" in out
    assert _counts() == before
    assert (
        sorted(Score.objects.values_list("question_id", "user_id", "crowd_method", "relative_brier"), key=repr)
        == scores
    )


def test_second_run_adds_only_what_is_new(tmp_path, capsys, django_capture_on_commit_callbacks):
    _run(_write(tmp_path, DOC), capsys, django_capture_on_commit_callbacks)
    doc = deepcopy(DOC)
    doc["questions"][1]["forecasts"].append(
        {"user": "imp_dee", "time": "2024-05-01T00:00:00Z", "probabilities": {"A": 0.5, "B": 0.25, "C": 0.25}}
    )
    out = _run(_write(tmp_path, doc, "more.json"), capsys, django_capture_on_commit_callbacks)
    assert "created: 0 series, 0 questions, 1 users, 1 forecasts, 0 resolutions" in out


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["questions"][1]["forecasts"].__setitem__(1, {"user": "imp_cy", "time": "2024-02-02T00:00:00Z", "probabilities": {"A": 0.2, "B": 0.5, "C": 0.2}}),
         "questions[1].forecasts[1].probabilities: must sum to 1"),
        (lambda d: d["questions"][0]["forecasts"][2].__setitem__("probability", 1.0),
         "questions[0].forecasts[2].probability: must be between 0.001 and 0.999"),
        (lambda d: d["questions"][0]["forecasts"][2].__setitem__("probability", "0.9"),
         "questions[0].forecasts[2].probability: must be a number"),
        (lambda d: d["questions"][0]["forecasts"][2].__setitem__("time", "2024-08-01T00:00:00Z"),
         "questions[0].forecasts[2].time: must be before the question's resolved_at"),
        (lambda d: d["questions"][1]["forecasts"][0].__setitem__("time", "2026-02-01T00:00:00Z"),
         "questions[1].forecasts[0].time: must be before the question's close"),
        (lambda d: d["questions"][0]["forecasts"][3].__setitem__("time", "2024-01-01T12:00:00Z"),
         "questions[0].forecasts[3].withdraw: 'imp_ben' has no standing forecast"),
        (lambda d: d["questions"][0].__setitem__("resolution", "maybe"), "questions[0].resolution: must be one of"),
        (lambda d: d["questions"][0].__setitem__("close_time", "2023-01-01T00:00:00Z"), "questions[0].close_time: must be after open_time"),
        (lambda d: d["questions"][1].__setitem__("series", "nope"), "questions[1].series: no series 'nope'"),
        (lambda d: d["questions"][1].pop("slug"), "questions[1].slug: is required"),
        (lambda d: d["questions"][1].__setitem__("slug", "imp-q1"), "questions[1].slug: duplicate question"),
        (lambda d: d["questions"][0]["forecasts"][0].__setitem__("user", "no spaces allowed"), "questions[0].forecasts[0].user:"),
        (lambda d: d["questions"][0]["forecasts"][0].__setitem__("time", "yesterday"), "questions[0].forecasts[0].time: must be an ISO 8601"),
        (lambda d: d["series"][0].pop("title"), "series[0].title: is required"),
    ],
)  # fmt: skip
def test_a_file_with_one_bad_row_writes_nothing(tmp_path, capsys, mutate, message):
    doc = deepcopy(DOC)
    mutate(doc)
    before = _counts()
    with pytest.raises(SystemExit) as e:
        call_command("import_history", _write(tmp_path, doc))
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(message), err
    assert _counts() == before


def test_unreadable_input_exits_2(tmp_path, capsys, db):
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with pytest.raises(SystemExit) as e:
        call_command("import_history", str(bad))
    assert e.value.code == 2 and capsys.readouterr().err.startswith("input: not valid JSON")
    with pytest.raises(SystemExit):
        call_command("import_history", str(tmp_path / "missing.json"))
    assert "does not exist" in capsys.readouterr().err


def test_the_seed_file_with_a_simulated_crowd_imports_and_scores(tmp_path, capsys, django_capture_on_commit_callbacks):
    from demo.simulation import make_crowd, questions_from_seed, simulate
    from questions.seed import load_seed
    from scoring.selectors import leaderboard_read

    seed = load_seed()
    seed["forecasts"] = simulate(questions_from_seed(seed), make_crowd(6), seed=7)
    path = _write(tmp_path, seed)
    out = _run(path, capsys, django_capture_on_commit_callbacks)
    resolved = [q for q in seed["questions"] if q.get("resolution")]
    assert f"{len(resolved)} resolutions" in out
    s = Series.objects.get(slug="sino-russian-afghanistan")
    body = leaderboard_read(scope="series", series=s)
    assert body["count"] == 6 and body["crowd"] is not None
    assert (
        Question.objects.get(slug="q1b-russia-csto-tajikistan-without-china")
        .known_at.isoformat()
        .startswith("2021-12-08")
    )
    before = _counts()
    assert "created: 0 series, 0 questions, 0 users, 0 forecasts, 0 resolutions" in _run(
        path, capsys, django_capture_on_commit_callbacks
    )
    assert _counts() == before


# --- The service, called directly ---------------------------------------------------------------


def test_history_import_writes_a_valid_document_and_a_second_run_adds_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        created = history_import(deepcopy(DOC))
    assert created == {"series": 1, "questions": 2, "users": 3, "forecasts": 6, "resolutions": 1}
    assert Forecast.objects.filter(question__slug="imp-q1").count() == 4
    assert CrowdPoint.objects.filter(question__slug="imp-q1").exists()
    before = _counts()
    with django_capture_on_commit_callbacks(execute=True):
        again = history_import(deepcopy(DOC))
    assert again == {"series": 0, "questions": 0, "users": 0, "forecasts": 0, "resolutions": 0}
    assert _counts() == before


def test_history_import_refuses_a_forecast_after_the_close_and_writes_nothing(django_capture_on_commit_callbacks):
    doc = deepcopy(DOC)
    doc["questions"][1]["forecasts"][1]["time"] = "2026-01-01T00:00:00Z"  # close_time is 2025-12-31
    before = _counts()
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(ImportFault) as e:
        history_import(doc)
    assert e.value.path == "questions[1].forecasts[1].time"
    assert str(e.value).startswith("questions[1].forecasts[1].time: must be before the question's close")
    assert _counts() == before and callbacks == []


def test_history_import_refuses_a_new_forecast_after_a_stored_questions_close(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        history_import(deepcopy(DOC))
    before = _counts()
    doc = deepcopy(DOC)
    doc["forecasts"] = [{"question": "imp-q1", "user": "imp_new", "time": "2024-09-01T00:00:00Z", "probability": 0.5}]
    with pytest.raises(ImportFault) as e:
        history_import(doc)
    # imp-q1 resolved on 2024-07-01, closing it early: the row is after its close
    assert e.value.path == "forecasts[0].time" and "close" in e.value.rule
    assert _counts() == before and not User.objects.filter(username="imp_new").exists()


def test_history_import_creates_users_with_unusable_passwords(django_capture_on_commit_callbacks):
    user_create(username="imp_ana", password="a-real-Passw0rd", exists_ok=True)  # exists: kept as it is
    with django_capture_on_commit_callbacks(execute=True):
        created = history_import(deepcopy(DOC))
    assert created["users"] == 2
    for name in ("imp_ben", "imp_cy"):
        assert not User.objects.get(username=name).has_usable_password()
    assert User.objects.get(username="imp_ana").check_password("a-real-Passw0rd")


def test_history_import_refuses_what_is_not_a_document(db):
    with pytest.raises(ImportFault) as e:
        history_import(["not", "an", "object"])
    assert str(e.value) == "input: must be a JSON object with 'series' and 'questions'"


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda q: q.__setitem__("title", "x" * 301), "questions[0].title: must be at most 300 characters"),
        (lambda q: q.__setitem__("title", "   "), "questions[0].title: must not be empty"),
        (lambda q: q.pop("title"), "questions[0].title: is required"),
        (lambda q: q.__setitem__("type", "ranking"), "questions[0].type: must be"),
        (lambda q: q.__setitem__("slug", "no spaces"), "questions[0].slug: must be letters, digits"),
        (lambda q: q.__setitem__("open_time", "2024-01-01"), "questions[0].open_time: must be an ISO 8601"),
        (lambda q: q.__setitem__("options", "A,B"), "questions[0].options: must be a list"),
        (lambda q: q.__setitem__("ordered", "yes"), "questions[0].ordered: must be true or false"),
        (lambda q: q.__setitem__("scoring_mode", "weekly"), "questions[0].scoring_mode: must be 'continuous' or 'daily'"),
        (lambda q: q.__setitem__("known_at", "2025-06-01T00:00:00Z"), "questions[0].known_at: must not be after close_time"),
    ],
)  # fmt: skip
def test_history_import_checks_the_question_fields(db, mutate, message):
    doc = deepcopy(DOC)
    doc["questions"] = [doc["questions"][0]]
    doc["questions"][0].pop("resolution")
    doc["questions"][0].pop("resolved_at")
    mutate(doc["questions"][0])
    before = _counts()
    with pytest.raises(ImportFault) as e:
        history_import(doc)
    assert str(e.value).startswith(message), str(e.value)
    assert _counts() == before


# --- forecasts_import, the bulk forecast service ------------------------------------------------


def _t(day: int, month: int = 1) -> datetime:
    return datetime(2024, month, day, tzinfo=UTC)


@pytest.fixture
def question(db):
    return question_create(type="binary", title="Bulk?", open_time=_t(1), close_time=_t(1, 6))


def test_forecasts_import_writes_the_rows_and_enqueues_one_crowd_update(question, django_capture_on_commit_callbacks):
    ana = user_create(username="bulk_ana", exists_ok=True)
    ben = user_create(username="bulk_ben", exists_ok=True)
    rows = [
        ForecastRow(user=ana, at=_t(3), payload={"probability": 0.7}, rationale="why"),
        ForecastRow(user=ben, at=_t(2), payload={"probability": 0.2}),
        ForecastRow(user=ana, at=_t(4), withdraw=True),
    ]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        written = forecasts_import(question=question, rows=rows)
    assert len(callbacks) == 1  # one crowd update for the whole batch
    assert [(f.user.username, f.kind) for f in written] == [
        ("bulk_ben", "forecast"), ("bulk_ana", "forecast"), ("bulk_ana", "withdrawal"),
    ]  # fmt: skip
    stored = Forecast.objects.filter(question=question).order_by("id")
    assert [f.created_at for f in stored] == [_t(2), _t(3), _t(4)]  # inserted in time order
    assert stored[1].probabilities == pytest.approx([0.7, 0.3]) and stored[1].rationale == "why"


@pytest.mark.parametrize(
    "rows, error, field",
    [
        (lambda u: [ForecastRow(user=u, at=_t(2), payload={"probability": 0.5}),
                    ForecastRow(user=u, at=_t(3), payload={"probability": 1.5})], DomainError, "rows[1].probability"),
        (lambda u: [ForecastRow(user=u, at=_t(2), payload={"probability": 0.5}),
                    ForecastRow(user=u, at=_t(2, 6), payload={"probability": 0.5})], Conflict, "rows[1].question"),
        (lambda u: [ForecastRow(user=u, at=_t(2), withdraw=True)], Conflict, "rows[0].withdraw"),
        (lambda u: [ForecastRow(user=u, at=_t(2), payload={"probability": 0.5}),
                    ForecastRow(user=u, at=_t(2), payload={"probability": 0.6})], Conflict, "rows[1].at"),
    ],
)  # fmt: skip
def test_forecasts_import_refuses_a_bad_row_and_writes_nothing(
    question, django_capture_on_commit_callbacks, rows, error, field
):
    user = user_create(username="bulk_cy", exists_ok=True)
    with django_capture_on_commit_callbacks(execute=False) as callbacks, pytest.raises(error) as e:
        forecasts_import(question=question, rows=rows(user))
    assert e.value.field == field
    assert not Forecast.objects.filter(question=question).exists() and callbacks == []
