"""The score_json contract for numeric and date questions (contracts.md "Numeric and date
questions") without Django."""

import copy
import json
import math
from datetime import UTC, datetime

import numpy as np
import pytest

from forecast_math import score_json_document
from forecast_math.continuous import CONTINUOUS_AGGREGATES, cdf_from_mixture

from .continuous_reference import ref_crps
from .test_jsonio import DELETE, check_error, set_field

KEYS = {"crps_final", "crps", "relative_crps", "participation", "baseline", "peer", "coverage"}
UNIFORM = [i / 200 for i in range(201)]


def numeric_doc():
    return {
        "question": {
            "type": "numeric",
            "lower": 0,
            "upper": 100,
            "open_time": "2024-01-01T00:00:00Z",
            "close_time": "2024-01-01T00:01:40Z",  # 100 s
            "resolution": 42,
        },
        "forecasts": [
            {"user": "ana", "time": "2024-01-01T00:00:00Z", "cdf": UNIFORM},
            {"user": "ben", "time": "2024-01-01T00:00:50Z", "cdf": sharp(0.42, 0.02)},
        ],
    }


def date_doc():
    return {
        "question": {
            "type": "date",
            "lower": "2025-01-01T00:00:00Z",
            "upper": "2025-12-31T00:00:00Z",
            "open_lower": False,
            "open_upper": True,
            "open_time": "2024-06-01T00:00:00Z",
            "close_time": "2024-12-01T00:00:00Z",
            "resolution": "2025-03-01T00:00:00+01:00",
            "scoring_mode": "daily",
        },
        "forecasts": [
            {"user": "ana", "time": "2024-06-02T10:00:00Z", "cdf": sharp(0.2, 0.05, False, True)},
            {"user": "ben", "time": "2024-07-01T00:00:00Z", "cdf": sharp(0.6, 0.2, False, True)},
            {"user": "ana", "time": "2024-09-01T00:00:00Z", "withdraw": True},
        ],
    }


def sharp(centre, scale, open_lower=False, open_upper=False):
    comps = [{"centre": centre, "scale": scale, "weight": 1.0}]
    return cdf_from_mixture(comps, open_lower=open_lower, open_upper=open_upper).tolist()


def test_numeric_output_shape_and_the_contract_example():
    out = score_json_document(numeric_doc())
    assert list(out) == ["scale", "accuracy", "users", "crowd"]
    assert out["accuracy"] == "crps_range_units" and out["scale"] == "crps_range_units"
    assert set(out["crowd"]) == set(CONTINUOUS_AGGREGATES)
    for rec in list(out["users"].values()) + list(out["crowd"].values()):
        assert set(rec) == KEYS
    ana, ben = out["users"]["ana"], out["users"]["ben"]
    # uniform on a closed range, outcome at 42% of it: (0.42^3 + 0.58^3) / 3
    assert ana["crps_final"] == pytest.approx(0.08973333, abs=1e-8)
    assert ana["crps"] == pytest.approx(0.08973333, abs=1e-8)
    assert ana["baseline"] == pytest.approx(0.0, abs=1e-9)
    assert ana["participation"] == 1.0 and ben["participation"] == pytest.approx(0.5)
    assert ben["baseline"] > 0 and ben["peer"] > 0 and ana["peer"] < 0
    assert ben["crps"] < ana["crps"]
    # both active on the second half: each against the median (the mean of the two)
    assert ana["relative_crps"] == pytest.approx(0.5 * (ana["crps"] - ben["crps"]) / 2)
    json.dumps(out, allow_nan=False)


def test_date_question_in_instants_and_daily_mode():
    doc = date_doc()
    out = score_json_document(doc)
    ana, ben = out["users"]["ana"], out["users"]["ben"]
    assert ana["crps_final"] is None  # withdrawn
    # the outcome, 1 March 2025 00:00 at UTC+1, in range units of [1 Jan 2025, 31 Dec 2025] (UTC)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    x = (datetime(2025, 2, 28, 23, tzinfo=UTC) - start) / (datetime(2025, 12, 31, tzinfo=UTC) - start)
    assert ana["crps"] == pytest.approx(ref_crps(doc["forecasts"][0]["cdf"], x), rel=1e-12)
    assert ben["crps_final"] == pytest.approx(ref_crps(doc["forecasts"][1]["cdf"], x), rel=1e-12)
    # the outcome (1 March 2025, 23:00 UTC the day before) is near ana's centre (20% of the year)
    assert ana["baseline"] > 0 > ben["peer"]
    # days: ana from 2 June to 31 August (91 days) of the 183 scheduled days
    assert ana["coverage"] == pytest.approx(91 / 183)
    json.dumps(out, allow_nan=False)


def test_outcomes_beyond_an_open_bound():
    doc = date_doc()
    doc["question"]["resolution"] = "above"
    out = score_json_document(doc)
    cdf = doc["forecasts"][1]["cdf"]
    ben = out["users"]["ben"]
    # ben stands from 1 July to the close (153 of 183 days): ln((1 - cdf[200]) / 0.05) / 2
    assert ben["baseline"] == pytest.approx(153 / 183 * 50 * math.log((1 - cdf[200]) / 0.05), rel=1e-9)
    doc["question"].update(open_lower=True, resolution="below")
    for f in doc["forecasts"]:
        if "cdf" in f:
            f["cdf"] = sharp(0.5, 0.2, True, True)
    assert score_json_document(doc)["users"]["ben"]["crps_final"] is not None


def test_a_value_beyond_an_open_bound_counts_as_below_or_above():
    """As when the API, the admin or import_history resolve: the value names the outside bucket."""
    doc = date_doc()  # upper bound open
    doc["question"]["resolution"] = "above"
    named = score_json_document(doc)
    doc["question"]["resolution"] = "2026-03-01T00:00:00Z"  # after upper
    assert score_json_document(doc) == named
    doc["question"].update(open_lower=True, resolution="below")
    for f in doc["forecasts"]:
        if "cdf" in f:
            f["cdf"] = sharp(0.5, 0.2, True, True)
    named = score_json_document(doc)
    doc["question"]["resolution"] = "2024-03-01T00:00:00Z"  # before lower
    assert score_json_document(doc) == named


def test_a_cdf_on_a_binary_question_is_refused():
    doc = {
        "question": {"type": "binary", "open_time": "2024-01-01T00:00:00Z", "close_time": "2024-12-31T00:00:00Z",
                     "resolution": "yes"},
        "forecasts": [{"user": "ana", "time": "2024-02-01T00:00:00Z", "probability": 0.6, "cdf": UNIFORM}],
    }  # fmt: skip
    check_error(doc, "forecasts[0].cdf", "only numeric and date take a cdf")


def test_bounds_are_included():
    doc = numeric_doc()
    for value, crps in ((0, 1 / 3), (100, 1 / 3), (0.0, 1 / 3)):
        doc["question"]["resolution"] = value
        assert score_json_document(doc)["users"]["ana"]["crps_final"] == pytest.approx(crps)


def test_annulled_and_empty():
    doc = numeric_doc()
    doc["question"]["resolution"] = "annulled"
    assert score_json_document(doc) == {"annulled": True, "users": {}}
    doc["forecasts"][0]["cdf"] = UNIFORM[:-1]
    check_error(doc, "forecasts[0].cdf", "exactly 201 values")  # still validated
    doc = numeric_doc()
    doc["forecasts"] = []
    out = score_json_document(doc)
    assert out["users"] == {} and out["crowd"]["median"]["crps_final"] is None


def _bad_step(doc):
    cdf = list(UNIFORM)
    cdf[17] = cdf[16]
    doc["forecasts"][0]["cdf"] = cdf
    return doc


NUMERIC_CASES = [
    (set_field(["question", "lower"], DELETE), "question.lower", "is required"),
    (set_field(["question", "upper"], "100"), "question.upper", "finite number"),
    (set_field(["question", "lower"], True), "question.lower", "finite number"),
    (set_field(["question", "upper"], -5), "question.upper", "greater than lower"),
    (set_field(["question", "open_lower"], "yes"), "question.open_lower", "true or false"),
    (set_field(["question", "resolution"], 100.5), "question.resolution", "that bound is closed"),
    (set_field(["question", "resolution"], -1), "question.resolution", "within [lower, upper]"),
    (set_field(["question", "resolution"], "below"), "question.resolution", "open lower bound"),
    (set_field(["question", "resolution"], "above"), "question.resolution", "open upper bound"),
    (set_field(["question", "resolution"], "42"), "question.resolution", "must be a number"),
    (set_field(["question", "resolution"], "yes"), "question.resolution", "must be a number"),
    (set_field(["question", "resolution"], DELETE), "question.resolution", "is required"),
    (set_field(["forecasts", 0, "cdf"], DELETE), "forecasts[0].cdf", "is required"),
    (set_field(["forecasts", 0, "cdf"], "uniform"), "forecasts[0].cdf", "list of 201 numbers"),
    (set_field(["forecasts", 0, "cdf"], UNIFORM + [1.0]), "forecasts[0].cdf", "exactly 201 values"),
    (_bad_step, "forecasts[0].cdf[17]", "at least 5e-05"),
    (set_field(["forecasts", 0, "cdf"], [0.001] + UNIFORM[1:]), "forecasts[0].cdf[0]", "lower bound is closed"),
    (set_field(["forecasts", 0, "probability"], 0.5), "forecasts[0].probability", "use cdf"),
    (set_field(["forecasts", 0, "withdraw"], True), "forecasts[0].withdraw", "not be combined"),
    (set_field(["forecasts", 0, "time"], "2024-01-01T00:01:40Z"), "forecasts[0].time", "before the scheduled close"),
]

DATE_CASES = [
    (set_field(["question", "lower"], 1735689600), "question.lower", "ISO-8601"),
    (set_field(["question", "upper"], "2025-12-31"), "question.upper", "ISO-8601"),
    (set_field(["question", "upper"], "2024-12-31T00:00:00Z"), "question.upper", "greater than lower"),
    (set_field(["question", "resolution"], 1740787200), "question.resolution", "ISO-8601"),
    (set_field(["question", "resolution"], "2025-03-01T00:00:00"), "question.resolution", "ISO-8601"),
    (set_field(["question", "resolution"], "2024-03-01T00:00:00Z"), "question.resolution", "within [lower, upper]"),
    (set_field(["question", "resolution"], "below"), "question.resolution", "open lower bound"),
    (set_field(["forecasts", 0, "cdf"], UNIFORM), "forecasts[0].cdf[200]", "upper bound is open"),
]


@pytest.mark.parametrize(
    "doc,mutate,field,rule",
    [(numeric_doc, *case) for case in NUMERIC_CASES] + [(date_doc, *case) for case in DATE_CASES],
)
def test_bad_input(doc, mutate, field, rule):
    check_error(mutate(copy.deepcopy(doc())), field, rule)


def test_numbers_may_be_integers_or_floats():
    doc = numeric_doc()
    doc["question"].update(lower=-1.5, upper=2.5e3, resolution=1000)
    out = score_json_document(doc)
    x = (1000 + 1.5) / 2501.5
    assert out["users"]["ana"]["crps_final"] == pytest.approx((x**3 + (1 - x) ** 3) / 3)


def test_order_of_forecasts_does_not_matter():
    doc = numeric_doc()
    doc["forecasts"].append({"user": "cy", "time": "2024-01-01T00:00:20Z", "cdf": sharp(0.7, 0.1)})
    a = score_json_document(doc)
    doc["forecasts"].reverse()
    b = score_json_document(doc)
    for name in a["users"]:
        for key in KEYS:
            assert a["users"][name][key] == pytest.approx(b["users"][name][key], abs=1e-12)
    assert np.isfinite(a["crowd"]["mean"]["peer"])
