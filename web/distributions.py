"""Numeric and date questions on the site: values as text (numbers with their unit, instants as
dates), a CDF's quartiles in question units, and the figures the distribution script
(static/js/distribution.js) reads. The maths is forecast_math.continuous's; this module only
converts to question units and formats, the same way the script does."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from forecast_math.continuous import GRID, cdf_from_mixture, from_range_units, quantile, to_range_units
from questions.models import Question

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DAY = 86400.0
#: a date question whose range is shorter than this shows instants with their time of day
WITH_TIME_BELOW = 14 * DAY
#: a logistic's quartiles lie at centre -/+ ln(3) * scale
LN3 = math.log(3.0)


def _span(question: Question) -> float:
    return float(question.range_upper) - float(question.range_lower)


def _decimals_for(step: float, extra: int = 0) -> int:
    """Decimals that show a change of `step`: 0.5 -> 1, 1 -> 0, 0.005 -> 3 (at most 8)."""
    if not step > 0:
        return 0
    return min(8, max(0, math.ceil(-math.log10(step) - 1e-9) + extra))


def _nice_floor(v: float) -> float:
    """The largest 1, 2 or 5 times a power of ten not above v."""
    mag = 10 ** math.floor(math.log10(v))
    return max(k * mag for k in (1, 2, 5) if k * mag <= v * (1 + 1e-9))


def display_decimals(question: Question) -> int:
    """Decimals of a numeric question's values: enough to tell two grid points apart."""
    return _decimals_for(_span(question) / (GRID - 1))


def with_time(question: Question) -> bool:
    return question.type == Question.Type.DATE and _span(question) < WITH_TIME_BELOW


def _number(value: float, decimals: int) -> str:
    if round(value, decimals) == 0:
        value = 0.0
    return f"{value:,.{decimals}f}".replace("-", "\u2212")


def format_instant(seconds: float, *, time: bool = False) -> str:
    """POSIX seconds as a UTC date: "3 Mar 2025" (with ", 14:00 UTC" when `time`)."""
    dt = datetime.fromtimestamp(round(seconds), UTC)
    text = f"{dt.day} {MONTHS[dt.month - 1]} {dt.year}"
    return f"{text}, {dt:%H:%M} UTC" if time else text


def format_value(question: Question, value: float | None, *, exact: bool = False) -> str:
    """A value of the question as the site shows it: a date, or a number with the question's unit,
    to the precision of the range's grid (`exact`: as given, up to six decimals; for outcomes)."""
    if value is None or not math.isfinite(float(value)):
        return "—"
    if question.type == Question.Type.DATE:
        return format_instant(float(value), time=with_time(question))
    decimals = display_decimals(question)
    if exact:
        given = f"{float(value):.6f}".rstrip("0").split(".")
        decimals = max(decimals, len(given[1]) if len(given) > 1 else 0)
    text = _number(float(value), decimals)
    return f"{text}\u00a0{question.unit}" if question.unit else text


def scale_decimals(question: Question) -> int:
    step = _span(question) / (GRID - 1)
    return _decimals_for(step / DAY if question.type == Question.Type.DATE else step, extra=1)


def range_text(question: Question) -> dict[str, str]:
    """The bounds as text, for the page's header."""
    return {
        "lower": format_value(question, question.range_lower),
        "upper": format_value(question, question.range_upper),
    }


@dataclass
class Quartiles:
    """A CDF summarised in question units: its 25%, 50% and 75% quantiles and the probability
    beyond each open bound (None for a closed one)."""

    q25: float
    q50: float
    q75: float
    below: float | None
    above: float | None
    text: dict[str, str]


def quartiles(question: Question, cdf: list[float] | None) -> Quartiles | None:
    if not cdf or len(cdf) != GRID:
        return None
    lower, upper = float(question.range_lower), float(question.range_upper)
    q = [from_range_units(quantile(cdf, p), lower, upper) for p in (0.25, 0.5, 0.75)]
    return Quartiles(
        q25=q[0],
        q50=q[1],
        q75=q[2],
        below=float(cdf[0]) if question.open_lower else None,
        above=1.0 - float(cdf[-1]) if question.open_upper else None,
        text={
            "q25": format_value(question, q[0]),
            "q50": format_value(question, q[1]),
            "q75": format_value(question, q[2]),
        },
    )


def outcome_text(question: Question) -> str | None:
    """A resolved question's outcome as the site shows it: the option's label, or a numeric or
    date question's value (a date, a number with its unit, or beyond a bound); None when it has
    none."""
    if question.resolved_option_id:
        return question.resolved_option.label
    if question.resolved_value is not None:
        return format_value(question, question.resolved_value, exact=True)
    if question.resolved_outside == "below":
        return f"below {format_value(question, question.range_lower)}"
    if question.resolved_outside == "above":
        return f"above {format_value(question, question.range_upper)}"
    return None


def _outcome_marker(question: Question) -> dict[str, Any] | None:
    if question.resolved_value is not None:
        x = to_range_units(question.resolved_value, question.range_lower, question.range_upper)
        return {"x": min(1.0, max(0.0, x))}
    if question.resolved_outside in ("below", "above"):
        return {"side": question.resolved_outside}
    return None


def centre_input(question: Question, value: float) -> str:
    """A centre as the form's input holds it: an ISO date (with the time for short ranges), or
    a number with one decimal more than the values are shown with."""
    if question.type == Question.Type.DATE:
        unit = 60.0 if with_time(question) else DAY
        dt = datetime.fromtimestamp(round(value / unit) * unit, UTC)
        return dt.strftime("%Y-%m-%dT%H:%M") if with_time(question) else dt.strftime("%Y-%m-%d")
    return _plain(value, display_decimals(question) + 1)


def scale_input(question: Question, value: float) -> str:
    return _plain(value, scale_decimals(question))


def _plain(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return "0" if text in ("-0", "") else text


def fit_component(cdf: list[float], *, open_lower: bool, open_upper: bool) -> tuple[float, float]:
    """One logistic component (centre, scale in range units) whose CDF, built as the server builds
    it (cdf_from_mixture), has the median and the interquartile range of `cdf`: so a forecast made
    of one component gives that component back. Fixed-point steps on location and scale."""
    target = [quantile(cdf, q) for q in (0.25, 0.5, 0.75)]
    centre, scale = target[1], max((target[2] - target[0]) / (2 * LN3), 1e-4)
    for _ in range(30):
        built = cdf_from_mixture(
            [{"centre": centre, "scale": scale, "weight": 1.0}], open_lower=open_lower, open_upper=open_upper
        )
        got = [quantile(built, q) for q in (0.25, 0.5, 0.75)]
        if max(abs(a - b) for a, b in zip(got, target, strict=True)) < 1e-7 or got[2] <= got[0]:
            break
        centre = min(1.0, max(0.0, centre + target[1] - got[1]))
        scale = min(10.0, max(1e-4, scale * (target[2] - target[0]) / (got[2] - got[0])))
    return centre, scale


def editor_initial(question: Question, cdf: list[float] | None) -> dict[str, str]:
    """The editor's starting point: the one logistic that fits the standing forecast
    (fit_component), or one centred in the range with a tenth of it as its spread."""
    span = _span(question)
    if cdf and len(cdf) == GRID:
        x, sx = fit_component(cdf, open_lower=question.open_lower, open_upper=question.open_upper)
        centre, scale = from_range_units(x, question.range_lower, question.range_upper), sx * span
    else:
        centre, scale = float(question.range_lower) + span / 2, span / 10
    if question.type == Question.Type.DATE:
        scale /= DAY
    scale = max(scale, scale_min(question))
    return {"centre_1": centre_input(question, centre), "scale_1": scale_input(question, scale)}


def _scale_units(question: Question) -> float:
    """A range in the units a spread is given in (days for a date question)."""
    return _span(question) / DAY if question.type == Question.Type.DATE else _span(question)


def scale_min(question: Question) -> float:
    return max(_scale_units(question) / 2000, 10.0 ** -scale_decimals(question))


def meta(
    question: Question,
    *,
    standing: list[float] | None = None,
    crowd: list[float] | None = None,
) -> dict[str, Any]:
    """What the distribution script reads (json_script "distribution-meta"): the range, how to
    format values, the keyboard steps, and the curves this reader may see (the crowd's only when
    the caller has checked that it is visible)."""
    span = _span(question)
    grid_step = span / (GRID - 1)
    return {
        "type": question.type,
        "lower": float(question.range_lower),
        "upper": float(question.range_upper),
        "open_lower": question.open_lower,
        "open_upper": question.open_upper,
        "unit": question.unit,
        "decimals": display_decimals(question),
        "input_decimals": display_decimals(question) + 1,
        "scale_decimals": scale_decimals(question),
        "with_time": with_time(question),
        # one arrow key press: a grid step (rounded to 1, 2 or 5; whole days for a date)
        "centre_step": max(1.0, _nice_floor(grid_step / DAY))
        if question.type == Question.Type.DATE and not with_time(question)
        else _nice_floor(grid_step / DAY if question.type == Question.Type.DATE else grid_step),
        "scale_step": _nice_floor(_scale_units(question) / (GRID - 1)),
        "scale_min": scale_min(question),
        "scale_max": _scale_units(question),
        "standing": standing,
        "crowd": crowd,
        "outcome": _outcome_marker(question),
    }
