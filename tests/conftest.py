"""Fixtures shared by the whole suite (helpers the tests import are in tests/support/).

The suite runs against the real PostgreSQL and Redis named by DATABASE_URL and REDIS_URL (the
Makefile defaults them to the local servers). Ordinary tests run Celery tasks in-process when a
transaction commits; tests marked `worker` get a real `celery worker` subprocess consuming from
Redis on a queue private to this test run."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.workers import WorkerProcess, worker_environ


def pytest_collection_modifyitems(config, items):
    if not os.environ.get("REDIS_URL"):
        skip = pytest.mark.skip(reason="needs REDIS_URL (a real Redis broker)")
        for item in items:
            if "worker" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(autouse=True)
def _eager_celery(request):
    """Run tasks in-process unless the test asked for a real worker.

    Every test also starts with result.get() allowed. Celery forbids it inside a task through one
    process-wide flag that each eager run (Task.apply) sets and then restores; eager tasks running
    in several threads at once (the race tests) can restore it in the wrong order and leave it set,
    and a later test's `.get()` would fail with "Never call result.get() within a task!". This
    process is never a worker's pool process."""
    if not request.config.pluginmanager.hasplugin("django"):
        yield
        return
    from celery.result import allow_join_result

    from config.celery import app

    eager = "worker" not in request.keywords
    old = app.conf.task_always_eager
    app.conf.task_always_eager = eager
    with allow_join_result():
        yield
    app.conf.task_always_eager = old


@pytest.fixture(autouse=True)
def _clear_cache(request):
    if not request.config.pluginmanager.hasplugin("django"):
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


@pytest.fixture
def worker_env(transactional_db) -> dict[str, str]:
    """The environment of a worker process on this run's queue, the test database and this
    process's settings module (tests/support/workers.py); the queue is purged first."""
    from config.celery import app

    env = worker_environ()
    app.control.purge()
    return env


@pytest.fixture
def celery_worker(worker_env):
    """A real `celery worker` process on this run's queue, using the test database."""
    worker = WorkerProcess(worker_env, f"w-{uuid.uuid4().hex[:6]}").start()
    yield worker
    worker.stop()
