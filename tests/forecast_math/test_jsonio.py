"""The score_json contract (contracts.md) without Django."""

import copy
import json
import math

import pytest

from forecast_math import AGGREGATES, ScoringInputError, score_json_document

KEYS = {"brier_final", "brier_mean", "relative_brier", "participation", "baseline", "peer", "coverage"}


def binary_doc():
    return {
        "question": {
            "type": "binary",
            "open_time": "2024-01-01T00:00:00Z",
            "close_time": "2024-01-01T00:01:40Z",  # 100 s
            "known_at": None,
            "resolution": "yes",
            "scoring_mode": "continuous",
        },
        "forecasts": [
            {"user": "ana", "time": "2024-01-01T00:00:00Z", "probability": 0.7},
            {"user": "ben", "time": "2024-01-01T02:00:50+02:00", "probability": 0.4},  # 50 s in, other zone
        ],
    }


def mc_doc():
    return {
        "question": {
            "type": "multiple_choice",
            "options": ["A", "B", "C"],
            "ordered": False,
            "open_time": "2021-11-16T00:00:00Z",
            "close_time": "2025-12-31T00:00:00Z",
            "resolution": "A",
        },
        "forecasts": [
            {"user": "ana", "time": "2021-11-20T09:00:00Z", "probabilities": {"A": 0.6, "B": 0.1, "C": 0.3}},
            {"user": "ben", "time": "2021-11-21T10:00:00Z", "probabilities": {"C": 0.2, "B": 0.2, "A": 0.6}},
            {"user": "ana", "time": "2022-01-01T00:00:00Z", "withdraw": True},
        ],
    }


def test_binary_output_shape_and_values():
    out = score_json_document(binary_doc())
    assert set(out) == {"scale", "users", "crowd"}
    assert out["scale"] == "brier_0_2"
    assert list(out["users"]) == ["ana", "ben"]
    for rec in out["users"].values():
        assert set(rec) == KEYS
    assert set(out["crowd"]) == set(AGGREGATES)
    for rec in out["crowd"].values():
        assert set(rec) == KEYS
    ana, ben = out["users"]["ana"], out["users"]["ben"]
    assert ana["brier_final"] == pytest.approx(0.18)
    assert ana["relative_brier"] == pytest.approx(-0.135)
    assert ben["relative_brier"] == pytest.approx(0.135)
    assert ben["participation"] == pytest.approx(0.5)
    assert ana["baseline"] == pytest.approx(100 * math.log2(1.4))
    json.dumps(out, allow_nan=False)


def test_multiple_choice_and_nulls():
    out = score_json_document(mc_doc())
    ana = out["users"]["ana"]
    assert ana["brier_final"] is None  # withdrawn: nothing stands at the close
    assert ana["brier_mean"] == pytest.approx(0.26)
    assert out["users"]["ben"]["brier_final"] == pytest.approx(0.16 + 0.04 + 0.04)
    json.dumps(out, allow_nan=False)


def test_ordered_daily_and_known_at():
    doc = mc_doc()
    doc["question"].update(ordered=True, scoring_mode="daily", known_at="2023-01-01T00:00:00Z", resolution="B")
    doc["forecasts"].append(
        {"user": "cid", "time": "2024-06-01T00:00:00Z", "probabilities": {"A": 0.2, "B": 0.6, "C": 0.2}}
    )  # after known_at: ignored
    out = score_json_document(doc)
    cid = out["users"]["cid"]
    assert cid["brier_final"] is None and cid["brier_mean"] is None and cid["participation"] == 0
    # ordered Brier of ben's (0.6, 0.2, 0.2) with B true: F=(.6,.8), O=(0,1) -> (.36+.04)
    assert out["users"]["ben"]["brier_final"] == pytest.approx(0.36 + 0.04)


def test_annulled():
    doc = binary_doc()
    doc["question"]["resolution"] = "annulled"
    assert score_json_document(doc) == {"annulled": True, "users": {}}


def test_empty_forecasts():
    doc = binary_doc()
    doc["forecasts"] = []
    out = score_json_document(doc)
    assert out["users"] == {}
    assert out["crowd"]["median"]["brier_final"] is None


def set_field(path, value):
    def mutate(doc):
        target = doc
        for key in path[:-1]:
            target = target[key]
        if value is DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value
        return doc

    return mutate


DELETE = object()

BINARY_CASES = [
    (set_field(["question"], DELETE), "question", "is required"),
    (
        set_field(["question", "type"], "scalar"),
        "question.type",
        "must be one of binary, multiple_choice, numeric, date",
    ),
    (set_field(["question", "open_time"], "2024-01-01T00:00:00"), "question.open_time", "timezone"),
    (set_field(["question", "open_time"], "yesterday"), "question.open_time", "ISO-8601"),
    (set_field(["question", "open_time"], DELETE), "question.open_time", "is required"),
    (set_field(["question", "close_time"], "2023-12-31T00:00:00Z"), "question.close_time", "after open_time"),
    (set_field(["question", "known_at"], "2023-12-31T00:00:00Z"), "question.known_at", "after open_time"),
    (set_field(["question", "resolution"], "maybe"), "question.resolution", "must be one of"),
    (set_field(["question", "resolution"], DELETE), "question.resolution", "is required"),
    (set_field(["question", "scoring_mode"], "weekly"), "question.scoring_mode", "continuous, daily"),
    (set_field(["forecasts"], {"ana": 0.7}), "forecasts", "must be a list"),
    (set_field(["forecasts", 1, "probability"], 1.0), "forecasts[1].probability", "must be between 0.001 and 0.999"),
    (set_field(["forecasts", 1, "probability"], 0.0005), "forecasts[1].probability", "must be between 0.001 and 0.999"),
    (set_field(["forecasts", 1, "probability"], "0.5"), "forecasts[1].probability", "must be a number"),
    (set_field(["forecasts", 1, "probability"], True), "forecasts[1].probability", "must be a number"),
    (set_field(["forecasts", 1, "probability"], float("nan")), "forecasts[1].probability", "between"),
    (set_field(["forecasts", 1, "probability"], DELETE), "forecasts[1].probability", "is required"),
    (set_field(["forecasts", 0, "time"], "2024-01-01T00:01:40Z"), "forecasts[0].time", "before the scheduled close"),
    (set_field(["forecasts", 0, "time"], "2024-01-01 00:00"), "forecasts[0].time", "timezone"),
    (set_field(["forecasts", 0, "user"], DELETE), "forecasts[0].user", "non-empty string"),
    (set_field(["forecasts", 0, "withdraw"], False), "forecasts[0].withdraw", "must be true"),
    (set_field(["forecasts", 0, "withdraw"], True), "forecasts[0].withdraw", "not be combined"),
    (set_field(["forecasts", 0], "ana 0.7"), "forecasts[0]", "must be an object"),
]

MC_CASES = [
    (set_field(["question", "options"], DELETE), "question.options", "at least two"),
    (set_field(["question", "options"], ["A", "A", "C"]), "question.options", "repeat"),
    (set_field(["question", "options"], ["A", "", "C"]), "question.options[1]", "non-empty"),
    (set_field(["question", "ordered"], "yes"), "question.ordered", "true or false"),
    (set_field(["question", "resolution"], "yes"), "question.resolution", "must be one of"),
    (
        set_field(["forecasts", 0, "probabilities"], {"A": 0.6, "B": 0.1, "C": 0.2}),
        "forecasts[0].probabilities",
        "sum to 1",
    ),
    (
        set_field(["forecasts", 0, "probabilities"], {"A": 0.6, "B": 0.4}),
        "forecasts[0].probabilities",
        "every option exactly once",
    ),
    (
        set_field(["forecasts", 0, "probabilities"], {"A": 0.6, "B": 0.1, "C": 0.2, "D": 0.1}),
        "forecasts[0].probabilities",
        "unknown option",
    ),
    (
        set_field(["forecasts", 0, "probabilities"], {"A": 0.9995, "B": 0.0003, "C": 0.0002}),
        "forecasts[0].probabilities.A",
        "must be between 0.001 and 0.999",
    ),
    (set_field(["forecasts", 0, "probabilities"], [0.6, 0.1, 0.3]), "forecasts[0].probabilities", "must be an object"),
    (
        lambda d: (d["forecasts"][1].pop("probabilities"), set_field(["forecasts", 1, "probability"], 0.6)(d))[1],
        "forecasts[1].probability",
        "not allowed",
    ),
    (set_field(["forecasts", 1, "probability"], 0.6), "forecasts[1].probability", "not both"),
]


@pytest.mark.parametrize("mutate,field,rule", BINARY_CASES)
def test_binary_bad_input(mutate, field, rule):
    check_error(mutate(copy.deepcopy(binary_doc())), field, rule)


@pytest.mark.parametrize("mutate,field,rule", MC_CASES)
def test_multiple_choice_bad_input(mutate, field, rule):
    check_error(mutate(copy.deepcopy(mc_doc())), field, rule)


def test_not_an_object():
    check_error([1, 2], "document", "JSON object")


def test_annulled_still_validates():
    doc = binary_doc()
    doc["question"]["resolution"] = "annulled"
    doc["forecasts"][0]["probability"] = 1.5
    check_error(doc, "forecasts[0].probability", "between")


def check_error(doc, field, rule):
    with pytest.raises(ScoringInputError) as exc:
        score_json_document(doc)
    err = exc.value
    assert err.field == field
    assert rule in err.rule
    assert str(err) == f"{field}: {err.rule}"
    assert "\n" not in str(err)
    assert isinstance(err, ValueError)


def test_sum_tolerance_accepts_rounding():
    doc = mc_doc()
    doc["forecasts"][0]["probabilities"] = {"A": 0.3333333, "B": 0.3333333, "C": 0.3333334 + 5e-7}
    out = score_json_document(doc)
    assert list(out["users"]) == ["ana", "ben"]
    assert out["users"]["ana"]["brier_mean"] is not None and out["users"]["ana"]["participation"] > 0
