"""Regression tests for what the schema fuzzer and the attack probe found (issue 16): each is the
request or input that failed, and the answer it must get now."""

from __future__ import annotations

import io
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command

from forecasts.services import forecast_submit
from questions.services import question_resolve, series_create

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db
NESTED = "[" * 100_000 + "]" * 100_000


@pytest.fixture
def world(make_user, make_question, client_for):
    series = series_create(slug="probe-series", title="Probe series")
    staff = make_user("probe-admin", staff=True)
    users = [make_user(f"probe-{i}") for i in range(3)]
    q = make_question(title="Probe", series=series, open_time=datetime.now(UTC) - timedelta(days=5))
    for i, u in enumerate(users):
        forecast_submit(user=u, question=q, payload={"probability": 0.2 + 0.2 * i})
    question_resolve(question=q, outcome="yes", by=staff)
    return {"series": series, "question": q, "user": users[0], "client": client_for(users[0])}


def _error_field(response) -> list[str]:
    body = response.json()
    assert set(body) == {"error"} and {"code", "message", "fields"} <= set(body["error"]), body
    return list(body["error"]["fields"])


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/leaderboards/series/probe-series/?format=csv",
        "/api/v1/leaderboards/questions/{q}/?format=csv",
        "/api/v1/leaderboards/global/?format=csv",
        "/api/v1/me/scores/?format=csv",
    ],
)
def test_options_with_format_csv_answers_the_metadata_as_json(world, path):
    # Was a 500: the CSV renderer was handed the metadata dict.
    r = world["client"].options(path.format(q=world["question"].pk))
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/json")
    assert "name" in r.json()


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/questions/?page=0", "page"),
        ("/api/v1/questions/?page=abc", "page"),
        ("/api/v1/questions/?page=99", "page"),  # past the last page: was DRF's 404 "Invalid page."
        ("/api/v1/questions/?page_size=x", "page_size"),  # was silently the default size
        ("/api/v1/questions/?page_size=0", "page_size"),
        ("/api/v1/questions/?page_size=501", "page_size"),
        ("/api/v1/me/forecasts/?page_size=-3", "page_size"),
        ("/api/v1/questions/?format=xml", "format"),  # was a 404
        ("/api/v1/leaderboards/global/?format=yaml", "format"),
        ("/api/v1/leaderboards/series/probe-series/?page=0", "page"),
        ("/api/v1/leaderboards/series/probe-series/?page_size=1000", "page_size"),
        ("/api/v1/crowd/calibration/?method=", "method"),  # an empty method was taken as the default
        ("/api/v1/me/scores/?format=csv&page_size=", "page_size"),  # CSV ignored the paging parameters
        ("/api/v1/me/scores/?format=csv&page=0", "page"),
        ("/api/v1/leaderboards/global/?format=csv&page_size=abc", "page_size"),
        ("/api/v1/questions/?page_size=", "page_size"),  # an empty value was taken as the default
        ("/api/v1/questions/?status=", "status"),
        ("/api/v1/questions/?format=", "format"),
        ("/api/v1/leaderboards/global/?rank_by=", "rank_by"),
        ("/api/v1/leaderboards/global/?min_questions=", "min_questions"),
        ("/api/v1/leaderboards/global/?resolved_after=0001-01-01T00:00:00%2B01:00", "resolved_after"),  # was a 500
    ],
)
def test_bad_paging_and_format_parameters_are_a_400_naming_the_parameter(world, path, field):
    r = world["client"].get(path)
    assert r.status_code == 400, r.content
    assert _error_field(r) == [field]


def test_good_paging_still_pages(world):
    r = world["client"].get("/api/v1/questions/?page=1&page_size=1")
    assert r.status_code == 200
    assert r.json()["count"] == 1 and len(r.json()["results"]) == 1


@pytest.mark.parametrize(
    "body",
    [NESTED, '{"probability": ' + "[" * 5000 + "]" * 5000 + "}"],
    ids=["nested-array", "nested-in-object"],
)
def test_a_pathologically_nested_body_is_a_400_not_a_recursion_error(world, make_question, body):
    q = make_question(title="Nesting")
    r = world["client"].post(f"/api/v1/questions/{q.pk}/forecasts/", data=body, content_type="application/json")
    assert r.status_code == 400
    assert "nested deeper than 64" in r.json()["error"]["message"]
    assert not q.forecasts.exists()


def test_a_body_over_the_upload_limit_is_a_400_in_the_error_shape(world, settings, make_question):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    q = make_question(title="Size")
    body = '{"probability": 0.5, "rationale": "' + "x" * 2000 + '"}'
    r = world["client"].post(f"/api/v1/questions/{q.pk}/forecasts/", data=body, content_type="application/json")
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "too_large"
    assert not q.forecasts.exists()


def test_a_token_request_nested_too_deeply_is_refused_too(client_for):
    r = client_for().post("/api/v1/auth/token/", data=NESTED, content_type="application/json")
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "parse_error"


def _run(command: str, stdin: str, capsys, monkeypatch) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        call_command(command, "-")
    out = capsys.readouterr()
    return e.value.code, out.out, out.err


@pytest.mark.parametrize("command", ["score_json", "import_history"])
def test_commands_refuse_pathological_nesting_with_exit_2_and_one_line(command, capsys, monkeypatch):
    # score_json exited 1 with a RecursionError traceback.
    code, out, err = _run(command, NESTED, capsys, monkeypatch)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and "nested deeper than 64 levels" in err


def test_runtime_lock_is_the_runtime_closure_without_dev_tools():
    def pins(name: str) -> dict[str, str]:
        out = {}
        for line in (ROOT / name).read_text().splitlines():
            if line and not line.startswith("#"):
                pkg, _, version = line.partition("==")
                out[pkg.lower().replace("_", "-")] = version
        return out

    full, runtime = pins("requirements.lock"), pins("requirements-runtime.lock")
    assert runtime and all(full.get(k) == v for k, v in runtime.items()), "runtime pins must equal the full lock's"
    direct = {line.split("==")[0].split("[")[0].lower() for line in (ROOT / "requirements.in").read_text().split()}
    assert direct <= set(runtime)
    # requirements-dev.in also names PyYAML, which drf-spectacular needs at run time too
    tools = {"pytest", "pytest-django", "factory-boy", "hypothesis", "ruff", "playwright", "schemathesis", "faker"}
    assert not tools & set(runtime), tools & set(runtime)
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "requirements-runtime.lock" in dockerfile and "requirements.lock" not in dockerfile.replace(
        "requirements-runtime.lock", ""
    )
