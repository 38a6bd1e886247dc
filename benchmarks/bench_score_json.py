"""Benchmark: `python manage.py score_json FILE` on the 50,000-forecast document, as a shell runs it.

    .venv/bin/python benchmarks/bench_score_json.py [--runs 5 --forecasters 10000 --seed 0 --json [PATH]]

Writes bench_engine's score_json document once (crowd_document: one binary question, 10,000
forecasters making 5 forecasts each, 3% withdrawals, about 4.5 MB) to a temporary file, then
times the command as a subprocess `--runs` times: wall seconds (median and min) and the CPU
seconds of the child (user + system, the figure a busy machine disturbs least). The start-up alone
is timed the same way on a one-forecast document. Then, in this process, the steps the command
runs, each timed (CPU and wall): reading and parsing the file (config.cli.read_json), validation
(forecast_math.parse_document), the engine (score_question), and the output (the result's dict
and its JSON text). The command's output is checked to be the in-process result, byte for byte.

score_json_50k_wall_s (the median wall) is the issue's figure: under 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_engine import crowd_document  # noqa: E402
from benchmarks.common import PY, RESULTS, merge_results  # noqa: E402

TINY = {
    "question": {
        "type": "binary",
        "open_time": "2024-01-01T00:00:00Z",
        "close_time": "2024-01-11T00:00:00Z",
        "resolution": "yes",
    },
    "forecasts": [{"user": "ana", "time": "2024-01-02T00:00:00Z", "probability": 0.7}],
}


def children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run_command(path: Path, runs: int) -> dict:
    """`manage.py score_json path` `runs` times: wall and child CPU seconds, and the last output."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    walls, cpus, out = [], [], b""
    for _ in range(runs):
        c = children_cpu()
        t = time.perf_counter()
        proc = subprocess.run([PY, "manage.py", "score_json", str(path)], cwd=ROOT, env=env, capture_output=True)
        walls.append(time.perf_counter() - t)
        cpus.append(children_cpu() - c)
        if proc.returncode:
            raise SystemExit(f"score_json exited {proc.returncode}: {proc.stderr.decode()[-2000:]}")
        out = proc.stdout
    return {
        "median": statistics.median(walls),
        "min": min(walls),
        "cpu_median": statistics.median(cpus),
        "walls": walls,
        "out": out,
    }


def timed(fn):
    c = time.process_time()
    t = time.perf_counter()
    result = fn()
    return result, time.process_time() - c, time.perf_counter() - t


def in_process(path: Path) -> tuple[dict, str]:
    """The command's steps in this process (CPU and wall seconds each) and its output text."""
    from config.cli import read_json
    from forecast_math import parse_document, score_question
    from forecast_math.jsonio import scores_document

    doc, read_cpu, read_wall = timed(lambda: read_json(str(path)))
    (spec, fs, names), parse_cpu, parse_wall = timed(lambda: parse_document(doc))
    qs, engine_cpu, engine_wall = timed(lambda: score_question(spec, fs))
    text, out_cpu, out_wall = timed(lambda: json.dumps(scores_document(spec, qs, names), allow_nan=False))
    steps = {
        "read_and_parse_json": (read_cpu, read_wall),
        "validation": (parse_cpu, parse_wall),
        "engine": (engine_cpu, engine_wall),
        "output": (out_cpu, out_wall),
    }
    return steps, text


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--forecasters", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, nargs="?", const=RESULTS, default=None, help="merge the figures here")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="signpost-bench-score-json-") as tmp:
        big, tiny = Path(tmp) / "question.json", Path(tmp) / "tiny.json"
        big.write_text(json.dumps(crowd_document(args.forecasters, seed=args.seed)))
        tiny.write_text(json.dumps(TINY))
        n = 5 * args.forecasters
        size_mb = big.stat().st_size / 1e6
        start = run_command(tiny, args.runs)
        full = run_command(big, args.runs)
        steps, text = in_process(big)
    if full["out"].decode() != text + "\n":
        raise SystemExit("the command's output differs from the in-process result")

    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else ["?"] * 3
    print(f"manage.py score_json, {n:,}-forecast binary document ({size_mb:.1f} MB), {args.runs} runs")
    print(f"  load average {' '.join(load)}; {os.cpu_count()} CPUs")
    print(
        f"  whole command:   median {full['median']:.3f} s, min {full['min']:.3f} s wall;"
        f" {full['cpu_median']:.3f} s CPU (runs: {', '.join(f'{w:.2f}' for w in full['walls'])})"
    )
    print(
        f"  start-up alone:  median {start['median']:.3f} s, min {start['min']:.3f} s wall;"
        f" {start['cpu_median']:.3f} s CPU (a one-forecast document)"
    )
    print("  in-process steps (CPU s / wall s):")
    for name, (cpu, wall) in steps.items():
        print(f"    {name:<20} {cpu:7.3f} / {wall:7.3f}")
    total_cpu = sum(c for c, _ in steps.values())
    total_wall = sum(w for _, w in steps.values())
    print(f"    {'total':<20} {total_cpu:7.3f} / {total_wall:7.3f}")
    print(f"  score_json_50k_wall_s = {full['median']:.3f} (target < 2 s)")

    figures = {
        "score_json_50k_wall_s": round(full["median"], 3),
        "score_json_50k_wall_min_s": round(full["min"], 3),
        "score_json_50k_cpu_s": round(full["cpu_median"], 3),
        "score_json_startup_wall_s": round(start["median"], 3),
        "score_json_50k_in_process": {
            name: {"cpu_s": round(c, 3), "wall_s": round(w, 3)} for name, (c, w) in steps.items()
        },
        "score_json_50k_load_average": " ".join(load),
    }
    if args.json:
        merge_results(figures, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
