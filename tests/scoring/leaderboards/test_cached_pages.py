"""The rendered-page cache of anonymous leaderboard reads (api/leaderboards.py, scoring.cache.page_get):
a warm page is the same response as a cold one and as DRF's rendering for a signed-in reader, it
costs no query and one Redis round trip, and a recompute, a rename or a deletion is seen by the
next read."""

from __future__ import annotations

import json

import pytest
import redis
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.support.faults import free_port

pytestmark = pytest.mark.django_db

HEADERS = ("Content-Type", "Vary", "Allow", "Content-Disposition")


def _response(resp) -> tuple:
    return resp.status_code, resp.content, tuple(resp.get(h) for h in HEADERS)


@pytest.fixture
def board(scored, make_user, series):
    users = [make_user(f"zq_page_{i}") for i in range(5)]
    q = scored({u: p for u, p in zip(users, [0.9, 0.8, 0.7, 0.6, 0.5], strict=True)}, series=series)
    return users, q


@pytest.fixture
def redis_commands(monkeypatch):
    """The leaderboard cache's Redis commands, in order (the throttles' own are left out)."""
    seen: list[tuple] = []
    original = redis.Redis.execute_command

    def record(self, *args, **options):
        if not any(isinstance(a, str) and "throttle_" in a for a in args[1:]):
            seen.append((args[0], len(args) - 1))
        return original(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", record)
    return seen


def _urls(series, q) -> list[str]:
    return [
        f"/api/v1/leaderboards/series/{series.slug}/",
        f"/api/v1/leaderboards/series/{series.slug}/?page=2&page_size=2&rank_by=peer_sum",
        f"/api/v1/leaderboards/series/{series.slug}/?min_questions=1&resolved_after=2000-01-01",
        "/api/v1/leaderboards/global/?min_questions=1",
        f"/api/v1/leaderboards/questions/{q.pk}/",
    ]


def test_a_warm_page_is_the_cold_page_and_what_a_signed_in_reader_gets(board, series, client_for, make_user):
    _, q = board
    outsider = make_user("zq_page_outsider")  # signed in, not on the board: `me` is null, as anonymous
    for url in _urls(series, q):
        cold = client_for().get(url)
        warm = client_for().get(url)
        signed_in = client_for(outsider).get(url)  # DRF's Response, rendered by DRF
        assert cold.status_code == 200, (url, cold.content)
        assert _response(cold) == _response(warm), url
        assert cold.content == signed_in.content, url
        assert cold["Content-Type"] == signed_in["Content-Type"] == "application/json"
        assert cold["Allow"] == signed_in["Allow"] == "GET, HEAD, OPTIONS"
        assert cold["Vary"] == "Accept, Cookie"  # as before: DRF's Accept, the session's Cookie
        assert json.loads(cold.content)["me"] is None


def test_pages_differ_by_parameters_and_by_media_type(board, series, client_for):
    base = f"/api/v1/leaderboards/series/{series.slug}/?page_size=2"
    anonymous = client_for()
    first, second = anonymous.get(base).json(), anonymous.get(base + "&page=2").json()
    assert [e["rank"] for e in first["entries"]] == [1, 2] and [e["rank"] for e in second["entries"]] == [3, 4]
    assert anonymous.get(base + "&rank_by=peer_sum").json()["rank_by"] == "peer_sum"
    anonymous.get(base)  # warm
    indented = anonymous.get(base, HTTP_ACCEPT="application/json; indent=2")
    assert indented["Content-Type"] == "application/json; indent=2"
    assert indented.content.startswith(b"{\n  ") and json.loads(indented.content) == first
    assert anonymous.get(base, HTTP_ACCEPT="text/csv").content.startswith(b"rank,user_id")
    assert anonymous.get(base + "&format=csv").content.startswith(b"rank,user_id")


def test_a_warm_anonymous_read_is_one_round_trip_and_no_query(board, series, client_for, redis_commands):
    _, q = board
    anonymous = client_for()
    for url, cold_queries, queries in [
        (f"/api/v1/leaderboards/series/{series.slug}/", 4, 0),  # cold: the series, count, page, crowd
        ("/api/v1/leaderboards/global/?min_questions=1", 1, 0),  # cold: the eligible rows, reranked
        (f"/api/v1/leaderboards/questions/{q.pk}/", 4, 1),  # warm: the question, for its visibility
    ]:
        with CaptureQueriesContext(connection) as ctx:
            assert anonymous.get(url).status_code == 200
        assert len(ctx.captured_queries) == cold_queries, url
        redis_commands.clear()
        with CaptureQueriesContext(connection) as ctx:
            assert anonymous.get(url).status_code == 200
        assert len(ctx.captured_queries) == queries, (url, [c["sql"] for c in ctx.captured_queries])
        assert redis_commands == [("MGET", 2)], url


def test_a_signed_in_reader_keeps_their_own_row(board, series, client_for):
    users, _ = board
    url = f"/api/v1/leaderboards/series/{series.slug}/?page_size=2"
    client_for().get(url)  # an anonymous page cached first
    for _ in range(2):
        body = client_for(users[-1]).get(url).json()
        assert body["me"]["user"]["id"] == users[-1].pk and body["me"]["rank"] == 5


def test_a_recompute_is_seen_by_the_next_read(board, scored, series, client_for, make_user):
    url = f"/api/v1/leaderboards/series/{series.slug}/"
    anonymous = client_for()
    assert anonymous.get(url).json()["count"] == 5
    assert anonymous.get(url).json()["count"] == 5  # warm
    scored({make_user(f"zq_page_more_{i}"): 0.95 for i in range(2)}, series=series)  # scored, recomputed
    body = anonymous.get(url).json()
    assert body["count"] == 7 and len(body["entries"]) == 7


def test_a_renamed_series_is_found_under_its_new_slug_only(
    board, series, client_for, django_capture_on_commit_callbacks
):
    anonymous = client_for()
    old = f"/api/v1/leaderboards/series/{series.slug}/"
    anonymous.get(old)
    assert anonymous.get(old).status_code == 200  # warm, found by slug without a query
    with django_capture_on_commit_callbacks(execute=True):
        series.slug = "lb-renamed"
        series.save()
    assert anonymous.get(old).status_code == 404
    body = anonymous.get("/api/v1/leaderboards/series/lb-renamed/").json()
    assert body["scope"]["series"] == "lb-renamed" and body["count"] == 5


def test_a_slug_given_to_another_series_shows_that_series(
    board, series, client_for, django_capture_on_commit_callbacks
):
    from questions.services import series_create

    anonymous = client_for()
    url = f"/api/v1/leaderboards/series/{series.slug}/"
    anonymous.get(url)
    assert anonymous.get(url).json()["count"] == 5
    with django_capture_on_commit_callbacks(execute=True):
        series.slug = "lb-elsewhere"
        series.save()
    series_create(slug="lb-series", title="A new series under the old slug")
    body = anonymous.get(url).json()
    assert body["count"] == 0 and body["scope"]["series"] == "lb-series"


def test_a_deleted_series_is_404(db, client_for, django_capture_on_commit_callbacks):
    from questions.services import series_create

    empty = series_create(slug="lb-empty", title="No questions yet")
    anonymous = client_for()
    url = "/api/v1/leaderboards/series/lb-empty/"
    assert anonymous.get(url).json()["count"] == 0
    assert anonymous.get(url).json()["count"] == 0  # warm
    with django_capture_on_commit_callbacks(execute=True):
        empty.delete()
    resp = anonymous.get(url)
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"


def test_with_redis_unreachable_the_page_is_read_from_the_database(board, series, client_for, settings):
    url = f"/api/v1/leaderboards/series/{series.slug}/?page_size=3"
    expected = client_for().get(url).content
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{free_port()}/0"}}
    assert settings.CACHES["default"]["BACKEND"] == "config.cache.FailOpenRedisCache"
    for _ in range(2):
        resp = client_for().get(url)
        assert resp.status_code == 200 and resp.content == expected
