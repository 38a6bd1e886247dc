"""Benchmark of the scoring engine against the slow reference implementation.

    .venv/bin/python benchmarks/bench_engine.py [--questions 1000 --forecasts 1000000
        --reference-sample 20 --seed 0 --json PATH]
        [--growth-sizes 1000,10000,100000 | --no-growth] [--growth-only]
        [--numeric-sizes 1000,10000]

Generates a seeded synthetic data set (binary and multiple-choice questions,
ordered bins, daily and continuous modes, early closes, withdrawals,
forecasts before the open and after an early close), scores every question
with the engine (all user scores and the four crowd aggregates), times it,
runs the reference on a sample of questions (the full reference would take
hours), extrapolates the reference's time per forecast, and checks that the
two agree within 1e-9 on the sample.

With one process, the engine's CPU time and the part of it spent in the recency-weighted median
(``forecast_math.recency.recency_weighted_medians``, timed around each call) are printed too.

Then the growth table: the engine on one question of each size (N forecasters
making 5 forecasts each, a binary and a 4-option multiple-choice question,
all scores and the four crowd aggregates; for the sizes in --numeric-sizes also a numeric
question, 201-point CDFs with the three continuous crowd aggregates), and how the time grows
with N; and
``score_json`` (forecast_math.score_json_document, what ``manage.py
score_json`` runs after reading the file) on a generated 50,000-forecast JSON
document, from its text to the printed result.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import merge_results  # noqa: E402
from forecast_math import AGGREGATES, ForecastSet, QuestionSpec, score_json_document, score_question  # noqa: E402
from forecast_math import engine as engine_module  # noqa: E402
from forecast_math.continuous import GRID_X, UNIFORM_MIX, ContinuousOutcome  # noqa: E402
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


class RecencyTimer:
    """Within ``with``: the CPU seconds spent in the engine's recency-weighted median (``seconds``)
    and its calls, by wrapping ``engine.recency_weighted_medians`` in this process."""

    def __enter__(self):
        self.seconds = 0.0
        self.calls = 0
        self._inner = engine_module.recency_weighted_medians

        def timed(*args, **kwargs):
            t = time.process_time()
            try:
                return self._inner(*args, **kwargs)
            finally:
                self.seconds += time.process_time() - t
                self.calls += 1

        engine_module.recency_weighted_medians = timed
        return self

    def __exit__(self, *exc):
        engine_module.recency_weighted_medians = self._inner
        return False


def score_all(data, workers: int):
    if workers <= 1:
        return _score_chunk(data)
    from concurrent.futures import ProcessPoolExecutor

    size = math.ceil(len(data) / (workers * 4))
    chunks = [data[i : i + size] for i in range(0, len(data), size)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return [r for part in pool.map(_score_chunk, chunks) for r in part]


def make_crowd_question(n_forecasters: int, n_options: int = 2, per: int = 5, seed: int = 0):
    """One question with ``n_forecasters`` users making ``per`` forecasts each, at uniformly random
    times over a 90-day window (a few the day before the open), 3% withdrawals."""
    rng = np.random.default_rng(seed)
    t0 = 1_700_000_000.0
    ts = t0 + 90 * DAY
    n = n_forecasters * per
    user = np.repeat(np.arange(n_forecasters, dtype=np.int64), per)
    tm = np.minimum(rng.uniform(t0 - DAY, ts, size=n), ts - 1.0)
    wd = rng.random(n) < 0.03
    if n_options == 2:
        p = rng.uniform(0.001, 0.999, size=n)
        probs = np.stack([p, 1 - p], axis=1)
    else:
        probs = 0.001 + (1 - 0.001 * n_options) * rng.dirichlet(np.ones(n_options), size=n)
    spec = QuestionSpec(n_options, False, t0, ts, None, 0, "continuous")
    return spec, ForecastSet(user, tm, probs, wd)


def make_numeric_question(n_forecasters: int, per: int = 5, seed: int = 0):
    """make_crowd_question's timing for a numeric question with open bounds: each forecast a
    logistic CDF (random centre and scale), 2% below and 3% above the range, the interior mixed
    with the uniform as the conversions do (every step at least the minimum, a valid CDF); the
    outcome at 42% of the range."""
    spec, fs = make_crowd_question(n_forecasters, 2, per, seed)
    rng = np.random.default_rng(seed + 1)
    n = len(fs.user)
    centre = rng.uniform(0.1, 0.9, n)[:, None]
    scale = rng.uniform(0.02, 0.3, n)[:, None]
    f = 1.0 / (1.0 + np.exp(-(GRID_X[None, :] - centre) / scale))
    f = (f - f[:, :1]) / (f[:, -1:] - f[:, :1])
    u = UNIFORM_MIX / 0.95
    cdfs = 0.02 + 0.95 * ((1.0 - u) * f + u * GRID_X[None, :])
    outcome = ContinuousOutcome(0.42, open_lower=True, open_upper=True)
    numeric = QuestionSpec(len(GRID_X), False, spec.open_time, spec.close_time, None, 0, continuous=outcome)
    return numeric, ForecastSet(fs.user, fs.time, cdfs, fs.withdrawn)


def crowd_document(n_forecasters: int, per: int = 5, seed: int = 0) -> dict:
    """The binary question of make_crowd_question as a score_json document (contracts.md)."""
    spec, fs = make_crowd_question(n_forecasters, 2, per, seed)

    def iso(t: float) -> str:
        return datetime.fromtimestamp(t, tz=UTC).isoformat(timespec="microseconds")

    forecasts = []
    for u, t, p, w in zip(
        fs.user.tolist(), fs.time.tolist(), fs.probs[:, 0].tolist(), fs.withdrawn.tolist(), strict=True
    ):
        row = {"user": f"user{u}", "time": iso(t)}
        if w:
            row["withdraw"] = True
        else:
            row["probability"] = round(p, 6)
        forecasts.append(row)
    question = {
        "type": "binary",
        "open_time": iso(spec.open_time),
        "close_time": iso(spec.close_time),
        "known_at": None,
        "resolution": "yes",
        "scoring_mode": "continuous",
    }
    return {"question": question, "forecasts": forecasts}


def _timed(fn, repeat: int) -> tuple[float, float]:
    """Best (CPU seconds of this process, wall seconds) over ``repeat`` runs. CPU time is the
    figure to compare: on a shared machine the wall time also counts waiting for a core."""
    best_cpu = best_wall = math.inf
    for _ in range(repeat):
        c = time.process_time()
        t = time.perf_counter()
        fn()
        best_wall = min(best_wall, time.perf_counter() - t)
        best_cpu = min(best_cpu, time.process_time() - c)
    return best_cpu, best_wall


def growth_table(sizes: list[int], seed: int = 0, numeric_sizes: tuple[int, ...] = ()) -> dict:
    """Engine seconds for one question per size and type, and the score_json document timing."""
    rows = []
    kinds = ["binary", "multiple_choice_4"] + (["numeric"] if numeric_sizes else [])
    for n in sizes:
        row = {"forecasters": n, "forecasts": 5 * n}
        for kind in kinds:
            if kind == "numeric":
                if n not in numeric_sizes:
                    continue
                spec, fs = make_numeric_question(n, seed=seed)
                methods = None  # the continuous aggregates
            else:
                spec, fs = make_crowd_question(n, 2 if kind == "binary" else 4, seed=seed)
                methods = AGGREGATES
            cpu, wall = _timed(
                lambda spec=spec, fs=fs, m=methods: score_question(spec, fs, crowd_methods=m),
                3 if n <= 10_000 and kind != "numeric" else 1,
            )
            row[f"{kind}_cpu_seconds"] = round(cpu, 3)
            row[f"{kind}_wall_seconds"] = round(wall, 3)
        rows.append(row)
    print("growth: one question, N forecasters x 5 forecasts, all scores + 4 crowd aggregates")
    print("        (CPU seconds of the engine; wall seconds in brackets; x prev: CPU time ratio to the row above)")
    if numeric_sizes:
        print("        numeric: 201-point CDFs, all scores + the 3 continuous crowd aggregates")
    labels = {"binary": "binary", "multiple_choice_4": "4-option", "numeric": "numeric"}
    print(f"  {'forecasters':>11} {'forecasts':>10}" + "".join(f" {labels[k]:>18} {'x prev':>7}" for k in kinds))
    for i, r in enumerate(rows):
        cells = []
        for kind in kinds:
            if kind + "_cpu_seconds" not in r:
                cells.append(f"{'-':>18} {'-':>7}")
                continue
            ratio = "-"
            if i and kind + "_cpu_seconds" in rows[i - 1]:
                ratio = f"{r[kind + '_cpu_seconds'] / max(rows[i - 1][kind + '_cpu_seconds'], 1e-9):.1f}"
            cells.append(f"{r[kind + '_cpu_seconds']:>8.3f} ({r[kind + '_wall_seconds']:>7.3f}) {ratio:>7}")
        print(f"  {r['forecasters']:>11,} {r['forecasts']:>10,} " + " ".join(cells))
    # score_json: the document's text to the printed result, as manage.py score_json does
    text = json.dumps(crowd_document(10_000, seed=seed))
    t = time.perf_counter()
    doc = json.loads(text)
    t_parse = time.perf_counter() - t
    result = score_json_document(doc)
    t_score = time.perf_counter() - t - t_parse
    json.dumps(result, allow_nan=False)
    total = time.perf_counter() - t
    print(
        f"score_json, 50,000-forecast document (10,000 forecasters, binary, {len(text) / 1e6:.1f} MB):"
        f" {total:.2f} s (json.loads {t_parse:.2f} s, validation + scoring {t_score:.2f} s)"
    )
    return {
        "engine_growth": rows,
        "score_json_50k_forecasts_seconds": round(total, 3),
        "score_json_50k_forecasts_scoring_seconds": round(t_score, 3),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--questions", type=int, default=1000)
    ap.add_argument("--forecasts", type=int, default=1_000_000)
    ap.add_argument("--reference-sample", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=1, help="engine processes (the reference always runs in one)")
    ap.add_argument("--json", type=Path, default=None, help="merge the figures into this JSON file")
    ap.add_argument(
        "--growth-sizes",
        default="1000,10000,100000",
        help="forecasters per question in the growth table (comma-separated)",
    )
    ap.add_argument(
        "--numeric-sizes",
        default="1000,10000",
        help="growth-table sizes that also time a numeric question (comma-separated; empty for none)",
    )
    ap.add_argument("--no-growth", action="store_true", help="skip the growth table")
    ap.add_argument("--growth-only", action="store_true", help="only the growth table")
    args = ap.parse_args(argv)
    numeric = tuple(int(x) for x in args.numeric_sizes.split(",") if x)

    if args.growth_only:
        figures = growth_table([int(x) for x in args.growth_sizes.split(",") if x], args.seed, numeric)
        if args.json:
            merge_results(figures, args.json)
        return 0

    t = time.perf_counter()
    data = make_dataset(args.questions, args.forecasts, args.seed)
    gen_s = time.perf_counter() - t
    n_total = sum(len(fs.user) for _, fs in data)

    t = time.perf_counter()
    cpu = time.process_time()
    with RecencyTimer() as recency:
        results = score_all(data, args.workers)
    engine_cpu_s = time.process_time() - cpu
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
        # one process: CPU seconds of the engine and of its recency-weighted median
        "engine_cpu_seconds": round(engine_cpu_s, 3) if args.workers <= 1 else None,
        "engine_recency_median_cpu_seconds": round(recency.seconds, 3) if args.workers <= 1 else None,
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
    if args.workers <= 1:
        print(
            f"           CPU {engine_cpu_s:.2f} s, of which the recency-weighted median {recency.seconds:.2f} s"
            f" ({recency.seconds / max(engine_cpu_s, 1e-9):.0%}, {recency.calls} calls)"
        )
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
    if not args.no_growth:
        figures.update(growth_table([int(x) for x in args.growth_sizes.split(",") if x], args.seed, numeric))
    if args.json:
        merge_results(figures, args.json)
    return 0 if worst <= TOL else 1


if __name__ == "__main__":
    sys.exit(main())
