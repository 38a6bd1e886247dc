"""Benchmark: the cost of one new forecast on the crowd history, at 100, 1,000 and 10,000
forecasters.

    .venv/bin/python benchmarks/bench_crowd.py [--sizes 100 1000 10000 --repeats 5 --json [PATH]]

In a dedicated database (signpost_bench_crowd, recreated and dropped): per size N, one binary
question with N forecasters holding one forecast each (inserted in bulk), its history written
once by the full recompute (timed: the cost every forecast paid before the incremental update),
then `repeats` times: a new forecast through forecast_submit and one crowd_update job
(question_crowd_write, incremental: the standing forecasts, one aggregate per method, one point
appended per method). crowd_update_ms is the median job time; the submission is not included.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import RESULTS, django_setup, drop_database, merge_results, migrate, recreate_database  # noqa: E402

DB = "signpost_bench_crowd"


def run_size(n: int, repeats: int, full_limit: int) -> dict:
    from datetime import UTC, datetime, timedelta

    from accounts.models import User
    from forecasts import services
    from forecasts.crowd import question_crowd_write
    from forecasts.models import Forecast
    from forecasts.services import forecast_submit
    from questions.services import question_create

    services.crowd_send = lambda *args, **kwargs: None  # the job is run (and timed) below

    rng = random.Random(n)
    now = datetime.now(UTC)
    q = question_create(type="binary", title=f"Crowd {n}", open_time=now - timedelta(days=30),
                        close_time=now + timedelta(days=30))  # fmt: skip
    users = User.objects.bulk_create([User(username=f"c{n}-{i}", password="!") for i in range(n)], batch_size=5000)
    rows = []
    for i, u in enumerate(users):
        p = round(rng.uniform(0.01, 0.99), 3)
        rows.append(Forecast(question=q, user=u, created_at=now - timedelta(days=29, seconds=-i * 60),
                             probabilities=[p, 1 - p], p_min=min(p, 1 - p), p_max=max(p, 1 - p), p_sum=1.0))  # fmt: skip
    Forecast.objects.bulk_create(rows, batch_size=5000)
    t = time.perf_counter()
    question_crowd_write(question_id=q.pk, full=True)
    full_ms = (time.perf_counter() - t) * 1000
    times = []
    for _ in range(repeats):
        u = rng.choice(users)
        forecast_submit(user=u, question=q, payload={"probability": round(rng.uniform(0.01, 0.99), 3)})
        t = time.perf_counter()
        written = question_crowd_write(question_id=q.pk)
        times.append((time.perf_counter() - t) * 1000)
        assert written == 4, written
    full_after = None
    if n <= full_limit:  # the old cost of the same job: recompute the whole history
        t = time.perf_counter()
        question_crowd_write(question_id=q.pk, full=True)
        full_after = (time.perf_counter() - t) * 1000
    return {"incremental_ms": statistics.median(times), "full_ms": full_after or full_ms, "seed_full_ms": full_ms}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", type=Path, nargs="?", const=RESULTS, default=None)
    args = ap.parse_args(argv)
    db_url = recreate_database(DB)
    try:
        env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": ""}
        migrate(env)
        django_setup({"DATABASE_URL": db_url, "REDIS_URL": ""})
        out = {}
        for n in args.sizes:
            out[n] = run_size(n, args.repeats, full_limit=1000)
            print(f"{n:>6} forecasters: crowd_update {out[n]['incremental_ms']:8.1f} ms (incremental); "
                  f"full recompute {out[n]['full_ms']:9.1f} ms", flush=True)  # fmt: skip
    finally:
        drop_database(DB)
    figures = {
        "crowd_update_ms": {str(n): round(v["incremental_ms"], 2) for n, v in out.items()},
        "crowd_full_recompute_ms": {str(n): round(v["full_ms"], 1) for n, v in out.items()},
    }
    for n, v in out.items():
        figures[f"crowd_update_ms_{n}"] = round(v["incremental_ms"], 2)
    merge_results(figures, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
