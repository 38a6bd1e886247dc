"""Per-question scoring engine (scoring.md sections 3 and 4).

Common preparation
------------------
1. Forecasts made at or after the actual close Tc are dropped; a forecast made
   before the open T0 counts from T0.  The rest are sorted per user by time
   made (ties: see ``_sort_events``).
2. Time is mapped to a *clock*: exact seconds in ``continuous`` mode, UTC day
   numbers in ``daily`` mode (a forecast made during day D acts from the start
   of D, and the state of a day is the user's last action on or before it).
   Per user, several actions at the same clock value collapse to the last one.
3. The distinct clock values form segment boundaries b_0 = T0 < b_1 < ...,
   each segment [b_i, b_{i+1}) having a constant set of standing forecasts.

Two ways to evaluate the scores, with the same results
------------------------------------------------------
* The **sweep** (large questions; O(E log E) in the E forecasts): every standing forecast is an
  *item* active on a range of segments [a, b) (from its segment to its user's next action).
  Per-segment quantities are running sums over the active items (``sweep.running_sums``: count n,
  S = sum of ln p_true, the sums behind the mean and extremized crowds) or order statistics of
  them (``sweep.kth_smallest``, an offline wavelet descent: the crowd median Brier and the
  per-option medians; ``recency``: the recency-weighted median). A user's integrals are settled
  per item: its own Brier and baseline times its length, and the crowd terms through prefix
  integrals over segments G(t), an item contributing G(b) - G(a):
  relative Brier = own Brier x length - [G_cmb(b) - G_cmb(a)], G_cmb = integral of the crowd
  median Brier; peer = 100 [ln p x (G_1(b) - G_1(a)) - (G_S(b) - G_S(a))], since the instant
  peer score ln p - (S - ln p)/(n - 1) = ln p n/(n - 1) - S/(n - 1), with G_1 and G_S the
  integrals of n/(n - 1) and S/(n - 1) over the segments where n >= 2.
* The **dense** state matrix (small questions, where it is faster): a (segments x users) matrix
  of event indices, forward-filled with ``np.maximum.accumulate`` in row chunks so memory stays
  bounded; every score is then a weighted column sum (per user) or a row reduction (crowd median
  Brier, crowd aggregates).  It costs O(segments x users), so it is only used while that product
  is below ``DENSE_MAX_CELLS``.

Numeric and date questions (``QuestionSpec.continuous``)
--------------------------------------------------------
The forecasts are 201-point CDFs (``continuous.py``) and the time machinery is unchanged; only
the per-forecast figures differ (``_Rules``): the accuracy score is the CRPS in range units (in
the brier_* / relative_brier columns; ``QuestionScores.accuracy`` = "crps"), ln p is the log of
the outcome bucket's probability, and Metaculus's continuous log scores divide by 2: instant
baseline 100 ln(p / p_uniform) / 2, instant peer 100 (ln p - mean of the others' ln p) / 2. The
crowd is CONTINUOUS_AGGREGATES, per CDF point and not renormalised, each row made a valid CDF
(docs/continuous_scoring.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .aggregates import (
    AGGREGATES,
    DEFAULT_AGGREGATE,
    SQRT3,
    aggregate_rows,
    brier,
    event_ranks,
    recency_weights,
    renormalise,
    row_median,
)
from .continuous import (
    CONTINUOUS_AGGREGATES,
    GRID,
    ContinuousOutcome,
    crps,
    log_density,
    make_valid,
)
from .continuous import instant_baseline as continuous_baseline
from .recency import recency_weighted_medians
from .sweep import Changes, active_counts, running_sums, segment_medians

DAY = 86400.0
MODES = ("continuous", "daily")
#: upper bound on elements of one (rows, users, K) block processed at once (dense path)
_MAX_BLOCK = 1_500_000
#: the dense path is used while segments x users stays below this (it is faster there)
DENSE_MAX_CELLS = 60_000


@dataclass(frozen=True)
class QuestionSpec:
    n_options: int
    ordered: bool
    open_time: float
    close_time: float
    known_at: float | None
    outcome: int
    mode: str = "continuous"
    #: a numeric or date question: its outcome; ``probs`` are then (n, 201) CDFs and ``outcome``
    #: and ``ordered`` are ignored
    continuous: ContinuousOutcome | None = None

    def __post_init__(self):
        if int(self.n_options) < 2:
            raise ValueError("n_options must be at least 2")
        if self.continuous is not None:
            if not isinstance(self.continuous, ContinuousOutcome):
                raise ValueError("continuous must be a ContinuousOutcome")
            if int(self.n_options) != GRID:
                raise ValueError(f"a continuous question has n_options = {GRID} (its CDF points)")
        if not 0 <= int(self.outcome) < int(self.n_options):
            raise ValueError("outcome must be an option index")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        if not float(self.close_time) > float(self.open_time):
            raise ValueError("close_time must be after open_time")
        if self.known_at is not None and not float(self.known_at) > float(self.open_time):
            raise ValueError("known_at must be after open_time")

    @property
    def actual_close(self) -> float:
        """Tc = min(Ts, known_at)."""
        if self.known_at is None:
            return float(self.close_time)
        return min(float(self.close_time), float(self.known_at))


@dataclass
class ForecastSet:
    """All forecasts of one question, in any order.

    ``seq`` (optional, e.g. the database id) breaks ties between actions of
    one user with identical timestamps: the larger ``seq`` is the later one.
    Without it, ties are broken deterministically by content (a withdrawal
    after a forecast; otherwise the lexicographically larger vector last).
    """

    user: np.ndarray
    time: np.ndarray
    probs: np.ndarray
    withdrawn: np.ndarray
    seq: np.ndarray | None = None

    @classmethod
    def empty(cls, n_options: int) -> ForecastSet:
        return cls(np.zeros(0, np.int64), np.zeros(0), np.zeros((0, n_options)), np.zeros(0, bool))


@dataclass
class ScoreTable:
    user: np.ndarray
    brier_final: np.ndarray
    brier_mean: np.ndarray
    participation: np.ndarray
    relative_brier: np.ndarray
    baseline: np.ndarray
    peer: np.ndarray
    coverage: np.ndarray
    final_probs: np.ndarray

    def __len__(self) -> int:
        return len(self.user)

    def records(self) -> list[dict]:
        """One plain dict per user (floats, NaN kept as NaN)."""
        out = []
        for i in range(len(self.user)):
            rec = {"user": int(self.user[i])}
            for name in SCORE_FIELDS:
                rec[name] = float(getattr(self, name)[i])
            rec["final_probs"] = [float(v) for v in self.final_probs[i]]
            out.append(rec)
        return out


#: the score fields shared by users and the crowd, in output order
SCORE_FIELDS = (
    "brier_final",
    "brier_mean",
    "relative_brier",
    "participation",
    "baseline",
    "peer",
    "coverage",
)


@dataclass
class CrowdScore:
    """The crowd scored as one forecaster (scalars)."""

    method: str
    brier_final: float
    brier_mean: float
    participation: float
    relative_brier: float
    baseline: float
    peer: float
    coverage: float
    final_probs: np.ndarray

    def as_dict(self) -> dict:
        return {name: float(getattr(self, name)) for name in SCORE_FIELDS}


@dataclass
class QuestionScores:
    users: ScoreTable
    crowd: dict[str, CrowdScore] = field(default_factory=dict)
    #: length of the scoring window |W| (seconds, or days in daily mode)
    window_length: float = 0.0
    #: length of the scheduled window [T0, Ts) in the same unit
    scheduled_length: float = 0.0
    #: what the brier_* / relative_brier figures measure: "brier" (0..2), or "crps" (range units)
    #: on a continuous question
    accuracy: str = "brier"


# --------------------------------------------------------------------------
# preparation
# --------------------------------------------------------------------------
@dataclass
class _Events:
    users: np.ndarray  # (U,) sorted distinct user ids (of the whole input)
    uidx: np.ndarray  # (n,) column of each kept event
    made: np.ndarray  # (n,) time made (original)
    clock: np.ndarray  # (n,) clock value from which the event acts
    probs: np.ndarray  # (n, K), zeros for withdrawals
    withdrawn: np.ndarray  # (n,)


def _as_arrays(fs: ForecastSet, k: int):
    user = np.asarray(fs.user, dtype=np.int64).reshape(-1)
    n = user.shape[0]
    time = np.asarray(fs.time, dtype=np.float64).reshape(-1)
    wd = np.asarray(fs.withdrawn, dtype=bool).reshape(-1)
    probs = np.asarray(fs.probs, dtype=np.float64)
    if n == 0:
        probs = probs.reshape(0, k)
    if probs.shape != (n, k) or time.shape != (n,) or wd.shape != (n,):
        raise ValueError(f"ForecastSet arrays must have shapes (N,), (N,), (N, {k}), (N,)")
    seq = None if fs.seq is None else np.asarray(fs.seq).reshape(-1)
    if seq is not None and seq.shape != (n,):
        raise ValueError("ForecastSet.seq must have shape (N,)")
    probs = np.where(wd[:, None], 0.0, probs)
    return user, time, probs, wd, seq


def _sort_events(uidx, time, probs, wd, seq):
    """Order: user, time made, seq, then withdrawal last, then probabilities.

    The probabilities only break ties of the other keys; when there is none (always with a
    distinct ``seq``) they are left out of the sort, which matters for 201-point CDFs."""
    primary = [wd] + ([] if seq is None else [seq]) + [time, uidx]
    order = np.lexsort(primary)
    tied = np.ones(max(len(order) - 1, 0), dtype=bool)
    for key in primary:
        ks = np.asarray(key)[order]
        tied &= ks[1:] == ks[:-1]
    if not tied.any():
        return order
    keys = [probs[:, j] for j in range(probs.shape[1] - 1, -1, -1)]
    keys.append(wd)
    if seq is not None:
        keys.append(seq)
    keys.append(time)
    keys.append(uidx)
    return np.lexsort(keys)


def _prepare(fs: ForecastSet, k: int, t0: float | None, tc: float | None, daily: bool) -> _Events:
    user, time, probs, wd, seq = _as_arrays(fs, k)
    users, uidx = np.unique(user, return_inverse=True)
    uidx = uidx.reshape(-1)
    if tc is not None:
        keep = time < tc
        uidx, time, probs, wd = uidx[keep], time[keep], probs[keep], wd[keep]
        seq = None if seq is None else seq[keep]
    order = _sort_events(uidx, time, probs, wd, seq)
    uidx, time, probs, wd = uidx[order], time[order], probs[order], wd[order]
    eff = time if t0 is None else np.maximum(time, t0)
    clock = np.floor(eff / DAY) if daily else eff
    # collapse several actions of one user at one clock value to the last one
    if len(uidx):
        last = np.ones(len(uidx), dtype=bool)
        last[:-1] = (uidx[1:] != uidx[:-1]) | (clock[1:] != clock[:-1])
        uidx, time, clock, probs, wd = uidx[last], time[last], clock[last], probs[last], wd[last]
    return _Events(users, uidx, time, clock, probs, wd)


def _state_blocks(rows: np.ndarray, uidx: np.ndarray, n_rows: int, n_users: int, k: int):
    """Yield (start, stop, M) where M[i, u] is the index of user u's standing
    event in row start+i (or -1).  ``rows`` is the row of each event."""
    per = max(1, _MAX_BLOCK // max(1, n_users * (k + 4)))
    by_row = np.argsort(rows, kind="stable")
    rows_sorted = rows[by_row]
    carry = np.full(n_users, -1, dtype=np.int64)
    for a in range(0, n_rows, per):
        b = min(n_rows, a + per)
        lo, hi = np.searchsorted(rows_sorted, [a, b])
        ev = by_row[lo:hi]
        m = np.full((b - a, n_users), -1, dtype=np.int64)
        m[rows[ev] - a, uidx[ev]] = ev
        np.maximum(m[0], carry, out=m[0])
        np.maximum.accumulate(m, axis=0, out=m)
        carry = m[-1].copy()
        yield a, b, m


def _clock_bounds(spec: QuestionSpec):
    """(c0, cc, cs): clock values of T0, Tc and Ts; window lengths follow."""
    t0 = float(spec.open_time)
    tc = spec.actual_close
    ts = float(spec.close_time)
    if spec.mode == "daily":
        # UTC days overlapping [T0, Tc): day numbers floor(T0/DAY) .. ceil(Tc/DAY)-1
        return math.floor(t0 / DAY), math.ceil(tc / DAY), math.ceil(ts / DAY)
    return t0, tc, ts


def _sort_keys(ev: _Events, pr_ev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer sort keys of the padded events (index -1 = the sentinel): per option, the rank
    of each event's probability (NaN last), and the rank by time made, ties by user column.
    Indexed by a state matrix they order each snapshot as its values would, so the
    aggregates can use the fast packed sort (aggregates._packed_order) instead of argsort."""
    n = len(ev.uidx)
    value_ranks = np.stack([event_ranks(pr_ev[:, j]) for j in range(pr_ev.shape[1])], axis=1)
    made_ranks = np.empty(n + 1, dtype=np.int64)
    made_ranks[np.lexsort((ev.uidx, ev.made))] = np.arange(n, dtype=np.int64)
    made_ranks[n] = n
    return value_ranks, made_ranks


def _padded(x: np.ndarray, fill=np.nan) -> np.ndarray:
    """Append a sentinel row so that index -1 means 'no standing forecast'."""
    pad = np.full((1,) + x.shape[1:], fill, dtype=np.float64)
    return np.concatenate([x.astype(np.float64), pad], axis=0)


class _Rules:
    """The per-forecast figures of one question: the accuracy score (Brier, or CRPS in range
    units on a continuous question), the log piece ln p (p = the probability of the outcome, or of
    the outcome's bucket on a continuous question), the instant baseline from it and the factor of
    the log scores (100, or 100 / 2 on a continuous question as on Metaculus)."""

    def __init__(self, spec: QuestionSpec):
        self.cont = spec.continuous
        self.k = int(spec.n_options)
        if self.cont is None:
            self.out_k = int(spec.outcome)
            self.ordered = spec.ordered
            self.lnk = math.log(self.k)
            self.log_scale = 100.0
            self.accuracy_name = "brier"
        else:
            self.x = float(self.cont.x)
            self.log_scale = 50.0
            self.accuracy_name = "crps"

    def accuracy(self, probs: np.ndarray) -> np.ndarray:
        if self.cont is None:
            return brier(probs, self.out_k, self.ordered)
        with np.errstate(invalid="ignore"):
            return crps(probs, self.x)

    def log_p(self, probs: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.cont is None:
                return np.log(probs[..., self.out_k])
            return log_density(probs, self.x, self.cont.open_lower, self.cont.open_upper)

    def baseline(self, lp):
        """Instant baseline from ln p: 100 ln(K p) / ln K, or 100 ln(p / p_uniform) / 2."""
        with np.errstate(invalid="ignore"):
            if self.cont is None:
                return 100.0 * (self.lnk + lp) / self.lnk
            return continuous_baseline(lp, self.cont.bucket, self.cont.open_lower, self.cont.open_upper)

    def final_accuracy(self, fp: np.ndarray) -> float:
        return float(self.accuracy(fp)) if not np.isnan(fp).any() else math.nan

    def methods(self, crowd_methods) -> tuple:
        allowed = AGGREGATES if self.cont is None else CONTINUOUS_AGGREGATES
        if crowd_methods is None:
            return allowed
        methods = tuple(crowd_methods)
        for meth in methods:
            if meth not in allowed:
                raise ValueError(f"unknown aggregate method {meth!r}; expected one of {allowed}")
        return methods


# --------------------------------------------------------------------------
# scoring
# --------------------------------------------------------------------------
def score_question(
    spec: QuestionSpec,
    forecasts: ForecastSet,
    *,
    crowd_methods=None,
    extremize_a: float = SQRT3,
    path: str | None = None,
) -> QuestionScores:
    """Score every user of one resolved question, and the crowd.

    Users are all distinct ids of ``forecasts`` (also those whose forecasts
    were all late); a user never active gets NaN brier_final / brier_mean and
    0 for the other scores.

    ``crowd_methods`` defaults to every aggregate of the question's kind (AGGREGATES, or
    CONTINUOUS_AGGREGATES on a continuous question). On a continuous question (``spec.continuous``)
    the brier_* and relative_brier figures carry the CRPS and the relative CRPS (range units) and
    ``accuracy`` is "crps". ``path`` ("dense" or "sweep") forces one of the two evaluations, which
    give the same results (by default the faster one for the question's size).
    """
    k = int(spec.n_options)
    rules = _Rules(spec)
    ev = _prepare(forecasts, k, float(spec.open_time), spec.actual_close, spec.mode == "daily")
    methods = rules.methods(crowd_methods)
    if _use_dense(path, len(np.unique(ev.clock)) + 1, len(ev.users)):
        return _score_dense(spec, rules, ev, methods, extremize_a)
    return _score_sweep(spec, rules, ev, methods, extremize_a)


def _use_dense(path: str | None, n_rows: int, n_users: int) -> bool:
    """The dense path while rows x users <= DENSE_MAX_CELLS (also on continuous questions: both
    paths' work grows with the 201 points alike, and the cross-over stays near 50,000 cells)."""
    if path is not None:
        if path not in ("dense", "sweep"):
            raise ValueError('path must be "dense" or "sweep"')
        return path == "dense"
    return n_rows * n_users <= DENSE_MAX_CELLS


def _segments(spec: QuestionSpec, ev: _Events):
    """(|W|, scheduled length, durations, rows): the window lengths in clock units, the durations
    up to Tc of the segments (one starts at T0 and at every clock value of an event) and the
    segment of each event."""
    c0, cc, cs = _clock_bounds(spec)
    bounds = np.unique(np.concatenate([[float(c0)], ev.clock]))
    dur = np.diff(np.append(bounds, float(cc)))
    return float(cc - c0), float(cs - c0), dur, np.searchsorted(bounds, ev.clock)


def _user_table(users, A, SB, REL, BASE, PEER, w_len, s_len, brier_final, final_probs) -> ScoreTable:
    """The users' scores from their integrals over the segments: active time A, accuracy SB,
    accuracy less the median forecaster's REL, instant baseline BASE and peer PEER."""
    with np.errstate(invalid="ignore", divide="ignore"):
        brier_mean = np.where(A > 0, SB / np.where(A > 0, A, 1.0), np.nan)
    return ScoreTable(
        user=users.astype(np.int64),
        brier_final=brier_final,
        brier_mean=brier_mean,
        participation=A / w_len,
        relative_brier=REL / w_len,
        baseline=BASE / s_len,
        peer=PEER / s_len,
        coverage=A / s_len,
        final_probs=final_probs,
    )


def _crowd_sums(rules: _Rules, C: np.ndarray, cmb, mean_lp, dur, c_act) -> np.ndarray:
    """The integrals of the crowd ``C`` (one aggregate per segment) over the segments of
    durations ``dur`` where somebody stands (``c_act``): active time, accuracy, accuracy less the
    median forecaster's (``cmb``), instant baseline, and peer against the forecasters' mean ln p
    (``mean_lp``). The dense path adds them up over its blocks of segments."""
    with np.errstate(invalid="ignore", divide="ignore"):
        cbs = rules.accuracy(C)
        clp = rules.log_p(C)
        return np.array(
            [
                np.where(c_act, dur, 0.0).sum(),
                np.where(c_act, cbs * dur, 0.0).sum(),
                np.where(c_act, (cbs - cmb) * dur, 0.0).sum(),
                np.where(c_act, rules.baseline(clp) * dur, 0.0).sum(),
                np.where(c_act, rules.log_scale * (clp - mean_lp) * dur, 0.0).sum(),
            ]
        )


def _crowd_score(meth: str, rules: _Rules, z: np.ndarray, fp: np.ndarray, w_len: float, s_len: float) -> CrowdScore:
    """The crowd's scores from its integrals (``_crowd_sums``) and its forecast at the close."""
    return CrowdScore(
        method=meth,
        brier_final=rules.final_accuracy(fp),
        brier_mean=float(z[1] / z[0]) if z[0] > 0 else math.nan,
        participation=float(z[0] / w_len),
        relative_brier=float(z[2] / w_len),
        baseline=float(z[3] / s_len),
        peer=float(z[4] / s_len),
        coverage=float(z[0] / s_len),
        final_probs=np.array(fp, dtype=np.float64),
    )


def _block_crowds(P, present, m, methods, made_ev, keys, extremize_a, continuous) -> dict[str, np.ndarray]:
    """Every requested aggregate of one block of snapshots ``P`` (rows, users, k) of the dense
    path (``m``: its state matrix; ``keys``: ``_sort_keys``, needed by the recency-weighted
    median), {method: (rows, k)}; on a continuous question nothing is renormalised and every row
    is made a valid CDF."""
    weights = ranks = None
    if keys is not None:
        value_ranks, made_ranks = keys
        weights = recency_weights(made_ev[m], present, made_ranks[m])
        ranks = value_ranks[m]
    out = {}
    for meth in methods:
        C = aggregate_rows(P, meth, a=extremize_a, weights=weights, ranks=ranks, normalise=not continuous)
        out[meth] = make_valid(C) if continuous else C
    return out


def _score_dense(spec: QuestionSpec, rules: _Rules, ev: _Events, methods: tuple, extremize_a: float) -> QuestionScores:
    """score_question on the dense (segments x users) state matrix."""
    k = int(spec.n_options)
    w_len, s_len, dur, rows = _segments(spec, ev)
    n_users = len(ev.users)
    n_ev = len(ev.uidx)

    wd = ev.withdrawn
    bs_ev = rules.accuracy(ev.probs) if n_ev else np.zeros(0)
    lp_ev = rules.log_p(ev.probs) if n_ev else np.zeros(0)
    bs_ev = _padded(np.where(wd, np.nan, bs_ev))
    lp_ev = _padded(np.where(wd, np.nan, lp_ev))
    pr_ev = _padded(np.where(wd[:, None], np.nan, ev.probs))
    made_ev = _padded(ev.made)
    keys = _sort_keys(ev, pr_ev) if "recency_weighted_median" in methods else None

    A = np.zeros(n_users)
    SB = np.zeros(n_users)
    REL = np.zeros(n_users)
    BASE = np.zeros(n_users)
    PEER = np.zeros(n_users)
    cz = {m: np.zeros(5) for m in methods}  # _crowd_sums
    c_last = {m: np.full(k, np.nan) for m in methods}
    last_state = np.full(n_users, -1, dtype=np.int64)

    for a, b, m in _state_blocks(rows, ev.uidx, len(dur), n_users, k):
        d = dur[a:b]
        bs = bs_ev[m]
        act = ~np.isnan(bs)
        n = np.count_nonzero(act, axis=1)
        cmb = row_median(bs)
        dd = d[:, None]
        A += np.where(act, dd, 0.0).sum(axis=0)
        bs0 = np.where(act, bs, 0.0)
        SB += (bs0 * dd).sum(axis=0)
        REL += (np.where(act, bs - cmb[:, None], 0.0) * dd).sum(axis=0)
        lp0 = np.where(act, lp_ev[m], 0.0)
        BASE += (np.where(act, rules.baseline(lp0), 0.0) * dd).sum(axis=0)
        slp = lp0.sum(axis=1)
        others = np.maximum(n - 1, 1)[:, None]
        peer = np.where(act & (n >= 2)[:, None], rules.log_scale * (lp0 - (slp[:, None] - lp0) / others), 0.0)
        PEER += (peer * dd).sum(axis=0)
        last_state = m[-1]

        if methods:
            with np.errstate(invalid="ignore", divide="ignore"):
                mean_lp = slp / n
            crowds = _block_crowds(pr_ev[m], act, m, methods, made_ev, keys, extremize_a, rules.cont is not None)
            for meth, C in crowds.items():
                cz[meth] += _crowd_sums(rules, C, cmb, mean_lp, d, n > 0)
                c_last[meth] = C[-1]

    table = _user_table(
        ev.users,
        A,
        SB,
        REL,
        BASE,
        PEER,
        w_len,
        s_len,
        brier_final=bs_ev[last_state] if n_users else np.zeros(0),
        final_probs=pr_ev[last_state] if n_users else np.zeros((0, k)),
    )
    crowd = {meth: _crowd_score(meth, rules, cz[meth], c_last[meth], w_len, s_len) for meth in methods}
    return QuestionScores(
        users=table, crowd=crowd, window_length=w_len, scheduled_length=s_len, accuracy=rules.accuracy_name
    )


def crowd_history(
    spec_or_n_options,
    forecasts: ForecastSet,
    method: str = DEFAULT_AGGREGATE,
    *,
    extremize_a: float = SQRT3,
    continuous: bool = False,
    path: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The crowd forecast as a step function.

    Returns ``(times, probs)``: ``probs[i]`` (K,) is the crowd forecast from
    ``times[i]`` until ``times[i+1]`` (the last one until now / the close).
    Rows are produced at every time at which some user's standing forecast
    changes; a row is all-NaN while nobody has a standing forecast.

    With a ``QuestionSpec`` the scoring conventions apply (forecasts before
    T0 act from T0, those at or after Tc are ignored) and times are exact
    seconds even for daily questions.  With a plain number of options every
    forecast counts from the moment it was made.

    A numeric or date question (a spec with ``continuous`` set, or ``continuous=True`` with
    n_options = 201): the forecasts are CDFs, the methods CONTINUOUS_AGGREGATES, applied per grid
    point without renormalising, and every row is made a valid CDF (continuous.aggregate_cdfs
    gives the same row for one snapshot). ``path`` forces the dense or the sweep evaluation.
    """
    if isinstance(spec_or_n_options, QuestionSpec):
        k = int(spec_or_n_options.n_options)
        t0 = float(spec_or_n_options.open_time)
        tc = spec_or_n_options.actual_close
        continuous = continuous or spec_or_n_options.continuous is not None
    else:
        k = int(spec_or_n_options)
        t0 = tc = None
    if continuous and k != GRID:
        raise ValueError(f"a continuous question has n_options = {GRID} (its CDF points)")
    allowed = CONTINUOUS_AGGREGATES if continuous else AGGREGATES
    if method not in allowed:
        raise ValueError(f"unknown aggregate method {method!r}; expected one of {allowed}")
    ev = _prepare(forecasts, k, t0, tc, daily=False)
    if len(ev.uidx) == 0:
        return np.zeros(0), np.zeros((0, k))
    times = np.unique(ev.clock)
    if _use_dense(path, len(times), len(ev.users)):
        return times, _crowd_history_dense(ev, times, k, method, extremize_a, continuous)
    rows = np.searchsorted(times, ev.clock)
    it = _items(ev, rows, len(times))
    crowd = _crowd_rows(it, k, (method,), extremize_a, continuous)
    return times, crowd[method]


def _crowd_history_dense(
    ev: _Events, times: np.ndarray, k: int, method: str, extremize_a: float, continuous: bool
) -> np.ndarray:
    rows = np.searchsorted(times, ev.clock)
    pr_ev = _padded(np.where(ev.withdrawn[:, None], np.nan, ev.probs))
    made_ev = _padded(ev.made)
    keys = _sort_keys(ev, pr_ev) if method == "recency_weighted_median" else None
    out = np.empty((len(times), k))
    for a, b, m in _state_blocks(rows, ev.uidx, len(times), len(ev.users), k):
        P = pr_ev[m]
        crowds = _block_crowds(P, ~np.isnan(P[:, :, 0]), m, (method,), made_ev, keys, extremize_a, continuous)
        out[a:b] = crowds[method]
    return out


# --------------------------------------------------------------------------
# the sweep (O(E log E) per question)
# --------------------------------------------------------------------------
@dataclass
class _Items:
    """The standing forecasts of a question over ``n_seg`` segments: item i (event ``ev[i]``)
    stands on segments [a_i, b_i)."""

    n_seg: int
    ev: np.ndarray
    a: np.ndarray
    b: np.ndarray
    probs: np.ndarray
    made: np.ndarray
    user: np.ndarray  # user column (ties in time made are broken by it, as the dense path does)
    n_active: np.ndarray  # (n_seg,)
    ch: Changes  # the insertions and removals, in segment order


def _items(ev: _Events, rows: np.ndarray, n_seg: int) -> _Items:
    """Each non-withdrawal event stands from its segment until the user's next event."""
    n = len(ev.uidx)
    nxt = np.full(n, n_seg, dtype=np.int64)
    if n > 1:
        same = ev.uidx[1:] == ev.uidx[:-1]
        nxt[:-1] = np.where(same, rows[1:], n_seg)
    keep = np.flatnonzero(~ev.withdrawn)
    a = rows[keep].astype(np.int64)
    b = nxt[keep]
    return _Items(
        n_seg=n_seg,
        ev=keep,
        a=a,
        b=b,
        probs=ev.probs[keep],
        made=ev.made[keep],
        user=ev.uidx[keep],
        n_active=active_counts(a, b, n_seg),
        ch=Changes(a, b, n_seg),
    )


def _crowd_rows(
    it: _Items, k: int, methods: tuple, extremize_a: float, continuous: bool = False
) -> dict[str, np.ndarray]:
    """Every requested aggregate of the standing forecasts, per segment: {method: (n_seg, k)}.
    On a continuous question (CDFs) nothing is renormalised and every row is made a valid CDF."""
    out: dict[str, np.ndarray] = {}
    n = it.n_active
    empty = n == 0
    P = it.probs
    complement = k == 2 and np.array_equal(P[:, 1], 1.0 - P[:, 0])
    finish = make_valid if continuous else renormalise
    with np.errstate(invalid="ignore", divide="ignore"):
        for meth in methods:
            if meth == "median":
                c = np.full((it.n_seg, k), np.nan)
                if complement:
                    seg, lo, hi = segment_medians(it.ch, P[:, 0], it.n_active)
                    for j in range(2):
                        c[seg, j] = 0.5 * (P[lo, j] + P[hi, j])
                else:
                    for j in range(k):
                        seg, lo, hi = segment_medians(it.ch, P[:, j], it.n_active)
                        c[seg, j] = 0.5 * (P[lo, j] + P[hi, j])
                c = finish(c)
            elif meth == "recency_weighted_median":
                c = recency_weighted_medians(it.ch, it.a, it.b, it.made, it.user, P, n, complement=complement)
                c = finish(c)
            elif meth == "mean":
                c = running_sums(it.ch, P) / n[:, None]
                if continuous:
                    c = make_valid(c)
            else:  # extremized_log_odds: normalise(exp(a * mean ln p_k)), every K (as aggregates)
                z = extremize_a * (running_sums(it.ch, np.log(P)) / n[:, None])
                z = z - np.max(z, axis=1, keepdims=True)
                c = renormalise(np.exp(z))
            c[empty] = np.nan
            out[meth] = c
    return out


def _score_sweep(spec: QuestionSpec, rules: _Rules, ev: _Events, methods: tuple, extremize_a: float) -> QuestionScores:
    """score_question by a sweep over the segments (see the module docstring)."""
    k = int(spec.n_options)
    w_len, s_len, dur, rows = _segments(spec, ev)
    n_seg = len(dur)
    n_users = len(ev.users)
    it = _items(ev, rows, n_seg)
    a, b, u = it.a, it.b, it.user
    n = it.n_active

    bs = rules.accuracy(it.probs) if len(a) else np.zeros(0)
    lp = rules.log_p(it.probs) if len(a) else np.zeros(0)

    # prefix integrals over segments: G[i] = integral of g over segments 0..i-1
    def prefix(g):
        out = np.zeros(n_seg + 1)
        np.cumsum(g * dur, out=out[1:])
        return out

    length = prefix(np.ones(n_seg))
    seg, lo, hi = segment_medians(it.ch, bs, it.n_active)
    cmb = np.full(n_seg, np.nan)
    cmb[seg] = 0.5 * (bs[lo] + bs[hi])
    slp = running_sums(it.ch, lp)
    two = n >= 2
    others = np.where(two, n - 1, 1).astype(np.float64)
    g_cmb = prefix(np.where(n > 0, cmb, 0.0))
    g_own = prefix(np.where(two, n / others, 0.0))  # weight of one's own ln p in the peer score
    g_all = prefix(np.where(two, slp / others, 0.0))

    span = length[b] - length[a]
    with np.errstate(invalid="ignore"):
        base_item = rules.baseline(lp)
        peer_item = rules.log_scale * (lp * (g_own[b] - g_own[a]) - (g_all[b] - g_all[a]))
    A = np.bincount(u, weights=span, minlength=n_users)
    SB = np.bincount(u, weights=bs * span, minlength=n_users)
    REL = SB - np.bincount(u, weights=g_cmb[b] - g_cmb[a], minlength=n_users)
    BASE = np.bincount(u, weights=base_item * span, minlength=n_users)
    PEER = np.bincount(u, weights=peer_item, minlength=n_users)

    # the state at the close: each user's last event
    brier_final = np.full(n_users, np.nan)
    final_probs = np.full((n_users, k), np.nan)
    n_ev = len(ev.uidx)
    if n_ev:
        last = np.flatnonzero(np.append(ev.uidx[1:] != ev.uidx[:-1], True))
        standing = last[~ev.withdrawn[last]]
        final_probs[ev.uidx[standing]] = ev.probs[standing]
        brier_final[ev.uidx[standing]] = rules.accuracy(ev.probs[standing])

    table = _user_table(ev.users, A, SB, REL, BASE, PEER, w_len, s_len, brier_final, final_probs)
    crowd = {}
    if methods:
        rows_c = _crowd_rows(it, k, methods, extremize_a, rules.cont is not None)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_lp = slp / n
        for meth in methods:
            C = rows_c[meth]
            z = _crowd_sums(rules, C, cmb, mean_lp, dur, n > 0)
            crowd[meth] = _crowd_score(meth, rules, z, C[-1], w_len, s_len)
    return QuestionScores(
        users=table, crowd=crowd, window_length=w_len, scheduled_length=s_len, accuracy=rules.accuracy_name
    )
