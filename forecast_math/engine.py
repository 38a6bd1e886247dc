"""Vectorised per-question scoring engine (scoring.md sections 3 and 4).

How it works
------------
1. Forecasts made at or after the actual close Tc are dropped; a forecast made
   before the open T0 counts from T0.  The rest are sorted per user by time
   made (ties: see ``_sort_events``).
2. Time is mapped to a *clock*: exact seconds in ``continuous`` mode, UTC day
   numbers in ``daily`` mode (a forecast made during day D acts from the start
   of D, and the state of a day is the user's last action on or before it).
   Per user, several actions at the same clock value collapse to the last one.
3. The distinct clock values form segment boundaries b_0 = T0 < b_1 < ...,
   each segment [b_i, b_{i+1}) having a constant set of standing forecasts.
   A (segments, users) matrix of event indices is filled with the events and
   forward-filled with ``np.maximum.accumulate`` (event indices increase with
   time within a user), in row chunks so memory stays bounded.
4. Every score is then a weighted column sum (per user) or a row reduction
   (crowd median Brier, crowd aggregates) over that matrix.
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
    row_median,
)

DAY = 86400.0
MODES = ("continuous", "daily")
#: upper bound on elements of one (rows, users, K) block processed at once
_MAX_BLOCK = 1_500_000


@dataclass(frozen=True)
class QuestionSpec:
    n_options: int
    ordered: bool
    open_time: float
    close_time: float
    known_at: float | None
    outcome: int
    mode: str = "continuous"

    def __post_init__(self):
        if int(self.n_options) < 2:
            raise ValueError("n_options must be at least 2")
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
    """Order: user, time made, seq, then withdrawal last, then probabilities."""
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


# --------------------------------------------------------------------------
# scoring
# --------------------------------------------------------------------------
def score_question(
    spec: QuestionSpec,
    forecasts: ForecastSet,
    *,
    crowd_methods=AGGREGATES,
    extremize_a: float = SQRT3,
) -> QuestionScores:
    """Score every user of one resolved question, and the crowd.

    Users are all distinct ids of ``forecasts`` (also those whose forecasts
    were all late); a user never active gets NaN brier_final / brier_mean and
    0 for the other scores.
    """
    k = int(spec.n_options)
    out_k = int(spec.outcome)
    t0 = float(spec.open_time)
    tc = spec.actual_close
    daily = spec.mode == "daily"
    c0, cc, cs = _clock_bounds(spec)
    w_len = float(cc - c0)
    s_len = float(cs - c0)
    ev = _prepare(forecasts, k, t0, tc, daily)
    users = ev.users
    n_users = len(users)
    n_ev = len(ev.uidx)

    bounds = np.unique(np.concatenate([[float(c0)], ev.clock]))
    dur = np.diff(np.append(bounds, float(cc)))
    rows = np.searchsorted(bounds, ev.clock)

    wd = ev.withdrawn
    bs_ev = brier(ev.probs, out_k, spec.ordered) if n_ev else np.zeros(0)
    with np.errstate(divide="ignore"):
        lp_ev = np.log(ev.probs[:, out_k]) if n_ev else np.zeros(0)
    bs_ev = _padded(np.where(wd, np.nan, bs_ev))
    lp_ev = _padded(np.where(wd, np.nan, lp_ev))
    pr_ev = _padded(np.where(wd[:, None], np.nan, ev.probs))
    made_ev = _padded(ev.made)
    value_ranks, made_ranks = _sort_keys(ev, pr_ev)
    lnk = math.log(k)

    methods = tuple(crowd_methods)
    A = np.zeros(n_users)
    SB = np.zeros(n_users)
    REL = np.zeros(n_users)
    BASE = np.zeros(n_users)
    PEER = np.zeros(n_users)
    cz = {m: np.zeros(5) for m in methods}  # A, SB, REL, BASE, PEER
    c_last = {m: np.full(k, np.nan) for m in methods}
    last_state = np.full(n_users, -1, dtype=np.int64)

    for a, b, m in _state_blocks(rows, ev.uidx, len(bounds), n_users, k):
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
        BASE += (np.where(act, 100.0 * (lnk + lp0) / lnk, 0.0) * dd).sum(axis=0)
        slp = lp0.sum(axis=1)
        others = np.maximum(n - 1, 1)[:, None]
        peer = np.where(act & (n >= 2)[:, None], 100.0 * (lp0 - (slp[:, None] - lp0) / others), 0.0)
        PEER += (peer * dd).sum(axis=0)
        last_state = m[-1]

        if methods:
            P = pr_ev[m]
            weights = ranks = None
            if "recency_weighted_median" in methods:
                weights = recency_weights(made_ev[m], act, made_ranks[m])
                ranks = value_ranks[m]
            c_act = n > 0
            dc = np.where(c_act, d, 0.0)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean_lp = slp / n
            for meth in methods:
                C = aggregate_rows(P, meth, a=extremize_a, weights=weights, ranks=ranks)
                cbs = brier(C, out_k, spec.ordered)
                with np.errstate(divide="ignore", invalid="ignore"):
                    clp = np.log(C[:, out_k])
                z = cz[meth]
                z[0] += dc.sum()
                z[1] += np.where(c_act, cbs * d, 0.0).sum()
                z[2] += np.where(c_act, (cbs - cmb) * d, 0.0).sum()
                z[3] += np.where(c_act, 100.0 * (lnk + clp) / lnk * d, 0.0).sum()
                z[4] += np.where(c_act, 100.0 * (clp - mean_lp) * d, 0.0).sum()
                c_last[meth] = C[-1]

    with np.errstate(invalid="ignore", divide="ignore"):
        brier_mean = np.where(A > 0, SB / np.where(A > 0, A, 1.0), np.nan)
    table = ScoreTable(
        user=users.astype(np.int64),
        brier_final=bs_ev[last_state] if n_users else np.zeros(0),
        brier_mean=brier_mean,
        participation=A / w_len,
        relative_brier=REL / w_len,
        baseline=BASE / s_len,
        peer=PEER / s_len,
        coverage=A / s_len,
        final_probs=pr_ev[last_state] if n_users else np.zeros((0, k)),
    )
    crowd = {}
    for meth in methods:
        z = cz[meth]
        fp = c_last[meth]
        crowd[meth] = CrowdScore(
            method=meth,
            brier_final=float(brier(fp, out_k, spec.ordered)) if not np.isnan(fp).any() else math.nan,
            brier_mean=float(z[1] / z[0]) if z[0] > 0 else math.nan,
            participation=float(z[0] / w_len),
            relative_brier=float(z[2] / w_len),
            baseline=float(z[3] / s_len),
            peer=float(z[4] / s_len),
            coverage=float(z[0] / s_len),
            final_probs=np.array(fp, dtype=np.float64),
        )
    return QuestionScores(users=table, crowd=crowd, window_length=w_len, scheduled_length=s_len)


def crowd_history(
    spec_or_n_options,
    forecasts: ForecastSet,
    method: str = DEFAULT_AGGREGATE,
    *,
    extremize_a: float = SQRT3,
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
    """
    if isinstance(spec_or_n_options, QuestionSpec):
        k = int(spec_or_n_options.n_options)
        t0 = float(spec_or_n_options.open_time)
        tc = spec_or_n_options.actual_close
    else:
        k = int(spec_or_n_options)
        t0 = tc = None
    ev = _prepare(forecasts, k, t0, tc, daily=False)
    if len(ev.uidx) == 0:
        return np.zeros(0), np.zeros((0, k))
    times = np.unique(ev.clock)
    rows = np.searchsorted(times, ev.clock)
    wd = ev.withdrawn
    pr_ev = _padded(np.where(wd[:, None], np.nan, ev.probs))
    made_ev = _padded(ev.made)
    value_ranks, made_ranks = _sort_keys(ev, pr_ev)
    out = np.empty((len(times), k))
    for a, b, m in _state_blocks(rows, ev.uidx, len(times), len(ev.users), k):
        P = pr_ev[m]
        if method == "recency_weighted_median":
            w = recency_weights(made_ev[m], ~np.isnan(P[:, :, 0]), made_ranks[m])
            out[a:b] = aggregate_rows(P, method, a=extremize_a, weights=w, ranks=value_ranks[m])
        else:
            out[a:b] = aggregate_rows(P, method, a=extremize_a)
    return times, out
