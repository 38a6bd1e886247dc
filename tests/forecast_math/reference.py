"""A slow, plain-Python reference implementation of scoring.md sections 2-4.

Written independently of ``forecast_math`` (no code shared): it walks the
time segments one by one (continuous mode) or every UTC calendar day one by
one (daily mode), finds each user's standing forecast by scanning that user's
actions, and evaluates every definition literally.  It only reads the input
dataclasses' attributes, so any object with the same attributes works.

Conventions it shares with the engine (they are decisions, documented in the
engine): actions of one user with the same timestamp are ordered by
(seq, withdrawal last, probability vector); recency-weight ties in time are
ordered by user id; the weighted median averages the two middle values when
the cumulative weight is exactly one half (within 1e-12 of the total).
"""

from __future__ import annotations

import math
import statistics

DAY = 86400.0
FIELDS = ("brier_final", "brier_mean", "relative_brier", "participation", "baseline", "peer", "coverage")
METHODS = ("median", "recency_weighted_median", "mean", "extremized_log_odds")


# ---------------------------------------------------------------- scores
def ref_brier(vec, outcome, ordered):
    k = len(vec)
    truth = [1.0 if j == outcome else 0.0 for j in range(k)]
    if ordered and k > 2:
        total = 0.0
        f = 0.0
        o = 0.0
        for j in range(k - 1):
            f += vec[j]
            o += truth[j]
            # two-sided binary Brier of the split (F_j, O_j)
            total += (f - o) ** 2 + ((1 - f) - (1 - o)) ** 2
        return total / (k - 1)
    return sum((vec[j] - truth[j]) ** 2 for j in range(k))


def ref_baseline(p, k):
    return 100.0 * math.log(k * p) / math.log(k)


# ---------------------------------------------------------------- aggregates
def weighted_median(values, weights):
    pairs = sorted(zip(values, weights), key=lambda vw: vw[0])
    total = 0.0
    for _, w in pairs:
        total += w
    half = total / 2.0
    eps = 1e-12 * total
    cum = 0.0
    for j, (v, w) in enumerate(pairs):
        cum += w
        if cum >= half - eps:
            if abs(cum - half) <= eps and j + 1 < len(pairs):
                return (v + pairs[j + 1][0]) / 2.0
            return v
    raise AssertionError("unreachable")


def ref_aggregate(standing, method, a):
    """standing: list of (made_time, user_id, vector)."""
    k = len(standing[0][2])
    if method == "median":
        raw = [statistics.median([s[2][j] for s in standing]) for j in range(k)]
        tot = sum(raw)
        return [r / tot for r in raw]
    if method == "mean":
        return [sum(s[2][j] for s in standing) / len(standing) for j in range(k)]
    if method == "recency_weighted_median":
        ordered = sorted(standing, key=lambda s: (s[0], s[1]))
        n = len(ordered)
        weights = [math.exp(math.sqrt(i) - math.sqrt(n)) if n > 2 else 1.0 for i in range(1, n + 1)]
        raw = [weighted_median([s[2][j] for s in ordered], weights) for j in range(k)]
        tot = sum(raw)
        return [r / tot for r in raw]
    if method == "extremized_log_odds":  # scoring.md's multiple-choice rule, binary included
        logs = [a * sum(math.log(s[2][j]) for s in standing) / len(standing) for j in range(k)]
        top = max(logs)
        ex = [math.exp(v - top) for v in logs]
        tot = sum(ex)
        return [e / tot for e in ex]
    raise ValueError(method)


# ---------------------------------------------------------------- engine
def _actions(spec, fs, tc):
    """Per user: list of actions (time, seq, withdrawn, vector) sorted, late ones dropped."""
    k = spec.n_options
    per_user = {}
    n = len(fs.user)
    for i in range(n):
        uid = int(fs.user[i])
        per_user.setdefault(uid, [])
        t = float(fs.time[i])
        if t >= tc:
            continue  # made at/after the actual close: ignored by scoring
        wd = bool(fs.withdrawn[i])
        vec = tuple(0.0 for _ in range(k)) if wd else tuple(float(x) for x in fs.probs[i])
        seq = 0 if getattr(fs, "seq", None) is None else fs.seq[i]
        per_user[uid].append((t, seq, wd, vec))
    for uid in per_user:
        per_user[uid].sort(key=lambda act: (act[0], act[1], act[2], act[3]))
    return per_user


class DiscreteRules:
    """What reference_scores scores a forecast vector with: the Brier score, ln p_true, the
    instant baseline, the factor of the log scores, and the aggregates (tests/forecast_math/
    continuous_reference.py has the ones of numeric and date questions)."""

    log_scale = 100.0

    def __init__(self, spec, a):
        self.spec = spec
        self.a = a

    def accuracy(self, vec):
        return ref_brier(vec, self.spec.outcome, self.spec.ordered)

    def log_p(self, vec):
        return math.log(vec[self.spec.outcome])

    def baseline(self, vec):
        return ref_baseline(vec[self.spec.outcome], self.spec.n_options)

    def aggregate(self, snapshot, method):
        return ref_aggregate(snapshot, method, self.a)


def reference_scores(spec, fs, methods=METHODS, a=math.sqrt(3.0), rules=None):
    """Return {"users": {uid: {field: value, "final_probs": [...]}}, "crowd": {method: {...}}}."""
    rules = DiscreteRules(spec, a) if rules is None else rules
    k = spec.n_options
    t0 = float(spec.open_time)
    ts = float(spec.close_time)
    tc = ts if spec.known_at is None else min(ts, float(spec.known_at))
    acts = _actions(spec, fs, tc)
    uids = sorted(acts)

    def standing_at(uid, acts_before):
        """Last action passing ``acts_before``; None if none or withdrawn."""
        last = None
        for act in acts[uid]:
            if acts_before(act):
                last = act
        if last is None or last[2]:
            return None
        return last

    # list of (weight, predicate) pieces covering the scoring window
    pieces = []
    if spec.mode == "continuous":
        starts = {t0}
        for uid in uids:
            for act in acts[uid]:
                starts.add(max(act[0], t0))
        starts = sorted(starts)
        for i, s in enumerate(starts):
            e = starts[i + 1] if i + 1 < len(starts) else tc
            pieces.append((e - s, (lambda s: lambda act: max(act[0], t0) <= s)(s)))
        w_len = tc - t0
        s_len = ts - t0
    else:
        first = math.floor(t0 / DAY)
        last_day = math.ceil(tc / DAY) - 1
        for day in range(first, last_day + 1):
            end_of_day = (day + 1) * DAY
            # the last action made on or before this day (and before Tc)
            pieces.append((1.0, (lambda end: lambda act: act[0] < end)(end_of_day)))
        w_len = float(last_day + 1 - first)
        s_len = float(math.ceil(ts / DAY) - first)

    acc = {uid: dict(active=0.0, sb=0.0, rel=0.0, base=0.0, peer=0.0) for uid in uids}
    cacc = {m: dict(active=0.0, sb=0.0, rel=0.0, base=0.0, peer=0.0, final=None) for m in methods}
    final = {uid: None for uid in uids}
    for idx, (weight, pred) in enumerate(pieces):
        stand = {}
        for uid in uids:
            act = standing_at(uid, pred)
            if act is not None:
                stand[uid] = act
        is_last = idx == len(pieces) - 1
        if is_last:
            final = {uid: stand.get(uid) for uid in uids}
        if not stand:
            if is_last:
                for m in methods:
                    cacc[m]["final"] = None
            continue
        scores = {uid: rules.accuracy(act[3]) for uid, act in stand.items()}
        cmb = statistics.median(list(scores.values()))
        logs = {uid: rules.log_p(act[3]) for uid, act in stand.items()}
        for uid, act in stand.items():
            r = acc[uid]
            r["active"] += weight
            r["sb"] += weight * scores[uid]
            r["rel"] += weight * (scores[uid] - cmb)
            r["base"] += weight * rules.baseline(act[3])
            others = [logs[v] for v in stand if v != uid]
            if others:
                r["peer"] += weight * rules.log_scale * (logs[uid] - sum(others) / len(others))
        everyone = list(logs.values())
        snapshot = [(act[0], uid, act[3]) for uid, act in stand.items()]
        for m in methods:
            vec = rules.aggregate(snapshot, m)
            bs = rules.accuracy(vec)
            c = cacc[m]
            c["active"] += weight
            c["sb"] += weight * bs
            c["rel"] += weight * (bs - cmb)
            c["base"] += weight * rules.baseline(vec)
            c["peer"] += weight * rules.log_scale * (rules.log_p(vec) - sum(everyone) / len(everyone))
            if is_last:
                c["final"] = vec

    def finish(r, final_vec):
        return {
            "brier_final": math.nan if final_vec is None else rules.accuracy(final_vec),
            "brier_mean": r["sb"] / r["active"] if r["active"] > 0 else math.nan,
            "relative_brier": r["rel"] / w_len,
            "participation": r["active"] / w_len,
            "baseline": r["base"] / s_len,
            "peer": r["peer"] / s_len,
            "coverage": r["active"] / s_len,
            "final_probs": [math.nan] * k if final_vec is None else list(final_vec),
        }

    users = {uid: finish(acc[uid], None if final[uid] is None else final[uid][3]) for uid in uids}
    crowd = {m: finish(cacc[m], cacc[m]["final"]) for m in methods}
    return {"users": users, "crowd": crowd}


# ---------------------------------------------------------------- comparison
def _diff(a, b):
    a = float(a)
    b = float(b)
    if math.isnan(a) and math.isnan(b):
        return 0.0
    if math.isnan(a) or math.isnan(b):
        return math.inf
    return abs(a - b)


def max_difference(qs, ref) -> float:
    """Largest absolute difference between engine output ``qs`` (a
    QuestionScores) and ``reference_scores`` output; inf on NaN mismatch or
    differing user sets."""
    worst = 0.0
    table = qs.users
    ids = [int(u) for u in table.user]
    if ids != sorted(ref["users"]):
        return math.inf
    for i, uid in enumerate(ids):
        r = ref["users"][uid]
        for f in FIELDS:
            worst = max(worst, _diff(getattr(table, f)[i], r[f]))
        for j, v in enumerate(r["final_probs"]):
            worst = max(worst, _diff(table.final_probs[i][j], v))
    for m, r in ref["crowd"].items():
        c = qs.crowd[m]
        for f in FIELDS:
            worst = max(worst, _diff(getattr(c, f), r[f]))
        for j, v in enumerate(r["final_probs"]):
            worst = max(worst, _diff(c.final_probs[j], v))
    return worst
