"""Schema fuzzing: every operation of /api/schema/, driven by schemathesis through the WSGI app,
as an anonymous caller, a forecaster (API token) and an admin (API token).

Each operation gets valid requests (positive data, with path ids pointing at real objects, so the
views get past the 404s) and invalid ones (negative data). Every response must be no server error,
have a documented status code and content type, and match the documented schema; invalid
requests must be refused with a 4xx. The run is bounded by a fixed number of examples."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

EXAMPLES = {GenerationMode.POSITIVE: 10, GenerationMode.NEGATIVE: 8}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
BUDGET_SECONDS = 420  # a runaway guard; about 100 s on a quiet machine, 215 s at load 4.7


def _world(make_user, make_question, capture):
    from accounts.services import token_create
    from forecasts.services import forecast_submit
    from questions.services import question_resolve, series_create

    series = series_create(slug="fuzz-series", title="Fuzz series")
    staff = make_user("fuzz-admin", staff=True)
    ana = make_user("fuzz-ana")
    now = datetime.now(UTC)
    open_q = make_question(title="Fuzz open", series=series)
    resolved = make_question(title="Fuzz resolved", series=series, open_time=now - timedelta(days=5))
    mc = make_question(type="multiple_choice", options=["A", "B"], title="Fuzz MC", series=series)
    forecast_submit(user=ana, question=open_q, payload={"probability": 0.6})
    forecast_submit(user=ana, question=resolved, payload={"probability": 0.3})
    forecast_submit(user=ana, question=mc, payload={"probabilities": {"A": 0.5, "B": 0.5}})
    question_resolve(question=resolved, outcome="yes", by=staff)
    _continuous(make_user, make_question, capture, series, staff, ana)
    article, candidate = _article(staff)
    ids = {"id": open_q.pk, "pk": open_q.pk, "slug": series.slug}
    if candidate is not None:
        ids["candidate"] = candidate.pk
    return {
        "ids": ids,
        "article": article.pk if article else None,
        "candidate": candidate.pk if candidate else None,
        "resolved": resolved.pk,
        "users": {"forecaster": ana.pk, "staff": staff.pk},
        "tokens": {"forecaster": token_create(user=ana)[0], "staff": token_create(user=staff)[0]},
    }


def _continuous(make_user, make_question, capture, series, staff, ana):
    """Numeric and date questions with a revealed crowd, and a scored one, so that every list and
    leaderboard the fuzzer reads carries the CDF, quartile and CRPS fields."""
    from forecasts.services import forecast_submit
    from questions.services import question_resolve

    now = datetime.now(UTC)
    uniform = {"cdf": [i / 200 for i in range(201)]}
    numeric = make_question(title="Fuzz numeric", type="numeric", range_lower=0, range_upper=100, unit="t",
                            open_upper=True, series=series)  # fmt: skip
    date = make_question(title="Fuzz date", type="date", range_lower=now - timedelta(days=30),
                         range_upper=now + timedelta(days=300), series=series)  # fmt: skip
    scored = make_question(title="Fuzz scored numeric", type="numeric", range_lower=-5, range_upper=5, series=series,
                           open_time=now - timedelta(days=5))  # fmt: skip
    people = [ana, make_user("fuzz-ben"), make_user("fuzz-cy")]
    with capture(execute=True):  # the crowd updates and the scoring job run, eagerly, on these commits
        for i, user in enumerate(people):
            centre = 20.0 + 10 * i
            forecast_submit(user=user, question=numeric, payload={"components": [{"centre": centre, "scale": 5}]})
            forecast_submit(user=user, question=date, payload=uniform)
            forecast_submit(
                user=user, question=scored, payload={"quantiles": {"5": -4, "25": -1, "50": i, "75": 3, "95": 4.5}}
            )
        question_resolve(question=scored, outcome=1.5, by=staff)


def _article(staff):
    from questions.articles import article_ingest

    text = (
        "# Outlook\n\nWhat to look for going forward: whether Russia formally recognises the Taliban "
        "government by the end of 2025, and whether the CSTO adopts its border programme.\n"
    )
    article, _ = article_ingest(data=text.encode(), filename="fuzz.md", title="Fuzz article", by=staff)
    return article, article.candidates.first()


def _path_parameters(operation, world) -> dict:
    """Real ids for an operation's path parameters."""
    out = {}
    path = operation.path
    for p in operation.path_parameters:
        name = p.name
        if name == "slug":
            out[name] = world["ids"]["slug"]
        elif "candidates" in path and path.startswith("/api/v1/candidates/") and world["candidate"]:
            out[name] = world["candidate"]
        elif path.startswith("/api/v1/articles/") and world["article"]:
            out[name] = world["article"]
        elif path.startswith("/api/v1/users/"):
            out[name] = world["users"]["forecaster"]
        elif "scores" in path or "leaderboards/questions" in path:
            out[name] = world["resolved"]
        else:
            out[name] = world["ids"]["id"]
    return out


def _fuzzer(strategy, n: int, headers: dict, checks: list, started: float, counts: dict):
    @settings(
        max_examples=n, deadline=None, database=None, derandomize=True,
        phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    @given(case=strategy)
    def run(case):
        assert time.monotonic() - started < BUDGET_SECONDS, "fuzzing over its time budget"
        response = case.call(headers=headers)
        key = f"{response.status_code // 100}xx"
        counts[key] = counts.get(key, 0) + 1
        case.validate_response(response, checks=checks, headers=headers)

    return run


def test_fuzz_every_operation_of_the_schema_for_every_kind_of_caller(
    make_user, make_question, monkeypatch, django_capture_on_commit_callbacks
):
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections
    from rest_framework.throttling import SimpleRateThrottle

    # Throttles are tested on their own (tests/api/test_security.py); here they would only
    # turn the fuzzer's bursts into 429s.
    monkeypatch.setattr(SimpleRateThrottle, "allow_request", lambda self, request, view: True)
    # In-process WSGI requests share the test's connection and transaction: keep Django from
    # closing it at the end of each request (its test client does the same).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        _fuzz_all(make_user, make_question, django_capture_on_commit_callbacks)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _fuzz_all(make_user, make_question, capture):
    from django.core.wsgi import get_wsgi_application

    world = _world(make_user, make_question, capture)
    app = get_wsgi_application()
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", app)
    operations = [r.ok() for r in schema.get_all_operations()]
    methods = {op.method.upper() for op in operations}
    assert len(operations) >= 50 and {"GET", "POST", "HEAD", "OPTIONS"} <= methods, [op.label for op in operations]
    callers = {
        "anonymous": {},
        "forecaster": {"Authorization": f"Token {world['tokens']['forecaster']}"},
        "staff": {"Authorization": f"Token {world['tokens']['staff']}"},
    }
    started = time.monotonic()
    counts: dict[str, int] = {}
    failures: list[str] = []
    for op in operations:
        for caller, headers in callers.items():
            for mode, n in EXAMPLES.items():
                # Path ids are real objects in both modes: a malformed id never reaches a view (the
                # URL resolver answers 404), so negative data goes into the query, headers and body.
                fixed = _path_parameters(op, world)
                strategy = op.as_strategy(generation_mode=mode, path_parameters=fixed)
                checks = CHECKS + ([negative_data_rejection] if mode is GenerationMode.NEGATIVE else [])

                run = _fuzzer(strategy, n, headers, checks, started, counts)
                try:
                    run()
                except Unsatisfiable:
                    continue  # nothing in this operation can be made invalid (no query, no body)
                except (Exception, BaseExceptionGroup) as e:  # collect them all, then report
                    text = e.args[0] if e.args and isinstance(e.args[0], str) else repr(e)
                    codes = sorted(set(re.findall(r"- (ST\d{3}) ", text))) or ["error"]
                    failures.append(f"--- {op.label} as {caller} ({mode.value}) {codes}:\n{text[:1500]}")
    assert not failures, f"{len(failures)} failing operation/caller/mode combinations:\n" + "\n".join(failures)
    assert counts.get("5xx", 0) == 0
    print(f"fuzzed {len(operations)} operations: responses {counts}")
    assert counts.get("2xx", 0) > 0 and counts.get("4xx", 0) > 0, counts
