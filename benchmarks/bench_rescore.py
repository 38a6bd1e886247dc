"""Benchmark: a full rescore of 1,000,000 forecasts over 1,000 questions from PostgreSQL.

    .venv/bin/python benchmarks/bench_rescore.py [--questions 1000 --forecasts 1000000
        --processes 2 --chunk-size 50 --json [PATH]]

Stores the engine benchmark's data set (benchmarks/bench_engine.make_dataset, same seed: binary and
multiple-choice questions, ordered bins, daily and continuous modes, early closes, withdrawals) in
a dedicated database (signpost_bench_rescore, recreated, dropped at the end): 20,000 users, the
questions resolved, the forecasts loaded with COPY. Then times `manage.py rescore` in a fresh
process, from the first query to the last leaderboard written: bulk reads (one query per chunk of
questions), the engine, bulk writes (one DELETE + one COPY per chunk, one transaction each), in
--processes local processes, then every materialised leaderboard once. Peak memory is the rescore
process's ru_maxrss plus each pool process's (an upper bound of the simultaneous peak).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import PY, RESULTS, ROOT, drop_database, merge_results, migrate, recreate_database  # noqa: E402

DB = "signpost_bench_rescore"


def _iso(ts: np.ndarray) -> np.ndarray:
    return np.datetime_as_string((ts * 1e6).round().astype("datetime64[us]"), unit="us", timezone="UTC")


def seed(n_questions: int, n_forecasts: int, seed_value: int) -> dict:
    from django.db import connection, transaction

    from accounts.models import User
    from benchmarks.bench_engine import make_dataset
    from questions.models import Option, Question

    t = time.perf_counter()
    data = make_dataset(n_questions, n_forecasts, seed_value)
    pool = 20_000
    users = [User(username=f"r{i:05d}", display_name=f"R {i}", password="!") for i in range(pool)]
    User.objects.bulk_create(users, batch_size=5000)
    uid = np.array(User.objects.order_by("username").values_list("id", flat=True), dtype=np.int64)
    now = datetime.now(UTC)
    qs = []
    for i, (spec, _fs) in enumerate(data):
        qs.append(Question(
            type="binary" if spec.n_options == 2 else "multiple_choice", ordered=spec.ordered, title=f"Rescore {i}",
            open_time=datetime.fromtimestamp(spec.open_time, tz=UTC),
            close_time=datetime.fromtimestamp(spec.close_time, tz=UTC),
            known_at=None if spec.known_at is None else datetime.fromtimestamp(spec.known_at, tz=UTC),
            scoring_mode=spec.mode, state=Question.State.OPEN, published_at=now,
        ))  # fmt: skip
    Question.objects.bulk_create(qs, batch_size=1000)
    opts = []
    for q, (spec, _fs) in zip(qs, data, strict=True):
        labels = ["yes", "no"] if spec.n_options == 2 else [f"bin {j}" for j in range(spec.n_options)]
        opts += [Option(question=q, label=label, position=j) for j, label in enumerate(labels)]
    Option.objects.bulk_create(opts, batch_size=5000)
    with transaction.atomic(), connection.cursor() as cur:
        with cur.cursor.copy(
            "COPY forecasts_forecast (question_id, user_id, kind, created_at, probabilities, p_min, p_max, p_sum,"
            " rationale) FROM STDIN"
        ) as copy:
            for q, (_spec, fs) in zip(qs, data, strict=True):
                stamps = _iso(np.asarray(fs.time))
                users_q = uid[np.asarray(fs.user)]
                lines = []
                for j in range(len(fs.user)):
                    if fs.withdrawn[j]:
                        lines.append(f"{q.pk}\t{users_q[j]}\twithdrawal\t{stamps[j]}\t\\N\t\\N\t\\N\t\\N\t\n")
                    else:
                        v = fs.probs[j].tolist()
                        lines.append(f"{q.pk}\t{users_q[j]}\tforecast\t{stamps[j]}\t{json.dumps(v)}\t"
                                     f"{min(v)!r}\t{max(v)!r}\t{sum(v)!r}\t\n")  # fmt: skip
                copy.write("".join(lines))
        # resolve every question: outcome, known_at, one resolution version
        cur.execute(
            """UPDATE questions_question q SET state = 'resolved', resolution_version = 1, resolved_at = %s,
                   resolved_option_id = o.id
               FROM questions_option o, unnest(%s::int8[], %s::int2[]) AS r(qid, pos)
               WHERE q.id = r.qid AND o.question_id = r.qid AND o.position = r.pos""",
            [now, [q.pk for q in qs], [spec.outcome for spec, _ in data]],
        )
        cur.execute("ANALYZE")
    return {"questions": len(qs), "forecasts": sum(len(fs.user) for _, fs in data), "users": pool,
            "seed_seconds": round(time.perf_counter() - t, 1)}  # fmt: skip


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--questions", type=int, default=1000)
    ap.add_argument("--forecasts", type=int, default=1_000_000)
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--chunk-size", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep-db", action="store_true")
    ap.add_argument("--json", type=Path, nargs="?", const=RESULTS, default=None)
    args = ap.parse_args(argv)

    db_url = recreate_database(DB)
    env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": "", "DJANGO_SETTINGS_MODULE": "config.settings.base",
           "LOG_LEVEL": "ERROR"}  # fmt: skip
    try:
        migrate(env)
        from benchmarks.common import django_setup

        django_setup({"DATABASE_URL": db_url, "REDIS_URL": ""})
        print(f"seeding {args.forecasts} forecasts over {args.questions} questions ...", flush=True)
        data = seed(args.questions, args.forecasts, args.seed)
        print("data set: " + ", ".join(f"{k}={v}" for k, v in data.items()), flush=True)
        from django.db import connections

        connections.close_all()
        cmd = [PY, "-c", _RUNNER, str(args.processes), str(args.chunk_size)]
        t = time.perf_counter()
        out = subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout
        wall = time.perf_counter() - t
        print(out.strip())
        figures_run = json.loads(out.strip().splitlines()[-1])
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM forecasts_score")
            scores = cur.fetchone()[0]
            cur.execute("SELECT count(*) FROM forecasts_leaderboardentry")
            entries = cur.fetchone()[0]
        connections.close_all()
    finally:
        if not args.keep_db:
            drop_database(DB)
    figures = {
        "rescore_1m_wall_s": round(figures_run["wall_s"], 2),
        "rescore_1m_process_wall_s": round(wall, 2),
        "rescore_1m_scoring_s": round(figures_run["scoring_s"], 2),
        "rescore_1m_leaderboards_s": round(figures_run["leaderboards_s"], 2),
        "rescore_1m_peak_mib": round(figures_run["peak_mib"], 1),
        "rescore_1m_processes": args.processes,
        "rescore_1m_dataset": {**data, "score_rows": scores, "leaderboard_rows": entries},
    }
    print(f"rescore: {figures['rescore_1m_wall_s']} s ({figures['rescore_1m_scoring_s']} s scores, "
          f"{figures['rescore_1m_leaderboards_s']} s leaderboards), peak {figures['rescore_1m_peak_mib']} MiB; "
          f"{scores} score rows, {entries} leaderboard rows")  # fmt: skip
    if args.json:
        merge_results(figures, args.json)
    return 0


# The timed process: `manage.py rescore --quiet --processes N --chunk-size C -v 2`, which reports
# the time of its two phases and its memory; wall_s is from before django.setup() to the end.
_RUNNER = r"""
import json, re, sys, time
t0 = time.perf_counter()
import django
django.setup()
from io import StringIO
from django.core.management import call_command
out = StringIO()
call_command("rescore", "--quiet", "--processes", sys.argv[1], "--chunk-size", sys.argv[2], "-v", "2", stdout=out)
t1 = time.perf_counter()
text = out.getvalue()
print(text.strip())
m = re.search(r"scores ([0-9.]+) s, leaderboards ([0-9.]+) s; .*upper bound\): ([0-9.]+) MiB", text)
print(json.dumps({"wall_s": t1 - t0, "scoring_s": float(m[1]), "leaderboards_s": float(m[2]), "peak_mib": float(m[3])}))
"""

if __name__ == "__main__":
    sys.exit(main())
