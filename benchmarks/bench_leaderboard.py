"""Benchmark: a series leaderboard page against a bare Django JSON view, on the same server.

    .venv/bin/python benchmarks/bench_leaderboard.py [--users 2000 --questions 100
        --requests 4000 --concurrency 8 --seed 0 --keep-db --json [PATH]]

Builds a data set in a dedicated PostgreSQL database (signpost_bench_lb, recreated each run, on
the server of $DATABASE_URL or the local one): users, one series of questions, seeded forecasts
inserted in bulk after the same vector validation as the API, every question resolved through
questions.services.question_resolve and scored by the bulk scoring job (questions_scores_write, as rescore runs it), then the
leaderboards materialised once (leaderboards_recompute_all). It then serves the project with
gunicorn (2 workers) on a free loopback port, the benchmark settings adding a bare view
(benchmarks/bare_urls.py), and drives it with a bounded client: a fixed number of requests from a
fixed number of threads, loopback only. Prints p50, p99 and req/s of each, and the throughput ratio
(leaderboard req/s / bare req/s); with --json merges leaderboard_vs_bare_ratio,
leaderboard_p50_ms and leaderboard_p99_ms (and a few more) into benchmarks/results.json.

Redis ($REDIS_URL, default redis://127.0.0.1:6379/3) is the cache, under a prefix of this run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import (  # noqa: E402
    Client,
    combine,
    drop_database,
    free_port,
    measure,
    merge_results,
    migrate,
    recreate_database,
    stop,
)  # fmt: skip

DB_NAME = "signpost_bench_lb"
SERIES = "bench-series"


def seed(n_users: int, n_questions: int, seed_value: int) -> dict:
    """Runs in this process, with the environment pointing at the benchmark database."""
    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
    django.setup()
    from accounts.models import User
    from forecasts.models import Forecast
    from forecasts.validation import probability_vector
    from questions.services import question_create, question_resolve, series_create
    from scoring.leaderboards import leaderboards_recompute_all
    from scoring.models import LeaderboardEntry, Score
    from scoring.services import questions_scores_write
    from tests.support.signals import rescoring_paused

    # Scoring is run below, directly and once per question, rather than by enqueued jobs, and the
    # leaderboards are materialised once at the end rather than after every question.
    rescoring_paused().__enter__()  # for the rest of this benchmark process

    rng = random.Random(seed_value)
    t = time.perf_counter()
    users = [
        User(username=f"bench{i:05d}", display_name=f"Forecaster {i}", email=f"bench{i}@example.org")
        for i in range(n_users)
    ]
    for u in users:
        u.set_unusable_password()
    User.objects.bulk_create(users, batch_size=2000)
    users = list(User.objects.order_by("id"))
    series = series_create(slug=SERIES, title="Benchmark series")
    start = datetime(2024, 1, 1, tzinfo=UTC)
    skill = {u.pk: rng.gauss(0, 1) for u in users}
    questions = []
    for k in range(n_questions):
        mc = k % 5 == 4
        opened = start + timedelta(days=k)
        q = question_create(
            type="multiple_choice" if mc else "binary", options=["A", "B", "C"] if mc else None,
            title=f"Benchmark question {k}", open_time=opened, close_time=opened + timedelta(days=90), series=series,
        )  # fmt: skip
        questions.append((q, mc, opened))
    rows = []
    for q, mc, opened in questions:
        truth = rng.randrange(3 if mc else 2)
        labels = ["A", "B", "C"] if mc else ["yes", "no"]
        for u in rng.sample(users, k=max(1, int(n_users * rng.uniform(0.2, 0.5)))):
            for _ in range(rng.randint(1, 3)):
                at = opened + timedelta(seconds=rng.uniform(0, 80 * 86400))
                edge = 1 / (1 + 2.718281828 ** (-(skill[u.pk] + rng.gauss(0, 1))))
                if mc:
                    raw = [rng.uniform(0.05, 1) + (2 * edge if i == truth else 0) for i in range(3)]
                    ps = [round(x / sum(raw), 3) for x in raw]
                    ps[2] = round(1 - ps[0] - ps[1], 3)
                    payload = {"probabilities": dict(zip(labels, ps, strict=True))}
                else:
                    p = edge if truth == 0 else 1 - edge
                    payload = {"probability": round(min(0.99, max(0.01, p)), 3)}
                vector = probability_vector(question_type=q.type, labels=labels, payload=payload)
                rows.append(Forecast(question=q, user=u, created_at=at, probabilities=vector,
                                     p_min=min(vector), p_max=max(vector), p_sum=sum(vector)))  # fmt: skip
        q._truth = labels[truth]
    Forecast.objects.bulk_create(rows, batch_size=5000)
    t_forecasts = time.perf_counter() - t
    t = time.perf_counter()
    for q, _mc, opened in questions:
        question_resolve(question=q, outcome=q._truth, by=None, at=opened + timedelta(days=91))
    questions_scores_write(question_ids=[q.pk for q, _mc, _opened in questions])  # the bulk job of rescore
    t_scores = time.perf_counter() - t
    t = time.perf_counter()
    leaderboards_recompute_all()
    t_lb = time.perf_counter() - t
    return {
        "users": n_users, "questions": n_questions, "forecasts": len(rows),
        "scores": Score.objects.count(), "leaderboard_rows": LeaderboardEntry.objects.count(),
        "seconds_forecasts": round(t_forecasts, 1), "seconds_scoring": round(t_scores, 1),
        "seconds_leaderboards": round(t_lb, 1),
    }  # fmt: skip


def get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Accept": "application/json"})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def wait_ready(port: int, path: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("gunicorn exited early")
        try:
            if get(port, path)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer in time")


def timed_gets(port: int, path: str, n: int, concurrency: int) -> dict:
    """`n` GETs of `path` from `concurrency` threads, one keep-alive connection each."""
    clients = [Client(port) for _ in range(concurrency)]
    return measure(lambda ti, _i: clients[ti].request("GET", path)[0], n, concurrency)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=2000)
    ap.add_argument("--questions", type=int, default=100)
    ap.add_argument("--requests", type=int, default=4000, help="per endpoint")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep-db", action="store_true", help="leave the benchmark database in place")
    ap.add_argument("--json", type=Path, nargs="?", const=ROOT / "benchmarks" / "results.json", default=None,
                    help="merge the figures into this JSON file (default benchmarks/results.json)")  # fmt: skip
    args = ap.parse_args()

    db_url = recreate_database(DB_NAME)
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/3")
    prefix = f"bench-lb-{os.getpid()}"
    env = {
        **os.environ, "DATABASE_URL": db_url, "REDIS_URL": redis_url, "CACHE_PREFIX": prefix, "DEBUG": "0",
        "CELERY_QUEUE": f"{prefix}-unused", "THROTTLE_ANON": "100000000/min", "THROTTLE_USER": "100000000/min",
        "LOG_LEVEL": "ERROR",
    }  # fmt: skip
    proc = None
    try:
        migrate(env)
        os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "CACHE_PREFIX", "DEBUG", "CELERY_QUEUE")})
        print(f"seeding {args.users} users, {args.questions} questions ...", flush=True)
        data = seed(args.users, args.questions, args.seed)
        print("data set: " + ", ".join(f"{k}={v}" for k, v in data.items()), flush=True)

        port = free_port()
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        server_env = {**env, "DJANGO_SETTINGS_MODULE": "benchmarks.bench_settings"}
        proc = subprocess.Popen(
            [gunicorn, "config.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "2", "--log-level", "warning"],
            cwd=ROOT, env=server_env,
        )  # fmt: skip
        lb_path = f"/api/v1/leaderboards/series/{SERIES}/"
        bare_path = f"/bench/bare/series/{SERIES}/"
        wait_ready(port, bare_path, proc)
        status, body = get(port, lb_path)
        assert status == 200, body[:300]
        page = json.loads(body)
        assert page["count"] == data["users"] and len(page["entries"]) == 50, (page["count"], len(page["entries"]))
        for path in (bare_path, lb_path):  # warm-up of both workers: connections, imports, the cache
            timed_gets(port, path, 200, args.concurrency)
        from questions.models import Series
        from scoring.cache import scope_key, scopes_invalidate

        scope = scope_key("series", Series.objects.get(slug=SERIES).pk)
        cold = []
        for _ in range(5):  # a cold read: the first after a version bump (cache miss), then cached
            scopes_invalidate([scope])
            t = time.perf_counter()
            get(port, lb_path)
            cold.append((time.perf_counter() - t) * 1000)
        half = args.requests // 2
        runs = {"bare": [], "leaderboard": []}
        for _ in range(2):  # interleaved, so neither side gets the quieter half of the run
            runs["bare"].append(timed_gets(port, bare_path, half, args.concurrency))
            runs["leaderboard"].append(timed_gets(port, lb_path, half, args.concurrency))
        # What was measured is the page itself: a warm read gives the bytes of a cold one.
        warm = get(port, lb_path)[1]
        scopes_invalidate([scope])
        assert get(port, lb_path)[1] == warm, "a warm page differs from a cold one"
    finally:
        stop(proc)
        if not args.keep_db:
            drop_database(DB_NAME)

    bare, lb = combine(runs["bare"]), combine(runs["leaderboard"])
    ratio = lb["req_per_s"] / bare["req_per_s"]  # a throughput ratio: leaderboard req/s / bare req/s
    print(
        f"{'':<22}{'p50 ms':>9}{'p99 ms':>9}{'req/s':>9}{'errors':>8}   ({args.concurrency} threads, gunicorn 2 workers)"
    )
    for name, r in (("bare Django JSON view", bare), ("series leaderboard", lb)):
        print(f"{name:<22}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}{r['req_per_s']:>9.0f}{r['errors']:>8}")
    print(f"leaderboard / bare throughput ratio: {ratio:.3f}; p50 latency ratio {lb['p50_ms'] / bare['p50_ms']:.2f}")
    print(f"cold leaderboard read (cache miss after a recompute), ms: {', '.join(f'{c:.1f}' for c in cold)}")
    if args.json:
        merge_results({
            "leaderboard_vs_bare_ratio": round(ratio, 3),
            "leaderboard_vs_bare_p50_latency_ratio": round(lb["p50_ms"] / bare["p50_ms"], 3),
            "leaderboard_p50_ms": round(lb["p50_ms"], 3),
            "leaderboard_p99_ms": round(lb["p99_ms"], 3),
            "leaderboard_req_per_s": round(lb["req_per_s"], 1),
            "leaderboard_bare_p50_ms": round(bare["p50_ms"], 3),
            "leaderboard_bare_p99_ms": round(bare["p99_ms"], 3),
            "leaderboard_bare_req_per_s": round(bare["req_per_s"], 1),
            "leaderboard_cold_read_ms": round(statistics.median(cold), 1),
            "leaderboard_dataset": data,
        }, args.json)  # fmt: skip
    return 1 if lb["errors"] or bare["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
