"""Fixtures shared by the whole suite.

The suite runs against the real PostgreSQL and Redis named by DATABASE_URL and REDIS_URL (the
Makefile defaults them to the local servers). Ordinary tests run Celery tasks in-process when a
transaction commits; tests marked `worker` get a real `celery worker` subprocess consuming from
Redis on a queue private to this test run."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def pytest_collection_modifyitems(config, items):
    if not os.environ.get("REDIS_URL"):
        skip = pytest.mark.skip(reason="needs REDIS_URL (a real Redis broker)")
        for item in items:
            if "worker" in item.keywords:
                item.add_marker(skip)


def _django_loaded(request) -> bool:
    return request.config.pluginmanager.hasplugin("django")


@pytest.fixture(autouse=True)
def _eager_celery(request):
    """Run tasks in-process unless the test asked for a real worker."""
    if not _django_loaded(request):
        yield
        return
    from config.celery import app

    eager = "worker" not in request.keywords
    old = app.conf.task_always_eager
    app.conf.task_always_eager = eager
    yield
    app.conf.task_always_eager = old


@pytest.fixture(autouse=True)
def _clear_cache(request):
    if not _django_loaded(request):
        yield
        return
    from django.conf import settings
    from django.core.cache import cache

    prefix = settings.CACHES["default"].get("KEY_PREFIX")
    if prefix and hasattr(cache, "_cache"):
        # Only this run's keys: clear() would FLUSHDB the shared Redis database, broker queue included.
        client = cache._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()
    yield


@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC)


# --- Users and clients ----------------------------------------------------------------------


@pytest.fixture
def make_user(db):
    from accounts.models import User

    counter = {"n": 0}

    def make(username: str | None = None, *, staff: bool = False, password: str = "correct-horse-battery-9") -> User:
        counter["n"] += 1
        name = username or f"user{counter['n']}-{uuid.uuid4().hex[:6]}"
        return User.objects.create_user(
            username=name, password=password, email=f"{name}@example.org", is_staff=staff, display_name=name.title()
        )

    return make


@pytest.fixture
def forecaster(make_user):
    return make_user("ana")


@pytest.fixture
def staff(make_user):
    return make_user("admin", staff=True)


@pytest.fixture
def api():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def client_for():
    from rest_framework.test import APIClient

    def make(user=None) -> APIClient:
        c = APIClient()
        if user is not None:
            c.force_authenticate(user)
        return c

    return make


# --- Questions ------------------------------------------------------------------------------


@pytest.fixture
def make_question(db):
    from questions.services import question_create

    def make(**kw):
        now = datetime.now(UTC)
        fields = {
            "type": "binary",
            "title": "Will it happen?",
            "open_time": now - timedelta(days=10),
            "close_time": now + timedelta(days=30),
        }
        fields.update(kw)
        return question_create(**fields)

    return make


@pytest.fixture
def binary_q(make_question):
    return make_question(title="Will Russia formally recognise the Taliban government?")


@pytest.fixture
def mc_q(make_question):
    return make_question(type="multiple_choice", options=["A", "B", "C"], title="Which of A, B or C?")


# --- A real Celery worker -------------------------------------------------------------------


def _test_database_url() -> str:
    from django.conf import settings

    db = settings.DATABASES["default"]
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


class WorkerProcess:
    def __init__(self, env: dict[str, str], name: str, extra_args: tuple[str, ...] = ()):
        self.env = env
        self.name = name
        self.extra_args = extra_args
        self.proc: subprocess.Popen | None = None
        self.log = ROOT / ".pytest_cache" / f"{name}.log"

    def start(self) -> WorkerProcess:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            self.env["CELERY_QUEUE"],
            "--hostname",
            f"{self.name}@%h",
            "--concurrency",
            "1",
            "--pool",
            "prefork",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            *self.extra_args,
        ]
        self._logfile = open(self.log, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=self._logfile, stderr=subprocess.STDOUT)
        self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        from config.celery import app

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc and self.proc.poll() is not None:
                raise RuntimeError(f"worker exited early; see {self.log}")
            try:
                replies = app.control.ping(timeout=1.0, destination=[f"{self.name}@{os.uname().nodename}"])
            except Exception:  # the broker may still be starting
                replies = []
            if replies:
                return
            time.sleep(0.3)
        raise RuntimeError(f"worker not ready after {timeout}s; see {self.log}")

    def stop(self, sig: int | None = None, timeout: float = 30) -> None:
        import signal

        if not self.proc or self.proc.poll() is not None:
            return
        self.proc.send_signal(sig or signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._logfile.close()


@pytest.fixture
def worker_env(transactional_db) -> dict[str, str]:
    from django.conf import settings

    from config.celery import app

    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "CELERY_QUEUE": queue, "PYTHONUNBUFFERED": "1"}
    app.control.purge()
    return env


@pytest.fixture
def celery_worker(worker_env):
    """A real `celery worker` process on this run's queue, using the test database."""
    worker = WorkerProcess(worker_env, f"w-{uuid.uuid4().hex[:6]}").start()
    yield worker
    worker.stop()


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")
