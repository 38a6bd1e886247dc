"""Calibration tables and the Murphy decomposition (scoring.md section 6)."""

from __future__ import annotations

import math

import numpy as np

N_BINS = 10
#: two-sided 95% normal quantile used by the Wilson interval
Z95 = 1.959963984540054


def wilson_interval(successes: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (n > 0)."""
    phat = successes / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (phat + z2 / (2 * n)) / denom
    half = z * math.sqrt(phat * (1 - phat) / n + z2 / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def bin_index(p: np.ndarray) -> np.ndarray:
    """Bin of width 0.1: [0, 0.1), [0.1, 0.2), ..., [0.9, 1.0].

    A tiny allowance (1e-9) keeps decimal edges such as 0.3 in the upper
    bin despite binary rounding of 0.3 * 10.
    """
    p = np.asarray(p, dtype=np.float64)
    return np.clip(np.floor(p * N_BINS + 1e-9).astype(np.int64), 0, N_BINS - 1)


def murphy_decomposition(p: np.ndarray, y: np.ndarray) -> dict:
    """One-sided Brier and Murphy (1973) REL, RES, UNC grouping by distinct
    forecast values, so that BS = REL - RES + UNC exactly (up to rounding)."""
    p = np.asarray(p, dtype=np.float64).reshape(-1)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    n = p.size
    if n == 0:
        return {"brier": None, "reliability": None, "resolution": None, "uncertainty": None}
    obar = y.mean()
    vals, inv, counts = np.unique(p, return_inverse=True, return_counts=True)
    ok = np.bincount(inv.reshape(-1), weights=y, minlength=len(vals)) / counts
    rel = float(np.sum(counts * (vals - ok) ** 2) / n)
    res = float(np.sum(counts * (ok - obar) ** 2) / n)
    unc = float(obar * (1 - obar))
    bs = float(np.mean((p - y) ** 2))
    return {"brier": bs, "reliability": rel, "resolution": res, "uncertainty": unc}


def calibration_table(p, y) -> dict:
    """Calibration of binary events: forecasts ``p`` of P(event), outcomes
    ``y`` in {0, 1}.

    Returns ``{"n": N, "bins": [10 dicts], "murphy": {...}}``; each bin has
    lower, upper, count, mean_forecast, observed_frequency, wilson_low,
    wilson_high (the last four None when the bin is empty).  Not folded at
    50%.
    """
    p = np.asarray(p, dtype=np.float64).reshape(-1)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if p.shape != y.shape:
        raise ValueError("p and y must have the same length")
    idx = bin_index(p)
    bins = []
    for b in range(N_BINS):
        sel = idx == b
        c = int(np.count_nonzero(sel))
        row = {"lower": b / N_BINS, "upper": (b + 1) / N_BINS, "count": c}
        if c:
            hits = float(y[sel].sum())
            lo, hi = wilson_interval(hits, c)
            row.update(
                mean_forecast=float(p[sel].mean()),
                observed_frequency=hits / c,
                wilson_low=lo,
                wilson_high=hi,
            )
        else:
            row.update(mean_forecast=None, observed_frequency=None, wilson_low=None, wilson_high=None)
        bins.append(row)
    return {"n": int(p.size), "bins": bins, "murphy": murphy_decomposition(p, y)}


def binary_events(final_probs, outcome) -> tuple[np.ndarray, np.ndarray]:
    """Turn final standing forecasts into binary calibration events.

    ``final_probs`` (U, K) for one question (NaN rows = no forecast, skipped)
    and ``outcome`` the true option.  A binary question (K = 2) gives one
    event per forecaster: P(yes) and whether "yes" (option 0) happened.  A
    multiple-choice question gives K events per forecaster, one per option.
    """
    fp = np.asarray(final_probs, dtype=np.float64)
    fp = fp[~np.isnan(fp).any(axis=1)]
    k = fp.shape[1]
    if k == 2:
        return fp[:, 0].copy(), np.full(len(fp), 1.0 if outcome == 0 else 0.0)
    y = (np.arange(k) == outcome).astype(np.float64)
    return fp.reshape(-1), np.tile(y, len(fp))
