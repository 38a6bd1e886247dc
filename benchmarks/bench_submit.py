"""Benchmark: forecast submission under gunicorn on PostgreSQL, 32 concurrent clients, against a
bare Django view in the same server that does one INSERT.

    .venv/bin/python benchmarks/bench_submit.py [--clients 32 --questions 16 --workers N --threads N
        --load auto|wrk|python --wrk-seconds 5 --requests 8000 --forecast-rate 100000000/min
        --gc-probe frozen|unfrozen --json [PATH]]

Private and on loopback: a dedicated database (signpost_bench_submit, recreated and dropped), a
private redis-server (cache, throttles, and the broker the crowd-update job is enqueued to; no
worker consumes it here, so the crowd jobs cost the web process their enqueue only, as with
workers on other hosts), and gunicorn with the served settings (config/gunicorn.py: gthread, one
worker per core, 4 threads; --workers and --threads override them) serving the product plus the
bare view (benchmarks/bench_settings.py). Each client is one user with an API token and a keep-alive
connection, posting `{"probability": p}` to a random open question: token authentication, the
forecast throttle, validation, the question row lock, the INSERT, the on-commit enqueue, and the
response. The bare view parses the same JSON body and INSERTs one forecast row with raw SQL: no
DRF, no authentication, no throttle, no lock. Rounds are interleaved (bare, product, bare,
product). The ratio is a throughput ratio: product req/s / bare req/s.

The load comes from wrk when it is installed (`--load wrk`: a C program in a process of its own,
one thread and connection per client, rounds of --wrk-seconds, its own latency histogram), else
from this process's threads (`--load python`: rounds of --requests / 2). The Python client costs
the machine more CPU per request than wrk does, on the same two cores, and its threads queue for
their interpreter lock: it lowers the bare view's throughput more than the submission's, and
widens both tails. With the Python client, a round of 1,500 requests lasts under 2 s, and its p99
(the 15th-slowest request) was often set by one stall of the machine; rounds of 4,000 (the
default) give a steadier figure.

A keep-alive connection stays with the gunicorn worker that accepted it, and which worker accepts
is a race, so the clients are not always split evenly between the workers. With the Python client
the split is printed (read from /proc: each client's connection, by its port, to the worker
process holding it), because the clients of a worker holding more of them wait longer; wrk
connects anew each round, so it is not read then.

Because wall-clock figures depend on whatever else runs on the machine, each round also reads the
CPU time (utime + stime, /proc) that the serving side spent: the gunicorn workers, the PostgreSQL
backends connected to the benchmark's database, and the private redis-server. Their ratio per
request (bare / product) is the throughput ratio a CPU-bound quiet machine would show, near enough.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    RESULTS,
    Client,
    PrivateRedis,
    combine,
    django_setup,
    drop_database,
    free_port,
    gunicorn,
    measure,
    merge_results,
    migrate,
    recreate_database,
    stop,
)  # fmt: skip
from config import gunicorn as served  # noqa: E402

DB = "signpost_bench_submit"
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of `pids` (those that still exist), in seconds."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / TICK


def server_pids(gunicorn_pid: int, redis_pid: int) -> dict[str, list[int]]:
    """The serving processes: gunicorn's workers, the database's backends, the redis-server."""
    from django.db import connection

    children = Path(f"/proc/{gunicorn_pid}/task/{gunicorn_pid}/children").read_text().split()
    with connection.cursor() as cur:
        cur.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [DB])
        backends = [pid for (pid,) in cur.fetchall()]
    return {"gunicorn": [int(p) for p in children], "postgres": backends, "redis": [redis_pid]}


def clients_per_worker(port: int, client_ports: set[int], workers: list[int]) -> list[int]:
    """How many of the connections from `client_ports` to `port` each worker process holds."""
    inode_of_peer: dict[str, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local_port, peer_port = int(fields[1].rsplit(":", 1)[1], 16), int(fields[2].rsplit(":", 1)[1], 16)
            if local_port == port and peer_port in client_ports:
                inode_of_peer[f"socket:[{fields[9]}]"] = peer_port
    counts = []
    for pid in workers:
        held = 0
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                held += os.readlink(fd) in inode_of_peer
            except OSError:
                continue
        counts.append(held)
    return counts


def print_gc_pauses(probe_dir: Path, rounds: list[tuple[float, float]], mode: str) -> None:
    """The workers' collector pauses (benchmarks/gc_probe.py) that fell in the measured rounds."""
    for path in sorted(probe_dir.glob("*.json")):
        record = json.loads(path.read_text())
        timed = [(g, ms) for g, t, ms in record["pauses"] if any(a <= t <= b for a, b in rounds)]
        parts = []
        for g in (0, 1, 2):
            ms = [m for gen, m in timed if gen == g]
            parts.append(f"gen {g}: {len(ms)} ({sum(ms):.0f} ms, longest {max(ms, default=0):.1f})")
        print(f"gc pauses in the measured rounds, worker {path.stem} ({mode}, {record['frozen']} objects frozen): "
              + "; ".join(parts))  # fmt: skip
        path.unlink()
    probe_dir.rmdir()


# The load of `--load wrk`: one wrk thread per client, each with its own connection and its user's
# token; done() prints the round's figures from wrk's own histogram (microseconds).
WRK_SCRIPT = """
local tokens = {%(tokens)s}
local qids = {%(qids)s}
local started = 0
function setup(thread)
  started = started + 1
  thread:set("token", tokens[(started - 1) %% #tokens + 1])
  thread:set("seed", started)
end
function init(args)
  math.randomseed(seed)
end
function request()
  local body = string.format('{"probability": %%.3f}', 0.01 + 0.98 * math.random())
  local headers = {["Content-Type"] = "application/json", ["Accept"] = "application/json"}
  if "%(mode)s" == "submit" then
    headers["Authorization"] = "Token " .. token
    return wrk.format("POST", "/api/v1/questions/" .. qids[math.random(#qids)] .. "/forecasts/", headers, body)
  end
  return wrk.format("POST", "%(bare)s", headers, body)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout, latency:percentile(50), latency:percentile(99)))
end
"""


def wrk_round(port: int, script: Path, clients: int, seconds: int) -> dict:
    """One round of wrk (a closed loop: `clients` connections, each sending its next request when
    the previous one is answered), in the figures measure() gives."""
    out = subprocess.run(
        ["wrk", f"-t{clients}", f"-c{clients}", f"-d{seconds}s", "-s", str(script), f"http://127.0.0.1:{port}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    n, duration_us, errors, p50_us, p99_us = (int(x) for x in out.split("WRK ", 1)[1].split()[:5])
    return {"n": n, "errors": errors, "error_statuses": [], "p50_ms": p50_us / 1000, "p99_ms": p99_us / 1000,
            "req_per_s": n / (duration_us / 1e6)}  # fmt: skip


def seed(n_users: int, n_questions: int) -> tuple[list[str], list[int], int, int]:
    from datetime import UTC, datetime, timedelta

    from accounts.models import User
    from accounts.services import token_create
    from questions.services import question_create

    now = datetime.now(UTC)
    users = [User.objects.create_user(f"s{i}", password=None, display_name=f"S {i}") for i in range(n_users)]
    tokens = [token_create(user=u)[0] for u in users]
    qs = [question_create(type="binary", title=f"Submit {k}", open_time=now - timedelta(days=1),
                          close_time=now + timedelta(days=30)).pk for k in range(n_questions)]  # fmt: skip
    return tokens, qs, users[0].pk, qs[0]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--requests", type=int, default=8000, help="per endpoint, over two rounds")
    ap.add_argument("--questions", type=int, default=16)
    ap.add_argument("--workers", type=int, default=served.workers, help="default: config/gunicorn.py's")
    ap.add_argument("--threads", type=int, default=served.threads, help="default: config/gunicorn.py's")
    ap.add_argument("--json", type=Path, nargs="?", const=RESULTS, default=None)
    ap.add_argument("--gc-probe", choices=["frozen", "unfrozen"], default=None,
                    help="record the workers' garbage-collector pauses (benchmarks/gc_probe.py); unfrozen: "
                         "without config/wsgi.py's gc.freeze()")  # fmt: skip
    ap.add_argument("--load", choices=["auto", "python", "wrk"], default="auto",
                    help="the load generator: wrk (a C program, Debian's package wrk) in a process of its own, "
                         "rounds of --wrk-seconds; or this process's client threads, rounds of --requests / 2; "
                         "auto (the default): wrk when it is on the PATH")  # fmt: skip
    ap.add_argument("--wrk-seconds", type=int, default=5)
    ap.add_argument("--forecast-rate", default="100000000/min",
                    help="THROTTLE_FORECAST: high enough never to refuse; its period is how long each user's "
                         "window holds their requests (on PostgreSQL every count rewrites the window's row)")  # fmt: skip
    args = ap.parse_args(argv)
    if args.load == "auto":
        args.load = "wrk" if shutil.which("wrk") else "python"
    if args.load == "wrk" and shutil.which("wrk") is None:
        print("error: --load wrk needs wrk on the PATH (apt-get install wrk)", file=sys.stderr)
        return 2
    probe_dir = Path(tempfile.mkdtemp(prefix="signpost-gc-")) if args.gc_probe else None
    scripts: dict[str, Path] = {}  # the wrk rounds' Lua scripts, deleted at the end

    db_url = recreate_database(DB)
    proc = None
    try:
        with PrivateRedis() as redis:
            env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": redis.url, "CACHE_PREFIX": "bench-submit",
                   "CELERY_QUEUE": "bench-submit", "DEBUG": "0", "LOG_LEVEL": "ERROR",
                   "THROTTLE_FORECAST": args.forecast_rate, "THROTTLE_USER": "100000000/min", "CONN_MAX_AGE": "600"}  # fmt: skip
            migrate(env)
            django_setup({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "CACHE_PREFIX", "CELERY_QUEUE")})
            tokens, qids, bare_user, bare_q = seed(args.clients, args.questions)
            from django.db import connections

            connections.close_all()
            port = free_port()
            server_env = {**env, "DJANGO_SETTINGS_MODULE": "benchmarks.bench_settings"}
            if probe_dir:
                server_env.update(GC_PROBE_DIR=str(probe_dir), GC_PROBE_UNFREEZE=str(int(args.gc_probe == "unfrozen")))
            proc = gunicorn(server_env, port, workers=args.workers, threads=args.threads,
                            settings="benchmarks.gc_probe" if probe_dir else "config.gunicorn")  # fmt: skip
            clients = [Client(port, {"Authorization": f"Token {tokens[i % len(tokens)]}"}) for i in range(args.clients)]
            bare_clients = [Client(port) for _ in range(args.clients)]
            rng = random.Random(0)

            def product(ti: int, i: int) -> int:
                body = {"probability": round(rng.uniform(0.01, 0.99), 3)}
                return clients[ti].request("POST", f"/api/v1/questions/{rng.choice(qids)}/forecasts/", body)[0]

            def bare(ti: int, i: int) -> int:
                body = {"probability": round(rng.uniform(0.01, 0.99), 3)}
                return bare_clients[ti].request("POST", f"/bench/bare/forecast/{bare_q}/{bare_user}/", body)[0]

            if args.load == "wrk":
                for mode in ("bare", "submit"):
                    scripts[mode] = Path(tempfile.mkstemp(prefix=f"signpost-wrk-{mode}-", suffix=".lua")[1])
                    scripts[mode].write_text(WRK_SCRIPT % {
                        "tokens": ", ".join(f'"{t}"' for t in tokens), "qids": ", ".join(map(str, qids)),
                        "mode": mode, "bare": f"/bench/bare/forecast/{bare_q}/{bare_user}/"})  # fmt: skip

                def bare(*_):
                    return wrk_round(port, scripts["bare"], args.clients, args.wrk_seconds)

                def product(*_):
                    return wrk_round(port, scripts["submit"], args.clients, args.wrk_seconds)

                def run_round(fn):
                    return fn()

                bare(), product()  # warm-up: connections, imports
                split = []
            else:

                def run_round(fn):
                    return measure(fn, args.requests // 2, args.clients)

                measure(bare, 300, args.clients)  # warm-up: connections, imports
                measure(product, 300, args.clients)
            pids = server_pids(proc.pid, redis.proc.pid)
            if args.load == "python":
                split = clients_per_worker(port, {c.conn.sock.getsockname()[1] for c in clients}, pids["gunicorn"])
            runs = {"bare": [], "submit": []}
            rounds: list[tuple[float, float]] = []
            cpu = {name: dict.fromkeys(pids, 0.0) for name in runs}
            for _ in range(2):
                for name, fn in (("bare", bare), ("submit", product)):
                    before = {group: cpu_seconds(p) for group, p in pids.items()}
                    t0 = time.monotonic()
                    runs[name].append(run_round(fn))
                    rounds.append((t0, time.monotonic()))
                    for group, p in pids.items():
                        cpu[name][group] += cpu_seconds(p) - before[group]
            from forecasts.models import Forecast

            stored = Forecast.objects.exclude(user_id=bare_user).count()
            connections.close_all()
    finally:
        stop(proc)
        drop_database(DB)
        for script in scripts.values():
            script.unlink(missing_ok=True)
    b, s = combine(runs["bare"]), combine(runs["submit"])
    ratio = s["req_per_s"] / b["req_per_s"]
    answered = {"bare": b["n"], "submit": s["n"]}
    per_request = {name: {group: t / answered[name] * 1000 for group, t in cpu[name].items()} for name in cpu}
    cpu_ms = {name: sum(groups.values()) for name, groups in per_request.items()}
    print(f"{'':<26}{'p50 ms':>9}{'p99 ms':>9}{'req/s':>9}{'errors':>8}   ({args.clients} clients, gunicorn "
          f"{args.workers} gthread workers x {args.threads} threads)")  # fmt: skip
    for name, r in (("bare view (one INSERT)", b), ("forecast submission", s)):
        print(f"{name:<26}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}{r['req_per_s']:>9.0f}{r['errors']:>8}")
    print(f"submit / bare throughput ratio: {ratio:.3f}; forecasts stored {stored}; "
          f"submitting clients per worker: {', '.join(map(str, sorted(split, reverse=True))) or 'not read (wrk)'}; "
          f"load: {args.load}")  # fmt: skip
    print(f"server CPU per request (gunicorn workers, PostgreSQL backends, redis-server): bare {cpu_ms['bare']:.2f} ms, "
          f"submission {cpu_ms['submit']:.2f} ms, ratio {cpu_ms['bare'] / cpu_ms['submit']:.3f}; "
          f"load average {Path('/proc/loadavg').read_text().split()[0]}")  # fmt: skip
    for name, groups in per_request.items():
        print(f"  {name}: " + ", ".join(f"{group} {ms:.2f} ms" for group, ms in groups.items()))
    if probe_dir:
        print_gc_pauses(probe_dir, rounds, args.gc_probe)
    merge_results({
        "submit_vs_bare_ratio": round(ratio, 3),
        "submit_p50_ms": round(s["p50_ms"], 2), "submit_p99_ms": round(s["p99_ms"], 2),
        "submit_req_per_s": round(s["req_per_s"], 1),
        "submit_bare_p50_ms": round(b["p50_ms"], 2), "submit_bare_p99_ms": round(b["p99_ms"], 2),
        "submit_bare_req_per_s": round(b["req_per_s"], 1),
        "submit_errors": s["errors"] + b["errors"], "submit_clients": args.clients,
        "submit_server_cpu_ms": round(cpu_ms["submit"], 3), "submit_bare_server_cpu_ms": round(cpu_ms["bare"], 3),
        "submit_server": f"gunicorn gthread {args.workers}x{args.threads}",
        "submit_requests": s["n"] + b["n"], "submit_clients_per_worker": sorted(split, reverse=True),
        "submit_load": args.load,
    }, args.json)  # fmt: skip
    return 1 if s["errors"] or b["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
