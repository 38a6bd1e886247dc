"""Offline sweep primitives for the scoring engine (pure NumPy, no Python loop per forecast).

The engine turns a question into *segments* (the time intervals between consecutive changes of
anyone's standing forecast, numbered 0..S-1) and *items* (the standing forecasts, each active on
a half-open range of segments ``[a, b)``; ``b == S`` means it stands until the close). Everything
the scores need per segment is then one of:

* a running sum over the active items (count, sum of ln p, sum of p, ...): a prefix sum of +/-
  deltas, computed by :func:`running_sums` with a fixed-point accumulator so that the value after
  many additions and removals is as accurate as a fresh sum of the active items;
* an order statistic of the active items' values (the medians): :func:`kth_smallest` answers all
  "k-th smallest value among the items active in segment q" queries of a question at once with a
  wavelet-style descent over the bits of the value ranks. Each of the ``log2(items)`` levels is a
  handful of linear NumPy passes (a prefix count and a stable partition), so the total is
  O((items + queries) log items), with no per-forecast Python work.
"""

from __future__ import annotations

import numpy as np


# --------------------------------------------------------------------------
# accurate prefix sums
# --------------------------------------------------------------------------
def accurate_cumsum(x: np.ndarray) -> np.ndarray:
    """Inclusive prefix sums of ``x`` (float64), each within about one ulp of the exact value.

    ``np.cumsum`` accumulates rounding errors proportional to the largest partial sum seen so far,
    so the sum of a few active items after thousands of additions and removals can be far off.
    Here each value is split into a fixed-point integer part (summed exactly in int64) and a tiny
    remainder (summed in floating point): the error of every prefix is one rounding of its exact
    value plus a negligible term. Non-finite input falls back to ``np.cumsum``.

    A 2-d ``x`` (n, k) is summed down each column (axis 0), every column with its own scale, so
    that each column's result is the 1-d result of that column.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 2:
        return _accurate_cumsum_columns(x)
    x = x.reshape(-1)
    n = x.shape[0]
    if n == 0:
        return np.zeros(0)
    vmax = float(np.max(np.abs(x)))
    if not np.isfinite(vmax):
        return np.cumsum(x)
    if vmax == 0.0:
        return np.zeros(n)
    # scale so that |sum of any prefix| * 2**shift < 2**62
    return _fixed_point_cumsum(x, 61 - int(np.ceil(np.log2(vmax * n))) - 1)


def _fixed_point_cumsum(x: np.ndarray, shift) -> np.ndarray:
    """Prefix sums down axis 0 of ``x`` scaled by 2**shift (a number, or one per column): the
    integer parts summed exactly in int64, the remainders in floating point."""
    hi_f = np.rint(np.ldexp(x, shift))
    lo = x - np.ldexp(hi_f, -shift)  # exact
    hi = np.cumsum(hi_f.astype(np.int64), axis=0)
    return np.ldexp(hi.astype(np.float64), -shift) + np.cumsum(lo, axis=0)


def _accurate_cumsum_columns(x: np.ndarray) -> np.ndarray:
    n, k = x.shape
    if n == 0:
        return np.zeros((0, k))
    vmax = np.max(np.abs(x), axis=0)
    good = np.isfinite(vmax) & (vmax > 0.0)
    out = np.zeros((n, k))
    bad = np.flatnonzero(np.isinf(vmax) | np.isnan(vmax))
    for j in bad:  # the 1-d fallback, column by column
        out[:, j] = np.cumsum(x[:, j])
    cols = np.flatnonzero(good)
    if cols.shape[0]:
        with np.errstate(divide="ignore"):
            shift = (61 - np.ceil(np.log2(vmax[cols] * n)).astype(np.int64) - 1)[None, :]
        out[:, cols] = _fixed_point_cumsum(x[:, cols], shift)
    return out


#: columns summed together by running_sums (bounds the memory of one (changes, columns) block)
SUM_COLUMNS = 16


class Changes:
    """The insertions (at a) and removals (at b < n_seg) of items active on segments [a, b), in
    segment order: shared by the running sums and the order statistics of one set of items."""

    def __init__(self, a: np.ndarray, b: np.ndarray, n_seg: int):
        a = np.asarray(a, dtype=np.int64)
        b = np.asarray(b, dtype=np.int64)
        self.n_seg = n_seg
        m = a.shape[0]
        gone = np.flatnonzero(b < n_seg)
        seg = np.concatenate([a, b[gone]])
        order = np.argsort(seg, kind="stable")
        self.item = np.concatenate([np.arange(m, dtype=np.int64), gone])[order]
        self.removal = order >= m
        seg = seg[order]
        # changes up to and including each segment
        self.upto = np.searchsorted(seg, np.arange(n_seg), side="right")


def running_sums(ch: Changes, values: np.ndarray) -> np.ndarray:
    """Per segment, the sum of ``values`` over the items active in it (see :class:`Changes`).

    ``values`` is (m,) or (m, k); returns (n_seg,) or (n_seg, k)."""
    v = np.asarray(values, dtype=np.float64)
    flat = v.ndim == 1
    if flat:
        v = v[:, None]
    k = v.shape[1]
    out = np.zeros((ch.n_seg, k))
    if ch.item.shape[0] and ch.n_seg:
        has = ch.upto > 0
        last = ch.upto[has] - 1
        sign = np.where(ch.removal, -1, 1)
        if k > 2:
            # many columns (CDF points): blocks of columns at once, the same sums as one by one
            for j0 in range(0, k, SUM_COLUMNS):
                x = v[ch.item, j0 : j0 + SUM_COLUMNS]
                if np.isfinite(x).all():
                    out[has, j0 : j0 + SUM_COLUMNS] = accurate_cumsum(x * sign[:, None])[last]
                else:
                    for j in range(j0, min(k, j0 + SUM_COLUMNS)):
                        _running_column(out, v[ch.item, j], j, sign, has, last)
        else:
            for j in range(k):
                _running_column(out, v[ch.item, j], j, sign, has, last)
    return out[:, 0] if flat else out


def _running_column(out, x, j, sign, has, last) -> None:
    finite = np.isfinite(x)
    out[has, j] = accurate_cumsum(np.where(finite, x, 0.0) * sign)[last]
    if not finite.all():
        # infinities and NaN are counted, and added back as a sum of them would be
        for bad, value in ((np.isnan(x), np.nan), (x == np.inf, np.inf), (x == -np.inf, -np.inf)):
            if bad.any():
                present = np.cumsum(np.where(bad, sign, 0))[last] > 0
                with np.errstate(invalid="ignore"):
                    out[np.flatnonzero(has)[present], j] += value


def active_counts(a: np.ndarray, b: np.ndarray, n_seg: int) -> np.ndarray:
    """Number of items active in each segment."""
    d = np.bincount(a, minlength=n_seg + 1)[: n_seg + 1].astype(np.int64)
    d -= np.bincount(b, minlength=n_seg + 1)[: n_seg + 1]
    return np.cumsum(d)[:n_seg]


# --------------------------------------------------------------------------
# offline order statistics
# --------------------------------------------------------------------------
def kth_smallest(ch: Changes, ranks: np.ndarray, q_seg: np.ndarray, q_k: np.ndarray) -> np.ndarray:
    """For every query j, the ``q_k[j]``-th smallest (0-based) rank among the items active in
    segment ``q_seg[j]``.

    ``ranks`` (m,) are distinct non-negative integers (e.g. ``aggregates.event_ranks``) of the items of
    ``ch``. Every query must satisfy 0 <= k < (number of items active in its segment); the
    result is then the rank of the answer.

    Method (a wavelet matrix over the change sequence): the insertions (+1) and removals (-1) are
    listed in segment order. The answer is built bit by bit from the highest. At each level the
    sequence is stably partitioned by the current bit of the ranks (zeros first), so the changes
    whose ranks share the bits decided so far form one contiguous range, in segment order. A
    query is tracked as (start of its range, how many changes of the range happened by its
    segment); a prefix sum of the deltas of the zero-bit changes gives how many active items of
    its range have the bit 0, which decides the bit of the answer, and a prefix count of the
    zero-bit changes maps the query's range to the next level. Each level is a few linear passes
    over the changes and the queries: O((m + queries) log m) in all.
    """
    ranks = np.asarray(ranks, dtype=np.int64)
    q_seg = np.asarray(q_seg, dtype=np.int64)
    nq = q_seg.shape[0]
    if nq == 0:
        return np.zeros(0, dtype=np.int64)
    top = int(ranks.max(initial=0))
    n_bits = max(1, max(top, 1).bit_length())
    n = ch.item.shape[0]
    # int32 halves the memory traffic of the random gathers below, which dominate the cost; every
    # array of the loop is allocated once (fresh large temporaries cost page faults at each level)
    it = np.int32 if n < 2**30 and top < 2**30 - 1 else np.int64
    # one integer per change: rank * 2 + (1 for a removal), and a second buffer for the partition
    code = np.empty(n, dtype=it)
    np.multiply(ranks[ch.item], 2, out=code, casting="unsafe")
    code += ch.removal
    spare = np.empty(n, dtype=it)
    bits = np.empty(n, dtype=it)
    zero = np.empty(n, dtype=bool)
    r0 = np.zeros(n + 1, dtype=it)  # zero-bit changes before a position
    rz = np.zeros(n + 1, dtype=it)  # zero-bit removals before a position
    q_k = np.asarray(q_k).astype(it)
    cnt = ch.upto[q_seg].astype(it)
    start = np.zeros(nq, dtype=it)
    end = np.empty(nq, dtype=it)
    z_start = np.empty(nq, dtype=it)
    z_cnt = np.empty(nq, dtype=it)
    count0 = np.empty(nq, dtype=it)
    tmp = np.empty(nq, dtype=it)
    go1 = np.empty(nq, dtype=bool)
    out = np.zeros(nq, dtype=it)
    one = it(1)
    for lvl in range(n_bits - 1, -1, -1):
        np.bitwise_and(code, it(2 << lvl), out=bits)
        np.equal(bits, 0, out=zero)
        np.cumsum(zero, out=r0[1:])
        np.bitwise_and(code, one, out=bits)
        bits *= zero
        np.cumsum(bits, out=rz[1:])
        np.add(start, cnt, out=end)
        np.take(r0, start, mode="clip", out=z_start)
        np.take(r0, end, mode="clip", out=z_cnt)
        z_cnt -= z_start  # zero-bit changes in the query's range
        np.take(rz, end, mode="clip", out=count0)
        np.take(rz, start, mode="clip", out=tmp)
        count0 -= tmp
        count0 *= -2
        count0 += z_cnt  # active items of the range with the bit 0: insertions - removals
        np.greater_equal(q_k, count0, out=go1)
        count0 *= go1
        q_k -= count0
        # bit 1: the range of the one-bit changes (after all zero-bit ones); bit 0: the zero-bit
        np.subtract(start, z_start, out=tmp)
        tmp += r0[n]
        np.copyto(start, z_start)
        np.copyto(start, tmp, where=go1)
        cnt -= z_cnt
        np.copyto(cnt, z_cnt, where=~go1)
        out += out
        out += go1
        # the stable partition by the bit: zero-bit changes first
        nz = int(r0[n])
        np.compress(zero, code, out=spare[:nz])
        np.logical_not(zero, out=zero)
        np.compress(zero, code, out=spare[nz:])
        code, spare = spare, code
    return out.astype(np.int64)


def stable_argsort(x: np.ndarray) -> np.ndarray:
    """``np.argsort(x, axis=-1, kind="stable")`` (equal values in index order), by the faster
    default sort wherever a row has no two equal values (the result is then the same), and by
    the stable sort for the rows that have some (or NaN)."""
    x = np.asarray(x)
    order = np.argsort(x, axis=-1)
    if x.shape[-1] < 2:
        return order
    s = np.take_along_axis(x, order, axis=-1)
    again = (s[..., 1:] == s[..., :-1]).any(axis=-1) | np.isnan(s[..., -1])
    if x.ndim == 1:
        return np.argsort(x, kind="stable") if again else order
    rows = np.flatnonzero(again)
    if rows.shape[0]:
        order[rows] = np.argsort(x[rows], axis=-1, kind="stable")
    return order


def segment_medians(ch: Changes, values: np.ndarray, n_active: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per segment with somebody active: (segments, item of the lower middle value, item of the
    upper middle value) of ``values`` over the active items; both middles are the same item for
    an odd count (the median is then the mean of the two values, as ``np.median``)."""
    values = np.asarray(values, dtype=np.float64)
    seg = np.flatnonzero(n_active > 0)
    n = n_active[seg]
    order = stable_argsort(values)
    rank = np.empty(values.shape[0], dtype=np.int64)
    rank[order] = np.arange(values.shape[0], dtype=np.int64)
    even = np.flatnonzero(n % 2 == 0)
    # the lower middle for every segment, the upper one only where it differs (even counts)
    got = order[kth_smallest(ch, rank, np.concatenate([seg, seg[even]]), np.concatenate([(n - 1) // 2, n[even] // 2]))]
    lo = got[: seg.shape[0]]
    hi = lo.copy()
    hi[even] = got[seg.shape[0] :]
    return seg, lo, hi
