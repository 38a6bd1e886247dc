"""Leaderboards (scoring.md section 5) over really scored questions: ranks and ties, min_questions,
windows, rank_by, the crowd row, `me`, bootstrap intervals, public fields only, the API and CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import numpy as np
import pytest

from forecast_math import bootstrap_mean_interval
from scoring.leaderboards import leaderboards_recompute, leaderboards_recompute_all
from scoring.models import LeaderboardEntry, Score
from scoring.selectors import leaderboard_read

pytestmark = pytest.mark.django_db


def _ids(body):
    return [e["user"]["id"] for e in body["entries"]]


def _ranks(body):
    return [e["rank"] for e in body["entries"]]


@pytest.fixture
def four(make_user):
    return [make_user(f"zq_private_{i}") for i in range(4)]


def test_ties_share_a_rank_and_the_next_rank_skips(scored, four, series):
    a, b, c, d = four
    # yes happens: Brier 0.02, 0.02, 0.5, 1.62; crowd median Brier 0.26.
    scored({a: 0.9, b: 0.9, c: 0.5, d: 0.1}, series=series)
    body = leaderboard_read(scope="series", series=series)
    assert _ranks(body) == [1, 1, 3, 4]
    assert _ids(body) == [a.pk, b.pk, c.pk, d.pk]  # a tie is ordered by user id
    rel = [e["relative_brier_sum"] for e in body["entries"]]
    assert rel == pytest.approx([-0.24, -0.24, 0.24, 1.36])
    first = body["entries"][0]
    assert first["brier_mean"] == pytest.approx(0.02)
    assert first["participation_mean"] == pytest.approx(1.0)
    assert first["questions"] == 1
    assert body["scale"] == "brier_0_2"
    assert body["rank_by"] == "relative_brier_sum" and body["min_questions"] == 1
    assert body["count"] == 4
    assert body["scope"] == {"kind": "series", "series": "lb-series", "question": None}


def test_values_within_1e9_tie(make_user):
    from forecast_math import rank_with_ties

    assert rank_with_ties([0.1, 0.1 + 5e-10, 0.2, 0.3]).tolist() == [1, 1, 3, 4]


def test_the_crowd_row_is_a_benchmark_never_ranked(scored, four, series):
    a, b, c, d = four
    scored({a: 0.9, b: 0.9, c: 0.5, d: 0.1}, series=series)
    body = leaderboard_read(scope="series", series=series)
    crowd = body["crowd"]
    assert crowd["user"] is None and crowd["method"] == "median" and "rank" not in crowd
    # the median forecast is 0.7 on yes: Brier 2 * 0.3^2 = 0.18, relative 0.18 - 0.26
    assert crowd["brier_mean"] == pytest.approx(0.18)
    assert crowd["relative_brier_sum"] == pytest.approx(-0.08)
    assert len(body["entries"]) == 4  # the crowd is not among them
    # every read path shows the same (median) crowd row
    assert leaderboard_read(scope="series", series=series, min_questions=1)["crowd"] == crowd
    assert leaderboard_read(scope="series", series=series, resolved_before="2100-01-01")["crowd"] == crowd


def test_min_questions_filters_entries_and_reranks(scored, four, series):
    a, b, c, d = four
    scored({a: 0.6, b: 0.9}, series=series)
    scored({a: 0.6, c: 0.2}, series=series)
    body = leaderboard_read(scope="series", series=series)
    assert body["count"] == 3
    assert set(_ids(body)) == {a.pk, b.pk, c.pk}
    two = leaderboard_read(scope="series", series=series, min_questions=2)
    assert _ids(two) == [a.pk] and _ranks(two) == [1] and two["count"] == 1
    assert two["entries"][0]["questions"] == 2
    assert leaderboard_read(scope="series", series=series, min_questions=3)["entries"] == []


def test_global_defaults_to_ten_questions_and_the_mean(scored, four):
    a, b, *_ = four
    for _ in range(10):
        scored({a: 0.8, b: 0.3})
    scored({b: 0.7})  # b has 11, a has 10
    scored({a: 0.9, four[2]: 0.1})  # a has 11; c has 1
    body = leaderboard_read(scope="global")
    assert body["rank_by"] == "relative_brier_mean" and body["min_questions"] == 10
    assert set(_ids(body)) == {a.pk, b.pk}
    assert _ids(body)[0] == a.pk
    assert len(leaderboard_read(scope="global", min_questions=1)["entries"]) == 3


def test_window_limits_to_questions_resolved_in_it(scored, four, series, t0):
    a, b, *_ = four
    early = scored({a: 0.9, b: 0.1}, series=series, resolve_at=t0 + timedelta(days=2))
    late = scored({a: 0.1, b: 0.9}, series=series, resolve_at=t0 + timedelta(days=12))
    cut = (t0 + timedelta(days=5)).isoformat()
    after = leaderboard_read(scope="series", series=series, resolved_after=cut)
    before = leaderboard_read(scope="series", series=series, resolved_before=cut)
    assert _ids(after) == [b.pk, a.pk] and _ids(before) == [a.pk, b.pk]
    assert all(e["questions"] == 1 for e in after["entries"] + before["entries"])
    assert after["resolved_after"].endswith("Z") and after["resolved_before"] is None
    late_scores = {s.user_id: s.relative_brier for s in Score.objects.filter(question=late, user__isnull=False)}
    assert after["entries"][0]["relative_brier_sum"] == pytest.approx(late_scores[b.pk])
    assert after["crowd"]["questions"] == 1
    both = leaderboard_read(scope="series", series=series, resolved_after=early.resolved_at.date().isoformat())
    assert all(e["questions"] == 2 for e in both["entries"])
    # a windowed read equals the materialised one when the window holds everything
    full = leaderboard_read(scope="series", series=series)
    assert both["entries"] == full["entries"] and both["crowd"] == full["crowd"]


@pytest.mark.parametrize(
    "rank_by, expected",
    [
        ("relative_brier_sum", "abc"),
        ("brier_mean", "abc"),
        ("peer_sum", "abc"),
        ("baseline_sum", "abc"),
        ("relative_brier_mean", "abc"),
    ],
)
def test_rank_by_each_key_with_the_right_direction(scored, four, series, rank_by, expected):
    a, b, c, _ = four
    scored({a: 0.9, b: 0.6, c: 0.2}, series=series)
    body = leaderboard_read(scope="series", series=series, rank_by=rank_by)
    names = {a.pk: "a", b.pk: "b", c.pk: "c"}
    assert "".join(names[i] for i in _ids(body)) == expected
    assert body["rank_by"] == rank_by
    values = [e[rank_by] for e in body["entries"]]
    if rank_by in ("peer_sum", "baseline_sum"):
        assert values == sorted(values, reverse=True)  # higher is better
    else:
        assert values == sorted(values)  # lower is better
    # the same ranking from the NumPy path (another min_questions, nothing filtered out)
    assert _ids(leaderboard_read(scope="series", series=series, rank_by=rank_by, min_questions=1)) == _ids(body)


def test_me_is_the_callers_entry_even_off_the_first_page(scored, make_user, series):
    users = [make_user(f"zq_page_{i}") for i in range(5)]
    scored({u: p for u, p in zip(users, [0.9, 0.8, 0.7, 0.6, 0.5], strict=True)}, series=series)
    worst = users[-1]
    body = leaderboard_read(scope="series", series=series, user=worst, offset=0, limit=2)
    assert len(body["entries"]) == 2 and body["count"] == 5
    assert worst.pk not in _ids(body)
    assert body["me"]["user"]["id"] == worst.pk and body["me"]["rank"] == 5
    # the same from the reranked and windowed paths
    assert leaderboard_read(scope="series", series=series, user=worst, limit=2, min_questions=1)["me"]["rank"] == 5
    windowed = leaderboard_read(scope="series", series=series, user=worst, limit=2, resolved_after="2000-01-01")
    assert windowed["me"] == body["me"]
    assert leaderboard_read(scope="series", series=series, user=None, limit=2)["me"] is None
    outsider = make_user("zq_outsider")
    assert leaderboard_read(scope="series", series=series, user=outsider)["me"] is None


def test_second_page(scored, make_user, series):
    users = [make_user(f"zq_p2_{i}") for i in range(5)]
    scored({u: p for u, p in zip(users, [0.9, 0.8, 0.7, 0.6, 0.5], strict=True)}, series=series)
    body = leaderboard_read(scope="series", series=series, offset=2, limit=2)
    assert _ranks(body) == [3, 4] and _ids(body) == [users[2].pk, users[3].pk]


def test_bootstrap_interval_is_seeded_reproducible_and_contains_the_mean(scored, four, series):
    a, b, *_ = four
    for p in (0.9, 0.3, 0.7, 0.55, 0.8, 0.2):
        scored({a: p, b: 0.5}, series=series)
    body = leaderboard_read(scope="series", series=series)
    entry = next(e for e in body["entries"] if e["user"]["id"] == a.pk)
    lo, hi = entry["relative_brier_mean_ci"]
    assert lo < entry["relative_brier_mean"] < hi
    blo, bhi = entry["brier_mean_ci"]
    assert blo <= entry["brier_mean"] <= bhi and blo < bhi
    values = list(Score.objects.filter(user=a).order_by("question_id").values_list("relative_brier", flat=True))
    assert entry["relative_brier_mean"] == pytest.approx(float(np.mean(values)))
    assert [lo, hi] == pytest.approx(list(bootstrap_mean_interval(values, replicates=1999, seed=0)))
    # recomputing gives the very same interval
    leaderboards_recompute_all()
    again = next(e for e in leaderboard_read(scope="series", series=series)["entries"] if e["user"]["id"] == a.pk)
    assert again["relative_brier_mean_ci"] == [lo, hi]


def test_no_email_or_private_field_anywhere(scored, four, series, client_for):
    a, b, c, d = four
    q = scored({a: 0.9, b: 0.9, c: 0.5, d: 0.1}, series=series)
    bodies = [
        leaderboard_read(scope="series", series=series, user=a, limit=2),
        leaderboard_read(scope="series", series=series, user=d, min_questions=1, limit=1),
        leaderboard_read(scope="series", series=series, user=d, resolved_after="2000-01-01", limit=1),
        client_for(a).get("/api/v1/leaderboards/global/?min_questions=1").json(),
        client_for(a).get(f"/api/v1/leaderboards/questions/{q.pk}/").json(),
    ]
    csv_text = client_for(a).get(f"/api/v1/leaderboards/series/{series.slug}/?format=csv").content.decode()
    for u in four:
        u.refresh_from_db()
        assert u.email and u.username != u.display_name
    for text in [json.dumps(b) for b in bodies] + [csv_text]:
        assert "@example.org" not in text and "email" not in text and "password" not in text
        for u in four:
            assert u.username not in text  # the username differs from the public name: never shown
    checked = 0
    for body in bodies:
        for e in body["entries"] + [body["me"]]:
            if e:
                checked += 1
                assert set(e["user"]) == {"id", "name"}
                assert e["user"]["name"] in {u.display_name for u in four}
    assert checked >= len(bodies), "every body had user rows to check"


def test_recompute_is_idempotent(scored, four, series):
    a, b, c, d = four
    q = scored({a: 0.9, b: 0.9, c: 0.5, d: 0.1}, series=series)
    rows = lambda: sorted(  # noqa: E731
        LeaderboardEntry.objects.values_list(
            "scope_key", "user_id", "crowd_method", "relative_brier_sum", "rank_relative_brier_sum"
        ),
        key=repr,
    )
    before = rows()
    leaderboards_recompute(question_id=q.pk)
    leaderboards_recompute(question_id=q.pk)
    assert rows() == before
    assert {k for k, *_ in before} == {"global", f"series:{series.pk}", f"question:{q.pk}"}


def test_unresolving_removes_the_question_from_its_leaderboards(
    scored, four, series, django_capture_on_commit_callbacks
):
    from questions.services import question_unresolve

    a, b, *_ = four
    q = scored({a: 0.9, b: 0.2}, series=series)
    assert leaderboard_read(scope="series", series=series)["count"] == 2
    assert LeaderboardEntry.objects.filter(scope_key=f"question:{q.pk}").exists()
    with django_capture_on_commit_callbacks(execute=True):
        question_unresolve(question=q, by=None)
    body = leaderboard_read(scope="series", series=series)
    assert body["count"] == 0 and body["crowd"] is None
    assert not LeaderboardEntry.objects.filter(scope_key=f"question:{q.pk}").exists()


def test_reads_are_cached_and_invalidated_by_the_recompute(scored, four, series, django_assert_num_queries):
    a, b, c, d = four
    scored({a: 0.9, b: 0.5}, series=series)
    first = leaderboard_read(scope="series", series=series)
    with django_assert_num_queries(0):
        assert leaderboard_read(scope="series", series=series) == first
    scored({c: 0.99, d: 0.01}, series=series)
    assert leaderboard_read(scope="series", series=series)["count"] == 4


@pytest.mark.parametrize(
    "params, field",
    [
        ({"rank_by": "karma"}, "rank_by"),
        ({"min_questions": 0}, "min_questions"),
        ({"min_questions": "two"}, "min_questions"),
        ({"resolved_after": "last tuesday"}, "resolved_after"),
        ({"resolved_after": "2025-01-02", "resolved_before": "2025-01-01"}, "resolved_before"),
        ({"offset": -1}, "offset"),
        ({"limit": 0}, "limit"),
        ({"scope": "planet"}, "scope"),
        ({"scope": "series", "series": "no-such-series"}, "series"),
        ({"scope": "question"}, "question"),
    ],
)
def test_bad_parameters_raise_domain_errors_naming_them(db, params, field):
    from config.exceptions import DomainError

    with pytest.raises(DomainError) as e:
        leaderboard_read(**{"scope": "global", **params})
    assert e.value.field == field


# --- The API -----------------------------------------------------------------------------


def test_api_series_leaderboard_with_pages_and_me(scored, make_user, series, client_for):
    users = [make_user(f"zq_api_{i}") for i in range(5)]
    scored({u: p for u, p in zip(users, [0.9, 0.8, 0.7, 0.6, 0.5], strict=True)}, series=series)
    resp = client_for(users[-1]).get(f"/api/v1/leaderboards/series/{series.slug}/?page=2&page_size=2")
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert [e["rank"] for e in body["entries"]] == [3, 4]
    assert body["me"]["rank"] == 5 and body["count"] == 5
    assert set(body) == {
        "scope",
        "rank_by",
        "min_questions",
        "resolved_after",
        "resolved_before",
        "scale",
        "count",
        "entries",
        "crowd",
        "me",
    }
    anon = client_for().get(f"/api/v1/leaderboards/series/{series.slug}/").json()
    assert anon["me"] is None and len(anon["entries"]) == 5


def test_api_question_leaderboard(scored, four, client_for, make_question):
    a, b, *_ = four
    q = scored({a: 0.2, b: 0.8}, outcome="no")
    body = client_for().get(f"/api/v1/leaderboards/questions/{q.pk}/").json()
    assert body["scope"] == {"kind": "question", "series": None, "question": q.pk}
    assert [e["user"]["id"] for e in body["entries"]] == [a.pk, b.pk]
    open_q = make_question(title="still open")
    assert client_for().get(f"/api/v1/leaderboards/questions/{open_q.pk}/").json()["entries"] == []
    draft = make_question(title="draft", published=False)
    assert client_for().get(f"/api/v1/leaderboards/questions/{draft.pk}/").status_code == 404


@pytest.mark.parametrize(
    "query, field",
    [("rank_by=karma", "rank_by"), ("min_questions=0", "min_questions"), ("page=0", "page"), ("page_size=501", "page_size"),
     ("resolved_before=soon", "resolved_before"), ("rank_by=karma&format=csv", "rank_by")],
)  # fmt: skip
def test_api_bad_parameters_are_400_json_naming_the_field(db, client_for, query, field):
    resp = client_for().get(f"/api/v1/leaderboards/global/?{query}")
    assert resp.status_code == 400
    assert resp["Content-Type"].startswith("application/json")
    assert field in resp.json()["error"]["fields"]


def test_api_unknown_series_is_404(db, client_for):
    resp = client_for().get("/api/v1/leaderboards/series/nope/")
    assert resp.status_code == 404 and "error" in resp.json()


def test_api_leaderboard_csv_has_every_entry_and_the_crowd(scored, make_user, series, client_for):
    users = [make_user(f"zq_csv_{i}") for i in range(5)]
    users[0].display_name = "=HYPERLINK(evil)"
    users[0].save()
    scored({u: p for u, p in zip(users, [0.9, 0.8, 0.7, 0.6, 0.5], strict=True)}, series=series)
    resp = client_for().get(f"/api/v1/leaderboards/series/{series.slug}/?format=csv&page_size=2")
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("text/csv")
    assert "attachment" in resp["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.content.decode())))
    assert len(rows) == 6  # all five, not a page, then the crowd
    assert [r["rank"] for r in rows] == ["1", "2", "3", "4", "5", ""]
    assert rows[-1]["crowd_method"] == "median" and rows[-1]["user_id"] == ""
    assert rows[0]["user_name"] == "'=HYPERLINK(evil)"  # no formula injection
    assert float(rows[1]["relative_brier_sum"]) == pytest.approx(Score.objects.get(user=users[1]).relative_brier)


def test_api_my_scores_csv(scored, four, client_for):
    a, b, *_ = four
    q1 = scored({a: 0.9, b: 0.2})
    q2 = scored({a: 0.4, b: 0.2}, outcome="no")
    resp = client_for(a).get("/api/v1/me/scores/?format=csv")
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.content.decode())))
    assert {int(r["question"]) for r in rows} == {q1.pk, q2.pk}
    assert float(next(r for r in rows if int(r["question"]) == q1.pk)["brier_final"]) == pytest.approx(0.02)
    assert client_for().get("/api/v1/me/scores/?format=csv").status_code == 401
    assert client_for(a).get("/api/v1/me/scores/").json()["count"] == 2  # JSON unchanged


def test_schema_documents_the_endpoints_and_csv(db, client):
    import yaml

    resp = client.get("/api/schema/")
    schema = yaml.safe_load(resp.content)
    for path in ["/api/v1/leaderboards/global/", "/api/v1/leaderboards/series/{slug}/", "/api/v1/leaderboards/questions/{id}/",
                 "/api/v1/users/{id}/calibration/", "/api/v1/crowd/calibration/", "/api/v1/me/scores/"]:  # fmt: skip
        assert path in schema["paths"], path
    op = schema["paths"]["/api/v1/leaderboards/series/{slug}/"]["get"]
    names = {p["name"] for p in op["parameters"]}
    assert {
        "slug",
        "rank_by",
        "min_questions",
        "resolved_after",
        "resolved_before",
        "page",
        "page_size",
        "format",
    } <= names
    assert {"application/json", "text/csv"} <= set(op["responses"]["200"]["content"])
    assert "400" in op["responses"] and "404" in op["responses"]
    assert "text/csv" in schema["paths"]["/api/v1/me/scores/"]["get"]["responses"]["200"]["content"]
