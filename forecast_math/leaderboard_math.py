"""Leaderboard arithmetic (scoring.md section 5): ranks with ties, bootstrap
intervals and per-user aggregation over the questions of a scope."""

from __future__ import annotations

import functools
import math
import os
from concurrent.futures import ThreadPoolExecutor

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


#: replicate means computed at once (users x replicates) in bootstrap_mean_intervals
_BLOCK = 500_000
#: threads sharing bootstrap_mean_intervals' blocks
_THREADS = min(4, os.cpu_count() or 1)


def _pairwise_sum(column, lo: int, hi: int) -> np.ndarray:
    """The sum of the vectors column(lo) ... column(hi - 1), added in the order NumPy's pairwise
    summation adds the elements of one contiguous row (eight running sums, then pairs of halves
    beyond 128 elements): so each element of the result is, bit for bit, the row sum NumPy gives,
    while the additions run over whole vectors of rows. column(i) must return a new array (it
    is added to in place)."""
    n = hi - lo
    if n < 8:
        res = column(lo)
        for i in range(lo + 1, hi):
            res += column(i)
        return res
    if n <= 128:
        r = [column(lo + k) for k in range(8)]
        i = lo + 8
        while i < hi - n % 8:
            for k in range(8):
                r[k] += column(i + k)
            i += 8
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        for j in range(i, hi):
            res += column(j)
        return res
    half = n // 2
    half -= half % 8
    return _pairwise_sum(column, lo, lo + half) + _pairwise_sum(column, lo + half, hi)


def bootstrap_mean_intervals(
    samples, *, replicates: int = 1999, seed: int = 0, level: float = 0.95
) -> list[tuple[float, float]]:
    """bootstrap_mean_interval of each of many samples (one per user): the same numbers, bit for
    bit (tests/forecast_math checks it), a few times faster.

    The samples with the same number of values (after dropping NaN) share their resampling
    indices, as bootstrap_mean_interval's cache already makes them, so a block of such users is
    resampled at once: the replicate means summed index column by index column over (users x
    replicates) vectors, in the row order of NumPy's mean (_pairwise_sum), and the quantiles taken
    along one axis."""
    vals = [np.asarray(v, dtype=np.float64).reshape(-1) for v in samples]
    vals = [v[~np.isnan(v)] for v in vals]
    out: list[tuple[float, float]] = [(math.nan, math.nan)] * len(vals)
    by_n: dict[int, list[int]] = {}
    for i, v in enumerate(vals):
        if v.size == 1:
            out[i] = (float(v[0]), float(v[0]))
        elif v.size > 1:
            by_n.setdefault(v.size, []).append(i)
    alpha = (1.0 - level) / 2.0
    blocks: list[tuple[list[int], np.ndarray]] = []
    for n, members in by_n.items():
        if max(1, 2_000_000 // n) < replicates:  # bootstrap_mean_interval draws these in steps
            for i in members:
                out[i] = bootstrap_mean_interval(vals[i], replicates=replicates, seed=seed, level=level)
            continue
        idx_t = np.ascontiguousarray(_resample_indices(n, replicates, seed).T)  # (n, replicates)
        per_block = max(1, _BLOCK // replicates)
        blocks += [(members[a : a + per_block], idx_t) for a in range(0, len(members), per_block)]

    def run(block: list[int], idx_t: np.ndarray) -> None:
        n = idx_t.shape[0]
        v = np.stack([vals[i] for i in block], axis=1)  # (n, users): a gather of whole rows
        means = _pairwise_sum(lambda j: v[idx_t[j]], 0, n)  # (replicates, users)
        means /= n
        bounds = np.quantile(means, [alpha, 1.0 - alpha], axis=0, overwrite_input=True)
        for j, i in enumerate(block):
            out[i] = (float(bounds[0, j]), float(bounds[1, j]))

    # NumPy's gathers, additions and partitions release the GIL: a large board's blocks run on
    # the machine's cores (each block fills its own users' slots, so the numbers do not depend
    # on the threads)
    threads = min(_THREADS, len(blocks))
    if threads > 1:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda b: run(*b), blocks))
    else:
        for b in blocks:
            run(*b)
    return out


def _nanmean(x: np.ndarray) -> float:
    x = x[~np.isnan(x)]
    return float(x.mean()) if x.size else math.nan


def _several_questions(
    several: list[tuple[dict, int]], cols: dict[str, np.ndarray], order: np.ndarray, has_crps: bool, resampled
) -> None:
    """The figures of the entries of several questions, filled in place: the users with the same
    number n of rows at once, as (users x n) matrices. A row's sum skips NaN as np.nansum does
    (the same pairwise sum of the row with NaN as 0); a mean is over the row's values without
    NaN, which that sum divided by their count gives exactly below 8 values (NumPy adds fewer
    than 8 values one by one, and adding 0 changes nothing) or without NaN; a row of 8 or more
    values with NaN takes _nanmean. `resampled` (when not None) gets each entry's relative Brier
    and Brier values for the bootstrap."""
    groups: dict[int, list[tuple[dict, int]]] = {}
    for ent, s in several:
        groups.setdefault(ent["n_questions"], []).append((ent, s))
    for n, group in groups.items():
        rows = order[np.array([s for _, s in group])[:, None] + np.arange(n)]  # (users, n)
        sums, means, counts, mats = {}, {}, {}, {}
        for name, col in cols.items():
            m = mats[name] = col[rows]
            missing = np.isnan(m)
            sums[name] = np.where(missing, 0.0, m).sum(axis=1)
            counts[name] = n - missing.sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = sums[name] / counts[name]  # 0 / 0: NaN, the mean of no value
            if n >= 8:
                for j in np.flatnonzero((counts[name] < n) & (counts[name] > 0)).tolist():
                    mean[j] = _nanmean(m[j])
            means[name] = mean.tolist()
        sums = {name: v.tolist() for name, v in sums.items()}
        n_crps = counts["relative_crps"].tolist() if has_crps else None
        for j, (ent, _) in enumerate(group):
            ent["sum_relative_brier"] = sums["relative_brier"][j]
            ent["mean_relative_brier"] = means["relative_brier"][j]
            ent["mean_brier"] = means["brier_mean"][j]
            ent["mean_participation"] = means["participation"][j]
            ent["sum_baseline"] = sums["baseline"][j]
            ent["sum_peer"] = sums["peer"][j]
            ent.update(n_crps_questions=0, sum_relative_crps=0.0, mean_relative_crps=math.nan)
            if n_crps and n_crps[j]:
                ent.update(
                    n_crps_questions=n_crps[j],
                    sum_relative_crps=sums["relative_crps"][j],
                    mean_relative_crps=means["relative_crps"][j],
                )
            if resampled is not None:
                resampled.append((ent, mats["relative_brier"][j], mats["brier_mean"][j]))


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
    several: list[tuple[dict, int]] = []  # entries of several questions, and their first sorted row
    resampled: list[tuple[dict, np.ndarray, np.ndarray]] = []  # their values for the bootstrap
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
            ent = {"user": int(us[s]), "n_questions": n_q}  # its figures: _several_questions, below
            several.append((ent, s))
            entries.append(ent)
        _several_questions(several, cols, order, has_crps, resampled if bootstrap else None)
    if resampled:
        kw = {"replicates": replicates, "seed": seed}
        rel_ci = bootstrap_mean_intervals([r for _, r, _ in resampled], **kw)
        bm_ci = bootstrap_mean_intervals([b for _, _, b in resampled], **kw)
        for (ent, _, _), rel, bm in zip(resampled, rel_ci, bm_ci, strict=True):
            ent["mean_relative_brier_ci"] = list(rel)
            ent["mean_brier_ci"] = list(bm)
    if not entries:
        return []
    keys = np.array([e[rank_by] for e in entries], dtype=np.float64)
    ranks = rank_with_ties(keys, ascending=RANK_KEYS[rank_by])
    for e, r in zip(entries, ranks, strict=True):
        e["rank"] = int(r)
    entries.sort(key=lambda e: (e["rank"], e["user"]))
    return entries
