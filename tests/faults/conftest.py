"""Fixtures for the fault tests: a private Redis server this test can stop and restart, and real
worker processes on it, running the fault-injection app (tests/support/fault_worker.py).

The machine's shared Redis is never touched: every fault test starts its own `redis-server` on a
free loopback port (AOF on, in a temporary directory), points the workers at it (broker, results
and cache) and points this process's Celery app at it as the broker. The helpers the tests call
are in tests/support/faults.py."""

from __future__ import annotations

import contextlib
import os
import signal
import uuid

import pytest

from tests.support.faults import REDIS_SERVER, RedisServer, celery_broker, pool_children
from tests.support.workers import FAULT_APP, WorkerProcess, worker_environ


@pytest.fixture
def private_redis(tmp_path):
    if not REDIS_SERVER:
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def broker(private_redis):
    """The private Redis as this process's broker, with a queue of this test only."""
    with celery_broker(private_redis.url) as app:
        yield app


@pytest.fixture
def start_worker(transactional_db, private_redis, broker):
    """Start real workers (the fault app) on the private Redis and the test database; all are
    stopped at the end.

    `start_worker(extra_args, **env)` adds worker arguments and environment variables (fault
    injection, short time limits)."""
    started: list[WorkerProcess] = []

    def start(extra_args: tuple[str, ...] = (), **env: str) -> WorkerProcess:
        full = worker_environ(REDIS_URL=private_redis.url, LOG_LEVEL="WARNING", **env)
        w = WorkerProcess(full, f"fault-{uuid.uuid4().hex[:6]}", extra_args, app=FAULT_APP)
        started.append(w)
        return w.start()

    yield start
    for w in started:
        children = pool_children(w)  # read before the stop: a killed worker's /proc entry is gone
        w.stop(signal.SIGKILL if w.proc and w.proc.poll() is None else None, timeout=10)
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
