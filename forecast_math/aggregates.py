"""Brier / log scores and crowd aggregates (scoring.md sections 2, 3 and 4).

Pure numpy, no Django.  Every function here works on whole arrays:

* ``brier`` is vectorised over forecast rows;
* the ``*_rows`` functions aggregate many snapshots at once: ``P`` has shape
  (snapshots, forecasters, K) with NaN in the slots of forecasters who have no
  standing forecast in that snapshot.

They are the definitions, used for single snapshots (``aggregate``) and by the
engine's dense path on small questions. On large questions the engine computes
the same aggregates for every segment without building snapshots: running
sums for the mean and the extremized crowds and order statistics for the median
(``sweep``), certified windows for the recency-weighted median (``recency``).
"""

from __future__ import annotations

import math

import numpy as np

SQRT3 = math.sqrt(3.0)

#: The four crowd aggregates of scoring.md section 4, default first.
AGGREGATES = ("median", "recency_weighted_median", "mean", "extremized_log_odds")
#: The aggregate published as "the crowd" and used as relative Brier's benchmark (scoring.md).
DEFAULT_AGGREGATE = "median"

#: Relative tolerance used by the weighted median to decide that the
#: cumulative weight is *exactly* one half (then the two middle values are
#: averaged, so equal weights give the ordinary median).
WEIGHTED_MEDIAN_RTOL = 1e-12


# --------------------------------------------------------------------------
# scores of single forecasts
# --------------------------------------------------------------------------
def brier(probs, outcome, ordered: bool = False) -> np.ndarray:
    """Two-sided Brier score on the 0..2 scale, vectorised over rows.

    ``probs`` has shape (..., K); ``outcome`` is an option index (int) or an
    integer array broadcastable to ``probs.shape[:-1]``.  With ``ordered`` the
    Good Judgment ordered-categorical rule is used: the mean over the K-1
    cumulative splits of the two-sided binary Brier of (F_j, O_j), which is
    (2 / (K-1)) * sum_j (F_j - O_j)^2 = 2 * RPS / (K - 1).
    """
    p = np.asarray(probs, dtype=np.float64)
    k = p.shape[-1]
    out = np.asarray(outcome)
    onehot = (np.arange(k) == out[..., None]).astype(np.float64)
    if ordered and k > 2:
        f = np.cumsum(p, axis=-1)[..., :-1]
        o = np.cumsum(onehot, axis=-1)[..., :-1]
        return (2.0 / (k - 1)) * np.sum((f - o) ** 2, axis=-1)
    # for K = 2 the ordered rule equals the plain rule exactly
    return np.sum((p - onehot) ** 2, axis=-1)


def instant_baseline(p_true, n_options: int) -> np.ndarray:
    """Metaculus-style baseline score 100 * ln(K p) / ln(K)."""
    p = np.asarray(p_true, dtype=np.float64)
    lk = math.log(n_options)
    return 100.0 * (lk + np.log(p)) / lk


# --------------------------------------------------------------------------
# row-wise helpers (NaN = missing)
# --------------------------------------------------------------------------
def row_median(x: np.ndarray) -> np.ndarray:
    """Median of each row ignoring NaN; NaN for rows with nothing present."""
    x = np.asarray(x, dtype=np.float64)
    s, m = x.shape
    if m == 0:
        return np.full(s, np.nan)
    n = np.count_nonzero(~np.isnan(x), axis=1)
    xs = np.sort(x, axis=1)  # NaN sorts last
    lo = np.maximum((n - 1) // 2, 0)
    hi = np.minimum(n // 2, m - 1)
    rows = np.arange(s)
    v = 0.5 * (xs[rows, lo] + xs[rows, hi])
    return np.where(n > 0, v, np.nan)


def _packed_order(keys: np.ndarray) -> np.ndarray:
    """Column order of each row sorted by non-negative integer ``keys`` (s, m), ties by column.

    Equivalent to ``np.argsort(keys, axis=1, kind="stable")``, several times faster: each key is
    packed with its column index into one int64 (key in the high bits, column in the low bits)
    and the packed values are sorted with NumPy's vectorised ``sort`` (which, unlike
    ``argsort``, runs as SIMD code). Keys must fit into 63 - bits(m) bits."""
    s, m = keys.shape
    bits = max(1, int(m).bit_length())
    packed = (keys.astype(np.int64) << bits) | np.arange(m, dtype=np.int64)
    packed.sort(axis=1)
    return packed & ((1 << bits) - 1)


def event_ranks(values: np.ndarray) -> np.ndarray:
    """Distinct ranks (0..n-1) of n values in ascending order, NaN last, ties by position.

    For events indexed into snapshots: ``event_ranks(v)[m]`` orders each snapshot as ``v[m]``."""
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    rank = np.empty(v.shape[0], dtype=np.int64)
    rank[np.argsort(v, kind="stable")] = np.arange(v.shape[0], dtype=np.int64)
    return rank


def row_weighted_median(x: np.ndarray, w: np.ndarray, ranks: np.ndarray | None = None) -> np.ndarray:
    """Weighted median of each row (NaN values are missing and must carry w=0).

    Definition (used identically by the reference implementation): sort the
    present values ascending, accumulate their weights c_1..c_n, total W.
    Let j be the first index with c_j >= W/2 (within 1e-12 W).  If c_j equals
    W/2 (within that tolerance) and a next value exists, the median is the
    mean of v_j and v_{j+1}; otherwise it is v_j.  With equal weights this is
    the ordinary median.

    ``ranks`` (optional, s x m non-negative ints) are keys ordered like ``x``
    (NaN highest), e.g. ``event_ranks`` of the events the snapshot is made
    of; with them the rows are sorted by the fast packed sort.
    """
    x = np.asarray(x, dtype=np.float64)
    s, m = x.shape
    if m == 0:
        return np.full(s, np.nan)
    present = ~np.isnan(x)
    n = np.count_nonzero(present, axis=1)
    w = np.where(present, w, 0.0)
    # the result depends only on the multiset of (value, weight) pairs, so the
    # order among equal values does not matter: use the fast unstable sort
    order = np.argsort(x, axis=1) if ranks is None else _packed_order(ranks)
    xs = np.take_along_axis(x, order, axis=1)
    ws = np.take_along_axis(w, order, axis=1)
    c = np.cumsum(ws, axis=1)
    tot = c[:, -1]
    half = 0.5 * tot
    eps = WEIGHTED_MEDIAN_RTOL * tot
    reached = c >= (half - eps)[:, None]
    j = np.argmax(reached, axis=1)
    rows = np.arange(s)
    cj = c[rows, j]
    nxt = np.minimum(j + 1, m - 1)
    tie = (np.abs(cj - half) <= eps) & (j + 1 < n)
    v = np.where(tie, 0.5 * (xs[rows, j] + xs[rows, nxt]), xs[rows, j])
    return np.where(n > 0, v, np.nan)


def recency_weights(made: np.ndarray, present: np.ndarray, made_ranks: np.ndarray | None = None) -> np.ndarray:
    """Metaculus recency weights per row.

    ``made`` (s, m): time each standing forecast was made; ``present`` (s, m)
    bool.  Within a row the present forecasts are ranked oldest first
    (ties in time broken by column order, i.e. by user id), i = 1..N, and
    weighted exp(sqrt(i) - sqrt(N)) when N > 2, equally otherwise.  Missing
    slots get weight 0.  ``made_ranks`` (optional, s x m non-negative ints)
    order the slots like ``made`` with ties broken by column (e.g. the rank of
    each event by time made, then user); with them the fast packed sort is used.
    """
    s, m = made.shape
    if made_ranks is None:
        key = np.where(present, made, np.inf)
        order = np.argsort(key, axis=1, kind="stable")
    else:
        order = _packed_order(np.where(present, made_ranks, np.iinfo(np.int32).max))
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.broadcast_to(np.arange(m), (s, m)), axis=1)
    n = np.count_nonzero(present, axis=1)
    w = np.exp(np.sqrt(rank + 1.0) - np.sqrt(n.astype(np.float64))[:, None])
    w = np.where((n > 2)[:, None], w, 1.0)
    return np.where(present, w, 0.0)


def renormalise(c: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return c / c.sum(axis=1, keepdims=True)


def aggregate_rows(
    P: np.ndarray,
    method: str,
    *,
    a: float = SQRT3,
    made: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    ranks: np.ndarray | None = None,
    normalise: bool = True,
) -> np.ndarray:
    """Aggregate many snapshots at once.

    ``P`` (s, m, K): standing forecasts, NaN rows for missing forecasters.
    ``made`` (s, m): when each was made (needed by the recency-weighted
    median unless ``weights`` are given).  ``ranks`` (s, m, K), optional:
    integer keys ordered like ``P`` per option (see ``row_weighted_median``),
    used by the recency-weighted median to sort fast.  Returns (s, K); rows
    with no forecaster present are NaN.  ``normalise=False`` leaves the
    per-option medians as they are (for CDF points, which are not a
    distribution over options; the extremized crowd always normalises).
    """
    P = np.asarray(P, dtype=np.float64)
    s, m, k = P.shape
    present = ~np.isnan(P[:, :, 0])
    n = np.count_nonzero(present, axis=1)
    empty = n == 0
    out = np.empty((s, k))
    if method == "median":
        for j in range(k):
            out[:, j] = row_median(P[:, :, j])
        if normalise:
            out = renormalise(out)
    elif method == "recency_weighted_median":
        if weights is None:
            if made is None:
                raise ValueError("recency_weighted_median needs the times the forecasts were made")
            weights = recency_weights(np.asarray(made, dtype=np.float64), present)
        for j in range(k):
            out[:, j] = row_weighted_median(P[:, :, j], weights, None if ranks is None else ranks[:, :, j])
        if normalise:
            out = renormalise(out)
    elif method == "mean":
        tot = np.where(present[:, :, None], P, 0.0).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = tot / n[:, None]
    elif method == "extremized_log_odds":
        # scoring.md's multiple-choice rule, normalise(exp(a * mean ln p_k)), for every K: for a
        # binary question (p, 1 - p) it is exactly sigmoid(a * mean logit p), and a two-option
        # multiple-choice question keeps its own second probability (which may differ from 1 - p1
        # by up to the 1e-6 sum tolerance) instead of having it replaced by 1 - p1.
        with np.errstate(invalid="ignore", divide="ignore"):
            lp = np.where(present[:, :, None], np.log(P), 0.0).sum(axis=1) / n[:, None]
            z = a * lp
            z = z - np.max(z, axis=1, keepdims=True)
            out = renormalise(np.exp(z))
    else:
        raise ValueError(f"unknown aggregate method {method!r}; expected one of {AGGREGATES}")
    out[empty] = np.nan
    return out


def aggregate(probs, made_at=None, method: str = "median", *, a: float = SQRT3) -> np.ndarray:
    """One crowd snapshot: aggregate N standing forecasts (N, K) into (K,).

    ``made_at`` (N,) is only used by ``recency_weighted_median`` (ties in
    time keep the given row order).  With N = 0 the result is all NaN.
    """
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2:
        raise ValueError("probs must have shape (N, K)")
    made = None if made_at is None else np.asarray(made_at, dtype=np.float64)[None, :]
    if made is None and method == "recency_weighted_median":
        made = np.arange(p.shape[0], dtype=np.float64)[None, :]
    return aggregate_rows(p[None, :, :], method, a=a, made=made)[0]
