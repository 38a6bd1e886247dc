"""Benchmark of the scoring engine against the slow reference implementation.

    .venv/bin/python benchmarks/bench_engine.py [--questions 1000 --forecasts 1000000
        --reference-sample 20 --seed 0 --json PATH]

Generates a seeded synthetic data set (binary and multiple-choice questions,
ordered bins, daily and continuous modes, early closes, withdrawals,
forecasts before the open and after an early close), scores every question
with the engine (all user scores and the four crowd aggregates), times it,
runs the reference on a sample of questions (the full reference would take
hours), extrapolates the reference's time per forecast, and checks that the
two agree within 1e-9 on the sample.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import merge_results  # noqa: E402
from forecast_math import AGGREGATES, ForecastSet, QuestionSpec, score_question  # noqa: E402
from tests.forecast_math.reference import max_difference, reference_scores  # noqa: E402

DAY = 86400.0
TOL = 1e-9


def make_dataset(n_questions: int, n_forecasts: int, seed: int = 0):
    """Seeded synthetic questions: list of (QuestionSpec, ForecastSet)."""
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n_forecasts, np.full(n_questions, 1.0 / n_questions))
    pool = 20_000
    data = []
    base = 1_600_000_000.0
    for q in range(n_questions):
        n = int(counts[q])
        k = 2 if rng.random() < 0.6 else int(rng.integers(3, 7))
        ordered = k > 2 and rng.random() < 0.5
        mode = "daily" if rng.random() < 0.25 else "continuous"
        t0 = base + rng.uniform(0, 365 * DAY)
        ts = t0 + rng.uniform(7 * DAY, 400 * DAY)
        known_at = t0 + rng.uniform(0.3, 0.95) * (ts - t0) if rng.random() < 0.2 else None
        outcome = int(rng.integers(0, k))
        n_users = max(1, n // 10)
        ids = rng.choice(pool, size=n_users, replace=False).astype(np.int64)
        user = ids[rng.integers(0, n_users, size=n)]
        # mostly inside the window, a few before the open
        tm = rng.uniform(t0 - 3 * DAY, ts, size=n)
        wd = rng.random(n) < 0.05
        if k == 2:
            p = rng.uniform(0.001, 0.999, size=n)
            probs = np.stack([p, 1 - p], axis=1)
        else:
            # inside the bounds of scoring.md section 1 (every probability >= 0.001, sum 1), so
            # the rescore benchmark can store the same vectors in PostgreSQL
            probs = 0.001 + (1 - 0.001 * k) * rng.dirichlet(np.ones(k), size=n)
        spec = QuestionSpec(k, ordered, t0, ts, known_at, outcome, mode)
        data.append((spec, ForecastSet(user, tm, probs, wd)))
    return data


def _score_chunk(chunk):
    """Worker entry point: score (spec, forecasts) pairs and return them."""
    return [score_question(spec, fs, crowd_methods=AGGREGATES) for spec, fs in chunk]


def score_all(data, workers: int):
    if workers <= 1:
        return _score_chunk(data)
    from concurrent.futures import ProcessPoolExecutor

    size = math.ceil(len(data) / (workers * 4))
    chunks = [data[i : i + size] for i in range(0, len(data), size)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return [r for part in pool.map(_score_chunk, chunks) for r in part]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--questions", type=int, default=1000)
    ap.add_argument("--forecasts", type=int, default=1_000_000)
    ap.add_argument("--reference-sample", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=1, help="engine processes (the reference always runs in one)")
    ap.add_argument("--json", type=Path, default=None, help="merge the figures into this JSON file")
    args = ap.parse_args(argv)

    t = time.perf_counter()
    data = make_dataset(args.questions, args.forecasts, args.seed)
    gen_s = time.perf_counter() - t
    n_total = sum(len(fs.user) for _, fs in data)

    t = time.perf_counter()
    results = score_all(data, args.workers)
    engine_s = time.perf_counter() - t

    sample_n = min(args.reference_sample, len(data))
    rng = np.random.default_rng(args.seed + 1)
    sample = sorted(rng.choice(len(data), size=sample_n, replace=False).tolist()) if sample_n else []
    worst = 0.0
    ref_s = 0.0
    ref_forecasts = 0
    eng_sample_s = 0.0
    for i in sample:
        spec, fs = data[i]
        t = time.perf_counter()
        ref = reference_scores(spec, fs, AGGREGATES)
        ref_s += time.perf_counter() - t
        ref_forecasts += len(fs.user)
        t = time.perf_counter()
        score_question(spec, fs, crowd_methods=AGGREGATES)
        eng_sample_s += time.perf_counter() - t
        worst = max(worst, max_difference(results[i], ref))

    full_reference = sample_n == len(data)
    ref_per_forecast = ref_s / ref_forecasts if ref_forecasts else math.nan
    ref_total_est = ref_s if full_reference else ref_per_forecast * n_total
    figures = {
        "engine_questions": len(data),
        "engine_forecasts": n_total,
        "engine_seconds": round(engine_s, 3),
        "engine_forecasts_per_s": round(n_total / engine_s, 1),
        "engine_crowd_methods": list(AGGREGATES),
        "engine_workers": args.workers,
        "reference_questions": sample_n,
        "reference_forecasts": ref_forecasts,
        "reference_seconds": round(ref_s, 3),
        "reference_seconds_full_estimate": round(ref_total_est, 1),
        "reference_extrapolated": not full_reference,
        "reference_forecasts_per_s": round(ref_forecasts / ref_s, 1) if ref_s else None,
        "engine_vs_reference_ratio": round(ref_total_est / engine_s, 1) if ref_s else None,
        # both single-process, on the same sample questions
        "engine_vs_reference_ratio_on_sample": round(ref_s / eng_sample_s, 1) if eng_sample_s else None,
        "max_abs_difference": worst,
        "identical_within_1e-9": bool(worst <= TOL),
        "cpu_count": os.cpu_count(),
        "numpy": np.__version__,
    }
    print(f"data set: {len(data)} questions, {n_total} forecasts (generated in {gen_s:.1f} s, seed {args.seed})")
    print(
        f"engine:    {engine_s:.2f} s for all questions, all scores + {len(AGGREGATES)} crowd aggregates"
        f" ({args.workers} process{'es' if args.workers > 1 else ''})"
    )
    print(f"           engine_forecasts_per_s = {figures['engine_forecasts_per_s']:.0f}")
    if sample_n:
        how = "full" if full_reference else f"sample of {sample_n} questions, extrapolated per forecast"
        print(
            f"reference: {ref_s:.2f} s on {ref_forecasts} forecasts ({how}); estimated full run {ref_total_est:.0f} s"
        )
        print(
            f"           engine_vs_reference_ratio = {figures['engine_vs_reference_ratio']}"
            f" (measured on the sample alone: {figures['engine_vs_reference_ratio_on_sample']})"
        )
        print(
            f"agreement: max |engine - reference| = {worst:.3g} -> "
            f"{'IDENTICAL within 1e-9' if worst <= TOL else 'MISMATCH'}"
        )
    if args.json:
        merge_results(figures, args.json)
    return 0 if worst <= TOL else 1


if __name__ == "__main__":
    sys.exit(main())
