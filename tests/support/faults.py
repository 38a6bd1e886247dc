"""Helpers of the fault tests (tests/faults): a private `redis-server` a test can stop and
restart, pointing this process's Celery app at it, reading workers' pool processes and logs, and
the known question whose clean scores the faulty runs are compared to. The fixtures that use them
are in tests/faults/conftest.py."""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.support.workers import WorkerProcess, wait_for

REDIS_SERVER = shutil.which("redis-server")
T0 = datetime(2024, 3, 1, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A `redis-server` subprocess of this test, with append-only persistence in `directory`."""

    def __init__(self, directory: Path):
        self.port = free_port()
        self.directory = directory
        self.proc: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 15) -> RedisServer:
        cmd = [
            REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
            "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--maxmemory-policy", "noeviction",
            "--logfile", str(self.directory / "redis.log"),
        ]  # fmt: skip
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.ping, timeout=timeout, message=f"redis-server on port {self.port}")
        return self

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis.from_url(self.url, socket_timeout=0.5, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def client(self):
        import redis

        return redis.Redis.from_url(self.url, socket_timeout=2)

    def stop(self, timeout: float = 15) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # redis flushes the AOF on SIGTERM
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def restart(self) -> None:
        self.stop()
        self.start()


@contextlib.contextmanager
def celery_broker(url: str):
    """Point this process's Celery app (what `.delay()` and `control.ping` use) at `url`."""
    from config.celery import app

    def reset_pools():
        app._pool = None
        with contextlib.suppress(AttributeError, KeyError):
            app.__dict__["amqp"]._producer_pool = None

    old = app.conf.broker_url
    app.conf.broker_url = url
    reset_pools()
    try:
        yield app
    finally:
        app.conf.broker_url = old
        reset_pools()


@contextlib.contextmanager
def eager():
    """Run tasks in-process for a while (fixtures and reference runs), whatever the test's mark."""
    from config.celery import app

    old = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = old


def pool_children(worker: WorkerProcess) -> list[int]:
    """The pids of a prefork worker's pool processes (Linux /proc)."""
    if worker.proc is None:
        return []
    path = Path(f"/proc/{worker.proc.pid}/task/{worker.proc.pid}/children")
    try:
        return [int(p) for p in path.read_text().split()]
    except (FileNotFoundError, ProcessLookupError):
        return []


def log_count(worker: WorkerProcess, text: str) -> int:
    try:
        return worker.log.read_text(errors="replace").count(text)
    except FileNotFoundError:
        return 0


def wait_for_log(worker: WorkerProcess, text: str, *, count: int = 1, timeout: float = 30) -> None:
    wait_for(lambda: log_count(worker, text) >= count, timeout=timeout, message=f"{text!r} in {worker.log}")


# --- The question every fault test scores ----------------------------------------------------


def build_question(make_user):
    """Five forecasters with different histories on a closed binary question (not resolved).
    Built with tasks run in-process, so nothing is left on any queue."""
    from forecasts.services import forecast_submit, forecast_withdraw
    from questions.services import question_create

    with eager():
        q = question_create(
            type="binary", title=f"Fault {uuid.uuid4().hex[:6]}", open_time=T0, close_time=T0 + timedelta(days=20)
        )
        for i, p in enumerate([0.9, 0.7, 0.55, 0.3, 0.1]):
            u = make_user(f"fault-{i}-{uuid.uuid4().hex[:4]}")
            forecast_submit(user=u, question=q, payload={"probability": p}, at=T0 + timedelta(days=i, hours=3))
            forecast_submit(user=u, question=q, payload={"probability": 1 - p}, at=T0 + timedelta(days=i + 6))
            if i == 2:
                forecast_withdraw(user=u, question=q, at=T0 + timedelta(days=15))
    return q


def score_snapshot(question_id: int) -> dict:
    """The score rows of a question, keyed by user or crowd method, without ids or timestamps."""
    from scoring.models import Score

    rows = Score.objects.filter(question_id=question_id).order_by("user_id", "crowd_method")
    snap: dict = {}
    for s in rows:
        key = (s.user_id, s.crowd_method)
        assert key not in snap, f"duplicate score row {key}"
        snap[key] = (
            s.resolution_version, s.brier_final, s.brier_mean, round(s.relative_brier, 12), s.participation,
            round(s.baseline, 9), round(s.peer, 9), s.coverage, s.final_probabilities,
        )  # fmt: skip
    return snap


def resolve_clean(question, outcome: str, by) -> dict:
    """Resolve with the scoring job run in-process and no fault: the reference rows."""
    from questions.services import question_resolve

    with eager():
        question_resolve(question=question, outcome=outcome, by=by, at=T0 + timedelta(days=40))
    return score_snapshot(question.pk)


def clear_scores(question_id: int) -> None:
    """Forget the scores, as if the scoring job after the last resolution had not run yet."""
    from questions.models import Question
    from scoring.models import Score

    Score.objects.filter(question_id=question_id).delete()
    Question.objects.filter(pk=question_id).update(scored_version=0)


def scored(question_id: int) -> bool:
    from questions.models import Question

    q = Question.objects.get(pk=question_id)
    return q.scored_version == q.resolution_version


def queue_is_drained(server: RedisServer, queue: str) -> bool:
    c = server.client()
    return c.llen(queue) == 0 and c.hlen("unacked") == 0


def wait_until(deadline: float) -> None:
    """Let time pass until time.monotonic() reaches `deadline`: only where time passing is what
    is waited for (a visibility timeout running out), never for something to happen."""
    time.sleep(max(0.0, deadline - time.monotonic()))
