"""Bounded load test: gunicorn on PostgreSQL, sustained forecast submissions and leaderboard reads.

    .venv/bin/python benchmarks/load_test.py [--seconds 30 --threads 16 --workers 4 --users 40
        --read-share 0.3 --max-requests 200000 --json PATH]

Everything is private and on loopback: a dedicated PostgreSQL database (`signpost_load`, dropped
and recreated; the server named by LOAD_PG, default postgres://postgres@127.0.0.1:5432), a
`redis-server` of its own on a free port (broker, cache, throttles), one Celery worker for the
crowd-history jobs, and gunicorn (gthread) on a free port. The client is Python threads with
keep-alive connections, each submitting forecasts (as many users, with API tokens) and reading
leaderboards, for a fixed time and at most a fixed number of requests.

It prints requests per second, latency percentiles by kind, errors, and whether the number of
forecasts stored equals the number acknowledged (201), and exits 1 if there was any error or any
mismatch."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.common import free_port, wait_port  # noqa: E402

PY = sys.executable
DB_NAME = "signpost_load"


def recreate_database(pg: str) -> str:
    import psycopg

    with psycopg.connect(f"{pg}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    return f"{pg}/{DB_NAME}"


def seed(env: dict, users: int) -> dict:
    """Migrate, then create users with tokens, open questions to forecast on, and a scored series
    for the leaderboards (tasks run in-process here: no REDIS_URL)."""
    subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    code = f"""
import json
from datetime import UTC, datetime, timedelta
from accounts.models import User
from accounts.services import token_create
from forecasts.services import forecast_submit
from questions.services import question_create, question_resolve, series_create
now = datetime.now(UTC)
series = series_create(slug="load", title="Load")
admin = User.objects.create_user("load-admin", password="x-load-admin-9", is_staff=True)
people = [User.objects.create_user(f"load{{i}}", password=None, display_name=f"Load {{i}}") for i in range({users})]
past = [question_create(type="binary", title=f"Past {{k}}", series=series, open_time=now - timedelta(days=30),
                        close_time=now - timedelta(days=1)) for k in range(5)]
for k, q in enumerate(past):
    for i, u in enumerate(people):
        forecast_submit(user=u, question=q, payload={{"probability": round(0.05 + ((i * 7 + k) % 90) / 100, 2)}},
                        at=now - timedelta(days=20, hours=i))
    question_resolve(question=q, outcome="yes" if k % 2 else "no", by=admin)
open_qs = [question_create(type="binary", title=f"Open {{k}}", series=series, open_time=now - timedelta(days=1),
                           close_time=now + timedelta(days=30)) for k in range(10)]
print(json.dumps({{"tokens": [token_create(user=u)[0] for u in people], "open": [q.pk for q in open_qs],
                  "past": [q.pk for q in past], "series": series.slug}}))
"""
    env = {k: v for k, v in env.items() if k != "REDIS_URL"}
    out = subprocess.run(
        [PY, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def count_forecasts(env: dict, question_ids: list[int]) -> int:
    code = f"from forecasts.models import Forecast; print(Forecast.objects.filter(question_id__in={question_ids!r}).count())"
    out = subprocess.run(
        [PY, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return int(out.stdout.strip().splitlines()[-1])


class Client(threading.Thread):
    def __init__(self, port, world, args, deadline, budget, rng_seed):
        super().__init__(daemon=True)
        self.port, self.world, self.args, self.deadline, self.budget = port, world, args, deadline, budget
        self.rng = random.Random(rng_seed)
        self.lat: dict[str, list[float]] = {"forecast": [], "leaderboard": []}
        self.acked: list[int] = []
        self.errors: list[str] = []

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        w = self.world
        while time.monotonic() < self.deadline and self.budget.take():
            if self.rng.random() < self.args.read_share:
                kind = "leaderboard"
                path = self.rng.choice(
                    ["/api/v1/leaderboards/global/?min_questions=1", f"/api/v1/leaderboards/series/{w['series']}/",
                     f"/api/v1/leaderboards/questions/{self.rng.choice(w['past'])}/"]
                )  # fmt: skip
                method, body, headers = "GET", None, {}
            else:
                kind = "forecast"
                path = f"/api/v1/questions/{self.rng.choice(w['open'])}/forecasts/"
                method = "POST"
                body = json.dumps({"probability": round(self.rng.uniform(0.01, 0.99), 3)})
                headers = {"Content-Type": "application/json", "Authorization": f"Token {self.rng.choice(w['tokens'])}"}
            start = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
            except (OSError, http.client.HTTPException) as e:
                self.errors.append(f"{kind}: {type(e).__name__}: {e}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                continue
            self.lat[kind].append(time.perf_counter() - start)
            expected = 201 if kind == "forecast" else 200
            if resp.status != expected:
                self.errors.append(f"{kind}: HTTP {resp.status}: {data[:200]!r}")
            elif kind == "forecast":
                self.acked.append(json.loads(data)["id"])
        conn.close()


class Budget:
    def __init__(self, n: int):
        self.n, self.lock = n, threading.Lock()

    def take(self) -> bool:
        with self.lock:
            if self.n <= 0:
                return False
            self.n -= 1
            return True


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))] * 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--gunicorn-threads", type=int, default=4)
    ap.add_argument("--users", type=int, default=40)
    ap.add_argument("--read-share", type=float, default=0.3)
    ap.add_argument("--max-requests", type=int, default=200_000)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    pg = os.environ.get("LOAD_PG", "postgres://postgres@127.0.0.1:5432")
    tmp = Path(tempfile.mkdtemp(prefix="signpost-load-"))
    procs: list[subprocess.Popen] = []
    try:
        redis_port, web_port = free_port(), free_port()
        procs.append(subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
             "--dir", str(tmp), "--save", "", "--appendonly", "yes", "--maxmemory-policy", "noeviction"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ))  # fmt: skip
        wait_port(redis_port)
        env = {
            **os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.base", "DEBUG": "false",
            "DATABASE_URL": recreate_database(pg), "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "CELERY_QUEUE": "load", "CACHE_PREFIX": "load", "LOG_LEVEL": "ERROR",
            # Throttles are per user; here 40 users share the whole load, so raise them out of the way.
            "THROTTLE_FORECAST": "1000000/min", "THROTTLE_USER": "1000000/min", "THROTTLE_ANON": "1000000/min",
        }  # fmt: skip
        t0 = time.monotonic()
        world = seed(env, args.users)
        print(f"seeded {args.users} users, {len(world['open'])} open and {len(world['past'])} scored questions in "
              f"{time.monotonic() - t0:.1f}s")  # fmt: skip
        logs = open(tmp / "server.log", "ab")  # noqa: SIM115
        procs.append(subprocess.Popen(
            [PY, "-m", "celery", "-A", "config", "worker", "-Q", "load", "--concurrency", "1", "--loglevel", "WARNING",
             "--without-gossip", "--without-mingle"], cwd=ROOT, env=env, stdout=logs, stderr=subprocess.STDOUT,
        ))  # fmt: skip
        procs.append(subprocess.Popen(
            [PY, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{web_port}",
             "--workers", str(args.workers), "--worker-class", "gthread", "--threads", str(args.gunicorn_threads),
             "--log-level", "warning"], cwd=ROOT, env=env, stdout=logs, stderr=subprocess.STDOUT,
        ))  # fmt: skip
        wait_port(web_port)
        before = count_forecasts(env, world["open"])

        budget = Budget(args.max_requests)
        deadline = time.monotonic() + args.seconds
        clients = [Client(web_port, world, args, deadline, budget, seed_) for seed_ in range(args.threads)]
        started = time.monotonic()
        for c in clients:
            c.start()
        for c in clients:
            c.join(timeout=args.seconds + 60)
        elapsed = time.monotonic() - started

        acked = [i for c in clients for i in c.acked]
        errors = [e for c in clients for e in c.errors]
        lat = {k: [x for c in clients for x in c.lat[k]] for k in ("forecast", "leaderboard")}
        stored = count_forecasts(env, world["open"]) - before
        total = sum(len(v) for v in lat.values())
        result = {
            "seconds": round(elapsed, 1), "client_threads": args.threads,
            "gunicorn": f"{args.workers} workers x {args.gunicorn_threads} threads (gthread)",
            "requests": total, "requests_per_second": round(total / elapsed, 1), "errors": len(errors),
            "forecasts_acknowledged": len(acked), "forecasts_stored": stored,
            "acknowledged_ids_unique": len(set(acked)) == len(acked),
            "latency_ms": {
                k: {"n": len(v), "p50": round(pct(v, 50), 1), "p90": round(pct(v, 90), 1), "p99": round(pct(v, 99), 1),
                    "max": round(max(v) * 1000, 1) if v else None}
                for k, v in lat.items()
            },
        }  # fmt: skip
        print(json.dumps(result, indent=2))
        for e in errors[:10]:
            print("error:", e)
        if args.json:
            args.json.write_text(json.dumps(result, indent=2) + "\n")
        ok = not errors and stored == len(acked) and result["acknowledged_ids_unique"] and total > 0
        print("OK: zero errors, stored == acknowledged" if ok else "FAILED")
        return 0 if ok else 1
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
