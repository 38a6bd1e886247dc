"""The recency-weighted median of every segment as it was before issue 11's speed-up (a verbatim
copy of ``forecast_math/recency.py`` and of ``sweep.kth_smallest`` at that time), kept only as
the reference the tests compare the current implementation with, bit for bit
(``test_recency_reference.py``). Not used by the engine.

Its own description follows.

The recency-weighted median of every segment of a question (scoring.md section 4).

At a time with N standing forecasts, sorted by the time they were made (oldest first), the i-th
one weighs w_i = exp(sqrt(i) - sqrt(N)) when N > 2 (equal weights otherwise), and the crowd is the
weighted median of every option (``aggregates.row_weighted_median``: the first value, in ascending
order, at which the cumulative weight reaches half the total, within 1e-12 of the total; the mean
with the next value on an exact half).

Why this needs its own algorithm: a forecast's weight is a function of its *current* rank i among
the standing forecasts, and every withdrawal or revision of an older forecast shifts the rank of
every newer one, so the weights of all standing forecasts change at almost every event; they are
not per-forecast constants that an order-statistic tree over values could carry.

What makes it cheap: new forecasts always enter at the newest end (a later segment means a later
time made), so the standing forecasts in time order are "the oldest ones, then the newest M ones";
and the weights decay geometrically with age: a forecast older than the newest M = 2 sqrt(N) c
weighs less than about e^-c of the newest, so all forecasts outside the newest M together weigh a
known, tiny amount T (their ranks are exactly 1..N-M, so T is a prefix sum of the weight
sequence). Every segment's median is therefore computed from its newest M standing forecasts
(the *window*, found by an order-statistic query over entering ranks, ``sweep.kth_smallest``)
and *certified*: if the cumulative weight just below the half-total crossing, plus the whole
tail T, stays below the threshold, and the weight at the crossing exceeds the threshold by more
than the tie tolerance (and the rounding and truncation allowances), then no arrangement of the
tail can change the answer, which is exactly the value the full computation picks. A segment
that cannot be certified this way (the tail could matter, or it is a tie) is recomputed with a
window WINDOW_GROWTH times larger, and so on up to all standing forecasts (then the computation
is the definition itself). Two ways to evaluate a window:

* **Window method** (``_super_block``; segments with fewer than TAYLOR_MIN_N standing forecasts,
  and every fallback): for a block of consecutive segments sharing one candidate set sorted by
  value once, each segment's exact ranks are one gather from a small segments x (forecasts
  entering or leaving in the block) prefix count, its weights one table lookup, and the crossing
  is found from sums over blocks of SUM_BLOCK values and a prefix sum inside the crossing block.
  O(sqrt(N)) work per segment, c = WINDOW_C.
* **Taylor blocks** (``_taylor_block``; large N): within a block of segments a forecast's rank
  only moves down, by the number s of older standing forecasts removed since the block began,
  and exp(sqrt(p - s)) is expanded in powers of s (exactly bounded truncation error, few terms
  since s << sqrt(p)). The weight of any group of forecasts in any segment of the block is then
  a dot product of per-segment coefficients with per-group moments, so the weight of each block
  of VALUE_BLOCK consecutive values in every segment is one matrix product; only the crossing
  block is summed forecast by forecast. The work per segment no longer grows with sqrt(N).

Many columns (the 201 points of a CDF): the weights do not depend on the column, only the value
order does. The value orders of a block's candidates are kept for every column at once
(``_value_orders``: one filter, one merge over all columns laid end to end); the window method's
per-block value sums of every column are one matrix product of the weights with the block
indicators (``_ManyColumns``), and the Taylor blocks read the crossing block's weights from one
(rows x candidates) matrix of exact weights. Only the per-column bookkeeping of the Taylor
blocks still loops over the columns.

With the window sizes used, all but a fraction of a percent to a few percent of the segments are
certified at the first attempt. When a window holds every standing forecast (small N) the result
is the plain definition, as in ``aggregates.row_weighted_median``, up to the order in which the
weights are added (which can only matter within rounding of the 1e-12 tie tolerance).
"""

from __future__ import annotations

import math

import numpy as np

from forecast_math.aggregates import WEIGHTED_MEDIAN_RTOL
from forecast_math.sweep import Changes

#: first window: the newest ``max(WINDOW_MIN, 2 sqrt(N) WINDOW_C)`` standing forecasts
WINDOW_C = 10.0
WINDOW_MIN = 64
#: a segment not certified is retried with a window this many times larger (up to everything)
WINDOW_GROWTH = 2
#: segments sharing one set of candidates (and one sort by value) in the window method
SUPER_ROWS = 128
#: segments processed together (a rows x candidates block small enough to stay in cache)
CHUNK_ROWS = 32
#: cumulative weights are summed per block of this many values, then within the crossing block
SUM_BLOCK = 64
#: rounding allowance of a cumulative weight, per summed term, relative to the total
ROUNDING = 4e-16
#: from this many columns (the points of a CDF) the window method sums blocks of values for all
#: columns at once (``_ManyColumns``)
MANY_COLUMNS = 16
#: ... while a block has at most this many candidates (the product of the weights with the block
#: indicators grows with candidates x blocks, the column loop with the candidates)
MANY_MAX_CANDIDATES = 2560
#: value blocks per column in that product, at most (each at least SUM_BLOCK values)
MANY_BLOCKS = 16

# the Taylor blocks (segments with at least TAYLOR_MIN_N standing forecasts; twice that for one
# option)
TAYLOR_MIN_N = 4000
#: their window: the newest 2 sqrt(N) TAYLOR_C standing forecasts (the rest weighs < e^-15 N)
TAYLOR_C = 15.0
#: terms of the expansion in the rank shift (s^0 .. s^(kt - 1)): as few as the bound allows
TAYLOR_TERMS = 12
TAYLOR_MIN_TERMS = 4
#: a block's rank shifts stay below TAYLOR_SHIFT p^(3/4) (p: the smallest rank expanded)
TAYLOR_SHIFT = 0.3
#: forecasts per value block (the crossing block is then summed exactly)
VALUE_BLOCK = 128
#: segments per Taylor block, at most (twice that from LONG_BLOCK_N standing forecasts on)
BLOCK_ROWS = 128
LONG_BLOCK_N = 20000
#: the crossing value block is summed per SUM_BLOCK_T values, then inside the crossing one
SUM_BLOCK_T = 16
#: OpenBLAS multiplies in one thread below m * n * k = 4 * 65536
SINGLE_THREAD_GEMM = 200_000
#: allowed truncation error of a block, relative to the total weight (else the block is split)
TAYLOR_ERR = 1e-13


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
    out = np.zeros(nq, dtype=np.int64)
    if nq == 0:
        return out
    n_bits = max(1, int(max(int(ranks.max(initial=0)), 1)).bit_length())
    # one integer per change: rank * 2 + (1 for a removal)
    code = ranks[ch.item] * 2 + ch.removal
    n = code.shape[0]
    # int32 halves the memory traffic of the random gathers below, which dominate the cost
    it = np.int32 if n < 2**30 and int(code.max(initial=0)) < 2**31 - 1 else np.int64
    code = code.astype(it)
    one, two, nil = it(1), it(2), it(0)
    q_k = np.asarray(q_k).astype(it)
    cnt = ch.upto[q_seg].astype(it)
    start = np.zeros(nq, dtype=it)
    r0 = np.zeros(n + 1, dtype=it)  # zero-bit changes before a position
    s0 = np.zeros(n + 1, dtype=it)  # sum of their deltas (+1 insertion, -1 removal)
    for lvl in range(n_bits - 1, -1, -1):
        zero = ((code >> (lvl + 1)) & 1) == 0
        np.cumsum(zero, out=r0[1:])
        np.cumsum(np.where(zero, one - two * (code & one), nil), out=s0[1:])
        end = start + cnt
        count0 = s0[end] - s0[start]
        go1 = q_k >= count0
        q_k -= count0 * go1
        z_start = r0[start]
        z_cnt = r0[end] - z_start
        start = np.where(go1, r0[n] + (start - z_start), z_start)
        cnt = np.where(go1, cnt - z_cnt, z_cnt)
        out = out * 2 + go1
        code = np.concatenate([code[zero], code[~zero]])
    return out


def _tail_sums(n_max: int, sq: np.ndarray) -> np.ndarray:
    """F[n] = sum over i = 1..n of exp(sqrt(i) - sqrt(n)), for n = 0..n_max (F[0] = 0)."""
    out = np.zeros(n_max + 1)
    carry = 0.0  # F[c0 - 1] in the scale of sqrt(c0 - 1)
    chunk = 4096
    for c0 in range(1, n_max + 1, chunk):
        c1 = min(n_max + 1, c0 + chunk)
        ref = sq[c1 - 1]
        part = np.cumsum(np.exp(sq[c0:c1] - ref)) + carry * math.exp(sq[c0 - 1] - ref)
        out[c0:c1] = part * np.exp(ref - sq[c0:c1])
        carry = float(out[c1 - 1])
    return out


def recency_weighted_medians(
    ch: Changes,
    a: np.ndarray,
    b: np.ndarray,
    made: np.ndarray,
    user: np.ndarray,
    values: np.ndarray,
    n_active: np.ndarray,
    complement: bool = False,
) -> np.ndarray:
    """Per segment and option, the recency-weighted median of the standing forecasts.

    Item i (a standing forecast) is active on segments [a_i, b_i) (their insertions and removals
    are ``ch``), was made at ``made[i]`` by ``user[i]`` and has the probability vector
    ``values[i]``; ``n_active`` (S,) counts the active items per segment. Items entering in a later segment must have been made later (true for the
    engine's segments). Recency ties are broken by user id, as the engine does. With
    ``complement`` (binary questions whose second column is exactly 1 - the first) only the first
    option is searched and the second is read from the same forecasts. Returns (S, K), not
    renormalised; NaN rows where nobody is active.
    """
    n_seg = n_active.shape[0]
    m, k = values.shape
    out = np.full((n_seg, k), np.nan)
    rows = np.flatnonzero(n_active > 0)
    if rows.shape[0] == 0:
        return out
    order = np.lexsort((user, made, a))  # time order of entering = time made, then user
    # the entering order as ranks of the items, for the order statistics over it
    entering = np.empty(m, dtype=np.int64)
    entering[order] = np.arange(m, dtype=np.int64)
    st = _State(
        a=np.asarray(a)[order],
        b=np.asarray(b)[order],
        vals=np.asarray(values, dtype=np.float64)[order],
        n=n_active,
        columns=[0] if complement else list(range(k)),
        complement=complement,
    )
    n_max = int(n_active.max())
    st.sq = np.sqrt(np.arange(n_max + 1, dtype=np.float64))
    st.tail = _tail_sums(n_max, st.sq)
    st.vranks = _value_ranks(st.vals[:, st.columns])
    nr = n_active[rows]
    target = np.minimum(nr, np.maximum(WINDOW_MIN, np.ceil(2.0 * st.sq[nr] * WINDOW_C).astype(np.int64)))
    # (the window method computes the weights once for all options, so Taylor blocks pay off
    # earlier when there are several)
    big = nr >= TAYLOR_MIN_N * (2.0 if len(st.columns) == 1 else 1.0)
    target[big] = np.minimum(nr[big], np.ceil(2.0 * st.sq[nr[big]] * TAYLOR_C).astype(np.int64))
    # the window of each row starts at the (N - M)-th oldest standing forecast
    cut = kth_smallest(ch, entering, rows, nr - target)
    small = ~big
    pending, p_cut, p_target = rows[small], cut[small], target[small]
    if big.any():
        failed = _taylor_pass(st, rows[big], cut[big], out)
        if failed.shape[0]:
            # mostly segments where the tail could matter: retry them with a larger window
            grown = np.minimum(n_active[failed], target[np.searchsorted(rows, failed)] * WINDOW_GROWTH)
            merged = np.argsort(np.concatenate([pending, failed]), kind="stable")
            pending = np.concatenate([pending, failed])[merged]
            p_cut = np.concatenate([p_cut, kth_smallest(ch, entering, failed, n_active[failed] - grown)])[merged]
            p_target = np.concatenate([p_target, grown])[merged]
    cut, target = p_cut, p_target
    while pending.shape[0]:
        failed = _window_pass(st, pending, cut, target, out)
        if failed.shape[0] == 0:
            break
        target = np.minimum(n_active[failed], target[np.searchsorted(pending, failed)] * WINDOW_GROWTH)
        pending = failed
        cut = kth_smallest(ch, entering, pending, n_active[pending] - target)
    return out


def _value_ranks(vals: np.ndarray) -> np.ndarray:
    """``aggregates.event_ranks`` of every column of ``vals`` (items x columns) at once, as a
    (columns x items) array."""
    v = np.ascontiguousarray(vals.T)
    kc, m = v.shape
    ranks = np.empty((kc, m), dtype=np.int64)
    np.put_along_axis(ranks, np.argsort(v, axis=1, kind="stable"), np.arange(m, dtype=np.int64)[None, :], axis=1)
    return ranks


class _State:
    """The items in entering order (a, b, vals), per-segment counts, and tables."""

    def __init__(self, a, b, vals, n, columns, complement):
        self.complement = complement
        self.a = a
        self.b = b
        self.vals = vals
        self.n = n
        self.columns = columns
        self.vranks = np.zeros((0, 0), dtype=np.int64)
        self.sq = np.zeros(0)
        self.tail = np.zeros(0)
        self.taylor: _Taylor | None = None
        self.sorted_cache: tuple | None = None


def _value_orders(st: _State, r_lo: int, r_hi: int, qf: int, cand: np.ndarray) -> np.ndarray:
    """``perms`` (columns x candidates) such that ``cand[perms[ci]]`` is sorted by the values of
    column ``st.columns[ci]``, for every column at once.

    ``cand`` is every item with an entering rank in [r_lo, r_hi) still standing after segment
    ``qf``, in entering order. Consecutive blocks share most candidates, so the previous block's
    sorted lists are updated (filtered, merged with the new items) instead of sorting again: the
    filter drops the same items from every column, and the merge is one search and one insert
    over all columns laid end to end (each column's value ranks offset by its index times the
    number of items, so that the concatenation is sorted)."""
    vr = st.vranks  # columns x items
    kc, m = vr.shape
    off = (np.arange(kc, dtype=np.int64) * m)[:, None]
    flat = vr.ravel()
    prev = st.sorted_cache
    if prev is None or prev[1] > r_hi or prev[2] > qf:
        vs = cand[np.argsort(vr[:, cand], axis=1, kind="stable")]
    else:
        vs_prev, p_lo, p_hi = prev[0], prev[1], prev[3]
        keep = (vs_prev >= r_lo) & (vs_prev < r_hi) & (st.b[vs_prev] > qf)
        vs = vs_prev[keep].reshape(kc, -1)  # the same number of items kept in every column
        add = np.concatenate([np.arange(r_lo, min(p_lo, r_hi)), np.arange(max(p_hi, r_lo), r_hi)])
        add = add[st.b[add] > qf]
        if add.shape[0]:
            add = add[np.argsort(vr[:, add], axis=1, kind="stable")]  # columns x new items
            # value ranks offset by column: the columns end to end form one sorted sequence
            at = np.searchsorted((np.take(flat, vs + off) + off).ravel(), (np.take(flat, add + off) + off).ravel())
            vs = np.insert(vs.ravel(), at, add.ravel()).reshape(kc, -1)
    st.sorted_cache = (vs, r_lo, qf, r_hi)
    where = np.empty(r_hi - r_lo, dtype=np.int64)
    where[cand - r_lo] = np.arange(cand.shape[0])
    return where[vs - r_lo]


def _crossing(w3: np.ndarray, cb: np.ndarray, base, thr: np.ndarray):
    """Where each row's cumulative weight first reaches ``thr``: the weights ``w3`` (rows, blocks,
    values per block) follow a cumulative weight ``base`` and reach ``cb`` (rows, blocks) at the
    end of each block (base included). The crossing block is found from ``cb``, then the value
    inside it from a prefix sum. Returns (position, the cumulative weight there, the cumulative
    weight just before it); a row that never reaches ``thr`` gets a position past its last block."""
    r = np.arange(w3.shape[0])
    per = w3.shape[2]
    kb = np.minimum(np.count_nonzero(cb < thr[:, None], axis=1), w3.shape[1] - 1)
    start = np.where(kb > 0, cb[r, np.maximum(kb - 1, 0)], base)
    inner = np.cumsum(w3[r, kb], axis=1)
    inner += start[:, None]
    jj = np.count_nonzero(inner < thr[:, None], axis=1)
    cj = inner[r, np.minimum(jj, per - 1)]
    prev = np.where(jj > 0, inner[r, np.maximum(jj - 1, 0)], start)
    return kb * per + jj, cj, prev


def _window_pass(st: _State, rows: np.ndarray, cut: np.ndarray, target: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Weighted medians of ``rows`` from the windows starting at ``cut``; returns the rows that
    could not be certified (``out`` is left untouched for them)."""
    failed = []
    i = 0
    nrows = rows.shape[0]
    while i < nrows:
        q0 = int(rows[i])
        span = rows[i : i + SUPER_ROWS]
        j = i + int(np.searchsorted(span, q0 + 2 * SUPER_ROWS, side="right"))
        bad = _super_block(st, rows[i:j], cut[i:j], out)
        if bad.shape[0]:
            failed.append(bad)
        i = j
    return np.concatenate(failed) if failed else np.zeros(0, dtype=np.int64)


def _block_items(st: _State, g: np.ndarray, cut: np.ndarray):
    """The candidates of the rows ``g`` (sorted segments) whose windows start at the entering
    ranks ``cut``: every item with an entering rank in [min(cut), r_hi) still standing at the
    first row (r_hi: past the last item entering by the last row). A candidate standing in every
    row is *static*, the others (entering or leaving during the block) *dynamic*.

    Returns (r_lo, r_hi, cand, their a, their b, is_stat, dyn (positions of the dynamic
    candidates), dact (rows x dynamic: standing), cum_d (rows x (dynamic + 1): standing dynamic
    candidates before each, cumulated), n (standing per row), ntail (standing items older than
    the candidates, per row))."""
    qf, ql = int(g[0]), int(g[-1])
    r_lo = int(cut.min())
    r_hi = int(np.searchsorted(st.a, ql, side="right"))
    cand = r_lo + np.flatnonzero(st.b[r_lo:r_hi] > qf)
    ca, cb = st.a[cand], st.b[cand]
    is_stat = (ca <= qf) & (cb > ql)
    dyn = np.flatnonzero(~is_stat)
    dact = (ca[dyn][None, :] <= g[:, None]) & (cb[dyn][None, :] > g[:, None])
    cum_d = np.zeros((g.shape[0], dyn.shape[0] + 1), dtype=np.int64)
    np.cumsum(dact, axis=1, out=cum_d[:, 1:])
    n = st.n[g]
    ntail = n - int(np.count_nonzero(is_stat)) - cum_d[:, -1]
    return r_lo, r_hi, cand, ca, cb, is_stat, dyn, dact, cum_d, n, ntail


def _super_block(st: _State, g: np.ndarray, cut: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Rows ``g`` (sorted) sharing one set of candidates: the forecasts of their windows.

    A candidate standing in every row of the block is *static*; the others (entering or leaving
    during the block) are *dynamic*. The rank of a candidate x in row q is
    ntail_q + (static candidates up to x) + (dynamic candidates up to x standing in q), the last
    term read from a small rows x dynamic prefix count, so a row's ranks in value order are one
    column gather."""
    qf = int(g[0])
    r_lo, r_hi, cand, ca, cb, is_stat, dyn, dact, cum_d, n, ntail = _block_items(st, g, cut)
    mc = cand.shape[0]
    n_stat_upto = np.cumsum(is_stat)  # static candidates up to and including each one
    n_dyn_upto = np.cumsum(~is_stat)  # dynamic candidates up to and including each one
    exact = ntail == 0
    all_exact = bool(exact.all())
    few = n <= 2
    if not all_exact:
        n_hi = int(n.max())
        p_lo = int(ntail.min()) + 1
        s_ref = st.sq[n_hi]
        tab = np.zeros(n_hi - p_lo + 2)  # index 0 (rank below p_lo, or padding): weight 0
        tab[1:] = np.exp(st.sq[p_lo : n_hi + 1] - s_ref)
        tail_all = st.tail[ntail] * np.exp(st.sq[ntail] - s_ref)
        cum_d_tab = cum_d + (ntail - (p_lo - 1))[:, None]
    nrow = g.shape[0]
    ok = np.ones(nrow, dtype=bool)
    nblk = (mc + SUM_BLOCK - 1) // SUM_BLOCK
    mcp = nblk * SUM_BLOCK  # padded width: padding columns weigh 0
    perms = list(_value_orders(st, r_lo, r_hi, qf, cand))
    # The weights are computed in one layout: value order for a single column, else entering
    # order, gathered into each column's value order (the weights do not depend on the column).
    multi = len(perms) > 1
    lay = np.arange(mc) if multi else perms[0]
    stat_l = np.full(mcp, -(1 << 40), dtype=np.int64)  # padding: far below any rank, weight 0
    kd_l = np.zeros(mcp, dtype=np.int64)
    stat_l[:mc] = n_stat_upto[lay]
    kd_l[:mc] = n_dyn_upto[lay]
    dyn_l = np.flatnonzero(~is_stat[lay])  # layout columns of the dynamic candidates
    dcol_l = kd_l[dyn_l] - 1
    many = _ManyColumns(perms, mc, nrow) if len(perms) >= MANY_COLUMNS and mc <= MANY_MAX_CANDIDATES else None
    loop = perms if many is None else []
    gathers = [np.concatenate([p, np.full(mcp - mc, mc, dtype=np.int64)]) for p in loop] if multi else [None]
    picks = [(np.zeros(nrow, np.int64), np.zeros(nrow, np.int64), np.zeros(nrow, bool)) for _ in loop]
    for c0 in range(0, nrow, CHUNK_ROWS):
        c1 = min(nrow, c0 + CHUNK_ROWS)
        if all_exact:
            # the definition itself, as in aggregates.recency_weights
            pos = np.take(cum_d[c0:c1], kd_l, axis=1)
            pos += stat_l
            pos += ntail[c0:c1, None]
            with np.errstate(invalid="ignore"):
                wl = np.exp(np.sqrt(pos.astype(np.float64)) - np.sqrt(n[c0:c1].astype(np.float64))[:, None])
            wl[:, mc:] = 0.0
            tail = np.zeros(c1 - c0)
        else:
            # table index of the rank (0, weight 0, for the padding)
            pos = np.take(cum_d_tab[c0:c1], kd_l, axis=1)
            pos += stat_l
            wl = np.take(tab, pos, mode="clip")
            tail = tail_all[c0:c1]
        fw = few[c0:c1]
        if fw.any():
            wl[fw, :mc] = 1.0
        wl[:, dyn_l] *= dact[c0:c1][:, dcol_l]
        if many is not None:
            standing = np.ones((c1 - c0, mc), dtype=bool)
            standing[:, dyn_l[dyn_l < mc]] = dact[c0:c1][:, dcol_l[dyn_l < mc]]
            ok[c0:c1] &= many.chunk(c0, wl, tail, n[c0:c1], exact[c0:c1], standing)
            continue
        for (i1, i2, tie_all), perm, gather in zip(picks, perms, gathers, strict=True):
            w = wl if gather is None else np.take(wl, gather, axis=1)
            # cumulative weights: per block of SUM_BLOCK values, then within the crossing block
            w3 = w.reshape(c1 - c0, nblk, SUM_BLOCK)
            cb = np.cumsum(w3.sum(axis=2), axis=1)
            tot = cb[:, -1] + tail
            half = 0.5 * tot
            eps = WEIGHTED_MEDIAN_RTOL * tot
            thr = half - eps
            jx, cj, prev = _crossing(w3, cb, 0.0, thr)
            jc = np.minimum(jx, mc - 1)
            ex = exact[c0:c1]
            # the tail regime: certified when the tail cannot move the crossing and it is no tie
            tol = (ROUNDING * (n[c0:c1] + mc) + 1e-15) * tot
            certain = (jx < mc) & (prev + tail < thr - tol) & (cj > half + eps + tol)
            ok[c0:c1] &= ex | certain
            # exact regime: a tie averages with the next standing value
            tie = (np.abs(cj - half) <= eps) & ex
            nxt = jc.copy()
            if tie.any():
                tr = np.flatnonzero(tie)
                dyn_v = np.flatnonzero(~is_stat[perm])
                later = np.ones((tr.shape[0], mc), dtype=bool)
                later[:, dyn_v] = dact[c0:c1][tr][:, n_dyn_upto[perm[dyn_v]] - 1]
                later &= np.arange(mc)[None, :] > jc[tr][:, None]
                has = later.any(axis=1)
                nxt[tr] = np.where(has, np.argmax(later, axis=1), jc[tr])
                tie[tr] = has
            i1[c0:c1] = cand[perm[jc]]
            i2[c0:c1] = cand[perm[nxt]]
            tie_all[c0:c1] = tie
    if many is not None:
        picks = [(col, many.i1[:, ci], many.i2[:, ci], many.tie[:, ci]) for ci, col in enumerate(st.columns)]
        picks = [(col, cand[i1], cand[i2], tie) for col, i1, i2, tie in picks]
    else:
        picks = [(col, *pick) for col, pick in zip(st.columns, picks, strict=True)]
    good = np.flatnonzero(ok)
    for col, i1, i2, tie in picks:
        for c in (0, 1) if st.complement else (col,):
            v = np.where(tie, 0.5 * (st.vals[i1, c] + st.vals[i2, c]), st.vals[i1, c])
            out[g[good], c] = v[good]
    return g[~ok]


class _ManyColumns:
    """The window method's crossings for many columns at once (the points of a CDF).

    The weights are the same for every column; only the value order differs. The weight of
    each block of consecutive values of every column, in every row, is one matrix
    product of the weights with the block indicators (candidates x columns * blocks); the
    crossing block of each row and column is then summed value by value. Certification and
    ties as in the single-column loop of ``_super_block``; ``chunk`` returns the rows certified
    and keeps the picks (positions in the candidates) in ``i1``, ``i2``, ``tie`` (rows x columns)."""

    def __init__(self, perms: list, mc: int, nrow: int):
        kc = len(perms)
        # at most MANY_BLOCKS blocks per column: the product's cost grows with their number, the
        # sums inside the crossing blocks with their size
        size = max(SUM_BLOCK, -(-mc // MANY_BLOCKS))
        nblk = -(-mc // size)
        self.mc, self.nblk, self.kc, self.size = mc, nblk, kc, size
        self.perm = np.stack(perms)  # columns x candidates, value order
        blk = np.arange(mc) // size
        self.ind = np.zeros((mc, kc * nblk))
        self.ind[self.perm, np.arange(kc)[:, None] * nblk + blk[None, :]] = 1.0
        padded = np.full((kc, nblk * size), mc, dtype=np.int64)  # padding: a zero column
        padded[:, :mc] = self.perm
        self.blocks = padded.reshape(kc, nblk, size)
        self.i1 = np.zeros((nrow, kc), dtype=np.int64)
        self.i2 = np.zeros((nrow, kc), dtype=np.int64)
        self.tie = np.zeros((nrow, kc), dtype=bool)

    def chunk(self, c0, wl, tail, n, ex, standing) -> np.ndarray:
        mc, nblk, kc, size = self.mc, self.nblk, self.kc, self.size
        nr = wl.shape[0]
        if wl.shape[1] == mc and nblk * size > mc:
            wl = np.concatenate([wl, np.zeros((nr, 1))], axis=1)
        ri = np.arange(nr)[:, None]
        ci = np.arange(kc)[None, :]
        # the product in slices of columns small enough for BLAS to stay single-threaded (as in
        # _taylor_block: threads cost more CPU than they save here, and the machine may be shared)
        sums = np.empty((nr, kc * nblk))
        w_c = wl[:, :mc]
        step = max(1, SINGLE_THREAD_GEMM // (nr * mc))
        for j0 in range(0, kc * nblk, step):
            np.matmul(w_c, self.ind[:, j0 : j0 + step], out=sums[:, j0 : j0 + step])
        cb = np.cumsum(sums.reshape(nr, kc, nblk), axis=2)
        tot = cb[:, :, -1] + tail[:, None]
        half = 0.5 * tot
        eps = WEIGHTED_MEDIAN_RTOL * tot
        thr = half - eps
        kb = np.minimum(np.count_nonzero(cb < thr[:, :, None], axis=2), nblk - 1)
        start = np.where(kb > 0, cb[ri, ci, np.maximum(kb - 1, 0)], 0.0)
        items = self.blocks[ci, kb]  # rows x columns x block size
        inner = np.cumsum(wl[ri[:, :, None], items], axis=2)
        inner += start[:, :, None]
        jj = np.count_nonzero(inner < thr[:, :, None], axis=2)
        cj = inner[ri, ci, np.minimum(jj, size - 1)]
        prev = np.where(jj > 0, inner[ri, ci, np.maximum(jj - 1, 0)], start)
        jx = kb * size + jj
        jc = np.minimum(jx, mc - 1)
        exc = ex[:, None]
        tol = (ROUNDING * (n + mc) + 1e-15)[:, None] * tot
        certain = (jx < mc) & (prev + tail[:, None] < thr - tol) & (cj > half + eps + tol)
        # exact regime: a tie averages with the next standing value
        tie = (np.abs(cj - half) <= eps) & exc
        nxt = jc.copy()
        for r, c in zip(*np.nonzero(tie), strict=True):
            later = np.flatnonzero(standing[r, self.perm[c, jc[r, c] + 1 :]])
            if later.shape[0]:
                nxt[r, c] = jc[r, c] + 1 + later[0]
            else:
                tie[r, c] = False
        rows = slice(c0, c0 + nr)
        self.i1[rows] = self.perm[ci, jc]
        self.i2[rows] = self.perm[ci, nxt]
        self.tie[rows] = tie
        return (exc | certain).all(axis=1)


# --------------------------------------------------------------------------
# Taylor blocks: many segments at once from one set of aggregated weights
# --------------------------------------------------------------------------
class _Taylor:
    """Per-rank tables for expanding the weight of a rank that moves down by s:

        exp(sqrt(p - s)) = exp(sqrt(p)) exp(-alpha s) h(s),   h(s) = sum_k e_k s^k,

    alpha being the decay rate 1/(2 sqrt(q)) at the centre q of p's *group* (groups: ranks with
    equal floor(4 p^(1/4)), narrow enough that |alpha - 1/(2 sqrt p)| rho <= 1/2 for the radius
    rho below). ``bound[p]`` times (s/rho)^K / (1 - s/rho) bounds |h(s) - sum_{k<K} e_k s^k| for
    0 <= s < rho = min(4 p^(3/4), p/2): Cauchy's estimate on the circle of radius rho, on which
    |h| <= exp(|alpha - 1/(2 sqrt p)| rho + sum_{m>=2} |c_m| rho^m), c_m being the Taylor
    coefficients of sqrt(p - s) (their absolute sum is sqrt(p) (1 - sqrt(1 - rho/p) - rho/(2p)))."""

    def __init__(self, n_max: int):
        kt = TAYLOR_TERMS
        p = np.arange(n_max + 1, dtype=np.float64)
        p[0] = 1.0
        u = 0.5 / np.sqrt(p)
        self.group = np.floor(4.0 * p**0.25).astype(np.int64)
        centre = ((self.group + 0.5) / 4.0) ** 4
        self.alpha = 0.5 / np.sqrt(centre)
        g1 = self.alpha - u
        self.rho = np.minimum(4.0 * p**0.75, 0.5 * p)
        curv = np.sqrt(p) * (1.0 - np.sqrt(1.0 - self.rho / p) - self.rho / (2.0 * p))
        self.bound = np.exp(np.abs(g1) * self.rho + curv)
        gm = np.zeros((kt, n_max + 1))
        gm[1] = g1
        c = -u
        for m in range(1, kt - 1):
            c = c * ((0.5 - m) / (m + 1)) / -p
            gm[m + 1] = c
        e = np.empty((kt, n_max + 1))
        e[0] = 1.0
        for t in range(1, kt):
            e[t] = (np.arange(1, t + 1)[:, None] * gm[1 : t + 1] * e[t - 1 :: -1][:t]).sum(axis=0) / t
        self.e = e


def _taylor_pass(st: _State, rows: np.ndarray, cut: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Weighted medians of ``rows`` (all with many standing forecasts) by Taylor blocks; returns
    the rows that could not be certified."""
    n_seg = st.n.shape[0]
    if st.taylor is None:
        st.taylor = _Taylor(int(st.n.max()))
    gone = st.b < n_seg
    # removals (revisions or withdrawals) per segment, cumulated: they shift ranks within a block
    crem = np.zeros(n_seg + 1, dtype=np.int64)
    np.cumsum(np.bincount(st.b[gone], minlength=n_seg), out=crem[1:])
    failed = []
    i = 0
    nrows = rows.shape[0]
    while i < nrows:
        q0 = int(rows[i])
        nq = float(st.n[q0])
        p_min = max(1.0, nq - 2.0 * math.sqrt(nq) * TAYLOR_C)
        s_lim = max(4, int(TAYLOR_SHIFT * p_min**0.75))
        # longer blocks for more forecasters: the per-block work grows with the window
        per = BLOCK_ROWS * (2 if nq >= LONG_BLOCK_N else 1)
        span = rows[i : i + per]
        span = span[: int(np.searchsorted(span, q0 + 2 * per, side="right"))]
        removed = crem[span + 1] - crem[q0 + 1]
        j = i + max(1, int(np.searchsorted(removed, s_lim, side="right")))
        failed.extend(_taylor_split(st, rows[i:j], cut[i:j], out))
        i = j
    return np.array(sorted(failed), dtype=np.int64)


def _taylor_split(st: _State, g: np.ndarray, cut: np.ndarray, out: np.ndarray) -> list[int]:
    bad = _taylor_block(st, g, cut, out)
    if bad is not None:
        return bad.tolist()
    if g.shape[0] == 1:
        return g.tolist()
    h = g.shape[0] // 2
    return _taylor_split(st, g[:h], cut[:h], out) + _taylor_split(st, g[h:], cut[h:], out)


def _taylor_block(st: _State, g: np.ndarray, cut: np.ndarray, out: np.ndarray) -> np.ndarray | None:
    """Certified weighted medians of the rows ``g`` (sorted segments); returns the rows not
    certified, or None when the block's truncation error is too large (split it).

    Within the block, a *static* forecast (standing in every row of the block, in the window)
    keeps its rank up to a shift s >= 0: the number of older standing forecasts removed since
    the first row. The removed ones that were in the window split the static forecasts into
    pieces of equal shift, and the rank groups of ``_Taylor`` split them further into *sets*
    sharing one decay rate, so the weight of any static forecasts of a set in any row is a dot
    product of per-row coefficients exp(-alpha s) s^k with per-set moments exp(sqrt(p)) e_k(p).
    The weight of each block of VALUE_BLOCK consecutive values is thus one matrix product; the
    crossing block is then summed exactly, forecast by forecast, and the crossing certified
    against the truncation bound and the tail. Forecasts entering or leaving during the block
    (*dynamic*) are weighted exactly.
    """
    tt = st.taylor
    qf = int(g[0])
    nrow = g.shape[0]
    r = np.arange(nrow)
    r_lo, r_hi, cand, ca, cb, is_stat, dyn, dact, cum_d, n, ntail = _block_items(st, g, cut)
    mc = cand.shape[0]
    stat = np.flatnonzero(is_stat)
    ns, nd = stat.shape[0], dyn.shape[0]
    # pieces: window forecasts removed during the block, oldest first
    y0 = np.flatnonzero(ca[dyn] <= qf)
    piece = np.searchsorted(dyn[y0], stat)
    p0 = ntail[0] + np.arange(1, ns + 1) + piece  # ranks in the first row
    shift = np.zeros((nrow, y0.shape[0] + 1), dtype=np.int64)
    np.cumsum(~dact[:, y0], axis=1, out=shift[:, 1:])
    shift += (ntail[0] - ntail)[:, None]
    s_max = float(shift.max())
    s_ref = st.sq[int(n.max())]
    wtot = st.tail[n] * np.exp(st.sq[n] - s_ref)
    phi0 = np.exp(st.sq[p0] - s_ref)
    e_blk = 0.0
    kt = 1
    if ns and s_max > 0:
        # the fewest terms whose truncation bound is small enough
        ratio = s_max / tt.rho[p0]
        if float(ratio.max()) >= 0.5:
            return None
        term = phi0 * tt.bound[p0] / (1.0 - ratio) * ratio**TAYLOR_MIN_TERMS
        limit = TAYLOR_ERR * float(wtot.min())
        kt = TAYLOR_MIN_TERMS
        e_blk = float(term.sum())
        while not e_blk <= limit:
            if kt == TAYLOR_TERMS:
                return None
            kt += 1
            term *= ratio
            e_blk = float(term.sum())
    if ns:
        grp = tt.group[p0]
        setid = np.zeros(ns, dtype=np.int64)
        np.cumsum((piece[1:] != piece[:-1]) | (grp[1:] != grp[:-1]), out=setid[1:])
        n_sets = int(setid[-1]) + 1
        first = np.flatnonzero(np.append(True, setid[1:] != setid[:-1]))
        alpha = tt.alpha[p0[first]]
        mom = tt.e[:kt, p0] * phi0  # (kt, ns)
        s_rs = shift[:, piece[first]].astype(np.float64)  # (nrow, n_sets)
        coef = np.empty((nrow, kt, n_sets))
        coef[:, 0] = np.exp(-s_rs * alpha)
        for t in range(1, kt):
            np.multiply(coef[:, t - 1], s_rs, out=coef[:, t])
        coef = coef.reshape(nrow, kt * n_sets)
    else:
        n_sets = 0
    tail = st.tail[ntail] * np.exp(st.sq[ntail] - s_ref)
    # exact weights from a table over the ranks of the block (index 0: rank p_lo - 1, unused)
    p_lo = int(ntail.min()) + 1
    tab = np.exp(st.sq[p_lo - 1 : int(n.max()) + 1] - s_ref)
    # the dynamic forecasts (ranks as in _super_block)
    nstat_older = np.searchsorted(stat, dyn)
    dpos = (ntail - (p_lo - 1))[:, None] + nstat_older[None, :] + cum_d[:, 1:]
    wd = np.where(dact, tab[dpos], 0.0)
    # the exact weights inside the crossing blocks: a candidate's rank in row q is its first-row
    # rank minus the shift of its piece (static) or its rank from the dynamic prefix count
    # (dynamic); with many columns, every candidate's weight in every row at once (a zero
    # column last for the padding), else per crossing block from the rank tables
    if len(st.columns) >= MANY_COLUMNS:
        wfull = np.zeros((nrow, mc + 1))
        if ns:
            wfull[:, stat] = np.take(tab, (p0 - (p_lo - 1))[None, :] - shift[:, piece], mode="clip")
        if nd:
            wfull[:, dyn] = wd
        rowoff = r[:, None] * (mc + 1)

        def crossing_weights(items):
            return np.take(wfull, items + rowoff)

    else:
        n_piece = shift.shape[1]
        rank_tab = np.concatenate([-shift, dpos], axis=1)
        live_tab = np.concatenate([np.ones((nrow, n_piece), dtype=bool), dact], axis=1)
        base_c = np.zeros(mc + 1, dtype=np.int64)
        col_c = np.zeros(mc + 1, dtype=np.int64)
        base_c[stat] = p0 - (p_lo - 1)
        col_c[stat] = piece
        col_c[dyn] = n_piece + np.arange(nd)

        def crossing_weights(items):
            flat = col_c[items]
            flat += r[:, None] * rank_tab.shape[1]
            pos = base_c[items]
            pos += np.take(rank_tab, flat)
            live = np.take(live_tab, flat)
            live &= items < mc
            return np.where(live, np.take(tab, pos, mode="clip"), 0.0)

    half = 0.5 * wtot
    eps = WEIGHTED_MEDIAN_RTOL * wtot
    thr = half - eps
    tol = (ROUNDING * (n + mc) + 1e-15) * wtot
    nb = (mc + VALUE_BLOCK - 1) // VALUE_BLOCK
    sub = math.gcd(VALUE_BLOCK, SUM_BLOCK_T)
    ok = np.ones(nrow, dtype=bool)
    picks = []
    for col, perm in zip(st.columns, _value_orders(st, r_lo, r_hi, qf, cand), strict=True):
        upos = np.empty(mc, dtype=np.int64)
        upos[perm] = np.arange(mc)
        vb = upos // VALUE_BLOCK
        wb = np.zeros((nrow, nb))
        if n_sets:
            key = vb[stat] * n_sets + setid
            mom_sets = np.empty((kt, nb * n_sets))
            for t in range(kt):
                mom_sets[t] = np.bincount(key, weights=mom[t], minlength=nb * n_sets)
            mom_sets = mom_sets.reshape(kt, nb, n_sets).transpose(1, 0, 2).reshape(nb, kt * n_sets)
            # in row chunks small enough for BLAS to stay single-threaded (threads cost more CPU
            # than they save on products this small, and the machine may be shared)
            step = max(1, SINGLE_THREAD_GEMM // (mom_sets.shape[0] * mom_sets.shape[1]))
            mt = mom_sets.T
            for c0 in range(0, nrow, step):
                wb[c0 : c0 + step] += coef[c0 : c0 + step] @ mt
        if nd:
            key = (r[:, None] * nb + vb[dyn][None, :]).ravel()
            wb += np.bincount(key, weights=wd.ravel(), minlength=nrow * nb).reshape(nrow, nb)
        cum = np.cumsum(wb, axis=1)
        bstar = np.count_nonzero(cum < thr[:, None], axis=1)
        bs = np.minimum(bstar, nb - 1)
        before = np.where(bstar > 0, cum[r, np.maximum(bs - 1, 0)], 0.0)
        # the crossing block, forecast by forecast
        padded = np.full(nb * VALUE_BLOCK, mc, dtype=np.int64)
        padded[:mc] = perm
        items = padded.reshape(nb, VALUE_BLOCK)[bs]
        w = crossing_weights(items)
        # cumulative weights per `sub` values, then inside the crossing sub-block
        w3 = w.reshape(nrow, VALUE_BLOCK // sub, sub)
        cs = np.cumsum(w3.sum(axis=2), axis=1)
        cs += before[:, None]
        jx, cj, prev = _crossing(w3, cs, before, thr)
        jc = np.minimum(jx, VALUE_BLOCK - 1)
        ok &= (bstar < nb) & (jx < VALUE_BLOCK)
        ok &= (prev + e_blk + tail < thr - tol) & (cj - e_blk > half + eps + tol)
        picks.append((col, cand[np.minimum(items[r, jc], mc - 1)]))
    good = np.flatnonzero(ok)
    for col, item in picks:
        for c in (0, 1) if st.complement else (col,):
            out[g[good], c] = st.vals[item[good], c]
    return g[~ok]
