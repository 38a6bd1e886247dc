"""Calibration reads (scoring.md section 6), for a user and for a crowd aggregate.

Events: each (forecaster, resolved question) contributes its final standing forecast, stored in
Score.final_probabilities. A binary question is one event, P(yes) against "yes happened"; each
option of a multiple-choice question is a binary event of its own. The Murphy decomposition is of
the one-sided Brier over the same events. One query per read; results are cached under the global
leaderboard version, which every scoring job bumps through the leaderboard recompute.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from config.exceptions import DomainError
from questions.models import Question

from .models import Score
from .scoring import binary_events, calibration_table
from .services import CROWD_METHODS


def _events(rows: list[tuple]) -> tuple[np.ndarray, np.ndarray]:
    """(final_probabilities, outcome position, question type) rows -> forecasts p and outcomes y."""
    ps: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    for probs, outcome, qtype in rows:
        if probs is None or outcome is None:
            continue
        fp = np.asarray([probs], dtype=np.float64)
        if qtype == Question.Type.MULTIPLE_CHOICE and fp.shape[1] == 2:
            # binary_events reads any 2-vector as yes/no; a 2-option multiple choice has 2 events
            p, y = fp.reshape(-1), (np.arange(2) == outcome).astype(np.float64)
        else:
            p, y = binary_events(fp, outcome)
        ps.append(p)
        ys.append(y)
    if not ps:
        return np.empty(0), np.empty(0)
    return np.concatenate(ps), np.concatenate(ys)


def _body(subject: dict, rows: list[tuple]) -> dict:
    p, y = _events(rows)
    table = calibration_table(p, y)
    murphy = table["murphy"] if table["n"] else None
    return {"subject": subject, "n_events": int(table["n"]), "bins": table["bins"], "murphy": murphy}


def _rows(qs) -> list[tuple]:
    return list(
        qs.filter(question__state=Question.State.RESOLVED, final_probabilities__isnull=False)
        .order_by("question_id")
        .values_list("final_probabilities", "question__resolved_option__position", "question__type")
    )


def _cached(key: str, subject: dict, compute) -> dict:
    from .leaderboards import _cache_get, _cache_set, scope_version

    full = f"calib:{scope_version('global')}:{key}"
    body = _cache_get(full)
    if body is None:
        body = compute()
        _cache_set(full, body)
    return {**body, "subject": subject}  # the name is read fresh, not from the cache


def calibration_for_user(*, user: Any) -> dict:
    """Calibration of one forecaster's final forecasts on resolved questions. One query."""
    subject = {"kind": "user", "user": {"id": user.pk, "name": user.public_name}, "method": None}
    return _cached(f"user:{user.pk}", subject, lambda: _body(subject, _rows(Score.objects.filter(user_id=user.pk))))


def calibration_for_crowd(*, method: str = "median") -> dict:
    """Calibration of a crowd aggregate's final forecasts on resolved questions. One query."""
    if method not in CROWD_METHODS:
        raise DomainError(f"must be one of {', '.join(CROWD_METHODS)}", field="method")
    subject = {"kind": "crowd", "user": None, "method": method}
    return _cached(
        f"crowd:{method}",
        subject,
        lambda: _body(subject, _rows(Score.objects.filter(user__isnull=True, crowd_method=method))),
    )
