"""Leaderboard arithmetic (scoring.md section 5): ranks with ties, bootstrap
intervals and per-user aggregation over the questions of a scope."""

from __future__ import annotations

import functools
import math

import numpy as np

TIE_TOL = 1e-9

#: rank keys and whether smaller is better
RANK_KEYS = {
    "sum_relative_brier": True,
    "mean_relative_brier": True,
    "mean_brier": True,
    "sum_baseline": False,
    "sum_peer": False,
    "mean_participation": False,
    "n_questions": False,
}


def rank_with_ties(keys, *, tol: float = TIE_TOL, ascending: bool = True) -> np.ndarray:
    """Competition ranks (1, 1, 3): values within ``tol`` of the first value
    of their tie group share its rank, the next rank skips.

    Groups are formed in sorted order, each starting at the best value not
    yet grouped and taking every value within ``tol`` of that start (no
    chaining).  NaN keys rank last, tied among themselves.
    """
    x = np.asarray(keys, dtype=np.float64).reshape(-1)
    n = x.size
    ranks = np.empty(n, dtype=np.int64)
    if n == 0:
        return ranks
    v = x if ascending else -x
    order = np.argsort(v, kind="stable")  # NaN last
    sv = v[order]
    start_val = math.nan
    start_rank = 0
    for pos in range(n):  # loop over users of one leaderboard, not a hot path
        cur = sv[pos]
        if math.isnan(cur):
            if pos == 0 or not math.isnan(sv[pos - 1]):
                start_rank = pos + 1
        elif pos == 0 or math.isnan(start_val) or cur - start_val > tol:
            start_val = cur
            start_rank = pos + 1
        ranks[order[pos]] = start_rank
    return ranks


@functools.lru_cache(maxsize=256)
def _resample_indices(n: int, replicates: int, seed: int) -> np.ndarray:
    idx = np.random.default_rng(seed).integers(0, n, size=(replicates, n))
    idx.flags.writeable = False
    return idx


def bootstrap_mean_interval(
    values, *, replicates: int = 1999, seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean (resampling with replacement).

    Reproducible: the same values, seed and replicates give the same interval.
    NaN values are dropped; no values gives (nan, nan).
    """
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    v = v[~np.isnan(v)]
    n = v.size
    if n == 0:
        return (math.nan, math.nan)
    if n == 1:
        return (float(v[0]), float(v[0]))
    step = max(1, 2_000_000 // n)
    if step >= replicates:
        # one block: the resampling indices depend only on (n, replicates, seed), so they are
        # drawn once and reused for every user with n values (the same numbers as drawing anew)
        means = v[_resample_indices(n, replicates, seed)].mean(axis=1)
    else:
        rng = np.random.default_rng(seed)
        means = np.empty(replicates)
        for a in range(0, replicates, step):
            b = min(replicates, a + step)
            idx = rng.integers(0, n, size=(b - a, n))
            means[a:b] = v[idx].mean(axis=1)
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(means, [alpha, 1.0 - alpha])
    return (float(lo), float(hi))


def _nanmean(x: np.ndarray) -> float:
    x = x[~np.isnan(x)]
    return float(x.mean()) if x.size else math.nan


def build_leaderboard(
    user,
    relative_brier,
    brier_mean,
    participation,
    baseline,
    peer,
    relative_crps=None,
    *,
    rank_by: str = "sum_relative_brier",
    min_questions: int = 1,
    bootstrap: bool = True,
    replicates: int = 1999,
    seed: int = 0,
) -> list[dict]:
    """Aggregate per-(user, question) score rows into leaderboard entries.

    All inputs are arrays with one element per scored (user, question) row.
    Returns entries sorted by rank (then user id), each with user, rank,
    n_questions, sum/mean relative_brier, mean_brier, mean_participation,
    sum_baseline, sum_peer and 95% bootstrap intervals of the means of
    relative_brier and brier_mean (``*_ci`` as [low, high]), and
    n_crps_questions, sum/mean relative_crps.

    Two accuracy families, never mixed: a numeric or date question's row has
    NaN ``relative_brier`` and ``brier_mean`` and its relative CRPS in
    ``relative_crps`` (optional; NaN on binary and multiple-choice rows).
    The Brier figures are over the rows with a relative Brier, the CRPS ones
    over the rows with a relative CRPS (n_crps_questions of them); an empty
    sum is 0 and an empty mean NaN. n_questions, mean_participation,
    sum_baseline and sum_peer are over every row. Ranks by the relative-Brier
    keys therefore ignore the CRPS rows (NaN keys rank last, tied).
    """
    if rank_by not in RANK_KEYS:
        raise ValueError(f"rank_by must be one of {sorted(RANK_KEYS)}")
    u = np.asarray(user, dtype=np.int64).reshape(-1)
    cols = {
        "relative_brier": np.asarray(relative_brier, dtype=np.float64).reshape(-1),
        "brier_mean": np.asarray(brier_mean, dtype=np.float64).reshape(-1),
        "participation": np.asarray(participation, dtype=np.float64).reshape(-1),
        "baseline": np.asarray(baseline, dtype=np.float64).reshape(-1),
        "peer": np.asarray(peer, dtype=np.float64).reshape(-1),
    }
    crps_col = None if relative_crps is None else np.asarray(relative_crps, dtype=np.float64).reshape(-1)
    has_crps = crps_col is not None and not np.isnan(crps_col).all()
    if has_crps:  # only then: a board of binary and multiple-choice questions does no CRPS work
        cols["relative_crps"] = crps_col
    entries = []
    if u.size:
        order = np.argsort(u, kind="stable")
        us = u[order]
        starts = np.flatnonzero(np.r_[True, us[1:] != us[:-1]])
        ends = np.r_[starts[1:], us.size]
        single = [] if min_questions > 1 else (ends - starts == 1).tolist()
        cl = {name: c[order].tolist() for name, c in cols.items()} if any(single) else {}
        for s, e, one in zip(starts.tolist(), ends.tolist(), single or [False] * len(starts), strict=True):
            n_q = e - s
            if one:  # one question (every entry of a question's board): the same numbers, no NumPy
                rel, bm = cl["relative_brier"][s], cl["brier_mean"][s]
                ent = {
                    "user": int(us[s]),
                    "n_questions": 1,
                    "sum_relative_brier": 0.0 if rel != rel else rel,
                    "mean_relative_brier": rel,
                    "mean_brier": bm,
                    "mean_participation": cl["participation"][s],
                    "sum_baseline": 0.0 if cl["baseline"][s] != cl["baseline"][s] else cl["baseline"][s],
                    "sum_peer": 0.0 if cl["peer"][s] != cl["peer"][s] else cl["peer"][s],
                }
                if bootstrap:
                    ent["mean_relative_brier_ci"] = [rel, rel]
                    ent["mean_brier_ci"] = [bm, bm]
                crps = cl["relative_crps"][s] if has_crps else math.nan
                ent["n_crps_questions"] = 0 if crps != crps else 1
                ent["sum_relative_crps"] = 0.0 if crps != crps else crps
                ent["mean_relative_crps"] = crps
                entries.append(ent)
                continue
            if n_q < min_questions:
                continue
            sel = order[s:e]
            rel = cols["relative_brier"][sel]
            bm = cols["brier_mean"][sel]
            ent = {
                "user": int(us[s]),
                "n_questions": n_q,
                "sum_relative_brier": float(np.nansum(rel)),
                "mean_relative_brier": _nanmean(rel),
                "mean_brier": _nanmean(bm),
                "mean_participation": _nanmean(cols["participation"][sel]),
                "sum_baseline": float(np.nansum(cols["baseline"][sel])),
                "sum_peer": float(np.nansum(cols["peer"][sel])),
            }
            if bootstrap:
                ent["mean_relative_brier_ci"] = list(bootstrap_mean_interval(rel, replicates=replicates, seed=seed))
                ent["mean_brier_ci"] = list(bootstrap_mean_interval(bm, replicates=replicates, seed=seed))
            ent.update(n_crps_questions=0, sum_relative_crps=0.0, mean_relative_crps=math.nan)
            if has_crps:
                crps = cols["relative_crps"][sel]
                n_crps = int(np.count_nonzero(~np.isnan(crps)))
                if n_crps:
                    ent.update(
                        n_crps_questions=n_crps,
                        sum_relative_crps=float(np.nansum(crps)),
                        mean_relative_crps=_nanmean(crps),
                    )
            entries.append(ent)
    if not entries:
        return []
    keys = np.array([e[rank_by] for e in entries], dtype=np.float64)
    ranks = rank_with_ties(keys, ascending=RANK_KEYS[rank_by])
    for e, r in zip(entries, ranks, strict=True):
        e["rank"] = int(r)
    entries.sort(key=lambda e: (e["rank"], e["user"]))
    return entries
