"""The rules of scoring.md section 1 for one submitted forecast, with no database access.

Used by the API, the site and import_history alike, so every entry point refuses the same input
with the same message."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from config.exceptions import DomainError

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


def probability_vector(*, question_type: str, labels: Sequence[str], payload: dict[str, Any]) -> list[float]:
    """The full probability vector, in option order, from `{"probability": p}` (binary) or
    `{"probabilities": {label: p}}` (multiple choice). Nothing is clamped or renormalised."""
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
