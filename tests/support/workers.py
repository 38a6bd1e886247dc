"""Real Celery worker processes for the tests, and waiting on a condition instead of sleeping.

A worker is `python -m celery -A <app> worker` in the project directory, with an environment that
names the test database (pytest-django's, not DATABASE_URL's), this run's queue and the settings
module the test process itself runs with."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: the Celery app of a deployment (config/celery.py)
PROJECT_APP = "config"
#: the same app with the fault-injection hooks of tests/support/fault_worker.py
FAULT_APP = "tests.support.fault_worker"


def wait_for[T](
    predicate: Callable[[], T], timeout: float = 30.0, interval: float = 0.1, message: str = "condition"
) -> T:
    """Poll `predicate` until it returns something true, and return that; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


def current_database_url() -> str:
    """The URL of the database this process is connected to: in a test, pytest-django's test
    database (DATABASE_URL names the database it was made from)."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


def worker_environ(**overrides: str) -> dict[str, str]:
    """The environment of a worker process: this process's, on the test database, with the same
    settings module (whatever chose it: pyproject.toml, the environment or --ds)."""
    from django.conf import ENVIRONMENT_VARIABLE, settings

    # Under pytest-django's `settings` fixture the overriding holder has no SETTINGS_MODULE; the
    # module the settings were loaded from is then the one named in this process's environment.
    module = settings.SETTINGS_MODULE or os.environ[ENVIRONMENT_VARIABLE]
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": module,
        "DATABASE_URL": current_database_url(),
        "CELERY_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        "PYTHONUNBUFFERED": "1",
        **overrides,
    }


class WorkerProcess:
    """`celery -A <app> worker` on the queue named by env["CELERY_QUEUE"], one prefork process,
    logging to .pytest_cache/<name>.log. `start()` returns once it answers a ping."""

    def __init__(
        self, env: dict[str, str], name: str, extra_args: tuple[str, ...] = (), *, app: str = PROJECT_APP
    ) -> None:
        self.env = env
        self.name = name
        self.extra_args = extra_args
        self.app = app
        self.proc: subprocess.Popen | None = None
        self.log = ROOT / ".pytest_cache" / f"{name}.log"
        self._logfile = None

    def start(self) -> WorkerProcess:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable, "-m", "celery", "-A", self.app, "worker",
            "-Q", self.env["CELERY_QUEUE"], "--hostname", f"{self.name}@%h",
            "--concurrency", "1", "--pool", "prefork", "--loglevel", "INFO",
            "--without-gossip", "--without-mingle",
            *self.extra_args,
        ]  # fmt: skip
        self._logfile = open(self.log, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=self._logfile, stderr=subprocess.STDOUT)
        self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        from config.celery import app

        destination = [f"{self.name}@{os.uname().nodename}"]

        def answers() -> bool:
            if self.proc and self.proc.poll() is not None:
                raise RuntimeError(f"worker exited early; see {self.log}")
            try:
                return bool(app.control.ping(timeout=1.0, destination=destination))
            except Exception:  # the broker may still be starting
                return False

        try:
            wait_for(answers, timeout=timeout, interval=0.3, message=f"worker {self.name} to answer a ping")
        except AssertionError as e:
            raise RuntimeError(f"{e}; see {self.log}") from None

    def stop(self, sig: int | None = None, timeout: float = 30) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig or signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self._logfile is not None:
            self._logfile.close()
            self._logfile = None
