"""Helpers shared by the benchmarks: private databases and Redis servers, gunicorn, a bounded
HTTP client and the results file. Everything is on loopback and private to one run."""

from __future__ import annotations

import http.client
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results.json"
PY = sys.executable


def server_url() -> str:
    """The PostgreSQL server of $DATABASE_URL (or the local one), without a database name."""
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/signpost")
    u = urlparse(base)
    if not u.scheme.startswith("postgres"):
        u = urlparse("postgres://postgres@127.0.0.1:5432/postgres")
    return u._replace(path="/").geturl().rstrip("/")


def recreate_database(name: str) -> str:
    import psycopg

    assert name.startswith("signpost_bench_")
    server = server_url()
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


def drop_database(name: str) -> None:
    import psycopg

    assert name.startswith("signpost_bench_")
    try:
        from django.db import connections

        connections.close_all()
    except Exception:  # noqa: BLE001 - Django may not be set up
        pass
    with psycopg.connect(f"{server_url()}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrate(env: dict) -> None:
    subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)


def django_setup(env: dict) -> None:
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = env.get("DJANGO_SETTINGS_MODULE", "config.settings.base")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    """A redis-server of this benchmark on a free loopback port, no persistence."""

    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="signpost-bench-redis-")
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> PrivateRedis:
        exe = shutil.which("redis-server")
        if exe is None:
            raise RuntimeError("redis-server not found")
        self.proc = subprocess.Popen(
            [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", self.dir],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_port(self.port, 20)
        return self

    def __exit__(self, *exc) -> None:
        stop(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)


def wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listening on {port} after {timeout}s")


def stop(proc: subprocess.Popen | None, timeout: float = 20) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def gunicorn(
    env: dict, port: int, *, workers: int | None = None, threads: int | None = None, settings: str = "config.gunicorn"
) -> subprocess.Popen:
    """gunicorn with the served settings (config/gunicorn.py; `settings` names another module, such
    as benchmarks.gc_probe); `workers` and `threads` override them."""
    exe = str(Path(PY).with_name("gunicorn"))
    cmd = [exe, "-c", f"python:{settings}", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
           "--log-level", "warning", "--backlog", "256"]  # fmt: skip
    cmd += ["--workers", str(workers)] if workers else []
    cmd += ["--threads", str(threads)] if threads else []
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    wait_port(port)
    return proc


class Client:
    """One keep-alive HTTP connection (one per client thread)."""

    def __init__(self, port: int, headers: dict | None = None):
        self.port, self.headers = port, headers or {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
        data = None if body is None else json.dumps(body)
        headers = {"Accept": "application/json", **self.headers}
        if data is not None:
            headers["Content-Type"] = "application/json"
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                return resp.status, resp.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt:
                    raise
        raise AssertionError("unreachable")


def measure(make_request, n: int, concurrency: int) -> dict:
    """`n` requests from `concurrency` threads (a closed loop: each thread sends its next request
    when the previous one is answered). make_request(thread_index, request_number) -> status."""
    lat: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()
    counter = iter(range(n))

    def worker(ti: int) -> None:
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            t = time.perf_counter()
            try:
                status = make_request(ti, i)
            except Exception:  # noqa: BLE001 - counted as an error
                status = -1
            dt = (time.perf_counter() - t) * 1000
            with lock:
                lat.append(dt)
                if not 200 <= status < 300:
                    errors.append(status)

    threads = [threading.Thread(target=worker, args=(ti,)) for ti in range(concurrency)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    lat.sort()
    return {
        "n": len(lat), "errors": len(errors), "error_statuses": sorted(set(errors))[:5],
        "p50_ms": statistics.median(lat), "p99_ms": lat[min(len(lat) - 1, int(0.99 * len(lat)))],
        "req_per_s": len(lat) / wall,
    }  # fmt: skip


def combine(rs: list[dict]) -> dict:
    """Figures of several interleaved rounds: p50 the mean of the rounds', p99 the worst, req/s the
    mean."""
    return {
        "n": sum(r["n"] for r in rs), "errors": sum(r["errors"] for r in rs),
        "p50_ms": statistics.mean(r["p50_ms"] for r in rs), "p99_ms": max(r["p99_ms"] for r in rs),
        "req_per_s": statistics.mean(r["req_per_s"] for r in rs),
    }  # fmt: skip


def merge_results(figures: dict, path: Path | None = RESULTS) -> None:
    if path is None:
        return
    existing = {}
    if path.exists():
        try:
            existing = json.loads(path.read_text())
        except json.JSONDecodeError:
            existing = {}
    existing.update(figures)
    path.write_text(json.dumps(existing, indent=2, sort_keys=True) + "\n")
    print(f"figures merged into {path}")


def peak_mib(children: bool = False) -> float:
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return resource.getrusage(who).ru_maxrss / 1024
