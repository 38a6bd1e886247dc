"""The ``score_json`` contract (contracts.md): validate a JSON question
description, score it with the engine, return the documented output shape.

No Django here; ``manage.py score_json`` only reads the file, calls
:func:`score_json_document`, prints the result, and turns
:class:`ScoringInputError` into exit status 2 with ``str(err)`` on stderr.
"""

from __future__ import annotations

import math

import numpy as np

from .aggregates import AGGREGATES
from .engine import SCORE_FIELDS, ForecastSet, QuestionSpec, score_question
from .instants import parse_instant

P_MIN = 0.001
P_MAX = 0.999
SUM_TOL = 1e-6
TYPES = ("binary", "multiple_choice")
MODES = ("continuous", "daily")
ANNULLED = ("annulled", "ambiguous")
BINARY_LABELS = ("yes", "no")


class ScoringInputError(ValueError):
    """Invalid input: ``field`` names the offending field, ``rule`` the rule."""

    def __init__(self, field: str, rule: str):
        self.field = field
        self.rule = rule
        super().__init__(f"{field}: {rule}")

    def __str__(self) -> str:
        return f"{self.field}: {self.rule}"


# --------------------------------------------------------------------------
# field parsers
# --------------------------------------------------------------------------
def parse_time(value, fieldname: str) -> float:
    """ISO-8601 time with a timezone -> POSIX seconds."""
    rule = "must be an ISO-8601 time with a timezone"
    if not isinstance(value, str):
        raise ScoringInputError(fieldname, rule)
    try:
        return parse_instant(value, require_timezone=True).timestamp()
    except ValueError:
        raise ScoringInputError(fieldname, rule) from None


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def check_probability(value, fieldname: str) -> float:
    rule = f"must be between {P_MIN} and {P_MAX}"
    if not _is_number(value):
        raise ScoringInputError(fieldname, f"must be a number ({rule[5:]})")
    p = float(value)
    if not (P_MIN <= p <= P_MAX):  # also refuses NaN
        raise ScoringInputError(fieldname, rule)
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
        ordered = q.get("ordered", False)
        if ordered is None:
            ordered = False
        if not isinstance(ordered, bool):
            raise ScoringInputError("question.ordered", "must be true or false")
    for name in ("open_time", "close_time"):
        if name not in q or q[name] is None:
            raise ScoringInputError(f"question.{name}", "is required")
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
    if "resolution" not in q or q["resolution"] is None:
        raise ScoringInputError("question.resolution", "is required")
    res = q["resolution"]
    allowed = labels + list(ANNULLED)
    if not isinstance(res, str) or res not in allowed:
        raise ScoringInputError(
            "question.resolution", "must be one of " + ", ".join(repr(a) for a in labels + ["annulled"])
        )
    return qtype, labels, ordered, t_open, t_close, known_at, mode, res


def _parse_forecasts(fc, qtype, labels, t_close):
    if fc is None:
        fc = []
    if not isinstance(fc, list):
        raise ScoringInputError("forecasts", "must be a list")
    rows = []
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
        has_w = "withdraw" in f
        has_p = "probability" in f
        has_v = "probabilities" in f
        if has_w:
            if f["withdraw"] is not True:
                raise ScoringInputError(f"{base}.withdraw", "must be true when present")
            if has_p or has_v:
                raise ScoringInputError(f"{base}.withdraw", "must not be combined with probabilities")
            rows.append((user, t, None, i))
            continue
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
        rows.append((user, t, vec, i))
    return rows


def _json_number(x) -> float | None:
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else x


def parse_document(doc):
    """Validate ``doc``; returns (spec or None when annulled, ForecastSet, names)."""
    if not isinstance(doc, dict):
        raise ScoringInputError("document", "must be a JSON object")
    if "question" not in doc:
        raise ScoringInputError("question", "is required")
    qtype, labels, ordered, t_open, t_close, known_at, mode, res = _parse_question(doc["question"])
    rows = _parse_forecasts(doc.get("forecasts", []), qtype, labels, t_close)
    names = sorted({r[0] for r in rows})
    ids = {name: j for j, name in enumerate(names)}
    k = len(labels)
    n = len(rows)
    user = np.array([ids[r[0]] for r in rows], dtype=np.int64)
    time = np.array([r[1] for r in rows], dtype=np.float64)
    probs = np.zeros((n, k))
    wd = np.zeros(n, dtype=bool)
    for j, r in enumerate(rows):
        if r[2] is None:
            wd[j] = True
        else:
            probs[j] = r[2]
    # input order breaks ties between actions of one user at the same instant
    fs = ForecastSet(user=user, time=time, probs=probs, withdrawn=wd, seq=np.arange(n))
    if res in ANNULLED:
        return None, fs, names
    spec = QuestionSpec(
        n_options=k,
        ordered=bool(ordered) and k > 2,
        open_time=t_open,
        close_time=t_close,
        known_at=known_at,
        outcome=labels.index(res),
        mode=mode,
    )
    return spec, fs, names


def score_json_document(doc: dict, *, crowd_methods=AGGREGATES) -> dict:
    """Validate and score one question description (contracts.md)."""
    spec, fs, names = parse_document(doc)
    if spec is None:
        return {"annulled": True, "users": {}}
    qs = score_question(spec, fs, crowd_methods=crowd_methods)
    t = qs.users
    users = {}
    for i, uid in enumerate(t.user):
        users[names[int(uid)]] = {f: _json_number(getattr(t, f)[i]) for f in SCORE_FIELDS}
    crowd = {m: {f: _json_number(v) for f, v in c.as_dict().items()} for m, c in qs.crowd.items()}
    return {"scale": "brier_0_2", "users": users, "crowd": crowd}
