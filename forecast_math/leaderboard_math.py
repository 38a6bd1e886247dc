"""Leaderboard arithmetic (scoring.md section 5): ranks with ties, bootstrap
intervals and per-user aggregation over the questions of a scope."""

from __future__ import annotations

import functools
import math
import os
import threading
from collections.abc import Callable, Sequence
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


#: replicate means computed at once (users x replicates) in bootstrap_mean_intervals; smaller
#: blocks (_BLOCK_MANY) for samples of 8 values or more, whose pairwise sum keeps eight arrays of
#: running sums: so that a block's arrays stay in the processor's cache (measured here: 500,000
#: took about twice the time for fewer than 8 values, four times for 8 or more)
_BLOCK = 150_000
_BLOCK_MANY = 60_000
#: values below this in magnitude have finite sums of up to 2,000,000 terms
_FINITE_SUMS = 1e300
#: threads sharing bootstrap_mean_intervals' blocks
_THREADS = min(4, os.cpu_count() or 1)


def _pairwise_sum(column, lo: int, hi: int, addend=None) -> np.ndarray:
    """The sum of the vectors column(lo) ... column(hi - 1), added in the order NumPy's pairwise
    summation adds the elements of one contiguous row (eight running sums, then pairs of halves
    beyond 128 elements): so each element of the result is, bit for bit, the row sum NumPy gives,
    while the additions run over whole vectors of rows. column(i) must return a new array (it
    is added to in place); addend(i), when given, the same vector, which may be a buffer that the
    next call overwrites (it is only added to a running sum)."""
    add = addend or column
    n = hi - lo
    if n < 8:
        res = column(lo)
        for i in range(lo + 1, hi):
            res += add(i)
        return res
    if n <= 128:
        r = [column(lo + k) for k in range(8)]
        i = lo + 8
        while i < hi - n % 8:
            for k in range(8):
                r[k] += add(i + k)
            i += 8
        for a, b in ((0, 1), (2, 3), (4, 5), (6, 7), (0, 2), (4, 6), (0, 4)):  # ((r0 + r1) + (r2 + r3)) + ...
            r[a] += r[b]
        res = r[0]
        for j in range(i, hi):
            res += add(j)
        return res
    half = n // 2
    half -= half % 8
    res = _pairwise_sum(column, lo, lo + half, addend)
    res += _pairwise_sum(column, lo + half, hi, addend)
    return res


class _Workspace:
    """Arrays kept from one block to the next, one set per thread: a block's large arrays would
    otherwise be new memory every time (the allocator maps and unmaps them: a page fault for
    every 4 KiB, about half the time of a small sample's bootstrap). One array per name, made
    anew only when the shape changes (from one group of sample sizes to the next)."""

    def __init__(self) -> None:
        self._local = threading.local()

    def get(self, name, shape: tuple[int, ...], dtype=np.float64) -> np.ndarray:
        arrays = self._local.__dict__.setdefault("arrays", {})
        arr = arrays.get(name)
        if arr is None or arr.shape != shape or arr.dtype != dtype:
            arr = arrays[name] = np.empty(shape, dtype=dtype)
        return arr


#: how far (in standard errors of the mean) from a sample's mean the tails' candidates start
_TAIL_Z = 1.5
#: the most candidates of one tail taken (a column with more, or too few, takes np.quantile)
_TAIL_CAP = 512


def _lerp(a: np.ndarray, b: np.ndarray, t: np.float64) -> np.ndarray:
    """NumPy's linear interpolation of np.quantile's default method (numpy.lib's _lerp), with the
    same operations in the same order, for one scalar weight t."""
    d = b - a
    return b - d * (1 - t) if t >= 0.5 else a + d * t


def _tail_pair(x: np.ndarray, thresholds: np.ndarray, k: int, upper: bool, mask: np.ndarray | None = None):
    """The k-th and (k+1)-th smallest value of each row of x (0-based; with upper, the k-th and
    (k+1)-th largest), taken among the row's values at or beyond its threshold (<= for the low
    tail, >= for the high one): exactly the row's own order statistics when it has more than k+1
    such values, since they are its smallest (largest) values, ties and all. Returns the two
    values and whether each row qualified (it did not when it had too few or more than
    _TAIL_CAP). `mask`: an array of x's shape (bool) to use, or None."""
    users, count = x.shape
    mask = (np.greater_equal if upper else np.less_equal)(x, thresholds[:, None], out=mask)
    counts = np.count_nonzero(mask, axis=1)
    ok = (counts > k + 1) & (counts <= _TAIL_CAP)
    flat = np.flatnonzero(mask)
    vals = x.reshape(-1)[flat]
    if upper:
        vals = -vals  # the largest of x are the smallest of -x (negation is exact)
    width = int(counts[ok].max()) if ok.any() else k + 2
    starts = np.cumsum(counts) - counts
    pos = np.arange(flat.size) - np.repeat(starts, counts)
    keep = pos < width
    cand = np.full((users, width), np.inf)
    cand[(flat // count)[keep], pos[keep]] = vals[keep]
    cand.partition([k, k + 1], axis=1)
    first, second = cand[:, k], cand[:, k + 1]
    return ((-first, -second) if upper else (first, second)), ok


def quantile_pair(
    means: np.ndarray, alpha: float, center: np.ndarray, spread: np.ndarray, work: _Workspace | None = None
) -> np.ndarray:
    """np.quantile(means, [alpha, 1 - alpha], axis=0) of a (replicates x users) matrix of finite
    values, bit for bit (tests/forecast_math checks it against NumPy), without partitioning every
    column whole: the two order statistics each quantile interpolates are those of the column's
    values beyond a threshold (_tail_pair), a column's `center` -+ _TAIL_Z `spread` (its sample's
    mean and the standard error of that mean: the bootstrap means' own centre and spread, about).
    The threshold only decides how much work a column takes: a column whose tail holds too few
    values or too many (ties, a skewed sample) takes np.quantile, as does one whose order
    statistics are zeros (+0.0 and -0.0 compare equal: which one np.quantile gives depends on
    its partition; any other tied values are the same bits). `work`: where its large arrays
    are kept between calls (none: new ones)."""
    reps, users = means.shape
    q = np.asanyarray([alpha, 1.0 - alpha])
    virtual = (reps - 1) * q  # np.quantile's "linear" method: its virtual indexes and weights
    prev = np.floor(virtual)
    gamma = virtual - prev
    lo, hi = int(prev[0]), int(prev[1])
    if not (lo >= 0 and lo + 1 < hi and hi + 1 <= reps - 1) or max(lo, reps - 2 - hi) + 2 > _TAIL_CAP // 2:
        return np.quantile(means, [alpha, 1.0 - alpha], axis=0, overwrite_input=True)
    if work is None:
        x, mask = np.ascontiguousarray(means.T), None  # (users, replicates): a column's values in a row
    else:
        x, mask = work.get("x", (users, reps)), work.get("mask", (users, reps), bool)
        np.copyto(x, means.T)
    with np.errstate(invalid="ignore", over="ignore"):
        (lo_a, lo_b), ok_lo = _tail_pair(x, center - _TAIL_Z * spread, lo, False, mask)
        (hi_b, hi_a), ok_hi = _tail_pair(x, center + _TAIL_Z * spread, reps - 2 - hi, True, mask)
        out = np.stack([_lerp(lo_a, lo_b, gamma[0]), _lerp(hi_a, hi_b, gamma[1])])
    # a zero among the order statistics: +0.0 or -0.0, as np.quantile's partition leaves them
    zero = (lo_a == 0) | (lo_b == 0) | (hi_a == 0) | (hi_b == 0)
    bad = np.flatnonzero(~(ok_lo & ok_hi) | zero)
    if bad.size:
        out[:, bad] = np.quantile(means[:, bad], [alpha, 1.0 - alpha], axis=0, overwrite_input=True)
    return out


#: samples of at most this many values are resampled by their distinct index tuples (n**n of them
#: at most: 256 for 4 values, fewer than the replicates)
_DISTINCT_MAX = 4


@functools.lru_cache(maxsize=64)
def _distinct_resamples(n: int, replicates: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct rows of _resample_indices(n, replicates, seed) (a replicate's tuple of n
    indices), transposed (n x tuples), how many replicates draw each, and which each replicate
    draws."""
    rows, inverse, counts = np.unique(
        _resample_indices(n, replicates, seed), axis=0, return_inverse=True, return_counts=True
    )
    out = (np.ascontiguousarray(rows.T), counts, inverse.reshape(-1))
    for arr in out:
        arr.flags.writeable = False
    return out


def _quantile_pair_of_counted(values: np.ndarray, counts: np.ndarray, inverse: np.ndarray, alpha: float) -> np.ndarray:
    """np.quantile(values[inverse], [alpha, 1 - alpha], axis=0), each column of values[inverse]
    (replicates x users) holding values[t] counts[t] times: the order statistics of that multiset
    found on the distinct values, sorted with their counts, and interpolated as np.quantile does
    (_lerp), bit for bit. A column whose order statistics are zeros, where +0.0 and -0.0 compare
    equal but differ, takes np.quantile (which of them it picks depends on its partition)."""
    reps = int(counts.sum())
    q = np.asanyarray([alpha, 1.0 - alpha])
    virtual = (reps - 1) * q
    prev = np.floor(virtual)
    gamma = virtual - prev
    lo, hi = int(prev[0]), int(prev[1])
    if not (lo >= 0 and hi + 1 <= reps - 1):
        return np.quantile(values[inverse], [alpha, 1.0 - alpha], axis=0)
    x = np.ascontiguousarray(values.T)  # (users, tuples)
    order = np.argsort(x, axis=1)
    cum = np.cumsum(counts[order], axis=1)  # replicates at or below each sorted value
    rows = np.arange(x.shape[0])

    def stat(k: int) -> np.ndarray:  # the k-th smallest (0-based) of each column's multiset
        return x[rows, order[rows, np.count_nonzero(cum <= k, axis=1)]]

    stats = [stat(lo), stat(lo + 1), stat(hi), stat(hi + 1)]
    out = np.stack([_lerp(stats[0], stats[1], gamma[0]), _lerp(stats[2], stats[3], gamma[1])])
    zero = np.flatnonzero(np.logical_or.reduce([s == 0 for s in stats]))
    if zero.size:
        out[:, zero] = np.quantile(values[inverse][:, zero], [alpha, 1.0 - alpha], axis=0)
    return out


def bootstrap_mean_intervals(
    samples, *, replicates: int = 1999, seed: int = 0, level: float = 0.95, threads: int | None = None
) -> list[tuple[float, float]]:
    """bootstrap_mean_interval of each of many samples (one per user): the same numbers, bit for
    bit (tests/forecast_math checks it), a few times faster.

    The samples with the same number of values (after dropping NaN) share their resampling
    indices, as bootstrap_mean_interval's cache already makes them, so a block of such users is
    resampled at once: the replicate means summed index column by index column over (users x
    replicates) vectors, in the row order of NumPy's mean (_pairwise_sum), and the quantiles taken
    from each column's tails (quantile_pair). A sample of at most _DISTINCT_MAX values has fewer
    distinct index tuples than replicates: their means are computed once each and the quantiles
    taken on them weighted by their counts (the same multiset of replicate means). `threads`: how many threads share the blocks (default: up to 4, one per core;
    1 where other processes already share the work)."""
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
        per_block = max(1, (_BLOCK if n < 8 else _BLOCK_MANY) // replicates)
        blocks += [(members[a : a + per_block], idx_t) for a in range(0, len(members), per_block)]

    work = _Workspace()

    def run(block: list[int], idx_t: np.ndarray) -> None:
        n = idx_t.shape[0]
        v = np.stack([vals[i] for i in block], axis=1)  # (n, users): a gather of whole rows
        finite = bool(np.isfinite(v).all() and np.abs(v).max() < _FINITE_SUMS)  # no sum overflows
        if n <= _DISTINCT_MAX and finite:
            # a replicate's mean depends only on its tuple of indices: each distinct tuple's mean,
            # summed as the replicates' are (in index order, n < 8), then weighted by its count
            tuples_t, counts, inverse = _distinct_resamples(n, replicates, seed)
            means = _pairwise_sum(lambda j: v[tuples_t[j]], 0, n)  # (tuples, users)
            means /= n
            bounds = _quantile_pair_of_counted(means, counts, inverse, alpha)
            for j, i in enumerate(block):
                out[i] = (float(bounds[0, j]), float(bounds[1, j]))
            return
        shape = (idx_t.shape[1], len(block))
        buf = work.get("addend", shape)
        if n <= 128:  # column(j) is called for j < 8 only, each once: its running sum, kept by slot
            column = lambda j: np.take(v, idx_t[j], axis=0, out=work.get(j, shape), mode="clip")  # noqa: E731
        else:  # halves summed apart: new arrays (the crowd's long samples; few users)
            column = lambda j: np.take(v, idx_t[j], axis=0)  # noqa: E731
        # (replicates, users); np.take: v[idx_t[j]] into arrays of the workspace
        means = _pairwise_sum(column, 0, n, lambda j: np.take(v, idx_t[j], axis=0, out=buf, mode="clip"))
        means /= n
        if finite:
            bounds = quantile_pair(means, alpha, v.mean(axis=0), v.std(axis=0) / math.sqrt(n), work)
        else:
            bounds = np.quantile(means, [alpha, 1.0 - alpha], axis=0, overwrite_input=True)
        for j, i in enumerate(block):
            out[i] = (float(bounds[0, j]), float(bounds[1, j]))

    # NumPy's gathers, additions and partitions release the GIL: a large board's blocks run on
    # the machine's cores (each block fills its own users' slots, so the numbers do not depend
    # on the threads)
    threads = min(_THREADS if threads is None else max(1, threads), len(blocks))
    if threads > 1:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda b: run(*b), blocks))
    else:
        for b in blocks:
            run(*b)
    return out


def bootstrap_parts(samples: Sequence, parts: int) -> list[list[int]]:
    """The indices of `samples` dealt into `parts` lists of about equal bootstrap work (the work of
    a sample grows with its number of values), each list in increasing order. Each sample's
    interval depends only on its own values, the replicates and the seed (bootstrap_mean_intervals
    gives every sample the numbers bootstrap_mean_interval gives it alone), so the parts can be
    computed anywhere, in any order, and put back together by these indices."""
    parts = max(1, int(parts))
    order = sorted(range(len(samples)), key=lambda i: len(samples[i]))
    return [sorted(order[k::parts]) for k in range(parts)]


def samples_pack(samples: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """Many samples as one float64 array and their lengths (cheap to send to another process)."""
    lengths = np.fromiter((len(v) for v in samples), dtype=np.int64, count=len(samples))
    flat = np.concatenate([np.asarray(v, dtype=np.float64).reshape(-1) for v in samples]) if len(samples) else None
    return (np.zeros(0) if flat is None else flat), lengths


def samples_unpack(flat: np.ndarray, lengths: np.ndarray) -> list[np.ndarray]:
    """samples_pack's inverse."""
    return np.split(flat, np.cumsum(lengths)[:-1]) if len(lengths) else []


#: the signature of bootstrap_mean_intervals, as build_leaderboard calls it (its `intervals`)
Intervals = Callable[..., list[tuple[float, float]]]


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
    intervals: Intervals | None = None,
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

    The intervals of every entry of several questions (relative Brier and Brier, together) come
    from one call ``intervals(samples, replicates=replicates, seed=seed)``, by default
    bootstrap_mean_intervals; a caller may pass a function that shares the samples among processes
    (bootstrap_parts), which must give the same numbers.
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
        # both families in one call (each sample's interval is its own: the same numbers as two
        # calls), so that an `intervals` sharing the work among processes gets all of it at once
        run = bootstrap_mean_intervals if intervals is None else intervals
        cis = run([r for _, r, _ in resampled] + [b for _, _, b in resampled], replicates=replicates, seed=seed)
        rel_ci, bm_ci = cis[: len(resampled)], cis[len(resampled) :]
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
