"""Leaderboards (scoring.md section 5): the materialised rows, their recomputation, and reads.

Writes. `leaderboards_recompute(question_id=...)` rebuilds the rows of every scope a question
belongs to (the question itself, its series, global) from the stored Score rows; the Celery task
`forecasts.tasks.leaderboards_recompute` runs it after each scoring job. Each scope is replaced
wholesale under a per-scope advisory lock, and the scope's cache version is bumped after commit.

Reads. `leaderboard_read(...)` never computes scores. Three paths, all a constant number of
queries whatever the number of users:
- default `min_questions`, no window (any `rank_by`): the stored rank column, one indexed page
  query plus a count and one query for the crowd row and the caller's row;
- another `min_questions`, no window: one query loading the scope's materialised rows with at least
  that many questions, ranked in NumPy (the per-user figures and intervals do not depend on who
  else is eligible, only the ranks do);
- a window (`resolved_after`, `resolved_before`): one aggregate query over the stored Score rows of
  the scope resolved in the window, aggregated in NumPy, with bootstrap intervals computed only for
  the entries returned (the page, the caller and the crowd), plus one query for the names.
Bodies are cached in Django's cache under a key carrying the scope's version token.
"""

from __future__ import annotations

import hashlib
import logging
import math
import uuid
import zlib
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from typing import Any

import numpy as np
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from config.exceptions import DomainError
from questions.models import Question, Series

from .models import LeaderboardEntry, Score
from .scoring import bootstrap_mean_interval, build_leaderboard, rank_with_ties

SCALE = "brier_0_2"
CROWD_METHOD = "median"
KINDS = ("global", "series", "question")

#: API rank key -> (key of forecasts.scoring.build_leaderboard, lower is better)
RANK_KEYS: dict[str, tuple[str, bool]] = {
    "relative_brier_sum": ("sum_relative_brier", True),
    "relative_brier_mean": ("mean_relative_brier", True),
    "brier_mean": ("mean_brier", True),
    "peer_sum": ("sum_peer", False),
    "baseline_sum": ("sum_baseline", False),
}

#: scope kind -> (default rank_by, default min_questions), scoring.md section 5
DEFAULTS: dict[str, tuple[str, int]] = {
    "global": ("relative_brier_mean", 10),
    "series": ("relative_brier_sum", 1),
    "question": ("relative_brier_sum", 1),
}

log = logging.getLogger(__name__)

BOOTSTRAP_REPLICATES = 1999
BOOTSTRAP_SEED = 0
_LOCK_CLASS = 0x4C42  # "LB": the advisory-lock namespace of leaderboard scopes
_ENTRY_VALUES = (
    "user_id", "user__display_name", "user__username", "crowd_method", "questions",
    "relative_brier_sum", "relative_brier_mean", "relative_brier_mean_ci_low", "relative_brier_mean_ci_high",
    "brier_mean", "brier_mean_ci_low", "brier_mean_ci_high", "participation_mean", "baseline_sum", "peer_sum",
)  # fmt: skip
_SCORE_VALUES = ("user_id", "crowd_method", "relative_brier", "brier_mean", "participation", "baseline", "peer")


# --- Scopes and cache versions ---------------------------------------------------------------


def scope_key(kind: str, obj_id: int | None = None) -> str:
    return "global" if kind == "global" else f"{kind}:{obj_id}"


def _scope_scores(key: str):
    # Ordered by question: the bootstrap resamples each user's values by position, so a fixed
    # order is what makes the seeded interval reproducible.
    qs = Score.objects.filter(question__state=Question.State.RESOLVED).order_by(
        "question_id", "user_id", "crowd_method"
    )
    if key == "global":
        return qs
    kind, _, obj_id = key.partition(":")
    return qs.filter(question__series_id=int(obj_id)) if kind == "series" else qs.filter(question_id=int(obj_id))


def _default_for_key(key: str) -> tuple[str, int]:
    return DEFAULTS[key.partition(":")[0]]


def _cache_get(key: str) -> Any:
    try:
        return cache.get(key)
    except Exception:  # a cache outage degrades reads to the database, it does not fail them
        log.warning("leaderboard cache unavailable (get %s)", key, exc_info=True)
        return None


def _cache_set(key: str, value: Any, timeout: int | None = 300) -> None:
    try:
        cache.set(key, value, timeout)
    except Exception:
        log.warning("leaderboard cache unavailable (set %s)", key, exc_info=True)


def _version_key(key: str) -> str:
    return f"lbv:{key}"


def scope_version(key: str) -> str:
    """The cache version token of a scope. A fresh random token when none is stored (never a
    counter restarting at 0, which could revive bodies cached under an evicted version)."""
    vkey = _version_key(key)
    token = _cache_get(vkey)
    if token is None:
        token = uuid.uuid4().hex
        try:
            cache.add(vkey, token, None)
            token = cache.get(vkey) or token
        except Exception:
            log.warning("leaderboard cache unavailable (version %s)", key, exc_info=True)
    return token


def _bump(keys: Iterable[str]) -> None:
    for key in keys:
        _cache_set(_version_key(key), uuid.uuid4().hex, None)


# --- Aggregation (pure, over stored Score rows) ----------------------------------------------


def _none_if_nan(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def _ci(pair: Any) -> list[float] | None:
    if pair is None or any(v is None or math.isnan(v) for v in pair):
        return None
    return [float(pair[0]), float(pair[1])]


def _columns(rows: list[tuple]) -> dict[str, np.ndarray]:
    """Score rows (as _SCORE_VALUES tuples) into arrays; a null brier_mean becomes NaN."""
    n = len(rows)
    user = np.fromiter((r[0] or 0 for r in rows), dtype=np.int64, count=n)
    floats = {
        name: np.fromiter((np.nan if r[i] is None else r[i] for r in rows), dtype=np.float64, count=n)
        for i, name in ((2, "relative_brier"), (3, "brier_mean"), (4, "participation"), (5, "baseline"), (6, "peer"))
    }
    return {"user": user, **floats}


def _aggregate(rows: list[tuple], *, bootstrap: bool) -> list[dict]:
    """Per-user figures (engine keys) of the given Score rows, any number of questions."""
    if not rows:
        return []
    c = _columns(rows)
    return build_leaderboard(
        c["user"], c["relative_brier"], c["brier_mean"], c["participation"], c["baseline"], c["peer"],
        rank_by="sum_relative_brier", min_questions=1, bootstrap=bootstrap,
        replicates=BOOTSTRAP_REPLICATES, seed=BOOTSTRAP_SEED,
    )  # fmt: skip


def _intervals(values_rel: np.ndarray, values_bm: np.ndarray) -> tuple[tuple[float, float], tuple[float, float]]:
    kw = {"replicates": BOOTSTRAP_REPLICATES, "seed": BOOTSTRAP_SEED}
    return bootstrap_mean_interval(values_rel, **kw), bootstrap_mean_interval(values_bm, **kw)


def _figures(e: dict) -> dict:
    """API figures of an engine entry (forecasts.scoring.build_leaderboard keys)."""
    return {
        "questions": int(e["n_questions"]),
        "relative_brier_sum": float(e["sum_relative_brier"]),
        "relative_brier_mean": float(e["mean_relative_brier"]),
        "relative_brier_mean_ci": _ci(e.get("mean_relative_brier_ci")),
        "brier_mean": _none_if_nan(e["mean_brier"]),
        "brier_mean_ci": _ci(e.get("mean_brier_ci")) if not math.isnan(e["mean_brier"]) else None,
        "participation_mean": float(e["mean_participation"]),
        "baseline_sum": float(e["sum_baseline"]),
        "peer_sum": float(e["sum_peer"]),
    }


def _ranks(entries: list[dict], api_key: str, field: str = "engine") -> np.ndarray:
    engine_key, lower_better = RANK_KEYS[api_key]
    name = engine_key if field == "engine" else api_key
    keys = np.array([np.nan if e[name] is None else e[name] for e in entries], dtype=np.float64)
    return rank_with_ties(keys, ascending=lower_better)


# --- Recompute (writes) ----------------------------------------------------------------------


def _scope_lock(key: str) -> None:
    if connection.vendor == "postgresql":
        objid = zlib.crc32(key.encode()) - 2**31  # int4 range
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_CLASS, objid])


def _scope_rows(key: str, now: datetime) -> list[LeaderboardEntry]:
    """The materialised rows of one scope, from its stored Score rows."""
    rows = list(_scope_scores(key).values_list(*_SCORE_VALUES))
    people = [r for r in rows if r[0] is not None]
    _, default_min = _default_for_key(key)
    entries = _aggregate(people, bootstrap=True)
    ranked = [e for e in entries if e["n_questions"] >= default_min]
    ranks = {api_key: _ranks(ranked, api_key) for api_key in RANK_KEYS} if ranked else {}
    rank_of = {e["user"]: {f"rank_{k}": int(ranks[k][i]) for k in RANK_KEYS} for i, e in enumerate(ranked)}
    out = [_entry_model(key, _figures(e), now, user_id=e["user"], **rank_of.get(e["user"], {})) for e in entries]
    by_method: dict[str, list[tuple]] = {}
    for r in rows:
        if r[0] is None:
            by_method.setdefault(r[1], []).append((0, *r[1:]))
    for method, crowd_rows in sorted(by_method.items()):
        (e,) = _aggregate(crowd_rows, bootstrap=True)
        out.append(_entry_model(key, _figures(e), now, crowd_method=method))
    return out


def _entry_model(
    key: str, f: dict, now: datetime, *, user_id: int | None = None, crowd_method: str = "", **ranks: int
) -> LeaderboardEntry:
    rel_ci = f["relative_brier_mean_ci"] or [f["relative_brier_mean"]] * 2
    bm_ci = f["brier_mean_ci"] or [None, None]
    return LeaderboardEntry(
        scope_key=key, user_id=user_id, crowd_method=crowd_method, questions=f["questions"],
        relative_brier_sum=f["relative_brier_sum"], relative_brier_mean=f["relative_brier_mean"],
        relative_brier_mean_ci_low=rel_ci[0], relative_brier_mean_ci_high=rel_ci[1],
        brier_mean=f["brier_mean"], brier_mean_ci_low=bm_ci[0], brier_mean_ci_high=bm_ci[1],
        participation_mean=f["participation_mean"], baseline_sum=f["baseline_sum"], peer_sum=f["peer_sum"],
        updated_at=now, **ranks,
    )  # fmt: skip


def _insert_entries(rows: list[LeaderboardEntry]) -> None:
    """Insert materialised rows: COPY on PostgreSQL (a few times faster than INSERTs for the
    thousands of rows of a large scope), bulk_create elsewhere."""
    if connection.vendor != "postgresql" or not rows:
        LeaderboardEntry.objects.bulk_create(rows, batch_size=2000)
        return
    fields = [f for f in LeaderboardEntry._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(LeaderboardEntry._meta.db_table)
    names = [f.attname for f in fields]
    with connection.cursor() as cur, cur.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([getattr(row, name) for name in names])


def _recompute_scopes(keys: list[str]) -> None:
    for key in keys:
        with transaction.atomic():
            _scope_lock(key)  # serialises recomputations of one scope; the rows are read after it
            rows = _scope_rows(key, timezone.now())
            LeaderboardEntry.objects.filter(scope_key=key).delete()
            _insert_entries(rows)
            transaction.on_commit(lambda key=key: _bump([key]))


def leaderboards_recompute(*, question_id: int) -> None:
    """Recompute the materialised leaderboards `question_id` belongs to: the question's own, its
    series' (if any) and the global one, each in its own transaction under a per-scope advisory
    lock, from the Score rows as they are when the lock is held. Idempotent: running it twice, or
    concurrently, leaves the same rows. Bumps each scope's cache version after commit."""
    series_id = Question.objects.filter(pk=question_id).values_list("series_id", flat=True).first()
    keys = [scope_key("question", question_id)]
    if series_id is not None:
        keys.append(scope_key("series", series_id))
    keys.append("global")
    _recompute_scopes(keys)


def leaderboard_scope_keys() -> list[str]:
    """Every scope that has rows to materialise: global, each series with questions, each
    question with scores. Drops (and invalidates) the rows of scopes that no longer have any."""
    question_ids = list(Score.objects.values_list("question_id", flat=True).distinct().order_by("question_id"))
    series_ids = list(
        Series.objects.filter(questions__isnull=False).values_list("id", flat=True).distinct().order_by("id")
    )
    keys = ["global"] + [scope_key("series", s) for s in series_ids] + [scope_key("question", q) for q in question_ids]
    stale = set(LeaderboardEntry.objects.values_list("scope_key", flat=True).distinct()) - set(keys)
    if stale:
        LeaderboardEntry.objects.filter(scope_key__in=stale).delete()
        _bump(stale)
    return keys


def leaderboards_recompute_scopes(keys: list[str]) -> int:
    """Recompute the given scopes, each in its own transaction under its advisory lock (so any
    number of processes may share a list of scopes). Returns the number of scopes."""
    for key in keys:
        _recompute_scopes([key])
    return len(keys)


def leaderboards_recompute_all(*, progress=None) -> None:
    """Recompute every scope: global, each series with questions, each question with scores, and
    drop the rows of scopes that no longer have any. `progress(done, total)` is called per scope."""
    keys = leaderboard_scope_keys()
    for i, key in enumerate(keys, 1):
        _recompute_scopes([key])
        if progress:
            progress(i, len(keys))


# --- Reads -----------------------------------------------------------------------------------


def _public_user(user_id: int, display_name: str, username: str) -> dict:
    return {"id": int(user_id), "name": display_name or username}


def _entry_from_values(v: dict) -> dict:
    bm = v["brier_mean"]
    return {
        "questions": v["questions"],
        "relative_brier_sum": v["relative_brier_sum"],
        "relative_brier_mean": v["relative_brier_mean"],
        "relative_brier_mean_ci": [v["relative_brier_mean_ci_low"], v["relative_brier_mean_ci_high"]],
        "brier_mean": bm,
        "brier_mean_ci": None
        if bm is None or v["brier_mean_ci_low"] is None
        else [v["brier_mean_ci_low"], v["brier_mean_ci_high"]],
        "participation_mean": v["participation_mean"],
        "baseline_sum": v["baseline_sum"],
        "peer_sum": v["peer_sum"],
    }


def _person(v: dict, rank: int) -> dict:
    return {
        "rank": int(rank),
        "user": _public_user(v["user_id"], v["user__display_name"], v["user__username"]),
        **_entry_from_values(v),
    }


def _crowd(figures: dict | None) -> dict | None:
    return None if figures is None else {"user": None, "method": CROWD_METHOD, **figures}


def _parse_when(value: Any, field: str) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime.combine(value, time.min)
    elif isinstance(value, str):
        try:
            dt = parse_datetime(value.strip())
            if dt is None:
                d = parse_date(value.strip())
                dt = datetime.combine(d, time.min) if d else None
        except ValueError:
            dt = None
        if dt is None:
            raise DomainError("must be an ISO 8601 date (2024-01-01) or date-time (2024-01-01T00:00:00Z)", field=field)
    else:
        raise DomainError("must be an ISO 8601 date or date-time", field=field)
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.isoformat().replace("+00:00", "Z")


def _int_param(value: Any, field: str, *, minimum: int) -> int:
    if isinstance(value, bool):
        raise DomainError("must be an integer", field=field)
    try:
        n = int(value) if not isinstance(value, float) or value.is_integer() else None
    except (TypeError, ValueError):
        n = None
    if n is None:
        raise DomainError("must be an integer", field=field)
    if n < minimum:
        raise DomainError(f"must be at least {minimum}", field=field)
    return n


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
        return scope_key("series", obj.pk), {"kind": "series", "series": obj.slug, "question": None}
    qid = question.pk if isinstance(question, Question) else question
    if isinstance(qid, bool) or not isinstance(qid, int):
        raise DomainError("a question (or its id) is required for a question leaderboard", field="question")
    return scope_key("question", qid), {"kind": "question", "series": None, "question": qid}


def leaderboard_read(
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
) -> dict:
    """A page of a leaderboard, as the API body (see the module docstring for how it is read).

    Entries are ordered by rank, then user id; ties within 1e-9 share a rank (1, 1, 3). `me` is
    the caller's own entry wherever it falls (None when anonymous or not eligible). The window is
    [resolved_after, resolved_before) on the questions' resolution time. `limit=None` returns
    every entry (CSV export). Bad parameters raise DomainError naming the parameter."""
    key, scope_body = _resolve_scope(scope, series, question)
    default_rank_by, default_min = DEFAULTS[scope_body["kind"]]
    rank_by = rank_by or default_rank_by
    if rank_by not in RANK_KEYS:
        raise DomainError(f"must be one of {', '.join(RANK_KEYS)}", field="rank_by")
    min_q = default_min if min_questions in (None, "") else _int_param(min_questions, "min_questions", minimum=1)
    after = _parse_when(resolved_after, "resolved_after")
    before = _parse_when(resolved_before, "resolved_before")
    if after and before and before <= after:
        raise DomainError("must be later than resolved_after", field="resolved_before")
    offset = _int_param(offset, "offset", minimum=0)
    if limit is not None:
        limit = _int_param(limit, "limit", minimum=1)
    user_id = user.pk if user is not None and getattr(user, "is_authenticated", False) else None

    params = (key, rank_by, min_q, _iso(after), _iso(before), offset, limit)
    digest = hashlib.sha256(repr(params).encode()).hexdigest()[:32]
    version = scope_version(key)
    body_key = f"lb:{version}:{digest}"
    me_key = f"{body_key}:me:{user_id}"

    body = _cache_get(body_key)
    me_cached = _cache_get(me_key) if (body is not None and user_id is not None) else None
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
        _cache_set(body_key, body)
        if user_id is not None:
            _cache_set(me_key, {"me": me})
    else:
        me = me_cached["me"] if me_cached else None
    return {
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
    ranks = _ranks(people, rank_by, field="api") if people else []
    order = sorted(range(len(people)), key=lambda i: (ranks[i], people[i]["user_id"]))
    entries = [_person(people[i], ranks[i]) for i in _page(order, offset, limit)]
    me = next((_person(people[i], ranks[i]) for i in order if people[i]["user_id"] == user_id), None)
    return {"count": len(people), "entries": entries, "crowd": crowd}, me


def _read_window(key, rank_by, min_q, after, before, offset, limit, user_id):
    """A window: aggregate the scope's stored Score rows resolved in it. Two queries (the rows,
    then the names of the users returned); bootstrap intervals only for the entries returned."""
    qs = _scope_scores(key).filter(Q(user__isnull=False) | Q(crowd_method=CROWD_METHOD))
    if after:
        qs = qs.filter(resolved_at__gte=after)
    if before:
        qs = qs.filter(resolved_at__lt=before)
    rows = list(qs.values_list(*_SCORE_VALUES))
    people_rows = [r for r in rows if r[0] is not None]
    crowd_rows = [(0, *r[1:]) for r in rows if r[0] is None]
    entries = [e for e in _aggregate(people_rows, bootstrap=False) if e["n_questions"] >= min_q]
    ranks = _ranks(entries, rank_by) if entries else []
    order = sorted(range(len(entries)), key=lambda i: (ranks[i], entries[i]["user"]))
    chosen = _page(order, offset, limit)
    mine = next((i for i in order if entries[i]["user"] == user_id), None) if user_id is not None else None
    wanted = {entries[i]["user"] for i in chosen} | ({entries[mine]["user"]} if mine is not None else set())
    cols = _columns(people_rows) if people_rows else None

    def with_intervals(e: dict, c: dict[str, np.ndarray], uid: int) -> dict:
        sel = c["user"] == uid
        rel, bm = _intervals(c["relative_brier"][sel], c["brier_mean"][sel])
        return _figures({**e, "mean_relative_brier_ci": rel, "mean_brier_ci": bm})

    names = {}
    if wanted:
        from accounts.models import User

        names = {
            uid: _public_user(uid, d, u)
            for uid, d, u in User.objects.filter(pk__in=wanted).values_list("id", "display_name", "username")
        }

    def person(i: int) -> dict:
        e = entries[i]
        return {"rank": int(ranks[i]), "user": names[e["user"]], **with_intervals(e, cols, e["user"])}

    crowd = None
    if crowd_rows:
        (ce,) = _aggregate(crowd_rows, bootstrap=False)
        crowd = _crowd(with_intervals(ce, _columns(crowd_rows), 0))
    page = [person(i) for i in chosen]
    return {"count": len(entries), "entries": page, "crowd": crowd}, (person(mine) if mine is not None else None)


# Calibration reads live in calibration_read.py; exported here too, as the site expects.
from .calibration_read import calibration_for_crowd, calibration_for_user  # noqa: E402

__all__ = [
    "DEFAULTS",
    "RANK_KEYS",
    "SCALE",
    "calibration_for_crowd",
    "calibration_for_user",
    "leaderboard_read",
    "leaderboards_recompute",
    "leaderboards_recompute_all",
    "scope_version",
]
