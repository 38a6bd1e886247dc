"""`make bench`: every benchmark, each in its own process, within a time budget.

    .venv/bin/python benchmarks/run_all.py [--budget 900 --only NAME ... --skip NAME ...]

Runs the benchmarks below in order, each with its own timeout carved from the budget (default
900 s, the 15 minutes of the issue on the 2-core development machine), each merging its figures
into benchmarks/results.json, then prints a summary table of the headline figures and the
targets. A benchmark that fails or times out is reported (and the exit status is 1); the others
still run. Needs PostgreSQL ($DATABASE_URL's server) and redis-server on the machine; every
benchmark uses its own signpost_bench_* database (created and dropped) and loopback only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results.json"
PY = sys.executable

#: name, command (after the interpreter), timeout in seconds
BENCHMARKS = [
    (
        "engine",
        ["benchmarks/bench_engine.py", "--workers", "1", "--reference-sample", "10", "--json", str(RESULTS)],
        300,
    ),
    ("extract", ["benchmarks/bench_extract.py"], 60),
    ("score_json", ["benchmarks/bench_score_json.py", "--json", str(RESULTS)], 90),
    ("rescore", ["benchmarks/bench_rescore.py", "--processes", "2", "--json", str(RESULTS)], 200),
    ("submit", ["benchmarks/bench_submit.py", "--json", str(RESULTS)], 120),
    ("leaderboard", ["benchmarks/bench_leaderboard.py", "--concurrency", "8", "--json", str(RESULTS)], 150),
    (  # issue 11's case: a question with 10,000 forecasters x 5
        "resolve",
        ["benchmarks/bench_resolve.py", "--forecasts", "50000", "--users", "10000", "--json", str(RESULTS)],
        180,
    ),
    ("crowd", ["benchmarks/bench_crowd.py", "--json", str(RESULTS)], 120),
]

#: key, target description, predicate
TARGETS = [
    ("rescore_1m_wall_s", "<= 15 s", lambda v: v <= 15),
    ("rescore_1m_peak_mib", "<= 2048 MiB", lambda v: v <= 2048),
    ("submit_vs_bare_ratio", ">= 0.6 (throughput)", lambda v: v >= 0.6),
    ("submit_p99_ms", "< 100 ms", lambda v: v < 100),
    ("leaderboard_vs_bare_ratio", ">= 0.8 (throughput)", lambda v: v >= 0.8),
    ("leaderboard_p99_ms", "< 50 ms", lambda v: v < 50),
    ("resolve_to_leaderboard_s", "<= 2 s", lambda v: v <= 2),
    ("score_json_50k_wall_s", "< 2 s", lambda v: v < 2),
]

SUMMARY_KEYS = [
    "engine_forecasts_per_s", "engine_vs_reference_ratio", "identical_within_1e-9", "extract_ms_per_20k_chars",
    "rescore_1m_wall_s", "rescore_1m_peak_mib", "submit_vs_bare_ratio", "submit_p50_ms", "submit_p99_ms",
    "leaderboard_vs_bare_ratio", "leaderboard_p50_ms", "leaderboard_p99_ms", "resolve_to_leaderboard_s",
    "crowd_update_ms", "score_json_50k_wall_s",
]  # fmt: skip


def _extract_figures(stdout: str) -> dict:
    """bench_extract prints its figures; keep the synthetic article's ms per article."""
    out = {}
    for line in stdout.splitlines():
        low = line.lower()
        if "synthetic" in low and "ms" in low:
            nums = [t for t in line.replace("ms", " ").split() if t.replace(".", "", 1).isdigit()]
            if nums:
                out["extract_ms_per_20k_chars"] = float(nums[-1])
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--budget", type=float, default=900)
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--skip", nargs="*", default=[])
    args = ap.parse_args(argv)
    chosen = [b for b in BENCHMARKS if (args.only is None or b[0] in args.only) and b[0] not in args.skip]
    start = time.monotonic()
    status: dict[str, str] = {}
    seconds: dict[str, float] = {}
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONWARNINGS": "ignore"}
    for name, cmd, timeout in chosen:
        left = args.budget - (time.monotonic() - start)
        if left < 20:
            status[name] = "skipped (budget)"
            continue
        t = time.monotonic()
        print(f"\n=== {name}: {' '.join(cmd)} (timeout {min(timeout, left):.0f} s)", flush=True)
        try:
            proc = subprocess.run(
                [PY, *cmd], cwd=ROOT, env=env, timeout=min(timeout, left), capture_output=True, text=True
            )
            sys.stdout.write(proc.stdout)
            if proc.returncode:
                sys.stdout.write(proc.stderr[-3000:])
            status[name] = "ok" if proc.returncode == 0 else f"failed ({proc.returncode})"
            if name == "extract" and proc.returncode == 0:
                figures = _extract_figures(proc.stdout)
                existing = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
                existing.update(figures)
                RESULTS.write_text(json.dumps(existing, indent=2, sort_keys=True) + "\n")
        except subprocess.TimeoutExpired as exc:
            sys.stdout.write((exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (exc.stdout or ""))
            status[name] = "timed out"
        seconds[name] = round(time.monotonic() - t, 1)
    total = time.monotonic() - start
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["bench_run"] = {
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"), "total_seconds": round(total, 1),
        "seconds": seconds, "status": status, "cpu_count": os.cpu_count(), "machine": platform.machine(),
        "python": platform.python_version(),
    }  # fmt: skip
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")

    print(f"\n=== summary ({total:.0f} s of a {args.budget:.0f} s budget; {os.cpu_count()} CPUs)")
    for name, _cmd, _t in chosen:
        print(f"  {name:<12} {status.get(name, '-'):<18} {seconds.get(name, 0):>7.1f} s")
    print()
    for key in SUMMARY_KEYS:
        print(f"  {key:<28} {json.dumps(results.get(key, 'missing'))}")
    print()
    for key, text, ok in TARGETS:
        v = results.get(key)
        verdict = "missing" if v is None else ("met" if ok(v) else "NOT met")
        print(f"  target {key:<28} {text:<22} {json.dumps(v):>10}  {verdict}")
    failed = [n for n, s in status.items() if s != "ok"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
