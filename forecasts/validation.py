"""The rules of scoring.md section 1 for one submitted forecast, with no database access: a
probability vector (binary, multiple choice) or a CDF on the range's grid (numeric, date).

Used by the API, the site and import_history alike, so every entry point refuses the same input
with the same message."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from config.exceptions import DomainError
from forecast_math.continuous import (
    ContinuousInputError,
    cdf_from_mixture,
    cdf_from_quantiles,
    to_range_units,
    validate_cdf,
)
from questions.selectors import continuous_value

from .models import P_MAX, P_MIN, SUM_TOLERANCE


def _number(value: Any, field: str) -> float:
    if value is None:
        raise DomainError("is required and must be a number", field=field, code="required")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DomainError("must be a number, not a string or other type", field=field)
    x = float(value)
    if not math.isfinite(x):
        raise DomainError("must be a finite number", field=field)
    if x < P_MIN or x > P_MAX:
        raise DomainError(f"must be between {P_MIN} and {P_MAX} inclusive", field=field, code="out_of_bounds")
    return x


#: The keys of the five forecast shapes: a forecast gives exactly one of them.
FORECAST_SHAPES = ("probability", "probabilities", "cdf", "components", "quantiles")


def one_shape(payload: Any) -> None:
    """Refuse a forecast that gives two shapes at once (e.g. `probability` and `cdf`), naming the
    second: which one was meant is not ours to guess, whatever the question's type."""
    if isinstance(payload, dict):
        given = [k for k in FORECAST_SHAPES if k in payload]
        if len(given) > 1:
            raise DomainError(f"give only one of {', '.join(FORECAST_SHAPES)}", field=given[1])


def probability_vector(*, question_type: str, labels: Sequence[str], payload: dict[str, Any]) -> list[float]:
    """The full probability vector, in option order, from `{"probability": p}` (binary) or
    `{"probabilities": {label: p}}` (multiple choice). Nothing is clamped or renormalised."""
    one_shape(payload)
    if question_type == "binary":
        if "probabilities" in payload and "probability" not in payload:
            raise DomainError(
                "a binary question takes 'probability' (P(yes)), not 'probabilities'",
                field="probability",
                code="required",
            )
        if "probability" not in payload:
            raise DomainError("is required: P(yes) between 0.001 and 0.999", field="probability", code="required")
        p = _number(payload["probability"], "probability")
        return [p, 1.0 - p]
    if "probabilities" not in payload:
        raise DomainError(
            "is required: an object mapping every option label to a probability", field="probabilities", code="required"
        )
    raw = payload["probabilities"]
    if not isinstance(raw, dict):
        raise DomainError("must be an object mapping option labels to probabilities", field="probabilities")
    unknown = [k for k in raw if k not in labels]
    if unknown:
        raise DomainError(f"unknown option {unknown[0]!r}; options are {list(labels)}", field="probabilities")
    missing = [label for label in labels if label not in raw]
    if missing:
        raise DomainError(f"missing option {missing[0]!r}: every option must be given once", field="probabilities")
    vector = [_number(raw[label], f"probabilities.{label}") for label in labels]
    total = math.fsum(vector)
    if abs(total - 1.0) > SUM_TOLERANCE:
        raise DomainError(
            f"must sum to 1 (within 1e-6); they sum to {total:.6g}", field="probabilities", code="bad_sum"
        )
    return vector


# --- Numeric and date questions ---------------------------------------------------------------

#: The three ways to give a continuous forecast; exactly one per forecast.
CONTINUOUS_INPUTS = ("cdf", "components", "quantiles")
#: The quantile keys of a "quantiles" forecast (percent) -> their levels.
QUANTILE_KEYS = {"5": 0.05, "25": 0.25, "50": 0.5, "75": 0.75, "95": 0.95}
SECONDS_PER_DAY = 86400.0


def continuous_forecast(
    *,
    question_type: str,
    lower: float,
    upper: float,
    open_lower: bool,
    open_upper: bool,
    payload: dict[str, Any],
) -> list[float]:
    """The 201-point CDF of a forecast on a numeric or date question (range [lower, upper], a date
    question's in POSIX seconds, as stored), from exactly one of:

    - `{"cdf": [201 numbers]}`: the CDF on the range's grid, checked as given (never altered);
    - `{"components": [{"centre", "scale", "weight"}, ...]}`: 1 to 3 logistic components, the
      centre in question units (a number; an ISO 8601 instant for a date question), the scale in
      question units (days for a date question), the weights summing to 1 (a single component may
      leave out its weight);
    - `{"quantiles": {"5": v, "25": v, "50": v, "75": v, "95": v}}`: five quantiles in question
      units (ISO 8601 instants for a date question), strictly increasing.

    Components and quantiles are converted on the grid by forecast_math.continuous; every result
    passes its validate_cdf (scoring rules: strictly increasing by at least MIN_STEP, within
    [0, 1], 0 and 1 at closed bounds, at most MAX_OUTSIDE beyond the open ones). Raises DomainError
    naming the field at fault, e.g. "cdf[17]", "components[1].scale", "quantiles.25"."""
    if not isinstance(payload, dict):
        raise DomainError("must be an object with one of 'cdf', 'components' or 'quantiles'", field="cdf")
    one_shape(payload)
    given = [name for name in CONTINUOUS_INPUTS if name in payload]
    if not given:
        wrong = next((k for k in ("probability", "probabilities") if k in payload), None)
        if wrong is not None:
            raise DomainError(
                f"a {question_type} question takes a distribution ('cdf', 'components' or 'quantiles'), not '{wrong}'",
                field=wrong,
            )
        raise DomainError(
            "is required: a forecast on a numeric or date question gives one of 'cdf', 'components' or 'quantiles'",
            field="cdf",
            code="required",
        )
    span = upper - lower
    bounds = {"open_lower": open_lower, "open_upper": open_upper}

    def units(value: Any, field: str) -> float:
        return to_range_units(continuous_value(question_type=question_type, value=value, field=field), lower, upper)

    try:
        if given[0] == "cdf":
            cdf = validate_cdf(payload["cdf"], field="cdf", **bounds)
        elif given[0] == "components":
            raw = payload["components"]
            if not isinstance(raw, list) or not 1 <= len(raw) <= 3:
                raise DomainError("must be a list of 1 to 3 components {centre, scale, weight}", field="components")
            components = []
            for i, comp in enumerate(raw):
                at = f"components[{i}]"
                if not isinstance(comp, dict):
                    raise DomainError("must be an object with centre, scale and weight", field=at)
                if len(raw) == 1 and "weight" not in comp:
                    comp = {**comp, "weight": 1.0}
                converted = dict(comp)
                if "centre" in comp:
                    converted["centre"] = units(comp["centre"], f"{at}.centre")
                if "scale" in comp:
                    scale = comp["scale"]
                    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale):
                        what = "a number of days" if question_type == "date" else "a number in the question's units"
                        raise DomainError(f"must be {what}", field=f"{at}.scale")
                    if question_type == "date":
                        scale = scale * SECONDS_PER_DAY
                    converted["scale"] = float(scale) / span
                components.append(converted)
            cdf = cdf_from_mixture(components, field="components", **bounds)
        else:
            raw = payload["quantiles"]
            if not isinstance(raw, dict):
                raise DomainError(
                    "must be an object mapping 5, 25, 50, 75 and 95 to values in the question's units",
                    field="quantiles",
                )
            for key in raw:
                if key not in QUANTILE_KEYS:
                    raise DomainError("is not one of the quantiles 5, 25, 50, 75, 95", field=f"quantiles.{key}")
            for key in QUANTILE_KEYS:
                if key not in raw:
                    raise DomainError("is required", field=f"quantiles.{key}", code="required")
            points = {level: units(raw[key], f"quantiles.{key}") for key, level in QUANTILE_KEYS.items()}
            cdf = cdf_from_quantiles(points, field="quantiles", **bounds)
        # The conversions promise a valid CDF; checked all the same, before anything stores it.
        return [float(x) for x in validate_cdf(cdf, field=given[0], **bounds)]
    except ContinuousInputError as e:
        raise DomainError(e.rule, field=_quantile_field(e.field)) from None


def _quantile_field(field: str) -> str:
    """forecast_math names a quantile by its level ("quantiles.0.25"); the input by percent."""
    prefix = "quantiles."
    if field.startswith(prefix):
        try:
            level = float(field[len(prefix) :])
        except ValueError:
            return field
        for key, value in QUANTILE_KEYS.items():
            if abs(value - level) < 1e-12:
                return prefix + key
    return field
