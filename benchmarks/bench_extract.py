"""Time the article extractor: load + extract, milliseconds per article.

    python benchmarks/bench_extract.py [--runs N]

Measures the seed article (shared/seed/article.txt beside the repository,
skipped if absent) and a synthetic 20,000-character article built here from
fixed templates, so the figure is reproducible. The target is under one
second per 20,000-character article.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from questions.extraction import extract_candidates, load_document  # noqa: E402

SEED = ROOT / ".." / "shared" / "seed" / "article.txt"

_PLACES = ["Norland", "Vessia", "Karuun", "Old Mesa", "Talvik", "Ostrava Bay", "Pellin", "Rudna"]
_TEMPLATES = [
    "The government of {a} signed a trade agreement with {b} in {y}, after two years of talks.",
    "It remains to be seen whether {a} will ratify the water treaty with {b} before the election.",
    "Officials in {a} proposed the creation of a joint border commission with {b}.",
    "If {a} deploys troops to the frontier, this would show a break with its policy of restraint.",
    "Does the new pipeline give {a} leverage over {b} in the winter months?",
    "Exports from {a} to {b} rose by a tenth last year, according to the statistics office.",
    "The parliament of {a} is expected to vote on the budget for {y} in the spring.",
    "Analysts in {b} say the relationship with {a} has rarely been so calm.",
]


def synthetic_article(target_chars: int = 20_000) -> bytes:
    parts = ["A Synthetic Regional Review", ""]
    paragraph: list[str] = []
    i = 0
    size = 0
    while size < target_chars:
        a, b = _PLACES[i % len(_PLACES)], _PLACES[(i * 3 + 1) % len(_PLACES)]
        sentence = _TEMPLATES[i % len(_TEMPLATES)].format(a=a, b=b, y=2020 + i % 6)
        paragraph.append(sentence)
        size += len(sentence) + 1
        if len(paragraph) == 5:
            parts.append(" ".join(paragraph))
            parts.append("")
            paragraph = []
        if i % 60 == 59:
            parts.extend(["What to Watch", ""])
        i += 1
    if paragraph:
        parts.append(" ".join(paragraph))
    return "\n".join(parts)[:target_chars].encode("utf-8")


def _time(data: bytes, runs: int) -> tuple[float, int]:
    timings = []
    count = 0
    for _ in range(runs):
        t0 = time.perf_counter()
        cands = extract_candidates(load_document(data))
        timings.append((time.perf_counter() - t0) * 1000)
        count = len(cands)
    return statistics.median(timings), count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    cases = []
    if SEED.is_file():
        cases.append(("seed article", SEED.read_bytes()))
    else:
        print(f"seed article not found at {SEED.resolve()}; skipping it")
    cases.append(("synthetic 20,000 chars", synthetic_article()))
    for name, data in cases:
        ms, count = _time(data, args.runs)
        chars = len(data.decode("utf-8"))
        print(f"{name}: {chars} chars, {count} candidates, {ms:.1f} ms per article (median of {args.runs})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
