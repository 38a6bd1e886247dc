"""`manage.py import_history`: validated whole before anything is written, idempotent, and
resolving through the same service and jobs as an admin."""

from __future__ import annotations

import json
from copy import deepcopy

import pytest
from django.core.management import call_command

from accounts.models import User
from forecasts.models import CrowdPoint, Forecast
from questions.models import Question, ResolutionEvent, Series
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
