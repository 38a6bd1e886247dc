"""Calibration and me/scores filtered by series and resolution window (issue 14), the export of a
forecaster's own data (JSON and CSV), and the profile page's filter form and download button."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest

from scoring.selectors import calibration_for_user, scores_for_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_series(scored, series, make_user, t0):
    from questions.services import series_create

    other = series_create(slug="lb-other", title="Other series")
    ana = make_user("filt-ana")
    early = scored({ana: 0.8}, outcome="yes", series=series, resolve_at=t0 + timedelta(days=2))
    late = scored({ana: 0.3}, outcome="yes", series=other, resolve_at=t0 + timedelta(days=12))
    loose = scored({ana: 0.6}, outcome="no", resolve_at=t0 + timedelta(days=15))
    return {"ana": ana, "early": early, "late": late, "loose": loose, "series": series, "other": other, "t0": t0}


def test_scores_and_calibration_filter_by_series_and_window(two_series):
    ana, t0 = two_series["ana"], two_series["t0"]
    assert scores_for_user(user=ana).count() == 3
    assert [s.question_id for s in scores_for_user(user=ana, series="lb-series")] == [two_series["early"].pk]
    after = (t0 + timedelta(days=5)).isoformat()
    assert {s.question_id for s in scores_for_user(user=ana, resolved_after=after)} == {
        two_series["late"].pk,
        two_series["loose"].pk,
    }
    before = (t0 + timedelta(days=13)).isoformat()
    assert [s.question_id for s in scores_for_user(user=ana, resolved_after=after, resolved_before=before)] == [
        two_series["late"].pk
    ]
    assert calibration_for_user(user=ana)["n_events"] == 3
    assert calibration_for_user(user=ana, series="lb-other")["n_events"] == 1
    assert calibration_for_user(user=ana, series="lb-other")["bins"][3]["count"] == 1  # 0.3
    assert calibration_for_user(user=ana, resolved_before=after)["bins"][8]["count"] == 1  # 0.8
    # The unfiltered body is still cached under its own key.
    assert calibration_for_user(user=ana)["n_events"] == 3


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("series=nope", "series"),
        ("resolved_after=yesterday", "resolved_after"),
        ("resolved_before=2024-13-01", "resolved_before"),
        ("resolved_after=2024-02-01&resolved_before=2024-01-01", "resolved_before"),
        ("resolved_after=", "resolved_after"),
    ],
)
def test_bad_filters_are_a_400_naming_the_field(two_series, client_for, query, field):
    ana = two_series["ana"]
    for url in (f"/api/v1/users/{ana.pk}/calibration/?{query}", f"/api/v1/me/scores/?{query}"):
        resp = client_for(ana).get(url)
        assert resp.status_code == 400, (url, resp.content)
        assert field in resp.json()["error"]["fields"], resp.json()


def test_the_api_filters(two_series, client_for):
    ana = two_series["ana"]
    c = client_for(ana)
    body = c.get("/api/v1/me/scores/?series=lb-series").json()
    assert [r["question"] for r in body["results"]] == [two_series["early"].pk]
    csv_text = c.get("/api/v1/me/scores/?series=lb-other&format=csv").content.decode()
    assert len(list(csv.DictReader(io.StringIO(csv_text)))) == 1
    cal = client_for(None).get(f"/api/v1/users/{ana.pk}/calibration/?series=lb-other&resolved_after=2000-01-01")
    assert cal.status_code == 200 and cal.json()["n_events"] == 1


def test_the_export_holds_every_forecast_and_score_of_the_caller_only(two_series, client_for, make_user):
    from forecasts.services import forecast_submit, forecast_withdraw

    ana = two_series["ana"]
    ben = make_user("filt-ben")
    from questions.services import question_create

    now = two_series["t0"] + timedelta(days=20)
    q = question_create(
        type="binary", title="Open one", open_time=now - timedelta(days=1), close_time=now + timedelta(days=9)
    )
    forecast_submit(user=ana, question=q, payload={"probability": 0.42}, rationale="=cmd|' /C calc'!A0 base rates")
    forecast_withdraw(user=ana, question=q)
    forecast_submit(user=ben, question=q, payload={"probability": 0.77}, rationale="ben's secret")

    body = client_for(ana).get("/api/v1/me/export/")
    assert body.status_code == 200 and "attachment" in body["Content-Disposition"]
    data = body.json()
    assert set(data) == {"forecasts", "scores"}
    assert len(data["forecasts"]) == 5 and len(data["scores"]) == 3
    mine = [f for f in data["forecasts"] if f["question"] == q.pk]
    assert [f["withdrawn"] for f in mine] == [False, True]
    assert mine[0]["probability"] == 0.42 and mine[0]["probabilities"] == {"yes": 0.42, "no": pytest.approx(0.58)}
    assert mine[0]["question_title"] == "Open one" and mine[0]["rationale"].endswith("base rates")
    assert all(f.get("probability") != 0.77 for f in data["forecasts"])  # ben's forecast is not there
    assert "ben's secret" not in body.content.decode()

    resp = client_for(ana).get("/api/v1/me/export/?format=csv")
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.content.decode())))
    assert [r["record"] for r in rows] == ["forecast"] * 5 + ["score"] * 3
    row = next(r for r in rows if r["question"] == str(q.pk) and r["withdrawn"] == "false")
    assert json.loads(row["probabilities"])["yes"] == 0.42
    assert row["rationale"].startswith("'=")  # a spreadsheet formula is defused
    assert "ben's secret" not in resp.content.decode()
    # Ben's export is Ben's alone.
    assert [f["rationale"] for f in client_for(ben).get("/api/v1/me/export/").json()["forecasts"]] == ["ben's secret"]
    assert client_for(None).get("/api/v1/me/export/").status_code == 401


def test_the_profile_has_a_download_button_and_a_calibration_filter(two_series):
    from django.test import Client

    ana = two_series["ana"]
    c = Client()
    c.force_login(ana)
    page = c.get("/profile/").content.decode()
    assert "/api/v1/me/export/?format=csv" in page and "/api/v1/me/export/?format=json" in page
    assert 'name="series"' in page and 'name="resolved_after"' in page
    filtered = c.get("/profile/?series=lb-other")
    assert filtered.status_code == 200 and "1 event" in filtered.content.decode()
    bad = c.get("/profile/?resolved_after=soon")
    assert bad.status_code == 200 and "resolved_after" not in bad.content.decode().split("calibration-filter")[0]
    assert "not a date" in bad.content.decode()
    # Another user's profile shows the filter but never the download.
    other = Client().get(f"/users/{ana.pk}/?series=lb-series").content.decode()
    assert "/api/v1/me/export/" not in other and 'name="series"' in other
