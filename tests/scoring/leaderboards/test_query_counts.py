"""A leaderboard page and a calibration read take a constant number of queries, whatever the
number of users: measured with 5 and with 50 forecasters, on every read path, cold cache."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db

PATHS = {
    "materialised": "",
    "reranked": "&min_questions=2",
    "other_rank_key": "&rank_by=peer_sum",
    "windowed": "&resolved_after=2000-01-01",
    "csv": "&format=csv",
}


def _build(n: int, scored, make_user, series):
    users = [make_user(f"zq_n{n}_{i}") for i in range(n)]
    for k in range(2):
        scored({u: 0.1 + 0.8 * ((i * 7 + k) % n) / n for i, u in enumerate(users)}, series=series)
    return users


def _count(client, url: str) -> int:
    cache.clear()  # a cold read: what it costs when nothing is cached
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(url)
    assert resp.status_code == 200, resp.content
    return len(ctx.captured_queries)


@pytest.mark.parametrize("n", [5, 50])
def test_leaderboard_page_takes_a_constant_number_of_queries(
    n, scored, make_user, series, client_for, django_assert_num_queries
):
    users = _build(n, scored, make_user, series)
    client = client_for(users[-1])
    base = f"/api/v1/leaderboards/series/{series.slug}/?page_size=3"
    # The budget per path, whatever n: series lookup (1) plus the read itself.
    budget = {"materialised": 4, "reranked": 2, "other_rank_key": 4, "windowed": 3, "csv": 4}
    for name, extra in PATHS.items():
        cache.clear()
        with django_assert_num_queries(budget[name]):
            resp = client.get(base + extra)
        assert resp.status_code == 200, (name, resp.content)
    # A warm read: only the series lookup; the body and `me` come from the cache.
    client.get(base)
    with django_assert_num_queries(1):
        assert client.get(base).json()["me"]["user"]["id"] == users[-1].pk


@pytest.mark.parametrize("n", [5, 50])
def test_global_and_question_pages_are_constant_too(
    n, scored, make_user, series, client_for, django_assert_num_queries
):
    users = _build(n, scored, make_user, series)
    client = client_for(users[0])
    cache.clear()
    with django_assert_num_queries(3):  # count, page, crowd + me
        client.get("/api/v1/leaderboards/global/?page_size=3")
    cache.clear()
    with django_assert_num_queries(1):  # another min_questions: the eligible rows, ranked in NumPy
        assert client.get("/api/v1/leaderboards/global/?min_questions=1&page_size=3").json()["count"] == n
    from questions.models import Question

    q = Question.objects.filter(series=series).first()
    cache.clear()
    with django_assert_num_queries(4):  # the question, count, page, crowd + me
        client.get(f"/api/v1/leaderboards/questions/{q.pk}/?page_size=3")


@pytest.mark.parametrize("n", [5, 50])
def test_calibration_read_takes_a_constant_number_of_queries(
    n, scored, make_user, series, client_for, django_assert_num_queries
):
    users = _build(n, scored, make_user, series)
    cache.clear()
    with django_assert_num_queries(2):  # the user, their events
        assert client_for().get(f"/api/v1/users/{users[0].pk}/calibration/").json()["n_events"] == 2
    cache.clear()
    with django_assert_num_queries(1):
        assert client_for().get("/api/v1/crowd/calibration/").json()["n_events"] == 2


def test_the_count_is_the_same_for_5_and_50_users(scored, make_user, make_question, client_for):
    from questions.services import series_create

    counts = {}
    for n in (5, 50):
        s = series_create(slug=f"lb-count-{n}", title=f"{n} users")
        users = _build(n, scored, make_user, s)
        counts[n] = {
            name: _count(client_for(users[-1]), f"/api/v1/leaderboards/series/{s.slug}/?page_size=3{extra}")
            for name, extra in PATHS.items()
        }
        counts[n]["calibration"] = _count(client_for(), f"/api/v1/users/{users[0].pk}/calibration/")
    assert counts[5] == counts[50]
