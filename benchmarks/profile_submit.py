"""Profile: forecast submission through DRF's test client on PostgreSQL, in one process.

    .venv/bin/python benchmarks/profile_submit.py [--requests 300 --questions 16 --users 32 --top 25]

A private database (signpost_bench_profile_submit, recreated and dropped) and a private redis-server
(cache, throttles, and the broker the crowd job is enqueued to; no worker consumes it, as in
bench_submit). Posts `{"probability": p}` with token authentication to open questions, after a
warm-up, first under cProfile (ms of CPU per request, the top functions), then once more counting
the queries per request, then unprofiled: this process's CPU per request for the submission and
for the bare view of bench_submit (benchmarks/bare_urls.py: the JSON body, one raw INSERT) through
the same test client and middleware, and their difference (the product's own cost; the database
and Redis servers' CPU is not in it). PROFILE_SORT (default cumulative), PROFILE_CALLEES and
PROFILE_TIMER=cpu shape the profile."""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import PrivateRedis, django_setup, drop_database, migrate, recreate_database  # noqa: E402

DB = "signpost_bench_profile_submit"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--questions", type=int, default=16)
    ap.add_argument("--users", type=int, default=32)
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args(argv)

    db_url = recreate_database(DB)
    try:
        with PrivateRedis() as redis:
            env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": redis.url, "CACHE_PREFIX": "profile-submit",
                   "CELERY_QUEUE": "profile-submit", "DEBUG": "0", "LOG_LEVEL": "ERROR",
                   "THROTTLE_FORECAST": "100000000/min", "THROTTLE_USER": "100000000/min", "CONN_MAX_AGE": "600"}  # fmt: skip
            migrate(env)
            django_setup({k: env[k] for k in env if k in ("DATABASE_URL", "REDIS_URL", "CACHE_PREFIX", "CELERY_QUEUE",
                                                          "DEBUG", "LOG_LEVEL", "THROTTLE_FORECAST", "THROTTLE_USER",
                                                          "CONN_MAX_AGE")}
                         | {"DJANGO_SETTINGS_MODULE": "benchmarks.bench_settings"})  # fmt: skip
            from benchmarks.bench_submit import seed

            tokens, qids, bare_user, bare_q = seed(args.users, args.questions)
            from django.db import connection
            from django.test.utils import CaptureQueriesContext
            from rest_framework.test import APIClient

            from config.celery import app

            app.conf.task_always_eager = False
            clients = [APIClient(HTTP_AUTHORIZATION=f"Token {t}") for t in tokens]
            rng = random.Random(0)

            def post(i: int) -> None:
                body = {"probability": round(rng.uniform(0.01, 0.99), 3)}
                r = clients[i % len(clients)].post(f"/api/v1/questions/{rng.choice(qids)}/forecasts/", body,
                                                   format="json")  # fmt: skip
                assert r.status_code == 201, (r.status_code, r.content)

            for i in range(100):  # warm-up: imports, connections, last_used_at
                post(i)
            # PROFILE_TIMER=cpu: the profile in CPU time (waits on the servers left out; a heavier
            # profiler, so the "under cProfile" figure is then not comparable with earlier ones).
            prof = (
                cProfile.Profile(time.process_time) if os.environ.get("PROFILE_TIMER") == "cpu" else cProfile.Profile()
            )
            t0 = time.process_time()
            prof.enable()
            for i in range(args.requests):
                post(i)
            prof.disable()
            cpu = (time.process_time() - t0) / args.requests * 1000
            with CaptureQueriesContext(connection) as ctx:
                for i in range(args.requests):
                    post(i)
            queries = len(ctx.captured_queries) / args.requests
            t0 = time.perf_counter()
            for i in range(args.requests):
                post(i)
            wall = (time.perf_counter() - t0) / args.requests * 1000
            bare_client = APIClient()

            def bare(i: int) -> None:
                body = {"probability": round(rng.uniform(0.01, 0.99), 3)}
                r = bare_client.post(f"/bench/bare/forecast/{bare_q}/{bare_user}/", body, format="json")
                assert r.status_code == 201, (r.status_code, r.content)

            cpu_plain, cpu_bare = [], []
            for _ in range(3):  # interleaved rounds; the best of each (the least disturbed by others)
                for fn, out in ((post, cpu_plain), (bare, cpu_bare)):
                    t0 = time.process_time()
                    for i in range(args.requests):
                        fn(i)
                    out.append((time.process_time() - t0) / args.requests * 1000)
            stats = pstats.Stats(prof).sort_stats(os.environ.get("PROFILE_SORT", "cumulative"))
            stats.print_stats(args.top)
            if os.environ.get("PROFILE_CALLEES"):
                stats.print_callees(os.environ["PROFILE_CALLEES"])
            connection.close()
    finally:
        drop_database(DB)
    print(f"{args.requests} submissions: {cpu:.2f} ms CPU/request under cProfile, {wall:.2f} ms wall/request "
          f"unprofiled, {queries:.2f} queries/request")  # fmt: skip
    print(f"unprofiled CPU/request of this process (best of 3 rounds): submission {min(cpu_plain):.3f} ms, "
          f"bare view {min(cpu_bare):.3f} ms, difference {min(cpu_plain) - min(cpu_bare):.3f} ms")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
