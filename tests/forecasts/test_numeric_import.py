"""import_history with numeric and date questions (contracts.md "Numeric and date questions"):
"lower"/"upper" (ISO instants for a date question), open bounds, forecasts as "cdf" (201 floats),
resolutions by value, instant or "below"/"above"; validated whole before anything is written, and
a second run writes nothing."""

from __future__ import annotations

from copy import deepcopy
from datetime import UTC, datetime

import pytest

from forecasts.importing import ImportFault, history_import
from forecasts.models import Forecast
from questions.models import Question, ResolutionEvent
from questions.selectors import outcome_json, outcome_text

pytestmark = pytest.mark.django_db


def flat(open_lower=False, open_upper=False) -> list[float]:
    lo = 0.05 if open_lower else 0.0
    hi = 0.95 if open_upper else 1.0
    return [lo + (hi - lo) * i / 200 for i in range(201)]


def steep(k: float) -> list[float]:
    return [0.99 * (i / 200) ** k + 0.01 * i / 200 for i in range(201)]


DOC = {
    "questions": [
        {
            "slug": "num-grain", "type": "numeric", "title": "Grain exports in March (kt)?", "unit": "kt",
            "lower": 0, "upper": 500, "open_upper": True,
            "open_time": "2024-01-01T00:00:00Z", "close_time": "2024-04-01T00:00:00Z",
            "resolution": 620.5, "resolved_at": "2024-04-10T00:00:00Z",
            "forecasts": [
                {"user": "num_ana", "time": "2024-01-02T00:00:00Z", "cdf": flat(open_upper=True)},
                {"user": "num_ben", "time": "2024-01-03T00:00:00Z", "cdf": [0.95 * x for x in steep(2.0)]},
                {"user": "num_ana", "time": "2024-02-01T00:00:00Z", "withdraw": True},
            ],
        },
        {
            "slug": "date-embassy", "type": "date", "title": "When will the embassy reopen?",
            "lower": "2024-01-01T00:00:00Z", "upper": "2024-12-31T00:00:00Z",
            "open_time": "2024-01-01T00:00:00Z", "close_time": "2024-06-01T00:00:00Z",
            "resolution": "2024-05-20T12:00:00Z", "resolved_at": "2024-05-21T00:00:00Z",
            "forecasts": [
                {"user": "num_ana", "time": "2024-01-05T00:00:00Z", "cdf": steep(0.5)},
                {"user": "num_cy", "time": "2024-01-06T00:00:00Z", "cdf": flat()},
            ],
        },
    ],
}  # fmt: skip


def _counts() -> tuple[int, int, int]:
    return Question.objects.count(), Forecast.objects.count(), ResolutionEvent.objects.count()


def test_import_numeric_and_date_questions_is_idempotent():
    created = history_import(deepcopy(DOC))
    assert created == {"series": 0, "questions": 2, "users": 3, "forecasts": 5, "resolutions": 2}
    grain = Question.objects.get(slug="num-grain")
    assert (grain.type, grain.range_lower, grain.range_upper, grain.open_lower, grain.open_upper, grain.unit) == (
        "numeric", 0.0, 500.0, False, True, "kt",
    )  # fmt: skip
    # 620.5 lies above the open upper bound: resolved as "above"
    assert (grain.state, grain.resolved_value, grain.resolved_outside) == ("resolved", None, "above")
    assert outcome_text(grain) == "above 500 kt"
    assert grain.resolved_at == datetime(2024, 4, 10, tzinfo=UTC)
    rows = list(Forecast.objects.filter(question=grain).order_by("created_at"))
    assert [r.kind for r in rows] == ["forecast", "forecast", "withdrawal"]
    assert rows[0].cdf == flat(open_upper=True) and rows[0].probabilities is None

    embassy = Question.objects.get(slug="date-embassy")
    assert embassy.range_lower == datetime(2024, 1, 1, tzinfo=UTC).timestamp()
    assert embassy.range_upper == datetime(2024, 12, 31, tzinfo=UTC).timestamp()
    assert outcome_json(embassy) == "2024-05-20T12:00:00Z"

    before = _counts()
    assert history_import(deepcopy(DOC)) == dict.fromkeys(created, 0)
    assert _counts() == before


def test_below_and_annulled_resolutions():
    doc = deepcopy(DOC)
    grain = doc["questions"][0]
    grain["open_lower"] = True
    grain["resolution"] = "below"
    grain["forecasts"] = [{"user": "num_ana", "time": "2024-01-02T00:00:00Z", "cdf": flat(True, True)}]
    doc["questions"][1]["resolution"] = "annulled"
    history_import(doc)
    q = Question.objects.get(slug="num-grain")
    assert q.resolved_outside == "below"
    assert Question.objects.get(slug="date-embassy").state == "annulled"


def _fault(mutate) -> ImportFault:
    doc = deepcopy(DOC)
    mutate(doc)
    with pytest.raises(ImportFault) as e:
        history_import(doc)
    assert _counts() == (0, 0, 0)  # nothing written
    return e.value


def _set(path: list, value):
    def mutate(doc):
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


@pytest.mark.parametrize(
    ("mutate", "where", "rule"),
    [
        (_set(["questions", 0, "lower"], 600), "questions[0].upper", "greater than"),
        (_set(["questions", 0, "upper"], None), "questions[0].upper", "required"),
        (_set(["questions", 0, "lower"], "zero"), "questions[0].lower", "number"),
        (_set(["questions", 1, "upper"], "next year"), "questions[1].upper", "ISO 8601"),
        (_set(["questions", 0, "open_lower"], "yes"), "questions[0].open_lower", "true or false"),
        (_set(["questions", 0, "options"], ["a", "b"]), "questions[0].options", "no options"),
        (_set(["questions", 0, "resolution"], -3), "questions[0].resolution", "closed lower bound"),
        (_set(["questions", 0, "resolution"], "below"), "questions[0].resolution", "lower bound is closed"),
        (_set(["questions", 1, "resolution"], 1716206400), "questions[1].resolution", "ISO 8601"),
        (_set(["questions", 1, "resolution"], "2025-02-01T00:00:00Z"), "questions[1].resolution", "closed upper"),
        (_set(["questions", 0, "forecasts", 1, "cdf"], flat()[:-1]), "questions[0].forecasts[1].cdf", "201"),
        (
            _set(["questions", 0, "forecasts", 1, "cdf"], flat()),  # ends at 1: the upper bound is open
            "questions[0].forecasts[1].cdf[200]",
            "open",
        ),
        (
            _set(["questions", 1, "forecasts", 0, "cdf"], [0.5, *flat()[1:]]),
            "questions[1].forecasts[0].cdf[1]",
            "increase",
        ),
        (
            _set(
                ["questions", 0, "forecasts", 1],
                {"user": "num_ben", "time": "2024-01-03T00:00:00Z", "probability": 0.3},
            ),
            "questions[0].forecasts[1].cdf",
            "CDF",
        ),
        (_set(["questions", 0, "unit"], "u" * 41), "questions[0].unit", "40"),
        # two shapes at once: refused as on every entry point, never one of them silently dropped
        (_set(["questions", 0, "forecasts", 1, "probability"], 0.3), "questions[0].forecasts[1].cdf", "only one of"),
    ],
)
def test_an_invalid_file_writes_nothing_and_names_the_fault(mutate, where, rule):
    fault = _fault(mutate)
    assert fault.path == where, str(fault)
    assert rule in fault.rule, str(fault)


def test_binary_question_with_a_range_is_refused():
    def mutate(doc):
        doc["questions"].append(
            {
                "slug": "bin", "type": "binary", "title": "Will it?", "lower": 0, "upper": 1,
                "open_time": "2024-01-01T00:00:00Z", "close_time": "2024-06-01T00:00:00Z",
            }
        )  # fmt: skip

    fault = _fault(mutate)
    assert fault.path == "questions[2].lower"


def test_binary_forecast_with_a_cdf_as_well_is_refused():
    def mutate(doc):
        doc["questions"].append(
            {
                "slug": "bin", "type": "binary", "title": "Will it?",
                "open_time": "2024-01-01T00:00:00Z", "close_time": "2024-06-01T00:00:00Z",
                "forecasts": [{"user": "num_ana", "time": "2024-01-02T00:00:00Z", "probability": 0.3, "cdf": flat()}],
            }
        )  # fmt: skip

    fault = _fault(mutate)
    assert (fault.path, "only one of" in fault.rule) == ("questions[2].forecasts[0].cdf", True)


def test_an_existing_question_with_another_range_is_refused():
    history_import(deepcopy(DOC))
    doc = deepcopy(DOC)
    doc["questions"][0]["upper"] = 400
    before = _counts()
    with pytest.raises(ImportFault) as e:
        history_import(doc)
    assert e.value.path == "questions[0].upper"
    assert _counts() == before
