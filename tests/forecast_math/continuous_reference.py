"""A slow, plain-Python reference for the scores of numeric and date questions.

Written independently of ``forecast_math`` (no code shared): the time machinery is
``reference.reference_scores`` (plain loops over segments or days), with these rules for one
forecast, a list of 201 CDF values at x_i = i / 200:

* CRPS: the integral over [0, 1] of (F(t) - 1{t >= x})^2, F linear between grid points, by
  Simpson's rule on every grid interval (split at x), which is exact for the piecewise quadratic
  integrand, so it agrees with the engine's closed form to rounding; ``crps_midpoint`` gives a
  plain fine-grid midpoint sum as a second, cruder check;
* the outcome's bucket: the first i in 1..200 with 200 x <= i (within 1e-10), 0 below the
  range and 201 above it; its probability from the CDF's differences;
* baseline: 100 ln(p / b) / 2 with Metaculus's uniform baseline b (5% beyond each open bound,
  the rest spread evenly over the 200 interior buckets); peer: 100 / 2 (ln p - mean of ln p of
  the others);
* the crowd: per grid point the median (statistics.median), the recency-weighted median (sorted
  pairs, cumulative weights, a tie within 1e-12 of the total averages the two values) or the
  mean; then every step raised to at least 0.01 / 200 - 5e-11 (a no-op up to rounding).
"""

from __future__ import annotations

import math
import statistics

from .reference import reference_scores, weighted_median

N = 200
MIN_STEP = 0.01 / 200
METHODS = ("median", "recency_weighted_median", "mean")


def _value_at(cdf, t):
    """F(t) for t in [0, 1], linear between the grid points."""
    i = min(N - 1, int(t * N))
    while i > 0 and i / N > t:
        i -= 1
    while i < N - 1 and (i + 1) / N < t:
        i += 1
    lo, hi = i / N, (i + 1) / N
    return cdf[i] + (cdf[i + 1] - cdf[i]) * (t - lo) / (hi - lo)


def _simpson(f, a, b):
    if b <= a:
        return 0.0
    return (b - a) / 6.0 * (f(a) + 4.0 * f((a + b) / 2.0) + f(b))


def ref_crps(cdf, x):
    """Exact CRPS by Simpson's rule per grid interval (split at the outcome)."""
    if x == -math.inf or x < 0:

        def ind(t):
            return 1.0

        cut = None
    elif x == math.inf or x > 1:

        def ind(t):
            return 0.0

        cut = None
    else:

        def ind(t):
            return 1.0 if t >= x else 0.0

        cut = x
    total = 0.0
    for i in range(N):
        a, b = i / N, (i + 1) / N
        pieces = [(a, b)]
        if cut is not None and a < cut < b:
            pieces = [(a, cut), (cut, b)]
        for lo, hi in pieces:
            # the indicator is constant on the open piece: take it at the midpoint
            o = ind((lo + hi) / 2.0)
            total += _simpson(lambda t, o=o: (_value_at(cdf, t) - o) ** 2, lo, hi)
    return total


def crps_midpoint(cdf, x, steps=200_000):
    """A plain midpoint sum of the CRPS integral on a fine grid (error about 1e-6)."""
    h = 1.0 / steps
    total = 0.0
    for s in range(steps):
        t = (s + 0.5) * h
        o = 1.0 if t >= x else 0.0
        total += (_value_at(cdf, t) - o) ** 2
    return total * h


def ref_bucket(x):
    if x == -math.inf or x < 0:
        return 0
    if x == math.inf or x > 1:
        return N + 1
    for i in range(1, N + 1):
        if x * N <= i + 1e-10:
            return i
    return N


def ref_bucket_probability(cdf, bucket):
    if bucket == 0:
        return cdf[0]
    if bucket == N + 1:
        return 1.0 - cdf[N]
    return cdf[bucket] - cdf[bucket - 1]


def ref_uniform_baseline(bucket, open_lower, open_upper):
    n_open = (1 if open_lower else 0) + (1 if open_upper else 0)
    if bucket in (0, N + 1):
        return 0.05
    return (1.0 - 0.05 * n_open) / N


def ref_min_step(cdf):
    """Every step raised to at least the minimum (less half the 1e-10 rounding allowance), at most 1."""
    out = list(cdf)
    for i in range(1, len(out)):
        out[i] = max(out[i], out[i - 1] + MIN_STEP - 5e-11)
    return [min(v, 1.0) for v in out]


def ref_aggregate_cdfs(standing, method):
    """standing: list of (made_time, user_id, cdf)."""
    points = len(standing[0][2])
    if method == "median":
        raw = [statistics.median([s[2][j] for s in standing]) for j in range(points)]
    elif method == "mean":
        raw = [sum(s[2][j] for s in standing) / len(standing) for j in range(points)]
    elif method == "recency_weighted_median":
        ordered = sorted(standing, key=lambda s: (s[0], s[1]))
        n = len(ordered)
        weights = [math.exp(math.sqrt(i) - math.sqrt(n)) if n > 2 else 1.0 for i in range(1, n + 1)]
        raw = [weighted_median([s[2][j] for s in ordered], weights) for j in range(points)]
    else:
        raise ValueError(method)
    return ref_min_step(raw)


class ContinuousRules:
    """reference_scores' rules for a numeric or date question with outcome ``x`` (range units,
    -inf below, +inf above)."""

    log_scale = 50.0

    def __init__(self, x, open_lower, open_upper):
        self.x = x
        self.bucket = ref_bucket(x)
        self.base_p = ref_uniform_baseline(self.bucket, open_lower, open_upper)

    def accuracy(self, cdf):
        return ref_crps(cdf, self.x)

    def log_p(self, cdf):
        return math.log(ref_bucket_probability(cdf, self.bucket))

    def baseline(self, cdf):
        return 50.0 * math.log(ref_bucket_probability(cdf, self.bucket) / self.base_p)

    def aggregate(self, snapshot, method):
        return ref_aggregate_cdfs(snapshot, method)


def continuous_reference_scores(spec, fs, methods=METHODS):
    """reference_scores of a numeric or date question (``spec.continuous`` holds the outcome)."""
    c = spec.continuous
    return reference_scores(spec, fs, methods, rules=ContinuousRules(c.x, c.open_lower, c.open_upper))
