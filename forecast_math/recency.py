"""The recency-weighted median of every segment of a question (scoring.md section 4).

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

* **Window method** (segments with fewer than TAYLOR_MIN_N standing forecasts, and every
  fallback): a *super block* of consecutive segments (at most SUPER_ROWS, within 2 SUPER_ROWS
  segments) shares one candidate set, every forecast entering by its last segment and standing
  at its first, sorted by value once; a segment's weights are those of its candidates' exact
  ranks (one table lookup), laid out in the block's value order, and the crossing is found from
  sums over blocks of SUM_BLOCK values and a prefix sum inside the crossing block. O(sqrt(N))
  work per segment, c = WINDOW_C. With a few columns, many super blocks are evaluated at once
  (``_window_batch``, in chunks of rows), every row with the numbers it gets in its own block.
* **Taylor blocks** (``_taylor_block``; large N): within a block of segments a forecast's rank
  only moves down, by the number s of older standing forecasts removed since the block began,
  and exp(sqrt(p - s)) is expanded in powers of s - s0 (s0: the middle of the shifts over the
  block; exactly bounded truncation error, few terms since s << sqrt(p)). The weight of any
  group of forecasts in any segment of the block is then a dot product of per-segment
  coefficients with per-group moments, so the weight of each block of values in every segment
  is one matrix product; only the crossing block is summed forecast by forecast. The work per
  segment no longer grows with sqrt(N).

Many columns (the 201 points of a CDF): the weights do not depend on the column, only the value
order does. The value orders of a block's candidates are kept for every column at once
(``_value_orders``: one filter, one merge over all columns laid end to end). Within a block, a
column's crossings stay within a few hundred values of each other, so in the tail regime
(``_window_many``, ``_taylor_many``) each column's values are cut into FINE_BLOCKS blocks of
FINE_VALUES values around the crossing of one reference segment, with one block below them (and
one above, never summed): the block sums of every column in every segment are one matrix
product (the exact weights with the blocks' indicators, or the Taylor coefficients with per-block
moments), then the crossing fine block is summed value by value (``_fine_finish``); a crossing
outside the fine blocks is found over the whole column. A segment certified in some columns is
retried in the others only (``_State.need``); the segments retried are the ones retried when
every column is.

With the window sizes used, all but a fraction of a percent to a few percent of the segments are
certified at the first attempt. When a window holds every standing forecast (small N) the result
is the plain definition, as in ``aggregates.row_weighted_median``, up to the order in which the
weights are added (which can only matter within rounding of the 1e-12 tie tolerance). That order
is kept exactly as it was before issue 11's speed-up: a block with a segment in this exact
regime is evaluated with the same candidates, layout and summation (``_window_batch`` for a few
columns, ``_super_block`` with ``_ManyColumns`` or its column loop for many), and
tests/forecast_math/test_recency_reference.py compares the results with that implementation bit
for bit. A certified segment's value is the exact weighted median, whatever the arithmetic.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from .aggregates import WEIGHTED_MEDIAN_RTOL
from .sweep import Changes, kth_smallest, stable_argsort

#: first window: the newest ``max(WINDOW_MIN, 2 sqrt(N) WINDOW_C)`` standing forecasts
WINDOW_C = 10.0
WINDOW_MIN = 64
#: a segment not certified is retried with a window this many times larger (up to everything)
WINDOW_GROWTH = 2
#: segments sharing one set of candidates (and one sort by value) in the window method
SUPER_ROWS = 128
#: segments processed together by _super_block (a rows x candidates block small enough to stay
#: in cache)
CHUNK_ROWS = 32
#: a few columns: super blocks evaluated at once, up to about this many rows x candidates ...
BATCH_CELLS = 1 << 20
#: ... in chunks of rows of about this many cells (NumPy's temporaries small enough to be reused)
CHUNK_CELLS = 65536
#: ... super blocks of at most this many candidates (larger ones: _super_block, one by one, each
#: sorted by value from the previous one's lists)
BATCH_SPAN = 1024
#: cumulative weights are summed per block of this many values, then within the crossing block
SUM_BLOCK = 64
#: rounding allowance of a cumulative weight, per summed term, relative to the total
ROUNDING = 4e-16
#: from this many columns (the points of a CDF) the crossings of all columns are found at once:
#: in the tail regime by _window_many and _taylor_many, in the exact regime by _super_block
#: with _ManyColumns ...
MANY_COLUMNS = 16
#: ... while a block has at most this many candidates (else its column loop)
MANY_MAX_CANDIDATES = 2560
#: value blocks per column in _ManyColumns' product, at most (each at least SUM_BLOCK values)
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
#: many columns, tail regime: FINE_BLOCKS value blocks of FINE_VALUES values around a reference
#: segment's crossing, per column (and one coarse block on either side) ...
FINE_VALUES = 64
FINE_BLOCKS = 8
#: ... the crossing blocks summed about this many values at a time ...
FINE_CHUNK = 1 << 17
#: ... and the window method's block indicators (candidates x columns x blocks) built in slices
#: of about this many cells
IND_CELLS = 1 << 18


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
    first = np.searchsorted(np.maximum.accumulate(st.b), rows, side="right")

    def window_start(seg, skip):
        # the entering rank of the (skip)-th oldest standing forecast; the oldest one (skip 0) is
        # the first item in entering order that has not left by then (items enter in order)
        cut = first[np.searchsorted(rows, seg)]
        some = np.flatnonzero(skip > 0)
        if some.shape[0]:
            cut[some] = kth_smallest(ch, entering, seg[some], skip[some])
        return cut

    cut = window_start(rows, nr - target)
    small = ~big
    pending, p_cut, p_target = rows[small], cut[small], target[small]
    if big.any():
        failed = _taylor_pass(st, rows[big], cut[big], out)
        if failed.shape[0]:
            # mostly segments where the tail could matter: retry them with a larger window
            grown = np.minimum(n_active[failed], target[np.searchsorted(rows, failed)] * WINDOW_GROWTH)
            merged = np.argsort(np.concatenate([pending, failed]), kind="stable")
            pending = np.concatenate([pending, failed])[merged]
            p_cut = np.concatenate([p_cut, window_start(failed, n_active[failed] - grown)])[merged]
            p_target = np.concatenate([p_target, grown])[merged]
    cut, target = p_cut, p_target
    while pending.shape[0]:
        failed = _window_pass(st, pending, cut, target, out)
        if failed.shape[0] == 0:
            break
        target = np.minimum(n_active[failed], target[np.searchsorted(pending, failed)] * WINDOW_GROWTH)
        pending = failed
        cut = window_start(pending, n_active[pending] - target)
    return out


def _value_ranks(vals: np.ndarray) -> np.ndarray:
    """``aggregates.event_ranks`` of every column of ``vals`` (items x columns) at once, as a
    (columns x items) array."""
    v = np.ascontiguousarray(vals.T)
    kc, m = v.shape
    ranks = np.empty((kc, m), dtype=np.int64)
    np.put_along_axis(ranks, stable_argsort(v), np.arange(m, dtype=np.int64)[None, :], axis=1)
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
        # many columns: segment -> the columns an earlier pass could not certify (else all)
        self.need: dict[int, np.ndarray] = {}
        # work arrays kept for the whole computation (_scratch)
        self.scratch: dict[str, np.ndarray] = {}


def _scratch(st: _State, name: str, shape: tuple, dtype=np.float64) -> np.ndarray:
    """A work array of this shape (contents undefined), kept in ``st`` for the whole computation:
    a large array allocated afresh is mapped afresh, and its page faults cost more than the
    arithmetic done in it here."""
    size = math.prod(shape)
    buf = st.scratch.get(name)
    if buf is None or buf.dtype != dtype or buf.shape[0] < size:
        buf = np.empty(size + size // 4 + 1, dtype=dtype)
        st.scratch[name] = buf
    return buf[:size].reshape(shape)


def _value_orders(st: _State, r_lo: int, r_hi: int, qf: int, cand: np.ndarray) -> np.ndarray:
    """``perms`` (columns x candidates) such that ``cand[perms[ci]]`` is sorted by the values of
    column ``st.columns[ci]``, for every column at once.

    ``cand`` is every item with an entering rank in [r_lo, r_hi) still standing after segment
    ``qf``, in entering order. Consecutive blocks share most candidates, so the previous block's
    sorted lists are updated (filtered, merged with the new items) instead of sorting again: the
    filter drops the same items from every column, and the merge is one search and one insert
    over all columns laid end to end (each column's value ranks offset by its index times the
    number of items, so that the concatenation is sorted; these keys are kept with the lists)."""
    vr = st.vranks  # columns x items
    kc, m = vr.shape
    # (32-bit items and keys where they fit: these arrays are copied at every block)
    it = np.int32 if kc * m < 2**31 else np.int64
    off = (np.arange(kc, dtype=np.int64) * m)[:, None]
    prev = st.sorted_cache
    if prev is None or prev[1] > r_hi or prev[2] > qf:
        vs = cand[np.argsort(vr[:, cand], axis=1)].astype(it)  # (value ranks are distinct)
        keys = np.take(vr.ravel(), vs + off).astype(it)
        keys += off.astype(it)
    else:
        vs_prev, p_lo, p_hi, keys_prev = prev[0], prev[1], prev[3], prev[4]
        alive = np.zeros(m + 1, dtype=bool)
        alive[cand] = True
        keep = np.take(alive, vs_prev.ravel())
        vs = np.compress(keep, vs_prev.ravel())
        keys = np.compress(keep, keys_prev)
        add = np.concatenate([np.arange(r_lo, min(p_lo, r_hi)), np.arange(max(p_hi, r_lo), r_hi)])
        add = add[st.b[add] > qf]
        if add.shape[0]:
            add = add[np.argsort(vr[:, add], axis=1)].astype(it)  # columns x new items
            add_keys = np.take(vr.ravel(), add + off).astype(it)
            add_keys += off.astype(it)
            at = np.searchsorted(keys, add_keys.ravel())
            vs = np.insert(vs, at, add.ravel())
            keys = np.insert(keys, at, add_keys.ravel())
        vs = vs.reshape(kc, -1)  # the same number of items in every column
    st.sorted_cache = (vs, r_lo, qf, r_hi, keys.ravel())
    where = np.empty(r_hi - r_lo, dtype=np.int64)
    where[cand - r_lo] = np.arange(cand.shape[0])
    return np.take(where, vs - it(r_lo))


def _crossing(w3: np.ndarray, cb: np.ndarray, base, thr: np.ndarray):
    """Where each row's cumulative weight first reaches ``thr``: the weights ``w3`` (rows, blocks,
    values per block) follow a cumulative weight ``base`` and reach ``cb`` (rows, blocks) at the
    end of each block (base included). The crossing block is found from ``cb``, then the value
    inside it from a prefix sum. Returns (position, the cumulative weight there, the cumulative
    weight just before it); a row that never reaches ``thr`` gets a position past its last block."""
    nr, nb, per = w3.shape
    at = np.arange(nr) * nb
    kb = (cb < thr[:, None]).sum(axis=1)
    np.minimum(kb, nb - 1, out=kb)
    at += kb
    start = np.where(kb > 0, np.take(cb, at - 1), base)
    inner = np.cumsum(w3.reshape(nr * nb, per)[at], axis=1)
    inner += start[:, None]
    jj = (inner < thr[:, None]).sum(axis=1)
    at = np.arange(nr) * per
    at += jj
    cj = np.take(inner, np.minimum(at, at - jj + per - 1))
    prev = np.where(jj > 0, np.take(inner, at - 1), start)
    return kb * per + jj, cj, prev


def _window_pass(st: _State, rows: np.ndarray, cut: np.ndarray, target: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Weighted medians of ``rows`` from the windows starting at ``cut``; returns the rows not
    certified in every column (with many columns, the columns certified are written to ``out``
    and ``st.need`` keeps the others; else ``out`` is left untouched for these rows)."""
    nrows = rows.shape[0]
    # super blocks: at most SUPER_ROWS rows within 2 * SUPER_ROWS segments of the first
    reach = np.minimum(np.searchsorted(rows, rows + 2 * SUPER_ROWS, side="right"), np.arange(nrows) + SUPER_ROWS)
    reach = reach.tolist()
    bnd = [0]
    while bnd[-1] < nrows:
        bnd.append(reach[bnd[-1]])
    if len(st.columns) >= MANY_COLUMNS:
        failed = []
        for i, j in itertools.pairwise(bnd):
            g = rows[i:j]
            items = _block_items(st, g, cut[i:j])
            if (items[10] == 0).any():
                # a window holding every standing forecast (the exact regime): the arithmetic of
                # _super_block, every column; a row it leaves is retried in every column
                bad = _super_block(st, g, cut[i:j], out, items)
                for row in g.tolist():
                    st.need.pop(row, None)
            else:
                bad = _keep_need(st, g, _window_many(st, g, items, out))
            if bad.shape[0]:
                failed.append(bad)
        return np.concatenate(failed) if failed else np.zeros(0, dtype=np.int64)
    # few columns: many super blocks at once, up to about BATCH_CELLS rows x candidates
    starts = np.array(bnd[:-1], dtype=np.int64)
    ends = np.array(bnd[1:], dtype=np.int64)
    r_lo = np.minimum.reduceat(cut, starts)
    r_hi = np.searchsorted(st.a, rows[ends - 1], side="right")
    cells = ((ends - starts) * (r_hi - r_lo + SUM_BLOCK)).tolist()
    large = (r_hi - r_lo > BATCH_SPAN).tolist()
    failed = []
    b0 = 0
    nblocks = starts.shape[0]
    while b0 < nblocks:
        i = int(starts[b0])
        if large[b0]:
            bad = _super_block(st, rows[i : ends[b0]], cut[i : ends[b0]], out)
            b0 += 1
        else:
            b1, acc = b0 + 1, cells[b0]
            while b1 < nblocks and not large[b1] and acc + cells[b1] <= BATCH_CELLS:
                acc += cells[b1]
                b1 += 1
            j = int(ends[b1 - 1])
            bad = _window_batch(st, rows[i:j], starts[b0:b1] - i, r_lo[b0:b1], r_hi[b0:b1], out)
            b0 = b1
        if bad.shape[0]:
            failed.append(bad)
    return np.concatenate(failed) if failed else np.zeros(0, dtype=np.int64)


def _window_batch(
    st: _State, rows: np.ndarray, starts: np.ndarray, r_lo: np.ndarray, r_hi: np.ndarray, out: np.ndarray
) -> np.ndarray:
    """The window method for several super blocks at once (rows ``rows[starts[j]:starts[j + 1]]``
    sharing the candidates with entering ranks in [r_lo[j], r_hi[j]) still standing at the
    block's first row), with the arithmetic of ``_super_block`` row for row: each row's weights
    in its block's value order (padded with zeros to whole blocks of SUM_BLOCK values), summed
    per block of SUM_BLOCK values and then inside the crossing block, so that every row gets the
    same numbers it would get in its own block. Rows are evaluated about CHUNK_CELLS cells at a
    time, the large arrays in ``st.scratch``. Returns the rows not certified."""
    nrow = rows.shape[0]
    nbk = starts.shape[0]
    blk = np.repeat(np.arange(nbk), np.diff(np.append(starts, nrow)))  # block of each row
    # the candidates of every block, laid end to end (entering order within each block)
    span = r_hi - r_lo
    flat = np.arange(int(span.sum())) + np.repeat(r_lo - (np.cumsum(span) - span), span)
    fblk = np.repeat(np.arange(nbk), span)
    keep = st.b[flat] > rows[starts][fblk]
    cand, cblk = flat[keep], fblk[keep]
    ca, cb = st.a[cand], st.b[cand]
    mc = np.bincount(cblk, minlength=nbk)
    cst = np.cumsum(mc) - mc
    width = int(mc.max()) + 1  # a padding column last: never standing, weight 0
    pos = np.arange(cand.shape[0]) - cst[cblk]  # position in its block (entering order)
    # per block, the candidates' segments [a, b) in entering order (padding: never standing)
    a_blk = np.full((nbk, width), st.n.shape[0], dtype=np.int64)
    b_blk = np.zeros((nbk, width), dtype=np.int64)
    a_blk[cblk, pos] = ca
    b_blk[cblk, pos] = cb
    # standing candidates per row: entered by then (a is sorted within a block), not yet left
    big = st.n.shape[0] + 1
    key = blk * big + rows
    n_in = np.searchsorted(cblk * big + ca, key, side="right")
    n_in -= np.searchsorted(np.sort(cblk * big + cb), key, side="right")
    n = st.n[rows]
    ntail = n - n_in
    exact = ntail == 0
    row_exact = np.logical_and.reduceat(exact, starts)[blk]  # the rows of all-exact blocks
    # every weight is read from one table: index (offset of the row) + (rank of the candidate);
    # the index of a candidate not standing is 0, weight 0
    tail = np.zeros(nrow)
    off = np.zeros(nrow, dtype=np.int64)
    parts = [np.zeros(1)]
    size = 1
    er = np.flatnonzero(row_exact & (n > 2))
    if er.shape[0]:
        # all-exact blocks: exp(sqrt(p) - sqrt(n)) for p = 0..n, per distinct n (the definition
        # itself, as in aggregates.recency_weights)
        nv, inv = np.unique(n[er], return_inverse=True)
        length = nv + 1
        tb = np.cumsum(length) - length
        p = np.arange(int(length.sum())) - np.repeat(tb, length)
        parts.append(np.exp(np.sqrt(p.astype(np.float64)) - np.sqrt(np.repeat(nv, length).astype(np.float64))))
        off[er] = size + tb[inv]
        size += int(length.sum())
    mixed = np.flatnonzero(~np.logical_and.reduceat(exact, starts))
    if mixed.shape[0]:
        # mixed blocks: exp(sqrt(p) - sqrt(n_hi)) for the ranks p of the block (n_hi: its largest n)
        n_hi = np.maximum.reduceat(n, starts)[mixed]
        p_lo = np.minimum.reduceat(ntail, starts)[mixed] + 1
        s_ref = st.sq[n_hi]
        length = n_hi - p_lo + 1
        tb = np.cumsum(length) - length
        p = np.arange(int(length.sum())) + np.repeat(p_lo - tb, length)
        parts.append(np.exp(st.sq[p] - np.repeat(s_ref, length)))
        which = np.zeros(nbk, dtype=np.int64)
        which[mixed] = np.arange(mixed.shape[0])
        m_rows = np.flatnonzero(~row_exact)
        mb = which[blk[m_rows]]
        nt = ntail[m_rows]
        off[m_rows] = size + (tb - p_lo)[mb] + nt  # a candidate's rank: ntail + its count
        tail[m_rows] = st.tail[nt] * np.exp(st.sq[nt] - s_ref[mb])
        size += int(length.sum())
    few = np.flatnonzero(n <= 2)
    if few.shape[0]:
        # equal weights: a table of ones
        parts.append(np.ones(int(n[few].max()) + 1))
        off[few] = size
    tab = np.concatenate(parts)
    mcp = -(-(width - 1) // SUM_BLOCK) * SUM_BLOCK
    # per column, each block's candidates in value order (as _value_orders), as positions in the
    # block's entering order, padded with the block's padding column
    kc = len(st.columns)
    perms = np.empty((kc, nbk, mcp), dtype=np.int64)
    perms[:] = mc[None, :, None]
    for c_i in range(kc):
        order = np.argsort(cblk * st.vals.shape[0] + st.vranks[c_i][cand])
        perms[c_i, cblk, pos] = pos[order]
    ok = np.ones(nrow, dtype=bool)
    i1 = np.zeros((kc, nrow), dtype=np.int64)
    i2 = np.zeros((kc, nrow), dtype=np.int64)
    tie_all = np.zeros((kc, nrow), dtype=bool)
    # per chunk and column: the total weight, the threshold, the crossing block of values and
    # the cumulative weight before it
    # rows per chunk: the weights (rows x candidates) and the crossing blocks (columns x rows x
    # SUM_BLOCK) stay within about CHUNK_CELLS
    per_max = max(1, CHUNK_CELLS // (kc * SUM_BLOCK))
    tot = np.empty((kc, per_max))
    thr = np.empty((kc, per_max))
    kb = np.empty((kc, per_max), dtype=np.int64)
    start = np.empty((kc, per_max))
    cross = np.empty((kc, per_max, SUM_BLOCK))
    ends = np.append(starts[1:], nrow).tolist()
    for j, (s0, s1) in enumerate(zip(starts.tolist(), ends, strict=True)):
        mcj = int(mc[j])
        wj = mcj + 1
        nblk = -(-mcj // SUM_BLOCK)
        mcpj = nblk * SUM_BLOCK
        aj, bj = a_blk[j, :wj], b_blk[j, :wj]
        pj = np.ascontiguousarray(perms[:, j, :mcpj])
        # a candidate's rank in a row: (static ones up to it) + (dynamic ones up to it standing
        # then), the latter from a small rows x dynamic prefix count (static: standing in every
        # row of the block); weights are laid out in value order directly for one column, else
        # in entering order and gathered per column
        stat = (aj[:mcj] <= rows[s0]) & (bj[:mcj] > rows[s1 - 1])
        dyn = np.flatnonzero(~stat)
        ad, bd = aj[dyn], bj[dyn]
        st_up = np.full(wj, -(1 << 40), dtype=np.int64)  # the padding: a negative index, weight 0
        st_up[:mcj] = np.cumsum(stat)
        kd = np.zeros(wj, dtype=np.int64)
        kd[:mcj] = np.cumsum(~stat)
        lay = pj[0] if kc == 1 else np.arange(wj)
        st_l, kd_l = st_up[lay], kd[lay]
        # column of a candidate in [standing in every row | dynamic ones standing]: 0 if static
        dcol_l = np.where(np.append(stat, True)[lay], 0, kd_l)
        width_l = lay.shape[0]
        dyn_l = np.flatnonzero(dcol_l)
        few_dyn = dyn_l.shape[0] * 4 < width_l  # then only their columns are masked
        per = max(1, CHUNK_CELLS // max(mcpj, kc * SUM_BLOCK))
        for r0 in range(s0, s1, per):
            r1 = min(s1, r0 + per)
            cr = r1 - r0
            q = rows[r0:r1, None]
            live = np.ones((cr, dyn.shape[0] + 1), dtype=bool)
            np.less_equal(ad, q, out=live[:, 1:])
            live[:, 1:] &= bd > q
            cum = _scratch(st, "wb_cum", (cr, dyn.shape[0] + 1), np.int64)
            cum[:, 0] = 0
            np.cumsum(live[:, 1:], axis=1, out=cum[:, 1:])
            cum += off[r0:r1, None]
            idx = np.take(cum, kd_l, axis=1, mode="clip", out=_scratch(st, "wb_idx", (cr, width_l), np.int64))
            idx += st_l
            # a dynamic candidate not standing: index 0, weight 0 (the padding: clipped to 0)
            if few_dyn:
                idx[:, dyn_l] *= live[:, dcol_l[dyn_l]]
            else:
                idx *= np.take(live, dcol_l, axis=1, mode="clip", out=_scratch(st, "wb_live", (cr, width_l), bool))
            w = np.take(tab, idx, mode="clip", out=_scratch(st, "wb_w", (cr, width_l)))
            tl = tail[r0:r1]
            rowoff = (np.arange(cr) * wj)[:, None]
            at0 = np.arange(cr) * nblk
            for c_i in range(kc):
                if kc == 1:
                    w3 = w.reshape(cr, nblk, SUM_BLOCK)
                else:
                    gi = np.add(pj[c_i], rowoff, out=_scratch(st, "wb_gi", (cr, mcpj), np.int64))
                    w3 = np.take(w, gi, mode="clip", out=_scratch(st, "wb_w3", (cr, mcpj))).reshape(cr, nblk, SUM_BLOCK)
                csum = np.cumsum(w3.sum(axis=2), axis=1)
                t = tot[c_i, :cr]
                np.add(csum[:, -1], tl, out=t)
                np.subtract(0.5 * t, WEIGHTED_MEDIAN_RTOL * t, out=thr[c_i, :cr])
                k = kb[c_i, :cr]
                np.sum(csum < thr[c_i, :cr, None], axis=1, out=k)
                np.minimum(k, nblk - 1, out=k)
                at = at0 + k
                np.copyto(start[c_i, :cr], np.take(csum, at - 1))
                start[c_i, :cr][k == 0] = 0.0
                np.take(w3.reshape(cr * nblk, SUM_BLOCK), at, axis=0, mode="clip", out=cross[c_i, :cr])
            # the crossing blocks of every column at once, value by value
            t, th, k, st0 = tot[:, :cr], thr[:, :cr], kb[:, :cr], start[:, :cr]
            inner = np.cumsum(cross[:, :cr], axis=2)
            inner += st0[:, :, None]
            jj = (inner < th[:, :, None]).sum(axis=2)
            flat = np.arange(kc * cr).reshape(kc, cr) * SUM_BLOCK
            cj = np.take(inner, flat + np.minimum(jj, SUM_BLOCK - 1))
            prev = np.where(jj > 0, np.take(inner, flat + np.maximum(jj - 1, 0)), st0)
            jx = k * SUM_BLOCK + jj
            jc = np.minimum(jx, mcj - 1)
            half = 0.5 * t
            eps = WEIGHTED_MEDIAN_RTOL * t
            tol = (ROUNDING * (n[r0:r1] + mcj) + 1e-15) * t
            certain = (jx < mcj) & (prev + tl < th - tol) & (cj > half + eps + tol)
            ex = exact[r0:r1]
            ok[r0:r1] = (ex | certain).all(axis=0)
            # exact regime: a tie averages with the next standing value
            tie = (np.abs(cj - half) <= eps) & ex
            i1[:, r0:r1] = np.take(pj, jc + (np.arange(kc) * mcpj)[:, None])
            i2[:, r0:r1] = i1[:, r0:r1]
            for c_i in np.flatnonzero(tie.any(axis=1)) if tie.any() else []:
                tr = np.flatnonzero(tie[c_i])
                standing = (aj <= q[tr]) & (bj > q[tr])
                later = np.take(standing, pj[c_i][None, :] + (np.arange(tr.shape[0]) * wj)[:, None])
                later &= np.arange(mcpj)[None, :] > jc[c_i, tr][:, None]
                has = later.any(axis=1)
                i2[c_i, r0 + tr] = pj[c_i, np.where(has, np.argmax(later, axis=1), jc[c_i, tr])]
                tie[c_i, tr] = has
            tie_all[:, r0:r1] = tie
    good = np.flatnonzero(ok)
    base = cst[blk]
    for c_i, c0 in enumerate(st.columns):
        it1 = cand[base + i1[c_i]]
        for c in (0, 1) if st.complement else (c0,):
            v1 = st.vals[it1, c]
            if tie_all[c_i].any():
                v1 = np.where(tie_all[c_i], 0.5 * (v1 + st.vals[cand[base + i2[c_i]], c]), v1)
            out[rows[good], c] = v1[good]
    return rows[~ok]


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


def _super_block(st: _State, g: np.ndarray, cut: np.ndarray, out: np.ndarray, items: tuple | None = None) -> np.ndarray:
    """Rows ``g`` (sorted) sharing one set of candidates: the forecasts of their windows.

    A candidate standing in every row of the block is *static*; the others (entering or leaving
    during the block) are *dynamic*. The rank of a candidate x in row q is
    ntail_q + (static candidates up to x) + (dynamic candidates up to x standing in q), the last
    term read from a small rows x dynamic prefix count, so a row's ranks in value order are one
    column gather."""
    qf = int(g[0])
    r_lo, r_hi, cand, ca, cb, is_stat, dyn, dact, cum_d, n, ntail = items or _block_items(st, g, cut)
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


def _matmul_1t(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b in slices of b's columns small enough for BLAS to stay single-threaded (threads
    cost more CPU than they save on products this small, and the machine may be shared)."""
    out = np.empty((a.shape[0], b.shape[1]))
    step = max(1, SINGLE_THREAD_GEMM // max(1, a.shape[0] * a.shape[1]))
    for j0 in range(0, b.shape[1], step):
        np.matmul(a, b[:, j0 : j0 + step], out=out[:, j0 : j0 + step])
    return out


# --------------------------------------------------------------------------
# many columns (the points of a CDF), tail regime: fine value blocks around the crossings
# --------------------------------------------------------------------------
def _ref_crossings(st: _State, wrow: np.ndarray, perms: np.ndarray, thr: float) -> np.ndarray:
    """Per column, about where (within SUM_BLOCK values) the cumulative weight of one row
    (``wrow``, by candidate) reaches ``thr`` in value order (``perms``, columns x candidates)."""
    kc, mc = perms.shape
    w = np.take(wrow, perms, mode="clip", out=_scratch(st, "rc_w", (kc, mc)))
    sums = np.add.reduceat(w, np.arange(0, mc, SUM_BLOCK), axis=1)
    np.cumsum(sums, axis=1, out=sums)
    return (sums < thr).sum(axis=1) * SUM_BLOCK + SUM_BLOCK // 2


def _fine_blocks(st: _State, perms: np.ndarray, pc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The value blocks of many columns: per column, FINE_BLOCKS blocks of FINE_VALUES values
    from ``lo`` on (centred on the positions ``pc`` where possible), block 0 below them and
    FINE_BLOCKS + 1 above. Returns (lo (columns,), the block of every candidate in every column
    numbered across columns, column c's blocks being c * (FINE_BLOCKS + 2) onwards)."""
    kc, mc = perms.shape
    fb, nf = FINE_VALUES, FINE_BLOCKS
    span = nf * fb
    lo = np.clip(pc - span // 2, 0, max(0, mc - span))
    bpos = _scratch(st, "bpos", (kc, mc), np.int64)
    np.subtract(np.arange(mc)[None, :], lo[:, None], out=bpos)
    bpos //= fb
    bpos += 1
    np.clip(bpos, 0, nf + 1, out=bpos)
    bpos += (np.arange(kc) * (nf + 2))[:, None]
    at = _scratch(st, "bat", (kc, mc), np.int64)
    np.add(perms, (np.arange(kc) * mc)[:, None], out=at)
    bid = _scratch(st, "bid", (kc, mc), np.int64)
    bid.ravel()[at.ravel()] = bpos.ravel()
    return lo, bid


def _fine_finish(
    st, g, cand, perms, wfull, lo, cb, need, thr, half, eps, tol, slack, tail, out, cols=None
) -> np.ndarray:
    """The crossing of every needed (row, column) of the rows ``g``, given the cumulative
    weights ``cb`` (rows, columns, FINE_BLOCKS + 2) at the ends of the value blocks of
    ``_fine_blocks`` (within ``slack`` of the exact sums): in a fine block, value by value from
    the exact weights ``wfull`` (rows x (candidates + 1), a zero column last); in a coarse block
    (or when ``cb`` is -inf), over the whole column. A crossing is certified when the tail and
    the slack cannot move it and it is no tie (as in ``_super_block``); the certified values are
    written to ``out``. Returns certified (rows, columns), True where not needed. With ``cols``,
    the columns are those of ``st.columns`` at these indices (``perms``, ``lo``, ``cb`` and
    ``need`` hold only them)."""
    nrow = g.shape[0]
    kc, mc = perms.shape
    fb, nf = FINE_VALUES, FINE_BLOCKS
    wrow = wfull.shape[1]
    kb = (cb < thr[:, None, None]).sum(axis=2)  # the block of the crossing (nf + 2: never)
    fine = (kb >= 1) & (kb <= nf) & need
    pos = np.zeros((nrow, kc), dtype=np.int64)
    cj = np.zeros((nrow, kc))
    prev = np.zeros((nrow, kc))
    found = np.zeros((nrow, kc), dtype=bool)
    fr = np.flatnonzero(fine.any(axis=1))
    if fr.shape[0]:
        # the crossing fine block, value by value (values x rows x columns: the prefix sums run
        # down the values, each step one vector addition); past the last value, a zero weight
        width = max(mc, int(lo.max()) + nf * fb)
        permp = perms
        if width > mc:
            permp = _scratch(st, "ff_perm", (kc, width), np.int64)
            permp[:, :mc] = perms
            permp[:, mc:] = mc
        kbf = np.where(fine[fr], kb[fr], 1)
        first = lo[None, :] + (kbf - 1) * fb + (np.arange(kc) * width)[None, :]  # (rows, columns)
        start = np.take_along_axis(cb[fr], (kbf - 1)[:, :, None], axis=2)[:, :, 0]
        j = np.arange(fb)[:, None, None]
        step = max(1, FINE_CHUNK // (kc * fb))
        for r0 in range(0, fr.shape[0], step):
            rs = fr[r0 : r0 + step]
            nr = rs.shape[0]
            at = _scratch(st, "ff_at", (fb, nr, kc), np.int64)
            np.add(first[None, r0 : r0 + step, :], j, out=at)
            items = np.take(permp, at, mode="clip", out=_scratch(st, "ff_items", (fb, nr, kc), np.int64))  # candidates
            items += (rs * wrow)[None, :, None]
            inner = np.take(wfull, items, mode="clip", out=_scratch(st, "ff_inner", (fb, nr, kc)))
            # prefix sums down the values, each step one vector addition over rows x columns
            inner[0] += start[r0 : r0 + step]
            for i in range(1, fb):
                inner[i] += inner[i - 1]
            k = (inner < thr[rs][None, :, None]).sum(axis=0)
            kk = np.minimum(k, fb - 1)
            flat = np.arange(nr * kc).reshape(nr, kc)
            cj[rs] = np.take(inner, kk * (nr * kc) + flat)
            pv = np.take(inner, np.maximum(k - 1, 0) * (nr * kc) + flat)
            prev[rs] = np.where(k > 0, pv, start[r0 : r0 + step])
            pos[rs] = first[r0 : r0 + step] - (np.arange(kc) * width)[None, :] + kk
            found[rs] = k < fb
    # a crossing in a coarse block: the whole column of the row, exact weights
    other = np.flatnonzero((need & ~fine).ravel())
    if other.shape[0]:
        rr, cc = np.divmod(other, kc)
        per = max(1, FINE_CHUNK // mc)
        for o0 in range(0, other.shape[0], per):
            r_, c_ = rr[o0 : o0 + per], cc[o0 : o0 + per]
            at = _scratch(st, "ff_oat", (r_.shape[0], mc), np.int64)
            np.add(perms[c_], (r_ * wrow)[:, None], out=at)
            w = np.take(wfull, at, mode="clip", out=_scratch(st, "ff_ow", (r_.shape[0], mc)))
            np.cumsum(w, axis=1, out=w)
            k = (w < thr[r_, None]).sum(axis=1)
            kk = np.minimum(k, mc - 1)
            at = np.arange(w.shape[0])
            cj[r_, c_] = w[at, kk]
            prev[r_, c_] = np.where(k > 0, w[at, np.maximum(k - 1, 0)], 0.0)
            pos[r_, c_] = kk
            found[r_, c_] = k < mc
    certain = found & (prev + (slack + tail)[:, None] < (thr - tol)[:, None])
    certain &= cj - slack > (half + eps + tol)[:, None]
    certain &= need
    rr, cc = np.nonzero(certain)
    item = cand[np.take(perms, pos[rr, cc] + cc * mc)]
    colv = np.asarray(st.columns)[cc if cols is None else np.asarray(cols)[cc]]
    out[g[rr], colv] = st.vals[item, colv]
    if st.complement:
        out[g[rr], 1] = st.vals[item, 1]
    return certain | ~need


def _need(st: _State, g: np.ndarray) -> np.ndarray:
    """The columns still to find for the rows ``g`` (rows x columns): all of them, but for rows
    that an earlier pass left with some columns certified (``st.need``)."""
    need = np.ones((g.shape[0], len(st.columns)), dtype=bool)
    if st.need:
        for i, row in enumerate(g.tolist()):
            if row in st.need:
                need[i] = st.need[row]
    return need


def _keep_need(st: _State, g: np.ndarray, certified: np.ndarray) -> np.ndarray:
    """Record the columns not certified of the rows ``g``; returns the rows with some."""
    bad = np.flatnonzero(~certified.all(axis=1))
    for row in g.tolist():
        st.need.pop(row, None)
    for i in bad.tolist():
        st.need[int(g[i])] = ~certified[i]
    return g[bad]


def _window_many(st: _State, g: np.ndarray, items: tuple, out: np.ndarray) -> np.ndarray:
    """A super block of many columns in the tail regime (no row's window holds every standing
    forecast): the weighted medians of the needed columns of ``g`` (``items``: ``_block_items``),
    the block sums of ``_fine_blocks`` by one matrix product of the exact weights with the
    blocks' indicators (in slices of columns), then ``_fine_finish``. Returns certified (rows,
    columns)."""
    r_lo, r_hi, cand, ca, cb, is_stat, dyn, dact, cum_d, n, ntail = items
    qf = int(g[0])
    nrow = g.shape[0]
    mc = cand.shape[0]
    kc = len(st.columns)
    need = _need(st, g)
    # the exact weights (as in _super_block) of every candidate in every row, a zero column last
    n_hi = int(n.max())
    p_lo = int(ntail.min()) + 1
    s_ref = st.sq[n_hi]
    tab = np.zeros(n_hi - p_lo + 2)
    tab[1:] = np.exp(st.sq[p_lo : n_hi + 1] - s_ref)
    tail = st.tail[ntail] * np.exp(st.sq[ntail] - s_ref)
    rank = np.take(cum_d + (ntail - (p_lo - 1))[:, None], np.cumsum(~is_stat), axis=1)
    rank += np.cumsum(is_stat)
    wfull = np.zeros((nrow, mc + 1))
    wfull[:, :mc] = np.take(tab, rank, mode="clip")
    wfull[:, dyn] *= dact
    wtot = wfull.sum(axis=1) + tail
    half = 0.5 * wtot
    eps = WEIGHTED_MEDIAN_RTOL * wtot
    thr = half - eps
    tol = (ROUNDING * (n + mc) + 1e-15) * wtot
    nbb = FINE_BLOCKS + 2
    full = np.flatnonzero(need.sum(axis=1) >= MANY_COLUMNS)
    if full.shape[0] == 0:
        # rows left with a few columns: each of them over the whole column
        cols = np.flatnonzero(need.any(axis=0))
        perms = np.argsort(st.vranks[cols][:, cand], axis=1)
        cbl = np.full((nrow, cols.shape[0], nbb), -np.inf)
        lo = np.zeros(cols.shape[0], dtype=np.int64)
        certified = np.ones((nrow, kc), dtype=bool)
        certified[:, cols] = _fine_finish(
            st, g, cand, perms, wfull, lo, cbl, need[:, cols], thr, half, eps, tol, 0.0, tail, out, cols
        )
        return certified
    perms = _value_orders(st, r_lo, r_hi, qf, cand)
    cbl = np.full((nrow, kc, nbb), -np.inf)  # -inf: every needed column over the whole column
    lo = np.zeros(kc, dtype=np.int64)
    if full.shape[0]:
        ref = int(full[full.shape[0] // 2])
        lo, bid = _fine_blocks(st, perms, _ref_crossings(st, wfull[ref], perms, thr[ref]))
        wf = wfull[full, :mc]
        sums = np.empty((full.shape[0], kc * nbb))
        cs = max(1, IND_CELLS // (mc * nbb))
        ind = np.zeros((mc, cs * nbb))
        x = np.arange(mc)[None, :]
        for c0 in range(0, kc, cs):
            c1 = min(kc, c0 + cs)
            at = bid[c0:c1] - c0 * nbb
            ind[x, at] = 1.0
            sums[:, c0 * nbb : c1 * nbb] = _matmul_1t(wf, ind[:, : (c1 - c0) * nbb])
            ind[x, at] = 0.0
        cbl[full] = np.cumsum(sums.reshape(full.shape[0], kc, nbb), axis=2)
    return _fine_finish(st, g, cand, perms, wfull, lo, cbl, need, thr, half, eps, tol, 0.0, tail, out)


def _taylor_many(st, g, cand, perms, stat, dyn, setid, n_sets, mom, coef, wd, wfull, tail, wtot, n, e_blk, out):
    """The crossings of every column of the Taylor block ``g`` at once (many columns: the points
    of a CDF); returns certified (rows, columns), the certified values written to ``out``.

    Each column's crossings over the block's rows stay close together in its value order (the
    crowd moves little within a block), so the value blocks are those of ``_fine_blocks`` around
    the crossings of the block's middle row (found from its exact weights). The weight of every
    block of every column in every row is one matrix product: the Taylor coefficients of the
    static forecasts with their per-block moments, and the exact weights of the dynamic ones
    with their blocks' indicators; then ``_fine_finish``, with the truncation allowance of the
    block as the slack of the block sums."""
    nrow = g.shape[0]
    kc, mc = perms.shape
    kt = mom.shape[0]
    nd = dyn.shape[0]
    half = 0.5 * wtot
    eps = WEIGHTED_MEDIAN_RTOL * wtot
    thr = half - eps
    tol = (ROUNDING * (n + mc) + 1e-15) * wtot
    nbb = FINE_BLOCKS + 2
    ref = nrow // 2
    lo, bid = _fine_blocks(st, perms, _ref_crossings(st, wfull[ref], perms, thr[ref]))
    # the block above the fine ones is never summed (a crossing there is found over the whole
    # column): the blocks summed are 0 .. FINE_BLOCKS of every column
    nbs = nbb - 1
    lim = (np.arange(kc) * nbb + nbs)[:, None]  # the first block not summed, per column
    ks = kt * n_sets
    # one product: [Taylor coefficients | dynamic weights] @ [moments; dynamic block indicators]
    a = _scratch(st, "tm_a", (nrow, ks + nd))
    b = _scratch(st, "tm_b", (ks + nd, kc * nbs))
    if n_sets:
        ns = stat.shape[0]
        key = _scratch(st, "tm_key", (kc, ns), np.int64)
        np.take(bid, stat, axis=1, mode="clip", out=key)
        sel = (key < lim).ravel()
        key -= np.arange(kc)[:, None]  # numbered over the summed blocks only
        key *= n_sets
        key += setid[None, :]
        nsel = int(np.count_nonzero(sel))
        keys = np.compress(sel, key.ravel(), out=_scratch(st, "tm_keys", (nsel,), np.int64))
        xs = _scratch(st, "tm_xs", (kc, ns), np.int64)
        xs[:] = np.arange(ns)
        xs = np.compress(sel, xs.ravel(), out=_scratch(st, "tm_xsel", (nsel,), np.int64))
        wsel = _scratch(st, "tm_w", (nsel,))
        for t in range(kt):
            np.take(mom[t], xs, mode="clip", out=wsel)
            m_t = np.bincount(keys, weights=wsel, minlength=kc * nbs * n_sets)
            b[t * n_sets : (t + 1) * n_sets] = m_t.reshape(kc * nbs, n_sets).T
        a[:, :ks] = coef
    if nd:
        b[ks:] = 0.0
        bd = bid[:, dyn]
        dd, cc = np.nonzero((bd < lim).T)
        b[ks + dd, bd[cc, dd] - cc] = 1.0
        a[:, ks:] = wd
    sums = _scratch(st, "tm_sums", (nrow, kc * nbs))
    step = max(1, SINGLE_THREAD_GEMM // max(1, nrow * (ks + nd)))
    for j0 in range(0, kc * nbs, step):
        np.matmul(a, b[:, j0 : j0 + step], out=sums[:, j0 : j0 + step])
    cb = _scratch(st, "tm_cb", (nrow, kc, nbb))
    cb[:, :, nbs] = np.inf
    np.cumsum(sums.reshape(nrow, kc, nbs), axis=2, out=cb[:, :, :nbs])
    need = np.ones((nrow, kc), dtype=bool)
    return _fine_finish(st, g, cand, perms, wfull, lo, cb, need, thr, half, eps, tol, e_blk, tail, out)


def _taylor_pass(st: _State, rows: np.ndarray, cut: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Weighted medians of ``rows`` (all with many standing forecasts) by Taylor blocks; returns
    the rows not certified in every column (with many columns, ``st.need`` keeps the columns
    left)."""
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
    pieces of equal shift. A piece is expanded about the middle s0 of its shifts over the block
    (rank p = p_first - s0), and the rank groups of ``_Taylor`` split the pieces further into
    *sets* sharing one decay rate, so the weight of any static forecasts of a set in any row is a
    dot product of per-row coefficients exp(-alpha d) d^k (d = s - s0, |d| at most half the
    piece's range) with per-set moments exp(sqrt(p)) e_k(p). The weight of each block of values
    is thus one matrix product; the crossing block is then summed exactly, forecast by
    forecast, and the crossing certified against the truncation bound and the tail. Forecasts
    entering or leaving during the block (*dynamic*) are weighted exactly. With a few columns,
    each column's blocks are VALUE_BLOCK consecutive values; with many, ``_taylor_many``.
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
    # each piece is expanded about the middle of its shifts over the block, at the rank pc: the
    # shift from there, s - s_mid, is at most half the piece's range either way
    s_lo, s_hi = shift.min(axis=0), shift.max(axis=0)
    s_mid = (s_lo + s_hi) // 2
    dev = np.maximum(s_hi - s_mid, s_mid - s_lo)[piece]  # the largest |s - s_mid| of each static one
    pc = p0 - s_mid[piece]
    s_ref = st.sq[int(n.max())]
    wtot = st.tail[n] * np.exp(st.sq[n] - s_ref)
    phi0 = np.exp(st.sq[pc] - s_ref)
    e_blk = 0.0
    kt = 1
    if ns and dev.max() > 0:
        # the fewest terms whose truncation bound is small enough
        ratio = dev / tt.rho[pc]
        if float(ratio.max()) >= 0.5:
            return None
        term = phi0 * tt.bound[pc] / (1.0 - ratio) * ratio**TAYLOR_MIN_TERMS
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
        grp = tt.group[pc]
        setid = np.zeros(ns, dtype=np.int64)
        np.cumsum((piece[1:] != piece[:-1]) | (grp[1:] != grp[:-1]), out=setid[1:])
        n_sets = int(setid[-1]) + 1
        first = np.flatnonzero(np.append(True, setid[1:] != setid[:-1]))
        alpha = tt.alpha[pc[first]]
        mom = tt.e[:kt, pc] * phi0  # (kt, ns)
        s_rs = (shift[:, piece[first]] - s_mid[piece[first]]).astype(np.float64)  # (nrow, n_sets)
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
        wfull = _scratch(st, "wfull", (nrow, mc + 1))
        wfull[:, mc] = 0.0
        if ns:
            at = _scratch(st, "tb_at", (nrow, ns), np.int64)
            np.subtract((p0 - (p_lo - 1))[None, :], shift[:, piece], out=at)
            wfull[:, stat] = np.take(tab, at, mode="clip", out=_scratch(st, "tb_w", (nrow, ns)))
        if nd:
            wfull[:, dyn] = wd
        if not ns:
            setid = mom = coef = np.zeros(0)
        perms = _value_orders(st, r_lo, r_hi, qf, cand)
        cert = _taylor_many(
            st, g, cand, perms, stat, dyn, setid, n_sets, mom, coef, wd, wfull, tail, wtot, n, e_blk, out
        )
        return _keep_need(st, g, cert)
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
