"""Benchmark: from the resolve request to the updated leaderboard being served, with a real
Celery worker on Redis, for a question with 10,000 forecasts.

    .venv/bin/python benchmarks/bench_resolve.py [--forecasts 10000 --users 5000 --json [PATH]]

Private and on loopback: a dedicated database (signpost_bench_resolve), a private redis-server
(broker, results, cache), one `celery worker` process (concurrency 1) and gunicorn. The question
belongs to a series with 20 other scored questions, so the series and global boards it feeds are
not trivial. Once the worker is idle (it has run the notifications the seed's 20 resolutions
enqueued), the clock starts before `POST /api/v1/questions/{id}/resolve/` and stops when
`GET /api/v1/leaderboards/questions/{id}/` first returns every forecaster (polled every 10 ms):
the resolution commits, question_score is enqueued after commit, the worker scores the
question and writes its question board in the same transaction (cache version bumped on commit),
then recomputes the series and global boards in a follow-up job. BENCH_WORKER_LOGLEVEL=INFO logs
the worker's task timings to .pytest_cache/bench-resolve-worker.log.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    PY,
    RESULTS,
    ROOT,
    Client,
    PrivateRedis,
    django_setup,
    drop_database,
    free_port,
    gunicorn,
    merge_results,
    migrate,
    recreate_database,
    stop,
)  # fmt: skip

DB = "signpost_bench_resolve"


def seed(n_forecasts: int, n_users: int) -> tuple[int, str, int]:
    from datetime import UTC, datetime, timedelta

    from accounts.models import User
    from accounts.services import token_create
    from forecasts.models import Forecast
    from questions.services import question_create, question_resolve, series_create
    from scoring.leaderboards import leaderboards_recompute_all
    from scoring.services import questions_scores_write
    from tests.support.signals import rescoring_paused

    rng = random.Random(0)
    now = datetime.now(UTC)
    staff = User.objects.create_user("bench-staff", password=None, is_staff=True)
    token = token_create(user=staff)[0]
    users = User.objects.bulk_create([User(username=f"v{i}", password="!") for i in range(n_users)], batch_size=5000)
    series = series_create(slug="resolve", title="Resolve")

    def forecasts(q, n, start):
        rows = []
        for i in range(n):
            p = round(rng.uniform(0.01, 0.99), 3)
            rows.append(Forecast(question=q, user=users[i % n_users], created_at=start + timedelta(seconds=30 * i),
                                 probabilities=[p, 1 - p], p_min=min(p, 1 - p), p_max=max(p, 1 - p), p_sum=1.0))  # fmt: skip
        Forecast.objects.bulk_create(rows, batch_size=5000)

    past = []
    with rescoring_paused():  # the background questions are scored here
        for k in range(20):
            q = question_create(type="binary", title=f"Past {k}", series=series, open_time=now - timedelta(days=60),
                                close_time=now - timedelta(days=1))  # fmt: skip
            forecasts(q, 1000, now - timedelta(days=59))
            question_resolve(question=q, outcome=rng.choice(["yes", "no"]), by=None)
            past.append(q.pk)
    questions_scores_write(question_ids=past)
    leaderboards_recompute_all()
    q = question_create(type="binary", title="The big one", series=series, open_time=now - timedelta(days=10),
                        close_time=now + timedelta(days=30))  # fmt: skip
    forecasts(q, n_forecasts, now - timedelta(days=9))
    return q.pk, token, min(n_users, n_forecasts)


def wait_idle(app, redis_url: str, queue: str, deadline: float) -> None:
    """Until the queue is empty and the worker runs no task (checked twice in a row)."""
    import redis as redis_client

    broker = redis_client.Redis.from_url(redis_url)
    quiet = 0
    while quiet < 2 and time.monotonic() < deadline:
        active = app.control.inspect(timeout=0.5).active() or {}
        busy = broker.llen(queue) or any(active.values())
        quiet = 0 if busy else quiet + 1
        time.sleep(0.2)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--forecasts", type=int, default=10_000)
    ap.add_argument("--users", type=int, default=5_000)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--json", type=Path, nargs="?", const=RESULTS, default=None)
    args = ap.parse_args(argv)
    db_url = recreate_database(DB)
    web = worker = None
    try:
        with PrivateRedis() as redis:
            env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": redis.url, "CACHE_PREFIX": "bench-resolve",
                   "CELERY_QUEUE": "bench-resolve", "DEBUG": "0", "LOG_LEVEL": "ERROR"}  # fmt: skip
            migrate(env)
            django_setup({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "CACHE_PREFIX", "CELERY_QUEUE")})
            qid, token, expected = seed(args.forecasts, args.users)
            from django.db import connections

            connections.close_all()
            log = open(ROOT / ".pytest_cache" / "bench-resolve-worker.log", "wb")  # noqa: SIM115
            (ROOT / ".pytest_cache").mkdir(exist_ok=True)
            worker = subprocess.Popen(
                [PY, "-m", "celery", "-A", "config", "worker", "-Q", env["CELERY_QUEUE"], "--concurrency", "1",
                 "--pool", "prefork", "--loglevel", os.environ.get("BENCH_WORKER_LOGLEVEL", "WARNING"), "--without-gossip", "--without-mingle",
                 "--hostname", "bench-resolve@%h"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            port = free_port()
            web = gunicorn(env, port, workers=2, threads=4)
            staff = Client(port, {"Authorization": f"Token {token}"})
            reader = Client(port)
            path = f"/api/v1/leaderboards/questions/{qid}/"
            status, body = reader.request("GET", path)
            assert status == 200, body[:200]
            assert json.loads(body)["count"] == 0
            from config.celery import app

            deadline = time.monotonic() + 60  # the worker is up when it answers a ping
            while not app.control.ping(timeout=0.5) and time.monotonic() < deadline:
                time.sleep(0.2)
            # ... and idle once it has run what the seed enqueued (the notifications of the 20
            # background resolutions): the clock measures this resolution, not that backlog
            wait_idle(app, redis.url, env["CELERY_QUEUE"], deadline + 120)
            t0 = time.perf_counter()
            status, body = staff.request("POST", f"/api/v1/questions/{qid}/resolve/", {"resolution": "yes"})
            t_resolved = time.perf_counter() - t0
            assert status == 200, body[:300]
            polls = 0
            while True:
                status, body = reader.request("GET", path)
                polls += 1
                if status == 200 and json.loads(body)["count"] == expected:
                    break
                if time.perf_counter() - t0 > args.timeout:
                    raise RuntimeError("the leaderboard was not updated in time")
                time.sleep(0.01)
            elapsed = time.perf_counter() - t0
    finally:
        stop(web)
        stop(worker)
        drop_database(DB)
    print(f"resolve request answered in {t_resolved * 1000:.0f} ms; updated leaderboard served after "
          f"{elapsed:.3f} s ({polls} polls; {args.forecasts} forecasts, {expected} forecasters)")  # fmt: skip
    merge_results({"resolve_to_leaderboard_s": round(elapsed, 3), "resolve_request_ms": round(t_resolved * 1000, 1),
                   "resolve_forecasts": args.forecasts, "resolve_forecasters": expected}, args.json)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
