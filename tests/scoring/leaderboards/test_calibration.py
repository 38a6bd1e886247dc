"""Calibration (scoring.md section 6) from really scored questions: bins, Wilson intervals worked
out by hand, multiple-choice options as binary events, and the Murphy example of section 6."""

from __future__ import annotations

import math

import pytest

from scoring.selectors import calibration_for_crowd, calibration_for_user

pytestmark = pytest.mark.django_db


def wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    # Written out independently of the engine: (p + z²/2n ± z sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)
    p = k / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    d = 1 + z * z / n
    return (centre - half) / d, (centre + half) / d


def test_bins_and_wilson_intervals_on_a_hand_computed_case(scored, make_user):
    ana = make_user("zq_calib")
    # final forecasts P(yes) and outcomes: 0.15 yes, 0.12 no, 0.75 yes, 0.72 yes, 0.78 no
    for p, outcome in [(0.15, "yes"), (0.12, "no"), (0.75, "yes"), (0.72, "yes"), (0.78, "no")]:
        scored({ana: p}, outcome=outcome)
    # a multiple-choice question: each option is a binary event (0.6 true; 0.1 and 0.3 false)
    scored({ana: {"A": 0.6, "B": 0.1, "C": 0.3}}, options=["A", "B", "C"], outcome="A")
    body = calibration_for_user(user=ana)
    assert body["subject"] == {"kind": "user", "user": {"id": ana.pk, "name": ana.public_name}, "method": None}
    assert body["n_events"] == 8
    bins = body["bins"]
    assert len(bins) == 10
    assert [b["lower"] for b in bins] == pytest.approx([i / 10 for i in range(10)])
    assert [b["upper"] for b in bins] == pytest.approx([(i + 1) / 10 for i in range(10)])
    assert [b["count"] for b in bins] == [0, 3, 0, 1, 0, 0, 1, 3, 0, 0]
    one = bins[1]  # 0.15 (yes), 0.12 (no), 0.1 (option B, false)
    assert one["mean_forecast"] == pytest.approx((0.15 + 0.12 + 0.1) / 3)
    assert one["observed_frequency"] == pytest.approx(1 / 3)
    assert (one["wilson_low"], one["wilson_high"]) == pytest.approx(wilson(1, 3))
    assert (one["wilson_low"], one["wilson_high"]) == pytest.approx((0.0615, 0.7923), abs=1e-4)
    seven = bins[7]  # 0.75 yes, 0.72 yes, 0.78 no
    assert seven["mean_forecast"] == pytest.approx(0.75)
    assert seven["observed_frequency"] == pytest.approx(2 / 3)
    assert (seven["wilson_low"], seven["wilson_high"]) == pytest.approx(wilson(2, 3))
    six = bins[6]  # option A at 0.6, true: 1 of 1
    assert six["observed_frequency"] == 1.0
    assert (six["wilson_low"], six["wilson_high"]) == pytest.approx((0.2065, 1.0), abs=1e-4)
    empty = bins[0]
    assert empty["count"] == 0 and empty["mean_forecast"] is None and empty["wilson_low"] is None
    # Not folded at 50%: the 0.12 forecast of "yes" stays in the 0.1 bin, not 0.8
    assert bins[8]["count"] == 0


def test_murphy_decomposition_example_of_section_6(scored, make_user):
    bea = make_user("zq_murphy")
    cases = [(0.2, "yes"), (0.2, "no"), (0.2, "no"), (0.2, "no"),
             (0.6, "yes"), (0.6, "yes"), (0.6, "yes"), (0.6, "no"),
             (0.9, "yes"), (0.9, "yes")]  # fmt: skip
    for p, outcome in cases:
        scored({bea: p}, outcome=outcome)
    m = calibration_for_user(user=bea)["murphy"]
    assert m["brier"] == pytest.approx(0.162)
    assert m["reliability"] == pytest.approx(0.012)
    assert m["resolution"] == pytest.approx(0.09)
    assert m["uncertainty"] == pytest.approx(0.24)
    assert m["brier"] == pytest.approx(m["reliability"] - m["resolution"] + m["uncertainty"])
    # alone on each question, the crowd's median forecast is bea's: the same decomposition
    crowd = calibration_for_crowd(method="median")
    assert crowd["subject"] == {"kind": "crowd", "user": None, "method": "median"}
    assert crowd["murphy"] == pytest.approx(m)


def test_no_events_gives_empty_bins_and_no_murphy(db, make_user):
    body = calibration_for_user(user=make_user("zq_nobody"))
    assert body["n_events"] == 0 and body["murphy"] is None
    assert [b["count"] for b in body["bins"]] == [0] * 10


def test_crowd_calibration_method_is_validated(db):
    from config.exceptions import DomainError

    with pytest.raises(DomainError) as e:
        calibration_for_crowd(method="loudest")
    assert e.value.field == "method"


def test_calibration_api(scored, make_user, client_for):
    cy = make_user("zq_calib_api")
    scored({cy: 0.7})
    body = client_for().get(f"/api/v1/users/{cy.pk}/calibration/").json()
    assert body["n_events"] == 1 and body["bins"][7]["count"] == 1
    assert body["subject"]["user"] == {"id": cy.pk, "name": cy.public_name}
    assert "zq_calib_api" not in str(body) and "@" not in str(body)
    assert client_for().get("/api/v1/users/999999/calibration/").status_code == 404
    crowd = client_for().get("/api/v1/crowd/calibration/?method=mean").json()
    assert crowd["subject"]["method"] == "mean" and crowd["n_events"] == 1
    bad = client_for().get("/api/v1/crowd/calibration/?method=loudest")
    assert bad.status_code == 400 and "method" in bad.json()["error"]["fields"]


def test_calibration_follows_a_rescore_of_the_question(scored, make_user, django_capture_on_commit_callbacks):
    from questions.services import question_resolve

    dee = make_user("zq_calib_flip")
    q = scored({dee: 0.8}, outcome="yes")
    assert calibration_for_user(user=dee)["bins"][8]["observed_frequency"] == 1.0
    with django_capture_on_commit_callbacks(execute=True):
        question_resolve(question=q, outcome="no", by=None, note="correction")
    assert calibration_for_user(user=dee)["bins"][8]["observed_frequency"] == 0.0
