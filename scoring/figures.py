"""Leaderboard figures from stored Score rows (scoring.md section 5): the per-user sums, means and
bootstrap intervals, and ranks. Shared by the recompute (materialised rows) and the windowed
reads; the maths itself is forecast_math's."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from django.db.models import QuerySet

from forecast_math import DEFAULT_AGGREGATE, bootstrap_mean_interval, build_leaderboard, rank_with_ties
from questions.models import Question

from .models import Score

SCALE = "brier_0_2"
CROWD_METHOD = DEFAULT_AGGREGATE
KINDS = ("global", "series", "question")

#: API rank key -> (key of forecast_math.build_leaderboard, lower is better)
RANK_KEYS: dict[str, tuple[str, bool]] = {
    "relative_brier_sum": ("sum_relative_brier", True),
    "relative_brier_mean": ("mean_relative_brier", True),
    "brier_mean": ("mean_brier", True),
    "peer_sum": ("sum_peer", False),
    "baseline_sum": ("sum_baseline", False),
}

#: scope kind -> (default rank_by, default min_questions), scoring.md section 5
DEFAULTS: dict[str, tuple[str, int]] = {
    "global": ("relative_brier_mean", 10),
    "series": ("relative_brier_sum", 1),
    "question": ("relative_brier_sum", 1),
}

BOOTSTRAP_REPLICATES = 1999
BOOTSTRAP_SEED = 0
#: Score columns read for leaderboards, in the order columns() expects
SCORE_VALUES = (
    "user_id", "crowd_method", "relative_brier", "brier_mean", "participation", "baseline", "peer", "relative_crps",
)  # fmt: skip


def default_for_key(key: str) -> tuple[str, int]:
    return DEFAULTS[key.partition(":")[0]]


def scope_scores(key: str) -> QuerySet[Score]:
    # Ordered by question: the bootstrap resamples each user's values by position, so a fixed
    # order is what makes the seeded interval reproducible.
    qs = Score.objects.filter(question__state=Question.State.RESOLVED).order_by(
        "question_id", "user_id", "crowd_method"
    )
    if key == "global":
        return qs
    kind, _, obj_id = key.partition(":")
    return qs.filter(question__series_id=int(obj_id)) if kind == "series" else qs.filter(question_id=int(obj_id))


def none_if_nan(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def ci_pair(pair: Any) -> list[float] | None:
    if pair is None or any(v is None or math.isnan(v) for v in pair):
        return None
    return [float(pair[0]), float(pair[1])]


def columns(rows: list[tuple]) -> dict[str, np.ndarray]:
    """Score rows (as SCORE_VALUES tuples) into arrays; a null figure (brier_mean, or the Brier or
    CRPS family of a question of the other kind) becomes NaN."""
    n = len(rows)
    user = np.fromiter((r[0] or 0 for r in rows), dtype=np.int64, count=n)
    floats = {
        name: np.fromiter((np.nan if r[i] is None else r[i] for r in rows), dtype=np.float64, count=n)
        for i, name in (
            (2, "relative_brier"), (3, "brier_mean"), (4, "participation"), (5, "baseline"), (6, "peer"),
            (7, "relative_crps"),
        )
    }  # fmt: skip
    return {"user": user, **floats}


def aggregate_rows(rows: list[tuple], *, bootstrap: bool, intervals=None) -> list[dict]:
    """Per-user figures (engine keys) of the given Score rows, any number of questions.
    `intervals`: build_leaderboard's (how the bootstrap is run; the same numbers)."""
    if not rows:
        return []
    c = columns(rows)
    return build_leaderboard(
        c["user"], c["relative_brier"], c["brier_mean"], c["participation"], c["baseline"], c["peer"],
        c["relative_crps"], rank_by="sum_relative_brier", min_questions=1, bootstrap=bootstrap,
        replicates=BOOTSTRAP_REPLICATES, seed=BOOTSTRAP_SEED, intervals=intervals,
    )  # fmt: skip


def intervals(values_rel: np.ndarray, values_bm: np.ndarray) -> tuple[tuple[float, float], tuple[float, float]]:
    kw = {"replicates": BOOTSTRAP_REPLICATES, "seed": BOOTSTRAP_SEED}
    return bootstrap_mean_interval(values_rel, **kw), bootstrap_mean_interval(values_bm, **kw)


def figures(e: dict) -> dict:
    """API figures of an engine entry (forecast_math.build_leaderboard keys). The Brier family is
    over binary and multiple-choice questions, the CRPS family over numeric and date ones; an
    entry without a question of a family has its sum 0 and its mean (and interval) None."""
    return {
        "questions": int(e["n_questions"]),
        "relative_brier_sum": float(e["sum_relative_brier"]),
        "relative_brier_mean": none_if_nan(e["mean_relative_brier"]),
        "relative_brier_mean_ci": ci_pair(e.get("mean_relative_brier_ci")),
        "brier_mean": none_if_nan(e["mean_brier"]),
        "brier_mean_ci": ci_pair(e.get("mean_brier_ci")) if not math.isnan(e["mean_brier"]) else None,
        "participation_mean": float(e["mean_participation"]),
        "baseline_sum": float(e["sum_baseline"]),
        "peer_sum": float(e["sum_peer"]),
        "crps_questions": int(e["n_crps_questions"]),
        "relative_crps_sum": float(e["sum_relative_crps"]),
        "relative_crps_mean": none_if_nan(e["mean_relative_crps"]),
    }


#: a relative-Brier rank key -> the relative-CRPS figure (engine key, API key) it ranks by on a
#: board without a Brier question (a numeric or date question's own board, say)
CRPS_RANKS: dict[str, tuple[str, str]] = {
    "relative_brier_sum": ("sum_relative_crps", "relative_crps_sum"),
    "relative_brier_mean": ("mean_relative_crps", "relative_crps_mean"),
}


def rank_entries(entries: list[dict], api_key: str, field: str = "engine") -> np.ndarray:
    """Competition ranks of `entries` (engine entries, or with field="api" the API figures) by a
    RANK_KEYS key. When no entry has a Brier question (every question of the board is numeric or
    date), the relative-Brier keys rank by the relative CRPS instead (CRPS_RANKS): every relative
    Brier there is 0 (or null), which would tie everyone."""
    engine_key, lower_better = RANK_KEYS[api_key]
    name = engine_key if field == "engine" else api_key
    if api_key in CRPS_RANKS and entries:
        counts = ("n_questions", "n_crps_questions") if field == "engine" else ("questions", "crps_questions")
        if all(e[counts[0]] == e[counts[1]] for e in entries):
            name = CRPS_RANKS[api_key][0 if field == "engine" else 1]
    keys = np.array([np.nan if e[name] is None else e[name] for e in entries], dtype=np.float64)
    return rank_with_ties(keys, ascending=lower_better)
