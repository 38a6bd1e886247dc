"""forecast_math.continuous: the rules a submitted CDF must keep, the conversions from a logistic
mixture and from quantiles, units, buckets and the CDF's evaluation."""

import math

import numpy as np
import pytest

from forecast_math.continuous import (
    GRID,
    MAX_OUTSIDE,
    MIN_OUTSIDE,
    MIN_STEP,
    ContinuousInputError,
    ContinuousOutcome,
    cdf_at,
    cdf_from_mixture,
    cdf_from_quantiles,
    from_range_units,
    outcome_bucket,
    pmf,
    quantile,
    to_range_units,
    validate_cdf,
)

BOUNDS = [(False, False), (True, False), (False, True), (True, True)]


def uniform(open_lower=False, open_upper=False, below=0.05, above=0.05):
    lo = below if open_lower else 0.0
    hi = 1.0 - above if open_upper else 1.0
    return list(np.linspace(lo, hi, GRID))


def refused(cdf, field, rule, **bounds):
    bounds = {"open_lower": False, "open_upper": False, **bounds}
    with pytest.raises(ContinuousInputError) as exc:
        validate_cdf(cdf, **bounds)
    err = exc.value
    assert err.field == field
    assert rule in err.rule
    assert str(err) == f"{field}: {err.rule}"
    assert isinstance(err, ValueError)
    return err


@pytest.mark.parametrize("open_lower,open_upper", BOUNDS)
def test_valid_uniform_is_returned_unchanged(open_lower, open_upper):
    cdf = uniform(open_lower, open_upper)
    out = validate_cdf(cdf, open_lower=open_lower, open_upper=open_upper)
    assert out.shape == (GRID,)
    assert out.tolist() == cdf


def test_accepts_numpy_and_ints():
    cdf = uniform()
    cdf[0] = 0  # an int
    cdf[-1] = 1
    assert validate_cdf(np.array(uniform()), open_lower=False, open_upper=False)[100] == 0.5
    assert validate_cdf(cdf, open_lower=False, open_upper=False)[-1] == 1.0


def test_shape_rules():
    refused("0.5", "cdf", "must be a list of 201 numbers")
    refused({"0": 0.1}, "cdf", "must be a list of 201 numbers")
    refused(uniform()[:-1], "cdf", "exactly 201 values (got 200)")
    refused(uniform() + [1.0], "cdf", "exactly 201 values (got 202)")
    refused(np.zeros((2, GRID)), "cdf", "list of 201")


def test_custom_field_name():
    with pytest.raises(ContinuousInputError) as exc:
        validate_cdf(uniform()[:10], open_lower=False, open_upper=False, field="forecasts[3].cdf")
    assert exc.value.field == "forecasts[3].cdf"
    cdf = uniform()
    cdf[17] = "x"
    with pytest.raises(ContinuousInputError) as exc:
        validate_cdf(cdf, open_lower=False, open_upper=False, field="forecasts[3].cdf")
    assert exc.value.field == "forecasts[3].cdf[17]"


@pytest.mark.parametrize(
    "value,rule",
    [
        ("0.1", "must be a number"),
        (True, "must be a number"),
        (None, "must be a number"),
        (math.nan, "finite"),
        (math.inf, "finite"),
        (-0.2, "between 0 and 1"),
        (1.2, "between 0 and 1"),
    ],
)
def test_element_rules(value, rule):
    cdf = uniform()
    cdf[17] = value
    refused(cdf, "cdf[17]", rule)


def test_strictly_increasing_with_min_step():
    cdf = uniform()
    cdf[50] = cdf[49]  # flat
    refused(cdf, "cdf[50]", "by at least 5e-05")
    cdf = uniform()
    cdf[50], cdf[51] = cdf[51], cdf[50]  # decreasing
    refused(cdf, "cdf[51]", "must exceed cdf[50]")
    # a step of exactly MIN_STEP (built in floating point) is accepted
    cdf = list(np.concatenate([[0.0], MIN_STEP * np.arange(1, 200), [1.0]]))
    validate_cdf(cdf, open_lower=False, open_upper=False)
    # values rounded to 10 decimals still pass; anything shorter does not
    validate_cdf([round(v, 10) for v in cdf], open_lower=False, open_upper=False)
    cdf[100] = cdf[99] + MIN_STEP - 2e-10
    refused(cdf, "cdf[100]", "at least")


def test_closed_bounds():
    cdf = uniform()
    cdf[0] = 0.001
    refused(cdf, "cdf[0]", "must be 0 (the lower bound is closed)")
    cdf = uniform()
    cdf[200] = 0.999
    refused(cdf, "cdf[200]", "must be 1 (the upper bound is closed)")
    cdf = uniform()
    cdf[0] = 1e-10  # within 1e-9
    cdf[200] = 1 - 1e-10
    validate_cdf(cdf, open_lower=False, open_upper=False)


def test_open_bounds_keep_mass_outside():
    refused(uniform(True, False, below=0.0005), "cdf[0]", "at least 0.001", open_lower=True)
    refused(uniform(False, True, above=0.0005), "cdf[200]", "at most 0.999", open_upper=True)
    # exactly the minimum is fine
    validate_cdf(uniform(True, True, below=MIN_OUTSIDE, above=MIN_OUTSIDE), open_lower=True, open_upper=True)
    # an open-bound CDF with no mass outside is refused (it is a closed-bound CDF)
    refused(uniform(), "cdf[0]", "open", open_lower=True)


def test_at_most_max_outside():
    err = refused(uniform(True, True, below=0.15, above=0.1), "cdf", "at most 0.2", open_lower=True, open_upper=True)
    assert "0.25" in err.rule
    validate_cdf(uniform(True, True, below=0.1, above=0.1), open_lower=True, open_upper=True)
    refused(uniform(True, False, below=0.25), "cdf", "outside the range", open_lower=True)
    assert MAX_OUTSIDE == 0.2


# ------------------------------------------------------------------ conversions
def quartiles(cdf):
    return [quantile(cdf, q) for q in (0.25, 0.5, 0.75)]


@pytest.mark.parametrize("open_lower,open_upper", BOUNDS)
def test_mixture_single_logistic(open_lower, open_upper):
    cdf = cdf_from_mixture(
        [{"centre": 0.4, "scale": 0.05, "weight": 1.0}], open_lower=open_lower, open_upper=open_upper
    )
    validate_cdf(list(cdf), open_lower=open_lower, open_upper=open_upper)
    q1, med, q3 = quartiles(cdf)
    # logistic quartiles: centre -+ s ln 3 (slightly moved by the 1% uniform and the tails)
    assert med == pytest.approx(0.4, abs=0.005)
    assert q1 == pytest.approx(0.4 - 0.05 * math.log(3), abs=0.006)
    assert q3 == pytest.approx(0.4 + 0.05 * math.log(3), abs=0.006)
    assert (cdf[0] >= MIN_OUTSIDE) == open_lower


def test_mixture_tails_kept_and_capped():
    # a wide logistic centred at the lower bound puts ~half its mass below: capped at 0.1
    cdf = cdf_from_mixture([{"centre": 0.0, "scale": 0.2, "weight": 1}], open_lower=True, open_upper=True)
    assert cdf[0] == pytest.approx(MAX_OUTSIDE / 2)
    assert 1 - cdf[-1] == pytest.approx(1 / (1 + math.exp(5)), rel=1e-9)
    # a sharp one far from the upper bound still keeps the minimum above it
    cdf = cdf_from_mixture([{"centre": 0.2, "scale": 0.01, "weight": 1}], open_lower=False, open_upper=True)
    assert cdf[0] == 0.0 and 1 - cdf[-1] == pytest.approx(MIN_OUTSIDE)


def test_bimodal_mixture():
    comps = [{"centre": 0.2, "scale": 0.02, "weight": 0.5}, {"centre": 0.8, "scale": 0.02, "weight": 0.5}]
    cdf = cdf_from_mixture(comps, open_lower=False, open_upper=False)
    validate_cdf(list(cdf), open_lower=False, open_upper=False)
    assert cdf_at(cdf, 0.5) == pytest.approx(0.5, abs=1e-3)
    p = pmf(cdf)
    assert p[outcome_bucket(0.2)] > 20 * p[outcome_bucket(0.5)]


@pytest.mark.parametrize(
    "comps,field,rule",
    [
        ([], "components", "1 to 3"),
        ("x", "components", "1 to 3"),
        ([{"centre": 0.5, "scale": 0.1, "weight": 0.25}] * 4, "components", "1 to 3"),
        ([{"centre": 0.5, "scale": 0.1}], "components[0].weight", "is required"),
        ([{"centre": 0.5, "scale": 0.1, "weight": 1, "mode": 2}], "components[0].mode", "not a component field"),
        ([{"centre": 1.5, "scale": 0.1, "weight": 1}], "components[0].centre", "within the range"),
        ([{"centre": "0.5", "scale": 0.1, "weight": 1}], "components[0].centre", "finite number"),
        ([{"centre": 0.5, "scale": 0, "weight": 1}], "components[0].scale", "greater than 0"),
        ([{"centre": 0.5, "scale": -1, "weight": 1}], "components[0].scale", "greater than 0"),
        ([{"centre": 0.5, "scale": math.inf, "weight": 1}], "components[0].scale", "finite"),
        (
            [{"centre": 0.5, "scale": 0.1, "weight": 0.5}, {"centre": 0.2, "scale": 0.1, "weight": 0}],
            "components[1].weight",
            "greater than 0",
        ),
        (
            [{"centre": 0.5, "scale": 0.1, "weight": 0.5}, {"centre": 0.2, "scale": 0.1, "weight": 0.4}],
            "components",
            "sum to 1",
        ),
        (["a"], "components[0]", "must be an object"),
    ],
)
def test_mixture_refusals(comps, field, rule):
    with pytest.raises(ContinuousInputError) as exc:
        cdf_from_mixture(comps, open_lower=False, open_upper=False)
    assert exc.value.field == field
    assert rule in exc.value.rule


@pytest.mark.parametrize("open_lower,open_upper", BOUNDS)
def test_quantiles_are_where_given(open_lower, open_upper):
    pts = {0.05: 0.1, 0.25: 0.3, 0.5: 0.45, 0.75: 0.55, 0.95: 0.8}
    cdf = cdf_from_quantiles(pts, open_lower=open_lower, open_upper=open_upper)
    validate_cdf(list(cdf), open_lower=open_lower, open_upper=open_upper)
    for q, x in pts.items():
        assert quantile(cdf, q) == pytest.approx(x, abs=0.012)


def test_quantiles_extrapolate_beyond_open_bounds():
    pts = {0.05: 0.02, 0.25: 0.1, 0.5: 0.3, 0.75: 0.6, 0.95: 0.99}
    cdf = cdf_from_quantiles(pts, open_lower=True, open_upper=True)
    # below: the first segment's slope 0.2 / 0.08 continued 0.02 past x5: 0.05 - 0.05 = 0 -> MIN_OUTSIDE
    assert cdf[0] == pytest.approx(MIN_OUTSIDE)
    # above: slope 0.2 / 0.39 continued 0.01: 0.95 + 0.00513 -> 1 - 0.04487
    assert 1 - cdf[-1] == pytest.approx(0.05 - 0.2 / 0.39 * 0.01, rel=1e-9)
    # quantiles beyond an open bound: the mass beyond it capped at MAX_OUTSIDE / 2
    pts = {0.05: -0.3, 0.25: -0.1, 0.5: 0.3, 0.75: 0.6, 0.95: 0.99}
    cdf = cdf_from_quantiles(pts, open_lower=True, open_upper=False)
    validate_cdf(list(cdf), open_lower=True, open_upper=False)
    assert cdf[0] == pytest.approx(MAX_OUTSIDE / 2)
    # the interior keeps its shape, rescaled between the capped tail and 1: F(0) = 0.3125 before
    h = (0.75 - 0.3125) / (1 - 0.3125)
    u = 0.01 / 0.9
    assert cdf_at(cdf, 0.6) == pytest.approx(0.1 + 0.9 * ((1 - u) * h + u * 0.6), rel=1e-12)


def test_quantiles_touching_closed_bounds():
    cdf = cdf_from_quantiles({0.05: 0.0, 0.25: 0.1, 0.5: 0.5, 0.75: 0.9, 0.95: 1.0}, open_lower=False, open_upper=False)
    validate_cdf(list(cdf), open_lower=False, open_upper=False)
    assert quantile(cdf, 0.5) == pytest.approx(0.5, abs=1e-9)


@pytest.mark.parametrize(
    "pts,bounds,field,rule",
    [
        ([0.1, 0.2], (False, False), "quantiles", "must be an object"),
        ({0.05: 0.1, 0.25: 0.3, 0.5: 0.4, 0.75: 0.5}, (False, False), "quantiles.0.95", "is required"),
        (
            {0.05: 0.1, 0.25: 0.3, 0.5: 0.4, 0.75: 0.5, 0.95: 0.6, 0.99: 0.7},
            (False, False),
            "quantiles.0.99",
            "not one of",
        ),
        (
            {0.05: 0.1, 0.25: 0.3, 0.5: 0.3, 0.75: 0.5, 0.95: 0.6},
            (False, False),
            "quantiles.0.5",
            "strictly increasing",
        ),
        ({0.05: 0.1, 0.25: 0.3, 0.5: 0.4, 0.75: 0.5, 0.95: "x"}, (False, False), "quantiles.0.95", "finite number"),
        ({0.05: -0.1, 0.25: 0.3, 0.5: 0.4, 0.75: 0.5, 0.95: 0.6}, (False, True), "quantiles.0.05", "lower bound"),
        ({0.05: 0.1, 0.25: 0.3, 0.5: 0.4, 0.75: 0.5, 0.95: 1.1}, (True, False), "quantiles.0.95", "upper bound"),
        ({0.05: -0.5, 0.25: -0.3, 0.5: -0.1, 0.75: 0.5, 0.95: 0.6}, (True, True), "quantiles.0.5", "within the range"),
    ],
)
def test_quantile_refusals(pts, bounds, field, rule):
    with pytest.raises(ContinuousInputError) as exc:
        cdf_from_quantiles(pts, open_lower=bounds[0], open_upper=bounds[1])
    assert exc.value.field == field
    assert rule in exc.value.rule


def test_quantile_string_keys():
    pts = {"0.05": 0.1, "0.25": 0.3, "0.5": 0.45, "0.75": 0.55, "0.95": 0.8}
    cdf = cdf_from_quantiles(pts, open_lower=False, open_upper=False)
    assert quantile(cdf, 0.5) == pytest.approx(0.45, abs=0.01)


# ------------------------------------------------------------------ units and buckets
def test_range_units_round_trip():
    assert to_range_units(42.5, 0, 100) == 0.425
    assert from_range_units(0.425, 0, 100) == pytest.approx(42.5)
    assert from_range_units(1.0, 3.3, 7.7) == 7.7
    assert to_range_units(7.7, 3.3, 7.7) == 1.0
    t0, t1 = 1_700_000_000.0, 1_731_536_000.0
    assert from_range_units(to_range_units(1_710_000_000.0, t0, t1), t0, t1) == pytest.approx(1_710_000_000.0, abs=1e-5)


def test_buckets():
    assert outcome_bucket(-math.inf) == 0
    assert outcome_bucket(math.inf) == 201
    assert outcome_bucket(0.0) == 1
    assert outcome_bucket(0.0049) == 1
    # a value on a grid point belongs to the bucket ending there (cdf[i] = P(value <= x_i)), as on
    # Metaculus, also when 200 x rounds just above the integer
    assert outcome_bucket(0.005) == 1
    assert outcome_bucket(0.0051) == 2
    assert outcome_bucket(0.42) == 84
    assert outcome_bucket(to_range_units(42, 0, 100)) == 84
    assert outcome_bucket(0.07) == 14  # 0.07 * 200 = 14.000000000000002
    assert outcome_bucket(0.29) == 58  # 0.29 * 200 = 57.99999999999999
    assert outcome_bucket(1.0) == 200
    assert outcome_bucket(0.9999) == 200
    assert outcome_bucket(-0.1) == 0 and outcome_bucket(1.1) == 201


def test_pmf_sums_to_one():
    cdf = cdf_from_mixture([{"centre": 0.3, "scale": 0.1, "weight": 1}], open_lower=True, open_upper=True)
    p = pmf(cdf)
    assert p.shape == (202,)
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    assert p[0] == cdf[0] and p[201] == pytest.approx(1 - cdf[200])
    assert (p > 0).all()
    assert pmf(np.stack([cdf, cdf])).shape == (2, 202)


def test_cdf_at_and_quantile():
    u = np.linspace(0, 1, GRID)
    assert cdf_at(u, 0.4237) == pytest.approx(0.4237)
    assert quantile(u, 0.4237) == pytest.approx(0.4237)
    o = np.linspace(0.05, 0.95, GRID)
    assert cdf_at(o, -3) == 0.05 and cdf_at(o, 2) == 0.95
    assert quantile(o, 0.01) == 0.0 and quantile(o, 0.99) == 1.0
    assert quantile(o, 0.5) == pytest.approx(0.5)


def test_outcome_rules():
    ContinuousOutcome(0.3)
    ContinuousOutcome(-math.inf, open_lower=True)
    with pytest.raises(ValueError, match="open lower"):
        ContinuousOutcome(-math.inf)
    with pytest.raises(ValueError, match="open upper"):
        ContinuousOutcome(math.inf, open_lower=True)
    with pytest.raises(ValueError, match="within"):
        ContinuousOutcome(1.2, open_upper=True)
    with pytest.raises(ValueError):
        ContinuousOutcome(math.nan)
