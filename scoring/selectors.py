"""Reads of scores, leaderboards and calibration. None of them computes a score.

Leaderboards (`leaderboard_read`), three paths, all a constant number of queries whatever the
number of users:
- default `min_questions`, no window (any `rank_by`): the stored rank column, one indexed page
  query plus a count and one query for the crowd row and the caller's row;
- another `min_questions`, no window: one query loading the scope's materialised rows with at least
  that many questions, ranked in NumPy (the per-user figures and intervals do not depend on who
  else is eligible, only the ranks do);
- a window (`resolved_after`, `resolved_before`): one aggregate query over the stored Score rows of
  the scope resolved in the window, aggregated in NumPy, with bootstrap intervals computed only for
  the entries returned (the page, the caller and the crowd), plus one query for the names.
Bodies are cached under a key carrying the scope's version token (scoring/cache.py);
`leaderboard_read_versioned` also returns that token, so the API can cache the rendered page
(scoring.cache.page_get / page_set), and `series_scope_hint` gives a series' scope key without a
query once this process has read its leaderboard.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any

import numpy as np
from django.db.models import F, Q, QuerySet

from accounts.models import User
from config.exceptions import DomainError
from config.params import parse_int, parse_when
from forecast_math import AGGREGATES, binary_events, calibration_table
from forecast_math.continuous import pit, pit_histogram
from questions.models import CONTINUOUS_TYPES, Question, Series
from questions.selectors import continuous_outcome

from . import cache
from .cache import scope_key
from .figures import (
    CROWD_METHOD,
    DEFAULTS,
    KINDS,
    RANK_KEYS,
    SCALE,
    SCORE_VALUES,
    aggregate_rows,
    columns,
    figures,
    intervals,
    rank_entries,
    scope_scores,
)
from .models import LeaderboardEntry, Score

_ENTRY_VALUES = (
    "user_id", "user__display_name", "user__username", "crowd_method", "questions",
    "relative_brier_sum", "relative_brier_mean", "relative_brier_mean_ci_low", "relative_brier_mean_ci_high",
    "brier_mean", "brier_mean_ci_low", "brier_mean_ci_high", "participation_mean", "baseline_sum", "peer_sum",
    "crps_questions", "relative_crps_sum", "relative_crps_mean",
)  # fmt: skip


def scores_for_question(*, question: Question) -> QuerySet[Score]:
    return (
        Score.objects.filter(question=question)
        .select_related("user")
        .order_by("crowd_method", "relative_brier", "relative_crps", "user_id")
    )


def score_filters(
    *, series: Series | str | None = None, resolved_after: Any = None, resolved_before: Any = None
) -> dict[str, Any]:
    """The filters of a forecaster's scores and calibration, parsed: `series` (a slug; an unknown
    one is a DomainError naming `series`), `resolved_after` (inclusive) and `resolved_before`
    (exclusive), dates or date-times (config.params.parse_when). Returns the parsed values."""
    obj = None
    if isinstance(series, Series):
        obj = series
    elif series not in (None, ""):
        obj = Series.objects.filter(slug=series).first() if isinstance(series, str) else None
        if obj is None:
            raise DomainError("no series with this slug", field="series", code="not_found")
    after = parse_when(resolved_after, "resolved_after")
    before = parse_when(resolved_before, "resolved_before")
    if after and before and before <= after:
        raise DomainError("must be later than resolved_after", field="resolved_before")
    return {"series": obj, "resolved_after": after, "resolved_before": before}


def _filtered(qs: QuerySet[Score], filters: dict[str, Any]) -> QuerySet[Score]:
    if filters.get("series") is not None:
        qs = qs.filter(question__series=filters["series"])
    if filters.get("resolved_after") is not None:
        qs = qs.filter(resolved_at__gte=filters["resolved_after"])
    if filters.get("resolved_before") is not None:
        qs = qs.filter(resolved_at__lt=filters["resolved_before"])
    return qs


def scores_for_user(
    *, user: Any, series: Series | str | None = None, resolved_after: Any = None, resolved_before: Any = None
) -> QuerySet[Score]:
    """The user's scores, newest resolution first, optionally only those of a series and those
    resolved in [resolved_after, resolved_before) (bad values: DomainError naming the parameter)."""
    filters = score_filters(series=series, resolved_after=resolved_after, resolved_before=resolved_before)
    return (
        _filtered(Score.objects.filter(user=user), filters)
        .select_related("question")
        .order_by("-resolved_at", "question_id")
    )


def questions_needing_scores() -> list[int]:
    """Questions whose stored scores do not reflect their current resolution."""
    return list(
        Question.objects.exclude(scored_version=F("resolution_version")).order_by("id").values_list("id", flat=True)
    )


# --- Leaderboards ----------------------------------------------------------------------------


def _public_user(user_id: int, display_name: str, username: str) -> dict:
    return {"id": int(user_id), "name": display_name or username}


def _entry_from_values(v: dict) -> dict:
    bm = v["brier_mean"]
    rel = v["relative_brier_mean"]
    return {
        "questions": v["questions"],
        "relative_brier_sum": v["relative_brier_sum"],
        "relative_brier_mean": rel,
        "relative_brier_mean_ci": None
        if rel is None or v["relative_brier_mean_ci_low"] is None
        else [v["relative_brier_mean_ci_low"], v["relative_brier_mean_ci_high"]],
        "brier_mean": bm,
        "brier_mean_ci": None
        if bm is None or v["brier_mean_ci_low"] is None
        else [v["brier_mean_ci_low"], v["brier_mean_ci_high"]],
        "participation_mean": v["participation_mean"],
        "baseline_sum": v["baseline_sum"],
        "peer_sum": v["peer_sum"],
        "crps_questions": v["crps_questions"],
        "relative_crps_sum": v["relative_crps_sum"],
        "relative_crps_mean": v["relative_crps_mean"],
    }


def _person(v: dict, rank: int) -> dict:
    return {
        "rank": int(rank),
        "user": _public_user(v["user_id"], v["user__display_name"], v["user__username"]),
        **_entry_from_values(v),
    }


def _crowd(figures: dict | None) -> dict | None:
    return None if figures is None else {"user": None, "method": CROWD_METHOD, **figures}


def _iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.isoformat().replace("+00:00", "Z")


#: slug -> id of the series whose leaderboards this process has read (series_scope_hint)
_SERIES_IDS: dict[str, int] = {}
_SERIES_IDS_MAX = 4096


def _remember_series(obj: Series) -> None:
    if len(_SERIES_IDS) >= _SERIES_IDS_MAX and obj.slug not in _SERIES_IDS:
        _SERIES_IDS.clear()
    _SERIES_IDS[obj.slug] = obj.pk


def series_scope_hint(slug: str) -> str | None:
    """The scope key of the series with this slug as this process last saw it in a leaderboard
    read, without a query; None when not seen (then read the database). Only a hint for finding a
    cached page (scoring.cache.page_get): a renamed or deleted series gets a new version token
    (scoring/receivers.py), so a page stored under the old slug is no longer served."""
    pk = _SERIES_IDS.get(slug)
    return None if pk is None else scope_key("series", pk)


def _resolve_scope(kind: str, series: Any, question: Any) -> tuple[str, dict]:
    if kind not in KINDS:
        raise DomainError(f"must be one of {', '.join(KINDS)}", field="scope")
    if kind == "global":
        return "global", {"kind": "global", "series": None, "question": None}
    if kind == "series":
        if isinstance(series, Series):
            obj = series
        else:
            obj = Series.objects.filter(slug=series).first() if isinstance(series, str) and series else None
            if obj is None:
                raise DomainError("no series with this slug", field="series", code="not_found")
        _remember_series(obj)
        return scope_key("series", obj.pk), {"kind": "series", "series": obj.slug, "question": None}
    qid = question.pk if isinstance(question, Question) else question
    if isinstance(qid, bool) or not isinstance(qid, int):
        raise DomainError("a question (or its id) is required for a question leaderboard", field="question")
    return scope_key("question", qid), {"kind": "question", "series": None, "question": qid}


def leaderboard_read(**kwargs: Any) -> dict:
    """A page of a leaderboard, as the API body: leaderboard_read_versioned without the scope key
    and version token (the same keyword arguments)."""
    return leaderboard_read_versioned(**kwargs)[2]


def leaderboard_read_versioned(
    *,
    scope: str,
    series: Series | str | None = None,
    question: Question | int | None = None,
    rank_by: str | None = None,
    min_questions: int | str | None = None,
    resolved_after: datetime | date | str | None = None,
    resolved_before: datetime | date | str | None = None,
    user: Any = None,
    offset: int = 0,
    limit: int | None = 50,
) -> tuple[str, str, dict]:
    """A page of a leaderboard, as the API body (see the module docstring for how it is read), with
    the scope key and the scope's version token read before the body: (key, version, body).

    Entries are ordered by rank, then user id; ties within 1e-9 share a rank (1, 1, 3). `me` is
    the caller's own entry wherever it falls (None when anonymous or not eligible). The window is
    [resolved_after, resolved_before) on the questions' resolution time. `limit=None` returns
    every entry (CSV export). Bad parameters raise DomainError naming the parameter."""
    key, scope_body = _resolve_scope(scope, series, question)
    default_rank_by, default_min = DEFAULTS[scope_body["kind"]]
    rank_by = rank_by or default_rank_by
    if rank_by not in RANK_KEYS:
        raise DomainError(f"must be one of {', '.join(RANK_KEYS)}", field="rank_by")
    min_q = default_min if min_questions in (None, "") else parse_int(min_questions, "min_questions", minimum=1)
    after = parse_when(resolved_after, "resolved_after")
    before = parse_when(resolved_before, "resolved_before")
    if after and before and before <= after:
        raise DomainError("must be later than resolved_after", field="resolved_before")
    offset = parse_int(offset, "offset", minimum=0)
    if limit is not None:
        limit = parse_int(limit, "limit", minimum=1)
    user_id = user.pk if user is not None and getattr(user, "is_authenticated", False) else None

    params = (key, rank_by, min_q, _iso(after), _iso(before), offset, limit)
    digest = hashlib.sha256(repr(params).encode()).hexdigest()[:32]
    version = cache.scope_version(key)
    body_key = f"lb:{version}:{digest}"
    me_key = f"{body_key}:me:{user_id}"

    body = cache.body_get(body_key)
    me_cached = cache.body_get(me_key) if (body is not None and user_id is not None) else None
    if body is None or (user_id is not None and me_cached is None):
        windowed = after is not None or before is not None
        if windowed:
            body, me = _read_window(key, rank_by, min_q, after, before, offset, limit, user_id)
        elif min_q == default_min and body is not None:
            me = _read_me_materialised(key, rank_by, min_q, user_id)
        elif min_q == default_min:
            body, me = _read_materialised(key, rank_by, min_q, offset, limit, user_id)
        else:
            body, me = _read_reranked(key, rank_by, min_q, offset, limit, user_id)
        cache.body_set(body_key, body)
        if user_id is not None:
            cache.body_set(me_key, {"me": me})
    else:
        me = me_cached["me"] if me_cached else None
    page = {
        "scope": scope_body,
        "rank_by": rank_by,
        "min_questions": min_q,
        "resolved_after": _iso(after),
        "resolved_before": _iso(before),
        "scale": SCALE,
        "count": body["count"],
        "entries": body["entries"],
        "crowd": body["crowd"],
        "me": me,
    }
    return key, version, page


def _page(seq: list, offset: int, limit: int | None) -> list:
    return seq[offset:] if limit is None else seq[offset : offset + limit]


def _read_materialised(key, rank_by, min_q, offset, limit, user_id):
    """Default min_questions: the stored rank column. Three queries: count, page, crowd + me."""
    rank_col = f"rank_{rank_by}"
    base = LeaderboardEntry.objects.filter(scope_key=key, user__isnull=False, questions__gte=min_q)
    count = base.count()
    page_qs = base.order_by(rank_col, "user_id").values(rank_col, *_ENTRY_VALUES)
    page_qs = page_qs[offset:] if limit is None else page_qs[offset : offset + limit]
    entries = [_person(v, v[rank_col]) for v in page_qs]
    extra = Q(user__isnull=True, crowd_method=CROWD_METHOD)
    if user_id is not None:
        extra |= Q(user_id=user_id, questions__gte=min_q)
    crowd, me = None, None
    for v in LeaderboardEntry.objects.filter(extra, scope_key=key).values(rank_col, *_ENTRY_VALUES):
        if v["user_id"] is None:
            crowd = _crowd(_entry_from_values(v))
        else:
            me = _person(v, v[rank_col])
    return {"count": count, "entries": entries, "crowd": crowd}, me


def _read_me_materialised(key, rank_by, min_q, user_id):
    rank_col = f"rank_{rank_by}"
    v = (
        LeaderboardEntry.objects.filter(scope_key=key, user_id=user_id, questions__gte=min_q)
        .values(rank_col, *_ENTRY_VALUES)
        .first()
    )
    return None if v is None else _person(v, v[rank_col])


def _read_reranked(key, rank_by, min_q, offset, limit, user_id):
    """Another min_questions: rank the eligible materialised rows in NumPy. One query."""
    rows = list(
        LeaderboardEntry.objects.filter(
            Q(user__isnull=False, questions__gte=min_q) | Q(user__isnull=True, crowd_method=CROWD_METHOD), scope_key=key
        )
        .order_by("user_id")
        .values(*_ENTRY_VALUES)
    )
    crowd = next((_crowd(_entry_from_values(v)) for v in rows if v["user_id"] is None), None)
    people = [v for v in rows if v["user_id"] is not None]
    ranks = rank_entries(people, rank_by, field="api") if people else []
    order = sorted(range(len(people)), key=lambda i: (ranks[i], people[i]["user_id"]))
    entries = [_person(people[i], ranks[i]) for i in _page(order, offset, limit)]
    me = next((_person(people[i], ranks[i]) for i in order if people[i]["user_id"] == user_id), None)
    return {"count": len(people), "entries": entries, "crowd": crowd}, me


def _read_window(key, rank_by, min_q, after, before, offset, limit, user_id):
    """A window: aggregate the scope's stored Score rows resolved in it. Two queries (the rows,
    then the names of the users returned); bootstrap intervals only for the entries returned."""
    qs = scope_scores(key).filter(Q(user__isnull=False) | Q(crowd_method=CROWD_METHOD))
    if after:
        qs = qs.filter(resolved_at__gte=after)
    if before:
        qs = qs.filter(resolved_at__lt=before)
    rows = list(qs.values_list(*SCORE_VALUES))
    people_rows = [r for r in rows if r[0] is not None]
    crowd_rows = [(0, *r[1:]) for r in rows if r[0] is None]
    entries = [e for e in aggregate_rows(people_rows, bootstrap=False) if e["n_questions"] >= min_q]
    ranks = rank_entries(entries, rank_by) if entries else []
    order = sorted(range(len(entries)), key=lambda i: (ranks[i], entries[i]["user"]))
    chosen = _page(order, offset, limit)
    mine = next((i for i in order if entries[i]["user"] == user_id), None) if user_id is not None else None
    wanted = {entries[i]["user"] for i in chosen} | ({entries[mine]["user"]} if mine is not None else set())
    cols = columns(people_rows) if people_rows else None

    def withintervals(e: dict, c: dict[str, np.ndarray], uid: int) -> dict:
        sel = c["user"] == uid
        rel, bm = intervals(c["relative_brier"][sel], c["brier_mean"][sel])
        return figures({**e, "mean_relative_brier_ci": rel, "mean_brier_ci": bm})

    names = {}
    if wanted:
        names = {
            uid: _public_user(uid, d, u)
            for uid, d, u in User.objects.filter(pk__in=wanted).values_list("id", "display_name", "username")
        }

    def person(i: int) -> dict:
        e = entries[i]
        return {"rank": int(ranks[i]), "user": names[e["user"]], **withintervals(e, cols, e["user"])}

    crowd = None
    if crowd_rows:
        (ce,) = aggregate_rows(crowd_rows, bootstrap=False)
        crowd = _crowd(withintervals(ce, columns(crowd_rows), 0))
    page = [person(i) for i in chosen]
    return {"count": len(entries), "entries": page, "crowd": crowd}, (person(mine) if mine is not None else None)


# --- Calibration (scoring.md section 6) -------------------------------------------------------
# Events: each (forecaster, resolved question) contributes its final standing forecast, stored in
# Score.final_probabilities. A binary question is one event, P(yes) against "yes happened"; each
# option of a multiple-choice question is a binary event of its own. The Murphy decomposition is of
# the one-sided Brier over the same events. A numeric or date question is no binary event: its final
# CDF gives one PIT value instead (the CDF at the outcome, forecast_math.continuous.pit; below the
# range cdf[0] / 2, above it (1 + cdf[200]) / 2), counted in ten bins of width 0.1 under "pit". One
# query per read; results are cached under the global leaderboard version, which every scoring job
# bumps through the leaderboard recompute.

#: Score columns of a calibration read, in the order _events and _pit expect
_CALIBRATION_VALUES = (
    "final_probabilities", "question__resolved_option__position", "question__type", "question_id",
    "question__resolved_value", "question__resolved_outside", "question__range_lower", "question__range_upper",
    "question__open_lower", "question__open_upper",
)  # fmt: skip


def _events(rows: list[tuple]) -> tuple[np.ndarray, np.ndarray]:
    """(final_probabilities, outcome position, question type, ...) rows -> forecasts p and outcomes y
    of the binary and multiple-choice questions."""
    ps: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    for probs, outcome, qtype, *_ in rows:
        if probs is None or outcome is None or qtype in CONTINUOUS_TYPES:
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


def _pit(rows: list[tuple]) -> dict:
    """The PIT histogram of the numeric and date questions' final CDFs: {"bins": [{"lower",
    "upper", "count"}] (ten bins of width 0.1, the last one closed), "n": the number of values}."""
    outcomes: dict[int, float] = {}  # question id -> outcome in range units
    values = []
    for probs, _, qtype, qid, value, outside, lower, upper, open_lower, open_upper in rows:
        if qtype not in CONTINUOUS_TYPES or probs is None:
            continue
        if qid not in outcomes:
            q = Question(
                type=qtype, state=Question.State.RESOLVED, resolved_value=value, resolved_outside=outside,
                range_lower=lower, range_upper=upper, open_lower=open_lower, open_upper=open_upper,
            )  # fmt: skip
            outcomes[qid] = continuous_outcome(q).x
        values.append(pit(probs, outcomes[qid]))
    counts = pit_histogram(values)
    bins = [{"lower": b / len(counts), "upper": (b + 1) / len(counts), "count": c} for b, c in enumerate(counts)]
    return {"bins": bins, "n": len(values)}


def _body(subject: dict, rows: list[tuple]) -> dict:
    p, y = _events(rows)
    table = calibration_table(p, y)
    murphy = table["murphy"] if table["n"] else None
    return {
        "subject": subject, "n_events": int(table["n"]), "bins": table["bins"], "murphy": murphy, "pit": _pit(rows),
    }  # fmt: skip


def _rows(qs) -> list[tuple]:
    return list(
        qs.filter(question__state=Question.State.RESOLVED, final_probabilities__isnull=False)
        .order_by("question_id")
        .values_list(*_CALIBRATION_VALUES)
    )


def _cached(key: str, subject: dict, compute) -> dict:
    full = f"calib:{cache.scope_version('global')}:{key}"
    body = cache.body_get(full)
    if body is None:
        body = compute()
        cache.body_set(full, body)
    return {**body, "subject": subject}  # the name is read fresh, not from the cache


def calibration_for_user(
    *, user: Any, series: Series | str | None = None, resolved_after: Any = None, resolved_before: Any = None
) -> dict:
    """Calibration of one forecaster's final forecasts on resolved questions, optionally only
    those of a series and resolved in [resolved_after, resolved_before) (score_filters): the
    binary events' bins and Murphy decomposition, and the numeric and date questions' PIT
    histogram ("pit"). One query."""
    filters = score_filters(series=series, resolved_after=resolved_after, resolved_before=resolved_before)
    subject = {"kind": "user", "user": {"id": user.pk, "name": user.public_name}, "method": None}
    key = f"user:{user.pk}"
    if any(v is not None for v in filters.values()):
        s = filters["series"]
        key += f":{s.pk if s else ''}:{_iso(filters['resolved_after'])}:{_iso(filters['resolved_before'])}"
    return _cached(
        key, subject, lambda: _body(subject, _rows(_filtered(Score.objects.filter(user_id=user.pk), filters)))
    )


def calibration_for_crowd(*, method: str = CROWD_METHOD) -> dict:
    """Calibration of a crowd aggregate's final forecasts on resolved questions. One query."""
    if method not in AGGREGATES:
        raise DomainError(f"must be one of {', '.join(AGGREGATES)}", field="method")
    subject = {"kind": "crowd", "user": None, "method": method}
    return _cached(
        f"crowd:{method}",
        subject,
        lambda: _body(subject, _rows(Score.objects.filter(user__isnull=True, crowd_method=method))),
    )
