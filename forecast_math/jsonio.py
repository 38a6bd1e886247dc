"""The ``score_json`` contract (contracts.md): validate a JSON question
description, score it with the engine, return the documented output shape.

No Django here; ``manage.py score_json`` only reads the file, calls
:func:`score_json_document`, prints the result, and turns
:class:`ScoringInputError` into exit status 2 with ``str(err)`` on stderr.

Numeric and date questions (contracts.md "Numeric and date questions"): ``lower`` / ``upper``
(numbers; ISO 8601 instants for a date question), ``open_lower`` / ``open_upper`` (default
false), forecasts ``cdf`` (201 numbers, continuous.validate_cdf's rules) and a resolution that is
a number (an instant), "below" / "above" (beyond an open bound only) or "annulled". A value
beyond an open bound counts as "below" / "above", as it does when the API, the admin or
import_history resolve a question; a value beyond a closed bound is refused.
"""

from __future__ import annotations

import math

import numpy as np

from .continuous import (
    GRID,
    ContinuousInputError,
    ContinuousOutcome,
    InputError,
    to_range_units,
    validate_cdf,
)
from .engine import SCORE_FIELDS, ForecastSet, QuestionSpec, score_question
from .instants import parse_instant

P_MIN = 0.001
P_MAX = 0.999
SUM_TOL = 1e-6
TYPES = ("binary", "multiple_choice", "numeric", "date")
CONTINUOUS_TYPES = ("numeric", "date")
#: the output fields of a binary or multiple-choice question, and of a numeric or date one, each
#: with the engine figure it comes from
BRIER_FIELDS = tuple((name, name) for name in SCORE_FIELDS)
CONTINUOUS_FIELDS = (
    ("crps_final", "brier_final"),
    ("crps", "brier_mean"),
    ("relative_crps", "relative_brier"),
    ("participation", "participation"),
    ("baseline", "baseline"),
    ("peer", "peer"),
    ("coverage", "coverage"),
)
CONTINUOUS_SCALE = "crps_range_units"
MODES = ("continuous", "daily")
ANNULLED = ("annulled", "ambiguous")
BINARY_LABELS = ("yes", "no")


class ScoringInputError(InputError):
    """Invalid input: ``field`` names the offending field, ``rule`` the rule."""


# --------------------------------------------------------------------------
# field parsers
# --------------------------------------------------------------------------
def parse_time(value, fieldname: str, rule: str = "must be an ISO-8601 time with a timezone") -> float:
    """ISO-8601 time with a timezone -> POSIX seconds (else ``rule`` is broken)."""
    if not isinstance(value, str):
        raise ScoringInputError(fieldname, rule)
    try:
        return parse_instant(value, require_timezone=True).timestamp()
    except ValueError:
        raise ScoringInputError(fieldname, rule) from None


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _finite_number(value, fieldname: str, rule: str = "must be a finite number") -> float:
    if not _is_number(value) or not math.isfinite(float(value)):
        raise ScoringInputError(fieldname, rule)
    return float(value)


def _required(q: dict, name: str):
    """``q[name]``, refused when missing or null."""
    if name not in q or q[name] is None:
        raise ScoringInputError(f"question.{name}", "is required")
    return q[name]


def _flag(q: dict, name: str) -> bool:
    """An optional true / false field (missing or null: false)."""
    flag = q.get(name, False)
    if flag is None:
        return False
    if not isinstance(flag, bool):
        raise ScoringInputError(f"question.{name}", "must be true or false")
    return flag


PROBABILITY_RULE = f"must be between {P_MIN} and {P_MAX}"


def check_probability(value, fieldname: str) -> float:
    if not _is_number(value):
        raise ScoringInputError(fieldname, f"must be a number ({PROBABILITY_RULE[5:]})")
    p = float(value)
    if not (P_MIN <= p <= P_MAX):  # also refuses NaN
        raise ScoringInputError(fieldname, PROBABILITY_RULE)
    return p


def check_vector(value, labels, fieldname: str) -> list[float]:
    """A probability vector given as {label: p}: every option exactly once,
    each within bounds, summing to 1 within 1e-6."""
    if not isinstance(value, dict):
        raise ScoringInputError(fieldname, "must be an object mapping every option to a probability")
    unknown = [key for key in value if key not in labels]
    if unknown:
        raise ScoringInputError(fieldname, f"unknown option {unknown[0]!r}")
    missing = [lab for lab in labels if lab not in value]
    if missing:
        raise ScoringInputError(
            fieldname, "must name every option exactly once (missing " + ", ".join(map(repr, missing)) + ")"
        )
    vec = [check_probability(value[lab], f"{fieldname}.{lab}") for lab in labels]
    total = math.fsum(vec)
    if abs(total - 1.0) > SUM_TOL:
        raise ScoringInputError(fieldname, f"must sum to 1 within {SUM_TOL:g} (sum is {total:.9g})")
    return vec


def _parse_question(q):
    if not isinstance(q, dict):
        raise ScoringInputError("question", "must be an object")
    qtype = q.get("type")
    if qtype not in TYPES:
        raise ScoringInputError("question.type", "must be one of " + ", ".join(TYPES))
    if qtype in CONTINUOUS_TYPES:
        return parse_continuous_question(q, qtype)
    if qtype == "binary":
        labels = list(BINARY_LABELS)
        ordered = False
    else:
        labels = q.get("options")
        if not isinstance(labels, list) or len(labels) < 2:
            raise ScoringInputError("question.options", "must be a list of at least two option labels")
        for i, lab in enumerate(labels):
            if not isinstance(lab, str) or not lab.strip():
                raise ScoringInputError(f"question.options[{i}]", "must be a non-empty string")
        if len(set(labels)) != len(labels):
            raise ScoringInputError("question.options", "must not repeat a label")
        ordered = _flag(q, "ordered")
    t_open, t_close, known_at, mode = parse_question_times(q)
    res = _required(q, "resolution")
    allowed = labels + list(ANNULLED)
    if not isinstance(res, str) or res not in allowed:
        raise ScoringInputError(
            "question.resolution", "must be one of " + ", ".join(repr(a) for a in labels + ["annulled"])
        )
    return qtype, labels, ordered, t_open, t_close, known_at, mode, res


def parse_question_times(q: dict) -> tuple[float, float, float | None, str]:
    """open_time, close_time, known_at (POSIX seconds) and scoring_mode of a question object."""
    for name in ("open_time", "close_time"):
        _required(q, name)
    t_open = parse_time(q["open_time"], "question.open_time")
    t_close = parse_time(q["close_time"], "question.close_time")
    if not t_close > t_open:
        raise ScoringInputError("question.close_time", "must be after open_time")
    known_at = q.get("known_at")
    if known_at is not None:
        known_at = parse_time(known_at, "question.known_at")
        if not known_at > t_open:
            raise ScoringInputError("question.known_at", "must be after open_time")
    mode = q.get("scoring_mode", "continuous")
    if mode is None:
        mode = "continuous"
    if mode not in MODES:
        raise ScoringInputError("question.scoring_mode", "must be one of " + ", ".join(MODES))
    return t_open, t_close, known_at, mode


def parse_range(q: dict, qtype: str) -> tuple[float, float, bool, bool]:
    """lower, upper (POSIX seconds for a date question), open_lower, open_upper."""
    parse = parse_time if qtype == "date" else _finite_number
    lower, upper = (parse(_required(q, name), f"question.{name}") for name in ("lower", "upper"))
    if not upper > lower:
        raise ScoringInputError("question.upper", "must be greater than lower")
    return lower, upper, _flag(q, "open_lower"), _flag(q, "open_upper")


def parse_continuous_resolution(res, qtype: str, lower: float, upper: float, open_lower: bool, open_upper: bool):
    """The outcome of a numeric or date question in range units (-inf below, +inf above), or
    None when annulled. A value beyond an open bound is "below" / "above"; beyond a closed bound it
    is refused."""
    field = "question.resolution"
    if isinstance(res, str) and res in ANNULLED:
        return None
    if res == "below" or res == "above":
        is_open = open_lower if res == "below" else open_upper
        if not is_open:
            side = "lower" if res == "below" else "upper"
            raise ScoringInputError(field, f'"{res}" needs an open {side} bound (open_{side}: true)')
        return -math.inf if res == "below" else math.inf
    if qtype == "date":
        value = parse_time(res, field, 'must be an ISO-8601 time with a timezone, "below", "above" or "annulled"')
    else:
        value = _finite_number(res, field, 'must be a number, "below", "above" or "annulled"')
    if value < lower and open_lower:
        return -math.inf
    if value > upper and open_upper:
        return math.inf
    if not lower <= value <= upper:
        raise ScoringInputError(field, "must lie within [lower, upper] (that bound is closed)")
    return min(1.0, max(0.0, to_range_units(value, lower, upper)))


def parse_continuous_question(q: dict, qtype: str):
    """The question object of a numeric or date question; see :func:`parse_document`."""
    lower, upper, open_lower, open_upper = parse_range(q, qtype)
    t_open, t_close, known_at, mode = parse_question_times(q)
    x = parse_continuous_resolution(_required(q, "resolution"), qtype, lower, upper, open_lower, open_upper)
    outcome = None if x is None else ContinuousOutcome(x=x, open_lower=open_lower, open_upper=open_upper)
    return qtype, (open_lower, open_upper), False, t_open, t_close, known_at, mode, outcome


def _parse_forecasts(fc, qtype, labels, t_close):
    """The forecasts as three columns in input order: user names, times (POSIX seconds) and each
    forecast's probabilities (a list, or a CDF array; None for a withdrawal)."""
    # labels: the option labels, or on a numeric or date question (open_lower, open_upper)
    if fc is None:
        fc = []
    if not isinstance(fc, list):
        raise ScoringInputError("forecasts", "must be a list")
    continuous = qtype in CONTINUOUS_TYPES
    users, times, vecs = [], [], []
    for i, f in enumerate(fc):
        base = f"forecasts[{i}]"
        if not isinstance(f, dict):
            raise ScoringInputError(base, "must be an object")
        user = f.get("user")
        if not isinstance(user, str) or not user:
            raise ScoringInputError(f"{base}.user", "must be a non-empty string")
        if "time" not in f:
            raise ScoringInputError(f"{base}.time", "is required")
        t = parse_time(f["time"], f"{base}.time")
        if t >= t_close:
            raise ScoringInputError(f"{base}.time", "must be before the scheduled close_time")
        users.append(user)
        times.append(t)
        has_p = "probability" in f
        has_v = "probabilities" in f
        if "withdraw" in f:
            if f["withdraw"] is not True:
                raise ScoringInputError(f"{base}.withdraw", "must be true when present")
            if has_p or has_v or (continuous and "cdf" in f):
                payload = "a cdf" if continuous else "probabilities"
                raise ScoringInputError(f"{base}.withdraw", f"must not be combined with {payload}")
            vecs.append(None)
            continue
        if continuous:
            vecs.append(_forecast_cdf(f, base, labels))
            continue
        if "cdf" in f:
            raise ScoringInputError(
                f"{base}.cdf", f"not allowed on a {qtype} question; only numeric and date take a cdf"
            )
        if has_p and has_v:
            raise ScoringInputError(f"{base}.probability", "give either probability or probabilities, not both")
        if qtype == "binary":
            if has_p:
                p = check_probability(f["probability"], f"{base}.probability")
                vec = [p, 1.0 - p]
            elif has_v:
                vec = check_vector(f["probabilities"], labels, f"{base}.probabilities")
            else:
                raise ScoringInputError(f"{base}.probability", "is required (or withdraw: true)")
        else:
            if has_p:
                raise ScoringInputError(
                    f"{base}.probability", "not allowed on a multiple_choice question; use probabilities"
                )
            if not has_v:
                raise ScoringInputError(f"{base}.probabilities", "is required (or withdraw: true)")
            vec = check_vector(f["probabilities"], labels, f"{base}.probabilities")
        vecs.append(vec)
    return users, times, vecs


def _forecast_cdf(f: dict, base: str, bounds) -> np.ndarray:
    """The CDF of one forecast (not a withdrawal) on a numeric or date question."""
    for name in ("probability", "probabilities"):
        if name in f:
            raise ScoringInputError(f"{base}.{name}", "not allowed on a numeric or date question; use cdf")
    if "cdf" not in f:
        raise ScoringInputError(f"{base}.cdf", "is required (or withdraw: true)")
    try:
        return validate_cdf(f["cdf"], open_lower=bounds[0], open_upper=bounds[1], field=f"{base}.cdf")
    except ContinuousInputError as e:
        raise ScoringInputError(e.field, e.rule) from None


def _json_numbers(values) -> list[float | None]:
    """The figures as JSON numbers, NaN and infinities as None (null), in one pass of NumPy."""
    a = np.asarray(values, dtype=np.float64)
    out = a.tolist()
    for j in np.flatnonzero(~np.isfinite(a)).tolist():
        out[j] = None
    return out


def parse_document(doc):
    """Validate ``doc``; returns (spec or None when annulled, ForecastSet, names)."""
    if not isinstance(doc, dict):
        raise ScoringInputError("document", "must be a JSON object")
    if "question" not in doc:
        raise ScoringInputError("question", "is required")
    qtype, labels, ordered, t_open, t_close, known_at, mode, res = _parse_question(doc["question"])
    users, times, vecs = _parse_forecasts(doc.get("forecasts", []), qtype, labels, t_close)
    names = sorted(set(users))
    ids = {name: j for j, name in enumerate(names)}
    continuous = qtype in CONTINUOUS_TYPES
    k = GRID if continuous else len(labels)
    n = len(users)
    user = np.fromiter(map(ids.__getitem__, users), dtype=np.int64, count=n)
    time = np.array(times, dtype=np.float64)
    wd = np.fromiter((v is None for v in vecs), dtype=bool, count=n)
    probs = np.zeros((n, k))
    if not wd.all():
        probs[~wd] = np.array([v for v in vecs if v is not None], dtype=np.float64).reshape(-1, k)
    # input order breaks ties between actions of one user at the same instant
    fs = ForecastSet(user=user, time=time, probs=probs, withdrawn=wd, seq=np.arange(n))
    # res: an option label, or on a numeric or date question the ContinuousOutcome (None: annulled)
    if (res is None) if continuous else (res in ANNULLED):
        return None, fs, names
    spec = QuestionSpec(
        n_options=k,
        ordered=bool(ordered) and k > 2,
        open_time=t_open,
        close_time=t_close,
        known_at=known_at,
        outcome=0 if continuous else labels.index(res),
        mode=mode,
        continuous=res if continuous else None,
    )
    return spec, fs, names


def score_json_document(doc: dict, *, crowd_methods=None) -> dict:
    """Validate and score one question description (contracts.md). ``crowd_methods`` defaults to
    every aggregate of the question's kind (AGGREGATES, or CONTINUOUS_AGGREGATES)."""
    spec, fs, names = parse_document(doc)
    if spec is None:
        return {"annulled": True, "users": {}}
    return scores_document(spec, score_question(spec, fs, crowd_methods=crowd_methods), names)


def scores_document(spec: QuestionSpec, qs, names: list[str]) -> dict:
    """The output of :func:`score_json_document` for a scored question: ``qs`` the engine's
    QuestionScores of ``spec``, ``names`` the user names by engine user id (parse_document's)."""
    fields = CONTINUOUS_FIELDS if spec.continuous is not None else BRIER_FIELDS
    t = qs.users
    outs = [out for out, _src in fields]
    columns = [_json_numbers(getattr(t, src)) for _out, src in fields]
    users = {
        names[uid]: dict(zip(outs, row, strict=True))
        for uid, row in zip(t.user.tolist(), zip(*columns, strict=True), strict=True)
    }
    crowd = {
        m: dict(zip(outs, _json_numbers([getattr(c, src) for _out, src in fields]), strict=True))
        for m, c in qs.crowd.items()
    }
    if spec.continuous is not None:
        return {"scale": CONTINUOUS_SCALE, "accuracy": CONTINUOUS_SCALE, "users": users, "crowd": crowd}
    return {"scale": "brier_0_2", "users": users, "crowd": crowd}
