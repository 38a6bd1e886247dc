"""The submission fast path (api.forecasts.fast_submit, forecasts.services.forecast_submit_fast):
its 201 is byte for byte the DRF view's, everything unusual goes to the DRF view with nothing
written, the throttle counts a request once, and the question lock still orders forecasts against
resolution."""

from __future__ import annotations

import re
import socket
import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import APIToken
from accounts.services import token_create
from forecasts.models import Forecast
from questions.models import Question
from questions.services import question_annul, question_resolve, question_update

STATEMENT = "WITH q AS MATERIALIZED"  # the fast path's one statement
UNIFORM = [i / 200 for i in range(201)]


def _url(q, query: str = "") -> str:
    return f"/api/v1/questions/{q.pk}/forecasts/{query}"


@pytest.fixture
def token_client(make_user):
    def make(user=None) -> APIClient:
        c = APIClient()
        c.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user=user or make_user())[0]}")
        return c

    return make


def _post(client, url, body, **extra):
    """POST `body` as JSON; returns the response and whether the fast path stored it."""
    with CaptureQueriesContext(connection) as ctx:
        r = client.post(url, body, format="json", **extra)
    fast = any(STATEMENT in q["sql"] for q in ctx.captured_queries)
    stored = fast and r.status_code == 201
    return r, stored


def _masked(r) -> bytes:
    """The body with this row's id and created_at masked (they differ between two submissions)."""
    body = r.json()
    out = r.content.replace(f'"id":{body["id"]},'.encode(), b'"id":ID,', 1)
    return out.replace(f'"created_at":"{body["created_at"]}"'.encode(), b'"created_at":"AT"', 1)


def _headers(r) -> dict[str, str]:
    return {k: v for k, v in r.headers.items() if k != "Content-Length"}


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("binary", {"probability": 0.37, "rationale": "base rates ✓"}),
        ("mc", {"probabilities": {"A": 0.5, "B": 0.3, "C": 0.2}}),
        ("numeric", {"cdf": UNIFORM, "rationale": "flat"}),
        ("numeric", {"components": [{"centre": 42, "scale": 5, "weight": 1}]}),
    ],
)
def test_the_fast_answer_is_the_drf_answer_byte_for_byte(token_client, make_question, kind, body):
    q = {
        "binary": lambda: make_question(title="Binary?"),
        "mc": lambda: make_question(type="multiple_choice", options=["A", "B", "C"], title="Which?"),
        "numeric": lambda: make_question(title="Wheat", type="numeric", range_lower=0, range_upper=100, unit="Mt"),
    }[kind]()
    c = token_client()
    fast, fast_stored = _post(c, _url(q), body)
    # `?format=json` changes nothing in DRF's answer, and the fast path leaves any query string to DRF.
    slow, slow_stored = _post(c, _url(q, "?format=json"), body)
    assert fast.status_code == slow.status_code == 201, (fast.content, slow.content)
    assert fast_stored and not slow_stored
    assert _masked(fast) == _masked(slow)
    assert _headers(fast) == _headers(slow)
    assert fast["Content-Type"] == "application/json" and fast["Allow"] == "GET, POST, HEAD, OPTIONS"
    a, b = (Forecast.objects.get(pk=r.json()["id"]) for r in (fast, slow))
    assert (a.user_id, a.question_id, a.kind, a.probabilities, a.cdf, a.rationale, a.p_min, a.p_max, a.p_sum) == (
        b.user_id, b.question_id, b.kind, b.probabilities, b.cdf, b.rationale, b.p_min, b.p_max, b.p_sum
    )  # fmt: skip
    assert a.created_at < b.created_at
    assert fast.json()["created_at"] == a.created_at.isoformat().replace("+00:00", "Z")


def _states(make_question, staff, now):
    def resolved():
        q = make_question(title="Resolved?")
        return question_resolve(question=q, outcome="yes", by=staff)

    def annulled():
        return question_annul(question=make_question(title="Annulled?"), by=staff)

    def known_early():
        q = make_question(title="Known?", close_time=now + timedelta(days=5))
        Question.objects.filter(pk=q.pk).update(known_at=now - timedelta(minutes=1))
        return q

    return {
        "open": (lambda: make_question(title="Open?"), 201),
        "closed": (lambda: make_question(title="Closed?", close_time=now - timedelta(seconds=1)), 409),
        "known_at_passed": (known_early, 409),
        "resolved": (resolved, 409),
        "annulled": (annulled, 409),
        "draft": (lambda: make_question(title="Draft?", published=False), 404),
    }


@pytest.mark.parametrize("state", ["open", "closed", "known_at_passed", "resolved", "annulled", "draft"])
def test_the_statement_stores_only_what_the_full_path_accepts(token_client, make_question, staff, now, state):
    """The SQL open check agrees with question_check_open: each refusal comes from the DRF view."""
    make, status = _states(make_question, staff, now)[state]
    q = make()
    r, stored = _post(token_client(), _url(q), {"probability": 0.5})
    assert r.status_code == status, r.content
    assert stored == (status == 201)
    assert Forecast.objects.filter(question=q).count() == (1 if status == 201 else 0)


def test_staff_on_a_draft_gets_the_full_paths_409(token_client, make_question, make_user):
    q = make_question(title="Draft?", published=False)
    r, stored = _post(token_client(make_user(staff=True)), _url(q), {"probability": 0.5})
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_published" and not stored


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"probability": 2}, "probability"),
        ({"probabilities": {"yes": 0.5, "no": 0.5}}, "probability"),
        ({"probability": 0.5, "cdf": UNIFORM}, "cdf"),
        ({"probability": 0.5, "rationale": 7}, "rationale"),
        ({"probability": 0.5, "rationale": "x" * 10001}, "rationale"),
        (["not", "an", "object"], "non_field_errors"),
    ],
)
def test_bad_input_gets_the_full_paths_400(token_client, binary_q, body, field):
    r, stored = _post(token_client(), _url(binary_q), body)
    assert r.status_code == 400 and field in r.json()["error"]["fields"] and not stored
    assert not Forecast.objects.exists()


def test_unknown_question_and_bad_tokens_get_the_full_paths_answers(token_client, binary_q, make_user, api):
    r, stored = _post(token_client(), "/api/v1/questions/999999999/forecasts/", {"probability": 0.5})
    assert r.status_code == 404 and not stored
    user = make_user()
    raw, token = token_create(user=user)
    api.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert _post(api, _url(binary_q), {"probability": 0.5})[0].status_code == 201
    APIToken.objects.filter(pk=token.pk).update(expires_at=token.expires_at - timedelta(days=3650))
    r, stored = _post(api, _url(binary_q), {"probability": 0.5})
    assert r.status_code == 401 and r["WWW-Authenticate"] == "Token" and not stored
    api.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert _post(api, _url(binary_q), {"probability": 0.5})[0].status_code == 401
    api.credentials(HTTP_AUTHORIZATION="Token two parts")
    assert _post(api, _url(binary_q), {"probability": 0.5})[0].status_code == 401
    user.is_active = False
    user.save()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user=user)[0]}")
    assert _post(api, _url(binary_q), {"probability": 0.5})[0].status_code == 401
    assert Forecast.objects.filter(question=binary_q).count() == 1


def test_other_shapes_of_request_go_to_the_drf_view(token_client, client_for, make_user, binary_q):
    c = token_client()
    # a form body, a browsable-API answer, a session login, DRF's forced authentication
    r = c.post(_url(binary_q), {"probability": "0.5"}, format="multipart")
    assert r.status_code == 400  # forecasts.validation wants a number, and a form gives text
    with CaptureQueriesContext(connection) as ctx:
        r = c.post(_url(binary_q), {"probability": 0.5}, format="json", HTTP_ACCEPT="text/html")
    assert r.status_code == 201 and r["Content-Type"].startswith("text/html")
    assert not any(STATEMENT in q["sql"] for q in ctx.captured_queries)
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(make_user())
    assert browser.post(_url(binary_q), {"probability": 0.5}, format="json").status_code == 403  # CSRF, as before
    r, stored = _post(client_for(make_user()), _url(binary_q), {"probability": 0.5})
    assert r.status_code == 201 and not stored


def test_changed_terms_are_caught_under_the_lock(token_client, make_question, staff):
    """The terms the fast path validated against are compared with the locked row: options changed
    since (possible until the first forecast) store nothing, and the DRF view refuses the forecast."""
    q = make_question(type="multiple_choice", options=["A", "B", "C"], title="Which?")
    c = token_client()
    r, _ = _post(c, _url(q), {"probabilities": {"A": 0.5, "B": 0.5}})  # read the terms, refused (C missing)
    assert r.status_code == 400
    question_update(question=q, by=staff, changes={"options": ["A", "B", "D"]})
    r, stored = _post(c, _url(q), {"probabilities": {"A": 0.5, "B": 0.3, "C": 0.2}})
    assert r.status_code == 400 and "C" in r.json()["error"]["message"] and not stored
    r, stored = _post(c, _url(q), {"probabilities": {"A": 0.5, "B": 0.3, "D": 0.2}})
    assert r.status_code == 201 and stored and r.json()["probabilities"] == {"A": 0.5, "B": 0.3, "D": 0.2}


def test_a_request_that_falls_through_is_throttled_once(token_client, make_question, now, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "forecast", "3/min")
    closed = make_question(title="Closed?", close_time=now - timedelta(seconds=1))
    c = token_client()
    codes = [c.post(_url(closed), {"probability": 0.5}, format="json").status_code for _ in range(4)]
    assert codes == [409, 409, 409, 429]
    r = c.post(_url(closed), {"probability": 0.5}, format="json")
    assert r.status_code == 429 and 0 < int(r["Retry-After"]) <= 60
    assert r.json()["error"]["code"] == "throttled"
    assert re.fullmatch(r"Request was throttled\. Expected available in \d+ seconds?\.", r.json()["error"]["message"])


def test_the_throttle_is_per_user_across_clients(token_client, binary_q, make_user, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "forecast", "2/min")
    user = make_user()
    a, b, other = token_client(user), token_client(user), token_client()
    codes = [cl.post(_url(binary_q), {"probability": 0.5}, format="json").status_code for cl in (a, b, a, other)]
    assert codes == [201, 201, 429, 201]


@pytest.mark.django_db(transaction=True)
def test_a_submission_waits_for_the_question_lock_and_is_refused_after_the_resolution(make_user, make_question):
    """A resolution holding the question's row lock: the fast path's statement waits for it, reads
    "now" after it, sees the resolved row, stores nothing, and the DRF view answers 409."""
    staff = make_user(staff=True)
    q = make_question(title="Racing?")
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user=make_user())[0]}")
    assert c.post(_url(q), {"probability": 0.4}, format="json").status_code == 201  # the terms are read
    locked, release = threading.Event(), threading.Event()

    def resolver():
        try:
            with transaction.atomic():
                Question.objects.select_for_update().get(pk=q.pk)
                locked.set()
                release.wait(10)
                question_resolve(question=q, outcome="no", by=staff)
        finally:
            connection.close()

    t = threading.Thread(target=resolver)
    t.start()
    assert locked.wait(10)
    result = {}

    def submit():
        try:
            result["r"] = c.post(_url(q), {"probability": 0.6}, format="json")
        finally:
            connection.close()

    s = threading.Thread(target=submit)
    s.start()
    s.join(0.5)
    assert s.is_alive(), "the submission waits for the question lock"
    release.set()
    t.join(10)
    s.join(10)
    assert result["r"].status_code == 409 and result["r"].json()["error"]["code"] == "resolved"
    q.refresh_from_db()
    assert Forecast.objects.filter(question=q).count() == 1
    assert all(f.created_at <= q.known_at for f in Forecast.objects.filter(question=q))


def test_a_token_seen_before_is_still_checked_on_every_request(api, make_user, binary_q):
    """The fast path knows a token's user from an earlier request in this process, but checks the
    token in its statement each time: revoked, expired or deactivated, it is refused at once."""
    user = make_user()
    for spoil in ("revoke", "deactivate"):
        raw, token = token_create(user=user)
        api.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
        for _ in range(2):  # the second one goes by the hint: one statement, no token query
            with CaptureQueriesContext(connection) as ctx:
                r, stored = _post(api, _url(binary_q), {"probability": 0.5})
            assert r.status_code == 201 and stored
        assert len(ctx.captured_queries) == 1
        if spoil == "revoke":
            token.delete()
        else:
            user.is_active = False
            user.save()
        r, stored = _post(api, _url(binary_q), {"probability": 0.5})
        assert r.status_code == 401 and not stored
        user.is_active = True
        user.save()
    assert Forecast.objects.filter(question=binary_q).count() == 4


def test_the_statement_writes_last_used_at_once_a_minute(api, make_user, binary_q):
    from django.utils import timezone

    raw, token = token_create(user=make_user())
    api.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert _post(api, _url(binary_q), {"probability": 0.5})[1]  # token_user: sets last_used_at
    long_ago = timezone.now() - timedelta(minutes=2)
    APIToken.objects.filter(pk=token.pk).update(last_used_at=long_ago)
    r, stored = _post(api, _url(binary_q), {"probability": 0.4})  # by the hint: the statement writes it
    assert stored
    token.refresh_from_db()
    created = Forecast.objects.get(pk=r.json()["id"]).created_at
    assert token.last_used_at == created
    assert _post(api, _url(binary_q), {"probability": 0.3})[1]
    token.refresh_from_db()
    assert token.last_used_at == created  # not again within the minute


def test_without_redis_the_forecast_throttle_still_counts_and_the_others_fail_open(
    token_client, binary_q, settings, caplog, monkeypatch
):
    """The forecast throttle counts in PostgreSQL (forecasts.window), so Redis going away changes
    nothing for it; the Redis-counted throttles (here the user throttle of a read) fail open."""
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "forecast", "2/min")
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{port}/0"}}
    c = token_client()
    codes = [_post(c, _url(binary_q), {"probability": 0.5})[0].status_code for _ in range(3)]
    assert codes == [201, 201, 429]
    assert "throttle unavailable" not in caplog.text
    assert c.get("/api/v1/questions/").status_code == 200
    assert "throttle unavailable" in caplog.text


@pytest.mark.parametrize("path", ["fast", "drf"])
def test_the_window_and_retry_after_are_drfs(token_client, binary_q, make_user, monkeypatch, path):
    """A full window refuses with Retry-After: the seconds until its oldest request leaves it,
    whether the fast path's statement counts the request or DRF's view does (a client DRF
    authenticates itself: forced here), both in the same PostgreSQL window."""
    from rest_framework.throttling import SimpleRateThrottle

    clock = {"t": 1_000_000.0}
    monkeypatch.setattr(SimpleRateThrottle, "timer", lambda self: clock["t"])
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "forecast", "2/min")
    user = make_user()
    if path == "fast":
        c = token_client(user)
    else:
        c = APIClient()
        c.force_authenticate(user)

    def post():
        r, stored = _post(c, _url(binary_q), {"probability": 0.5})
        assert stored == (path == "fast" and r.status_code == 201)
        return r

    assert post().status_code == 201
    clock["t"] += 20
    assert post().status_code == 201
    clock["t"] += 15
    r = post()
    assert r.status_code == 429 and r["Retry-After"] == "25"  # the first leaves the window at +60
    clock["t"] += 25
    assert post().status_code == 201
    assert Forecast.objects.filter(question=binary_q).count() == 3
    with connection.cursor() as cur:
        cur.execute("SELECT hits FROM forecasts_submission_window WHERE key = %s", [f"throttle_forecast_{user.pk}"])
        assert cur.fetchone()[0] == [1_000_020.0, 1_000_060.0]  # the refused request was not recorded


def test_a_rate_of_zero_refuses_with_drfs_wait_in_postgresql_and_in_redis(api, token_client, binary_q, monkeypatch):
    """A rate of 0 requests: every request is refused, and Retry-After is the whole window (DRF's
    wait with an empty history), for the forecast throttle (PostgreSQL) and a read throttle
    (Redis, whose script answers an empty window with its verdict alone)."""
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "forecast", "0/min")
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "anon", "0/min")
    r, stored = _post(token_client(), _url(binary_q), {"probability": 0.5})
    assert r.status_code == 429 and not stored and r["Retry-After"] == "60"
    assert not Forecast.objects.filter(question=binary_q).exists()
    r = api.get("/api/v1/questions/")
    assert r.status_code == 429 and r["Retry-After"] == "60"


def test_the_fast_path_and_drf_count_in_one_window(token_client, binary_q, make_user, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "forecast", "3/min")
    user = make_user()
    fast, drf = token_client(user), APIClient()
    drf.force_authenticate(user)
    codes = [cl.post(_url(binary_q), {"probability": 0.5}, format="json").status_code for cl in (fast, drf, fast, drf)]
    assert codes == [201, 201, 201, 429]


def test_without_redis_the_cache_counts_the_other_throttles_as_drf_does(api, db, settings, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    clock = {"t": 1_000_000.0}
    monkeypatch.setattr(SimpleRateThrottle, "timer", lambda self: clock["t"])
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "anon", "2/min")
    assert [api.get("/api/v1/questions/").status_code for _ in range(2)] == [200, 200]
    clock["t"] += 35
    r = api.get("/api/v1/questions/")
    assert r.status_code == 429 and r["Retry-After"] == "25"


def test_the_statement_is_prepared_once_per_connection_and_planned_generically(token_client, binary_q):
    """PostgreSQL prepares the submission's statement (DB_PREPARE_THRESHOLD, 2 by default) and,
    after its first few custom plans, runs a generic plan: a submission is neither parsed nor
    planned again (Django's default, no preparing, re-planned it on every request)."""
    assert connection.settings_dict["OPTIONS"]["prepare_threshold"] == 2
    c = token_client()
    for i in range(12):  # not under a query capture: a logged statement runs unprepared (its text is logged)
        assert c.post(_url(binary_q), {"probability": 0.3 + i / 100}, format="json").status_code == 201
    assert Forecast.objects.filter(question=binary_q).count() == 12
    with connection.cursor() as cur:
        cur.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
            [f"%{STATEMENT}%"],
        )
        plans = cur.fetchall()
    assert len(plans) == 1  # one prepared statement, reused by every submission
    generic, custom = plans[0]
    assert custom == 5 and generic == 12 - 2 - custom  # the first 2 runs unprepared, 5 custom plans, then generic


def test_the_statement_marks_the_crowd_update_and_a_burst_sends_one_job(
    token_client, binary_q, monkeypatch, django_capture_on_commit_callbacks
):
    """The fast path's statement makes the crowd update's pending mark itself (no cache round
    trip): the first forecast of a burst sends the job, the others find the mark; once the job has
    started (deleting the mark) the next forecast sends again."""
    from forecasts.selectors import crowd_update_pending
    from forecasts.tasks import crowd_update

    sent: list[tuple] = []
    monkeypatch.setattr(crowd_update, "apply_async", lambda args, **kw: sent.append(tuple(args)))
    clients = [token_client() for _ in range(4)]
    for i, c in enumerate(clients):
        with django_capture_on_commit_callbacks(execute=True):
            r, stored = _post(c, _url(binary_q), {"probability": 0.2 + i / 10})
        assert stored, r.content
    assert sent == [(binary_q.pk,)] and crowd_update_pending(question_id=binary_q.pk)
    monkeypatch.undo()
    crowd_update.apply(args=(binary_q.pk,))  # the worker takes it: the mark goes, the history is written
    assert not crowd_update_pending(question_id=binary_q.pk)
    monkeypatch.setattr(crowd_update, "apply_async", lambda args, **kw: sent.append(tuple(args)))
    with django_capture_on_commit_callbacks(execute=True):
        assert _post(clients[0], _url(binary_q), {"probability": 0.9})[1]
    assert sent == [(binary_q.pk,), (binary_q.pk,)]


@pytest.mark.django_db(transaction=True)
def test_the_crowd_job_waits_for_a_forecast_that_found_its_mark(make_user, make_question, monkeypatch):
    """A forecast whose transaction found the pending mark (so sent no job) holds the question's
    row lock until it commits; the job deletes the mark under that lock, so it reads the history
    only after that forecast is stored, and the history ends with it."""
    from forecasts.crowd import question_crowd_write
    from forecasts.models import CrowdPoint
    from forecasts.pending import crowd_unmark
    from forecasts.selectors import crowd_update_pending
    from forecasts.services import forecast_submit
    from forecasts.tasks import crowd_update

    sent: list[tuple] = []  # the job is queued, and no worker takes it: this test runs it below
    monkeypatch.setattr(crowd_update, "apply_async", lambda args, **kw: sent.append(tuple(args)))
    q = make_question(title="Coalesced?")
    users = [make_user() for _ in range(4)]
    for i, u in enumerate(users[:3]):
        forecast_submit(user=u, question=q, payload={"probability": 0.2 + 0.1 * i})
    assert sent == [(q.pk,)] and crowd_update_pending(question_id=q.pk)
    locked, release, done = threading.Event(), threading.Event(), {}

    def late_forecast():
        try:
            with transaction.atomic():
                Question.objects.select_for_update().get(pk=q.pk)
                locked.set()
                release.wait(10)
                done["forecast"] = forecast_submit(user=users[3], question=q, payload={"probability": 0.9})
        finally:
            connection.close()

    t = threading.Thread(target=late_forecast)
    t.start()
    assert locked.wait(10)

    def job():
        try:
            crowd_unmark(question_id=q.pk)
            done["unmarked"] = True
            question_crowd_write(question_id=q.pk)
        finally:
            connection.close()

    j = threading.Thread(target=job)
    j.start()
    j.join(0.5)
    assert j.is_alive() and "unmarked" not in done, "the job waits for the forecast's transaction"
    release.set()
    t.join(10)
    j.join(10)
    assert sent == [(q.pk,)], "the late forecast found the mark and sent nothing"
    latest = CrowdPoint.objects.get(question=q, method="median", is_latest=True)
    assert latest.through_forecast_id == done["forecast"].pk and latest.n_forecasters == 4
    assert not crowd_update_pending(question_id=q.pk)


@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_of_one_user_never_exceed_the_window(make_user, make_question, monkeypatch):
    """Twelve submissions of one user at once, from twelve threads (each its own connection and
    token), on three questions, against a window of 5: the window's row lock counts them one after
    the other, so exactly 5 are stored and 7 refused."""
    from django.db import connections
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "forecast", "5/min")
    user = make_user()
    questions = [make_question(title=f"Concurrent {i}?") for i in range(3)]
    tokens = [token_create(user=user)[0] for _ in range(12)]
    start = threading.Barrier(12)
    codes: list[int] = []

    def submit(i: int) -> None:
        c = APIClient()
        c.credentials(HTTP_AUTHORIZATION=f"Token {tokens[i]}")
        try:
            start.wait()
            codes.append(c.post(_url(questions[i % 3]), {"probability": 0.5}, format="json").status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [201] * 5 + [429] * 7
    assert Forecast.objects.filter(user=user).count() == 5


def test_expired_windows_are_deleted_by_beat(make_user, token_client, binary_q, monkeypatch):
    """Beat's task deletes a window whose newest request left it (a user whose last submission was
    two minutes ago, on the throttle's clock) and keeps one still in use."""
    import time

    from rest_framework.throttling import SimpleRateThrottle

    from forecasts.tasks import throttle_windows_expire

    old, recent = make_user(), make_user()
    monkeypatch.setattr(SimpleRateThrottle, "timer", lambda self: time.time() - 120)
    assert token_client(old).post(_url(binary_q), {"probability": 0.5}, format="json").status_code == 201
    monkeypatch.undo()
    assert token_client(recent).post(_url(binary_q), {"probability": 0.5}, format="json").status_code == 201

    def held(user) -> int:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM forecasts_submission_window WHERE key = %s", [f"throttle_forecast_{user.pk}"]
            )
            return cur.fetchone()[0]

    assert (held(old), held(recent)) == (1, 1)
    assert throttle_windows_expire.apply().get() >= 1
    assert (held(old), held(recent)) == (0, 1)
