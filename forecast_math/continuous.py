"""Numeric and date questions: CDF forecasts on a 201-point grid (pure NumPy, no Django).

Vocabulary (the design of issue 15, docs/continuous_scoring.md):

* A question has a range [lower, upper] (for a date question POSIX seconds) and two flags
  ``open_lower`` / ``open_upper``: an open bound lets probability mass fall beyond it.
* *Range units*: x = (value - lower) / (upper - lower); the grid is x_i = i / 200, i = 0..200.
* A forecast is a CDF of ``GRID`` = 201 floats, ``cdf[i]`` = P(value <= lower + i (upper - lower)
  / 200): ``cdf[0]`` is the mass below ``lower``, ``1 - cdf[200]`` the mass above ``upper``.
  Between grid points the CDF is linear (the density is constant in each of the 200 buckets).
* The PMF has 202 buckets (Metaculus's representation): ``pmf[0] = cdf[0]`` (below),
  ``pmf[i] = cdf[i] - cdf[i - 1]`` (i = 1..200), ``pmf[201] = 1 - cdf[200]`` (above).
* An outcome is x in range units, -inf ("below", open lower bound only) or +inf ("above", open
  upper bound only). Its bucket: below 0, above 201, otherwise i with x in (x_{i-1}, x_i]
  (x = 0 in bucket 1), as Metaculus numbers them.

Scores: :func:`crps` (the continuous ranked probability score over the range, in range units,
exact for the piecewise-linear CDF) and :func:`log_density` (ln pmf[bucket], the piece of
Metaculus's continuous log scores); the time machinery is the engine's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .aggregates import recency_weights, row_median, row_weighted_median
from .calibration import N_BINS, bin_index

GRID = 201
#: every cdf[i + 1] - cdf[i] >= MIN_STEP: a minimum slope, so no bucket has zero probability
MIN_STEP = 0.01 / 200
#: an open bound keeps at least this much probability beyond it
MIN_OUTSIDE = 0.001
#: at most this much probability outside the range in total (both open bounds together)
MAX_OUTSIDE = 0.2
#: the conversions mix the interior with the uniform so that every step is at least MIN_STEP
UNIFORM_MIX = 0.01
#: tolerance of the "== 0" / "== 1" rules of closed bounds
BOUND_TOL = 1e-9
#: rounding allowance of the minimum-step and outside-mass rules: a CDF built with steps of
#: exactly MIN_STEP falls short by a few ulps in floating point, and by up to 1e-10 once its
#: values are rounded to 10 decimals (Metaculus rounds steps to 10 decimals before the same check)
ROUND_TOL = 1e-10
#: the components of a mixture, and the largest scale (range units) accepted
MAX_COMPONENTS = 3
MAX_SCALE = 1000.0
WEIGHT_SUM_TOL = 1e-6
#: the quantiles a quantile forecast gives, in order
QUANTILE_LEVELS = (0.05, 0.25, 0.5, 0.75, 0.95)
#: the crowd aggregates of a continuous question (no extremized crowd)
CONTINUOUS_AGGREGATES = ("median", "recency_weighted_median", "mean")

#: the grid in range units
GRID_X = np.arange(GRID, dtype=np.float64) / (GRID - 1)


class InputError(ValueError):
    """Invalid input: ``field`` names the offending field, ``rule`` the rule broken; str() is
    "field: rule" (one line). The base of this module's ContinuousInputError and of
    jsonio.ScoringInputError."""

    def __init__(self, field: str, rule: str):
        self.field = field
        self.rule = rule
        super().__init__(f"{field}: {rule}")

    def __str__(self) -> str:
        return f"{self.field}: {self.rule}"


class ContinuousInputError(InputError):
    """An invalid CDF, mixture or set of quantiles."""


@dataclass(frozen=True)
class ContinuousOutcome:
    """The resolution of a continuous question: ``x`` in range units (within [0, 1]), or -inf
    ("below", only with an open lower bound) or +inf ("above", only with an open upper bound)."""

    x: float
    open_lower: bool = False
    open_upper: bool = False

    def __post_init__(self):
        x = float(self.x)
        if math.isnan(x):
            raise ValueError("x must be a number in [0, 1], -inf (below) or +inf (above)")
        if x == -math.inf and not self.open_lower:
            raise ValueError("an outcome below the range needs an open lower bound")
        if x == math.inf and not self.open_upper:
            raise ValueError("an outcome above the range needs an open upper bound")
        if math.isfinite(x) and not 0.0 <= x <= 1.0:
            raise ValueError("x must lie within [0, 1] (use -inf / +inf for below / above)")

    @property
    def bucket(self) -> int:
        return outcome_bucket(self.x)


# --------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------
def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def validate_cdf(cdf, *, open_lower: bool, open_upper: bool, field: str = "cdf") -> np.ndarray:
    """Check one submitted CDF and return it as a (201,) float array (never altered).

    Rules, each refused with a :class:`ContinuousInputError` naming the field ("cdf", "cdf[17]"):
    a list of exactly 201 numbers (not booleans), each finite and within [0, 1]; strictly
    increasing with every step >= MIN_STEP; a closed lower bound has cdf[0] == 0 and an open one
    cdf[0] >= MIN_OUTSIDE; a closed upper bound has cdf[200] == 1 and an open one
    cdf[200] <= 1 - MIN_OUTSIDE (the "== 0 / == 1" within 1e-9); and cdf[0] + 1 - cdf[200] <=
    MAX_OUTSIDE. The minimum step and the outside total allow 1e-10 for rounding.
    """
    if isinstance(cdf, np.ndarray):
        if cdf.ndim != 1 or cdf.dtype.kind not in "iuf":
            raise ContinuousInputError(field, f"must be a list of {GRID} numbers")
        values = cdf.tolist()
    elif isinstance(cdf, (list, tuple)):
        values = list(cdf)
    else:
        raise ContinuousInputError(field, f"must be a list of {GRID} numbers")
    if len(values) != GRID:
        raise ContinuousInputError(field, f"must have exactly {GRID} values (got {len(values)})")
    for i, v in enumerate(values):
        if not _is_number(v):
            raise ContinuousInputError(f"{field}[{i}]", "must be a number")
        fv = float(v)
        if not math.isfinite(fv):
            raise ContinuousInputError(f"{field}[{i}]", "must be a finite number")
        if not 0.0 <= fv <= 1.0:
            raise ContinuousInputError(f"{field}[{i}]", "must be between 0 and 1")
    c = np.array(values, dtype=np.float64)
    steps = np.diff(c)
    short = np.flatnonzero(steps < MIN_STEP - ROUND_TOL)
    if short.shape[0]:
        i = int(short[0]) + 1
        raise ContinuousInputError(
            f"{field}[{i}]",
            f"must exceed {field}[{i - 1}] by at least {MIN_STEP:g} (the CDF must increase at every step)",
        )
    if open_lower:
        if c[0] < MIN_OUTSIDE:
            raise ContinuousInputError(
                f"{field}[0]", f"must be at least {MIN_OUTSIDE:g} (the lower bound is open: some mass below it)"
            )
    elif abs(c[0]) > BOUND_TOL:
        raise ContinuousInputError(f"{field}[0]", "must be 0 (the lower bound is closed)")
    if open_upper:
        if c[-1] > 1.0 - MIN_OUTSIDE:
            raise ContinuousInputError(
                f"{field}[{GRID - 1}]",
                f"must be at most {1.0 - MIN_OUTSIDE:g} (the upper bound is open: some mass above it)",
            )
    elif abs(c[-1] - 1.0) > BOUND_TOL:
        raise ContinuousInputError(f"{field}[{GRID - 1}]", "must be 1 (the upper bound is closed)")
    outside = c[0] + 1.0 - c[-1]
    if outside > MAX_OUTSIDE + ROUND_TOL:
        raise ContinuousInputError(
            field,
            f"must keep at most {MAX_OUTSIDE:g} of the probability outside the range "
            f"({field}[0] + 1 - {field}[{GRID - 1}] is {outside:.6g})",
        )
    return c


# --------------------------------------------------------------------------
# building a CDF from a shape
# --------------------------------------------------------------------------
def _tail(mass: float, is_open: bool) -> float:
    """The mass kept beyond a bound: 0 when closed, else brought within [MIN_OUTSIDE, MAX_OUTSIDE/2]."""
    if not is_open:
        return 0.0
    return min(max(float(mass), MIN_OUTSIDE), MAX_OUTSIDE / 2.0)


def _assemble(shape: np.ndarray, below: float, above: float) -> np.ndarray:
    """The grid CDF with ``below`` / ``above`` outside and the interior following ``shape`` (a
    non-decreasing (201,) array from 0 to 1), mixed with the uniform so that every step is at
    least MIN_STEP: cdf = below + (1 - below - above) ((1 - u) shape + u x), u = 0.01 / (1 -
    below - above)."""
    inside = 1.0 - below - above
    u = UNIFORM_MIX / inside
    h = np.clip(shape, 0.0, 1.0)
    h = np.maximum.accumulate(h)
    c = below + inside * ((1.0 - u) * h + u * GRID_X)
    c[0] = below
    c[-1] = 1.0 - above
    return c


def _number(v, fieldname: str) -> float:
    if not _is_number(v) or not math.isfinite(float(v)):
        raise ContinuousInputError(fieldname, "must be a finite number")
    return float(v)


def _logistic(z: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):
        return 0.5 * (1.0 + np.tanh(0.5 * z))


def cdf_from_mixture(components, *, open_lower: bool, open_upper: bool, field: str = "components") -> np.ndarray:
    """A valid grid CDF from a mixture of 1..3 logistic distributions (in range units).

    ``components``: a list of dicts ``{"centre": c, "scale": s, "weight": w}`` with 0 <= c <= 1,
    0 < s <= MAX_SCALE and w > 0, the weights summing to 1 within 1e-6 (each refusal names
    e.g. "components[1].scale"). The mixture F(x) = sum w_j sigmoid((x - c_j) / s_j) is evaluated
    on the grid; a closed bound cuts its tail off (the rest rescaled to [0, 1]), an open bound
    keeps its tail mass, brought within [MIN_OUTSIDE, MAX_OUTSIDE / 2]; the interior is mixed with
    the uniform (see ``_assemble``), so the result passes :func:`validate_cdf`.
    """
    if not isinstance(components, (list, tuple)) or not 1 <= len(components) <= MAX_COMPONENTS:
        raise ContinuousInputError(field, f"must be a list of 1 to {MAX_COMPONENTS} components")
    centres, scales, weights = [], [], []
    for i, comp in enumerate(components):
        base = f"{field}[{i}]"
        if not isinstance(comp, dict):
            raise ContinuousInputError(base, "must be an object with centre, scale and weight")
        for key in ("centre", "scale", "weight"):
            if key not in comp:
                raise ContinuousInputError(f"{base}.{key}", "is required")
        unknown = sorted(set(comp) - {"centre", "scale", "weight"})
        if unknown:
            raise ContinuousInputError(f"{base}.{unknown[0]}", "is not a component field (centre, scale, weight)")
        c = _number(comp["centre"], f"{base}.centre")
        if not 0.0 <= c <= 1.0:
            raise ContinuousInputError(f"{base}.centre", "must lie within the range (between lower and upper)")
        s = _number(comp["scale"], f"{base}.scale")
        if not 0.0 < s <= MAX_SCALE:
            raise ContinuousInputError(f"{base}.scale", f"must be greater than 0 (and at most {MAX_SCALE:g} ranges)")
        w = _number(comp["weight"], f"{base}.weight")
        if not w > 0.0:
            raise ContinuousInputError(f"{base}.weight", "must be greater than 0")
        centres.append(c)
        scales.append(s)
        weights.append(w)
    total = math.fsum(weights)
    if abs(total - 1.0) > WEIGHT_SUM_TOL:
        raise ContinuousInputError(field, f"weights must sum to 1 within {WEIGHT_SUM_TOL:g} (sum is {total:.9g})")
    cen = np.array(centres)[:, None]
    sc = np.array(scales)[:, None]
    wt = np.array(weights)[:, None]
    f = (wt * _logistic((GRID_X[None, :] - cen) / sc)).sum(axis=0)
    below = _tail(f[0], open_lower)
    above = _tail(1.0 - f[-1], open_upper)
    span = f[-1] - f[0]
    if not span > 0.0:  # cannot happen with a centre in the range, kept as a guard
        raise ContinuousInputError(field, "puts no probability inside the range")
    return _assemble((f - f[0]) / span, below, above)


def cdf_from_quantiles(points, *, open_lower: bool, open_upper: bool, field: str = "quantiles") -> np.ndarray:
    """A valid grid CDF through five quantiles (in range units).

    ``points``: {0.05: x5, 0.25: x25, 0.5: x50, 0.75: x75, 0.95: x95} (keys may also be given as
    the strings "0.05", ... ), strictly increasing, the median within [0, 1]; with a closed lower
    (upper) bound every quantile must be >= 0 (<= 1). The CDF is linear between the points and
    beyond them: to 0 at a closed lower bound and 1 at a closed upper one, else continuing the
    slope of the nearest segment, the mass it puts beyond an open bound brought within
    [MIN_OUTSIDE, MAX_OUTSIDE / 2]; then mixed with the uniform like :func:`cdf_from_mixture`.
    Refusals name e.g. "quantiles.0.25".
    """
    if not isinstance(points, dict):
        raise ContinuousInputError(field, "must be an object mapping 0.05, 0.25, 0.5, 0.75 and 0.95 to values")
    by_level = {}
    for key, value in points.items():
        try:
            level = float(key)
        except (TypeError, ValueError):
            level = math.nan
        match = [q for q in QUANTILE_LEVELS if abs(q - level) <= 1e-12]
        if not match or isinstance(key, bool):
            raise ContinuousInputError(f"{field}.{key}", "is not one of the quantiles 0.05, 0.25, 0.5, 0.75, 0.95")
        if match[0] in by_level:
            raise ContinuousInputError(f"{field}.{key}", "is given twice")
        by_level[match[0]] = _number(value, f"{field}.{match[0]:g}")
    for q in QUANTILE_LEVELS:
        if q not in by_level:
            raise ContinuousInputError(f"{field}.{q:g}", "is required")
    xs = [by_level[q] for q in QUANTILE_LEVELS]
    for j in range(1, len(xs)):
        if not xs[j] > xs[j - 1]:
            q = QUANTILE_LEVELS[j]
            raise ContinuousInputError(
                f"{field}.{q:g}", f"must be greater than the {QUANTILE_LEVELS[j - 1]:g} quantile (strictly increasing)"
            )
    if not open_lower and xs[0] < 0.0:
        raise ContinuousInputError(
            f"{field}.{QUANTILE_LEVELS[0]:g}", "must not be below the lower bound (it is closed)"
        )
    if not open_upper and xs[-1] > 1.0:
        raise ContinuousInputError(
            f"{field}.{QUANTILE_LEVELS[-1]:g}", "must not be above the upper bound (it is closed)"
        )
    if not 0.0 <= xs[2] <= 1.0:
        raise ContinuousInputError(f"{field}.0.5", "must lie within the range (between lower and upper)")
    levels = list(QUANTILE_LEVELS)
    knots_x = list(xs)
    knots_q = list(levels)
    # below the first point: to 0 at a closed lower bound, else the first segment's slope
    if not open_lower:
        if xs[0] > 0.0:
            knots_x.insert(0, 0.0)
            knots_q.insert(0, 0.0)
        lo_slope = 0.0
    else:
        lo_slope = (levels[1] - levels[0]) / (xs[1] - xs[0])
    if not open_upper:
        if xs[-1] < 1.0:
            knots_x.append(1.0)
            knots_q.append(1.0)
        hi_slope = 0.0
    else:
        hi_slope = (levels[-1] - levels[-2]) / (xs[-1] - xs[-2])
    kx = np.array(knots_x)
    kq = np.array(knots_q)
    f = np.interp(GRID_X, kx, kq)
    left = np.less(GRID_X, kx[0])
    f[left] = kq[0] - lo_slope * (kx[0] - GRID_X[left])
    right = np.greater(GRID_X, kx[-1])
    f[right] = kq[-1] + hi_slope * (GRID_X[right] - kx[-1])
    f = np.clip(f, 0.0, 1.0)
    if not open_lower:
        f[0] = 0.0
    if not open_upper:
        f[-1] = 1.0
    below = _tail(f[0], open_lower)
    above = _tail(1.0 - f[-1], open_upper)
    span = f[-1] - f[0]  # > 0: the median lies in [0, 1] and F rises through it
    return _assemble((f - f[0]) / span, below, above)


# --------------------------------------------------------------------------
# units, buckets, evaluation
# --------------------------------------------------------------------------
def to_range_units(value: float, lower: float, upper: float) -> float:
    """(value - lower) / (upper - lower)."""
    return (float(value) - float(lower)) / (float(upper) - float(lower))


def from_range_units(x: float, lower: float, upper: float) -> float:
    """lower + x (upper - lower) (exactly ``upper`` at x = 1)."""
    x = float(x)
    if x == 1.0:
        return float(upper)
    return float(lower) + x * (float(upper) - float(lower))


def pmf(cdf) -> np.ndarray:
    """The 202 bucket probabilities of a CDF (or of each row of an (n, 201) array)."""
    c = np.asarray(cdf, dtype=np.float64)
    out = np.empty(c.shape[:-1] + (GRID + 1,))
    out[..., 0] = c[..., 0]
    out[..., 1:GRID] = np.diff(c, axis=-1)
    out[..., GRID] = 1.0 - c[..., -1]
    return out


def outcome_bucket(x: float) -> int:
    """The PMF bucket of an outcome x in range units: 0 below the range (x < 0, -inf), 201 above
    it (x > 1, +inf), else bucket i (1..200) covering (x_{i-1}, x_i], the first one [0, x_1]:
    max(1, ceil(200 x)), computed as Metaculus does (``unscaled_location_to_bucket_index``:
    int(200 x + 1 - 1e-10), at least 1), so that a value on a grid point x_i belongs to the
    bucket whose CDF value cdf[i] = P(value <= x_i) counts it, and 0.07 * 200 = 14.000000000000002
    still lands in bucket 14."""
    x = float(x)
    if math.isnan(x):
        raise ValueError("the outcome must be a number, -inf or +inf")
    if x < 0.0:
        return 0
    if x > 1.0:
        return GRID
    if x == 1.0:
        return GRID - 1
    return max(int(x * (GRID - 1) + 1 - 1e-10), 1)


def cdf_at(cdf, x: float) -> float:
    """The CDF at x (range units), linear between grid points; cdf[0] below 0, cdf[200] above 1."""
    c = np.asarray(cdf, dtype=np.float64)
    x = float(x)
    if x <= 0.0:
        return float(c[0])
    if x >= 1.0:
        return float(c[-1])
    return float(np.interp(x, GRID_X, c))


def quantile(cdf, q: float) -> float:
    """The value (range units, clipped to [0, 1]) at which the interpolated CDF reaches q."""
    c = np.asarray(cdf, dtype=np.float64)
    return float(np.clip(np.interp(float(q), c, GRID_X), 0.0, 1.0))


def crps(cdfs, x: float) -> np.ndarray:
    """CRPS of each CDF row at the outcome x (range units): the exact integral over [0, 1] of
    (F(t) - 1{t >= x})^2 dt, F linear between grid points. Below the range (x < 0, -inf) the
    indicator is 1 on all of [0, 1], above it (x > 1, +inf) 0. Accepts (201,) or (n, 201).
    A uniform forecast on a closed range with x = 0.42 scores (0.42^3 + 0.58^3) / 3 = 0.08973."""
    c = np.asarray(cdfs, dtype=np.float64)
    flat = c.ndim == 1
    if flat:
        c = c[None, :]
    x = float(x)
    h = 1.0 / (GRID - 1)
    a, b = c[:, :-1], c[:, 1:]
    if x >= 1.0:  # indicator 0 everywhere (x = 1: a single point, measure zero)
        out = (h / 3.0) * (a * a + a * b + b * b).sum(axis=1)
    elif x <= 0.0:  # indicator 1 everywhere
        ua, ub = 1.0 - a, 1.0 - b
        out = (h / 3.0) * (ua * ua + ua * ub + ub * ub).sum(axis=1)
    else:
        j = min(GRID - 2, int(math.floor(x * (GRID - 1))))  # the segment [x_j, x_j+1] holding x
        t0 = j * h
        left = x - t0
        right = (j + 1) * h - x
        fa, fb = c[:, j], c[:, j + 1]
        fx = fa + (fb - fa) * (left / h)
        below = (h / 3.0) * (a[:, :j] ** 2 + a[:, :j] * b[:, :j] + b[:, :j] ** 2).sum(axis=1)
        ua, ub = 1.0 - a[:, j + 1 :], 1.0 - b[:, j + 1 :]
        above = (h / 3.0) * (ua * ua + ua * ub + ub * ub).sum(axis=1)
        part = (left / 3.0) * (fa * fa + fa * fx + fx * fx)
        ux, ubb = 1.0 - fx, 1.0 - fb
        part += (right / 3.0) * (ux * ux + ux * ubb + ubb * ubb)
        out = below + part + above
    return out[0] if flat else out


def log_density(cdfs, x: float, open_lower: bool, open_upper: bool) -> np.ndarray:
    """ln pmf[bucket of x] of each CDF row (the piece of the continuous log scores)."""
    ContinuousOutcome(x, open_lower, open_upper)  # refuses an outcome beyond a closed bound
    c = np.asarray(cdfs, dtype=np.float64)
    k = outcome_bucket(x)
    if k == 0:
        p = c[..., 0]
    elif k == GRID:
        p = 1.0 - c[..., -1]
    else:
        p = c[..., k] - c[..., k - 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(p)


#: the probability the uniform baseline puts beyond each open bound (Metaculus)
BASELINE_OUTSIDE = 0.05


def baseline_bucket_probability(bucket: int, open_lower: bool, open_upper: bool) -> float:
    """Metaculus's uniform baseline distribution for continuous questions, per bucket: 5% beyond
    each open bound and the rest uniform over the range, i.e. an interior bucket gets
    (1 - 0.05 n_open) / 200 and an outside bucket 0.05 (n_open = number of open bounds)
    (Metaculus scoring/score_math.py ``evaluate_forecasts_baseline_accuracy``; scores FAQ)."""
    n_open = int(bool(open_lower)) + int(bool(open_upper))
    if bucket == 0 or bucket == GRID:
        return BASELINE_OUTSIDE
    return (1.0 - BASELINE_OUTSIDE * n_open) / (GRID - 1)


def instant_baseline(log_p, bucket: int, open_lower: bool, open_upper: bool):
    """Instant baseline score(s) 100 ln(pmf[bucket] / base_p) / 2, from ln pmf[bucket]."""
    base = math.log(baseline_bucket_probability(bucket, open_lower, open_upper))
    return 50.0 * (np.asarray(log_p, dtype=np.float64) - base)


# --------------------------------------------------------------------------
# calibration of continuous forecasts
# --------------------------------------------------------------------------
def pit(cdf, x: float) -> float:
    """Probability integral transform F(x); an outcome below the range gets cdf[0] / 2 and one
    above it (1 + cdf[200]) / 2 (the middle of the mass beyond the bound)."""
    c = np.asarray(cdf, dtype=np.float64)
    x = float(x)
    if x < 0.0:
        return float(c[0]) / 2.0
    if x > 1.0:
        return (1.0 + float(c[-1])) / 2.0
    return cdf_at(c, x)


def pit_histogram(values) -> list[int]:
    """Counts of PIT values in ten bins of width 0.1 ([0, 0.1), ..., [0.9, 1.0])."""
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    if v.shape[0] == 0:
        return [0] * N_BINS
    if np.isnan(v).any() or (v < 0).any() or (v > 1).any():
        raise ValueError("PIT values must lie within [0, 1]")
    return [int(n) for n in np.bincount(bin_index(v), minlength=N_BINS)]


# --------------------------------------------------------------------------
# the crowd
# --------------------------------------------------------------------------
def make_valid(c: np.ndarray) -> np.ndarray:
    """Raise every step to at least MIN_STEP (less half of validate_cdf's rounding allowance), as
    little as needed, and keep every value at most 1; row-wise on (..., 201).

    An aggregate of valid CDFs is monotone with steps at least as large as the smallest of the
    forecasts' steps, up to rounding (a per-point median, weighted median or mean of functions
    that each rise by at least s rises by at least s), and keeps the bound rules, so this only
    repairs rounding; NaN rows stay NaN."""
    c = np.asarray(c, dtype=np.float64)
    ramp = (MIN_STEP - ROUND_TOL / 2) * np.arange(GRID, dtype=np.float64)
    d = c - ramp
    with np.errstate(invalid="ignore"):
        np.maximum.accumulate(d, axis=-1, out=d)
        d += ramp
        # NaN propagates through every step (a NaN row stays NaN), in place
        np.maximum(c, d, out=d)
        np.minimum(d, 1.0, out=d)
    return d


def aggregate_cdfs(cdfs, method: str, weights=None, *, made_at=None) -> np.ndarray:
    """One crowd CDF from n standing CDFs (n, 201) -> (201,).

    ``median``: per-point median; ``recency_weighted_median``: per-point weighted median
    (aggregates.row_weighted_median's definition) with ``weights`` (n,), or else Metaculus's
    recency weights from ``made_at`` (n,) (the times the forecasts were made, ties in row order),
    or else with the rows taken as oldest first; ``mean``: per-point mean. The result is made
    valid (:func:`make_valid`); all NaN when n = 0. The engine's crowd history uses the same
    definitions, so a snapshot equals the history's row at that time."""
    c = np.asarray(cdfs, dtype=np.float64)
    if c.ndim != 2 or c.shape[1] != GRID:
        raise ValueError(f"cdfs must have shape (n, {GRID})")
    n = c.shape[0]
    if method not in CONTINUOUS_AGGREGATES:
        raise ValueError(f"unknown continuous aggregate {method!r}; expected one of {CONTINUOUS_AGGREGATES}")
    if n == 0:
        return np.full(GRID, np.nan)
    if method == "median":
        out = row_median(c.T)
    elif method == "mean":
        out = c.sum(axis=0) / n
    else:
        if weights is None:
            made = np.arange(n, dtype=np.float64) if made_at is None else np.asarray(made_at, dtype=np.float64)
            w = recency_weights(made.reshape(1, n), np.ones((1, n), dtype=bool))[0]
        else:
            w = np.asarray(weights, dtype=np.float64).reshape(-1)
            if w.shape[0] != n:
                raise ValueError("weights must have one value per row")
        out = row_weighted_median(c.T, np.broadcast_to(w, (GRID, n)))
    return make_valid(out)


__all__ = [
    "BASELINE_OUTSIDE",
    "CONTINUOUS_AGGREGATES",
    "GRID",
    "GRID_X",
    "MAX_OUTSIDE",
    "MIN_OUTSIDE",
    "MIN_STEP",
    "QUANTILE_LEVELS",
    "ContinuousInputError",
    "ContinuousOutcome",
    "InputError",
    "aggregate_cdfs",
    "baseline_bucket_probability",
    "cdf_at",
    "cdf_from_mixture",
    "cdf_from_quantiles",
    "crps",
    "from_range_units",
    "instant_baseline",
    "log_density",
    "make_valid",
    "outcome_bucket",
    "pit",
    "pit_histogram",
    "pmf",
    "quantile",
    "to_range_units",
    "validate_cdf",
]
