"""What a deployment relies on: docker-compose.yml, production settings, the OpenAPI schema."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_five_services_with_health_checks(compose):
    services = compose["services"]
    assert set(services) == {"web", "worker", "beat", "db", "redis"}
    for name, svc in services.items():
        assert "healthcheck" in svc, f"{name} has no health check"


def test_compose_commands_run_gunicorn_and_celery(compose):
    s = compose["services"]
    assert "gunicorn -c python:config.gunicorn config.wsgi:application" in s["web"]["command"]
    assert "migrate" in s["web"]["command"]
    assert s["worker"]["command"].startswith("celery -A config worker")
    assert s["beat"]["command"].startswith("celery -A config beat")
    assert s["db"]["image"].startswith("postgres")
    assert s["redis"]["image"].startswith("redis")


def test_compose_app_services_use_production_settings_and_wait_for_healthy_backends(compose):
    for name in ("web", "worker", "beat"):
        svc = compose["services"][name]
        env = svc["environment"]
        assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
        assert env["DATABASE_URL"].startswith("postgres://") and "@db:5432" in env["DATABASE_URL"]
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert svc["depends_on"]["db"]["condition"] == "service_healthy"
        assert svc["depends_on"]["redis"]["condition"] == "service_healthy"


def test_compose_redis_persists_and_never_evicts(compose):
    cmd = compose["services"]["redis"]["command"]
    assert "--appendonly yes" in cmd and "--maxmemory-policy noeviction" in cmd


def test_every_way_of_serving_uses_the_served_gunicorn_settings():
    """The image, compose, `make serve` and the benchmarks serve with config/gunicorn.py, so the
    benchmarked server is the deployed one."""
    assert '"gunicorn", "-c", "python:config.gunicorn", "config.wsgi:application"' in (ROOT / "Dockerfile").read_text()
    assert "gunicorn -c python:config.gunicorn config.wsgi:application" in (ROOT / "Makefile").read_text()
    assert 'settings: str = "config.gunicorn"' in (ROOT / "benchmarks" / "common.py").read_text()


def _gunicorn(*args: str, **env: str) -> subprocess.CompletedProcess:
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    full_env = {k: v for k, v in os.environ.items() if k not in {"WEB_WORKERS", "WEB_THREADS"}}
    full_env.update(env)
    return subprocess.run(
        [gunicorn, "-c", "python:config.gunicorn", *args, "config.wsgi:application"],
        cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def _printed_settings(r: subprocess.CompletedProcess) -> dict[str, str]:
    assert r.returncode == 0, r.stderr
    pairs = (line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs}


def test_served_settings_are_one_gthread_worker_per_core_with_four_threads():
    printed = _printed_settings(_gunicorn("--print-config"))
    cores = len(os.sched_getaffinity(0))
    assert (printed["worker_class"], printed["workers"], printed["threads"]) == ("gthread", str(cores), "4")


def test_served_settings_take_the_counts_from_the_environment_and_the_command_line_wins():
    printed = _printed_settings(_gunicorn("--print-config", WEB_WORKERS="3", WEB_THREADS="2"))
    assert (printed["workers"], printed["threads"]) == ("3", "2")
    printed = _printed_settings(_gunicorn("--print-config", "--workers", "5", WEB_WORKERS="3"))
    assert printed["workers"] == "5"


@pytest.mark.parametrize(("name", "value"), [("WEB_WORKERS", "abc"), ("WEB_WORKERS", "0"), ("WEB_THREADS", "-2")])
def test_a_bad_worker_count_stops_gunicorn_with_one_line_naming_it(name, value):
    r = _gunicorn("--check-config", **{name: value})
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [f"error: {name} must be a whole number of at least 1, not {value!r}"]


def test_a_web_process_is_ready_before_its_first_request():
    """Loading config.wsgi imports every view and freezes what is alive, so the collector's full
    collections no longer walk the process's long-lived objects."""
    code = (
        "import gc, sys; import config.wsgi; "
        "print(gc.get_freeze_count(), len(gc.get_objects(2)), 'api.forecasts' in sys.modules)"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                       env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.base"})  # fmt: skip
    assert r.returncode == 0, r.stderr
    frozen, oldest, views_loaded = r.stdout.split()
    assert int(frozen) > 50_000 and int(oldest) < 1_000 and views_loaded == "True", r.stdout


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    """`manage.py <args>` as a separate process. On purpose for the production settings: they are
    another settings module, and refusing to start (the exit status and stderr of the real
    process) is what is tested, which this process, already set up, cannot show."""
    full_env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ALLOWED_HOSTS"}}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=120
    )


def test_production_settings_pass_check_deploy_at_warning_level():
    r = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="k" * 20 + "-this-is-a-test-only-secret-key-of-sufficient-length-" + "x" * 10,
        ALLOWED_HOSTS="forecast.example.org",
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_production_settings_refuse_to_start_without_a_secret_key():
    r = _manage("check", DJANGO_SETTINGS_MODULE="config.settings.production", ALLOWED_HOSTS="forecast.example.org")
    assert r.returncode != 0
    assert "SECRET_KEY" in r.stderr


@pytest.mark.django_db
def test_openapi_schema_is_valid_and_lists_the_contract_paths(client):
    resp = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert resp.status_code == 200
    schema = (
        resp.json()
        if resp["Content-Type"].startswith("application/vnd.oai.openapi+json")
        else yaml.safe_load(resp.content)
    )
    assert schema["openapi"].startswith("3.")
    for path in [
        "/api/v1/auth/token/",
        "/api/v1/questions/",
        "/api/v1/questions/{id}/",
        "/api/v1/questions/{id}/forecasts/",
        "/api/v1/questions/{id}/withdraw/",
        "/api/v1/questions/{id}/resolve/",
        "/api/v1/questions/{id}/unresolve/",
        "/api/v1/questions/{id}/scores/",
        "/api/v1/me/forecasts/",
        "/api/v1/me/scores/",
    ]:
        assert path in schema["paths"], path
    assert client.get("/api/docs/").status_code == 200


def test_schema_generation_has_no_warnings(capsys):
    from django.core.management import call_command
    from drf_spectacular.drainage import reset_generator_stats

    reset_generator_stats()  # only this generation's warnings count
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", os.devnull)  # raises on a warning
    err = capsys.readouterr().err
    assert "Warning" not in err and "Error" not in err, err[-3000:]


@pytest.mark.django_db
def test_api_docs_load_their_assets_from_this_site_not_a_cdn(client):
    import re

    html = client.get("/api/docs/").content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html) + re.findall(r'url:\s*"([^"]+)"', html)
    assert sources, html[:500]
    assert all(s.startswith("/") for s in sources if not s.startswith("#")), sources
    assert "cdn" not in html.lower() and "https://" not in html
