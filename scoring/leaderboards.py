"""Materialised leaderboards: rebuilt per scope from the stored Score rows after every scoring
job (the task scoring.tasks.leaderboards_recompute), each scope replaced wholesale in its own
transaction under an advisory lock, and its cache version bumped after commit."""

from __future__ import annotations

import zlib
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from questions.models import Question, Series

from .cache import scope_key, scopes_invalidate
from .figures import RANK_KEYS, SCORE_VALUES, aggregate_rows, default_for_key, figures, rank_entries, scope_scores
from .models import LeaderboardEntry, Score

_LOCK_CLASS = 0x4C42  # "LB": the advisory-lock namespace of leaderboard scopes


def _scope_lock(key: str) -> None:
    if connection.vendor == "postgresql":
        objid = zlib.crc32(key.encode()) - 2**31  # int4 range
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_CLASS, objid])


def _scope_rows(key: str, now: datetime) -> list[LeaderboardEntry]:
    """The materialised rows of one scope, from its stored Score rows."""
    rows = list(scope_scores(key).values_list(*SCORE_VALUES))
    people = [r for r in rows if r[0] is not None]
    _, default_min = default_for_key(key)
    entries = aggregate_rows(people, bootstrap=True)
    ranked = [e for e in entries if e["n_questions"] >= default_min]
    ranks = {api_key: rank_entries(ranked, api_key) for api_key in RANK_KEYS} if ranked else {}
    rank_of = {e["user"]: {f"rank_{k}": int(ranks[k][i]) for k in RANK_KEYS} for i, e in enumerate(ranked)}
    out = [_entry_model(key, figures(e), now, user_id=e["user"], **rank_of.get(e["user"], {})) for e in entries]
    by_method: dict[str, list[tuple]] = {}
    for r in rows:
        if r[0] is None:
            by_method.setdefault(r[1], []).append((0, *r[1:]))
    for method, crowd_rows in sorted(by_method.items()):
        (e,) = aggregate_rows(crowd_rows, bootstrap=True)
        out.append(_entry_model(key, figures(e), now, crowd_method=method))
    return out


def _entry_model(
    key: str, f: dict, now: datetime, *, user_id: int | None = None, crowd_method: str = "", **ranks: int
) -> LeaderboardEntry:
    rel_ci = f["relative_brier_mean_ci"] or [f["relative_brier_mean"]] * 2  # [None, None] without a Brier question
    bm_ci = f["brier_mean_ci"] or [None, None]
    return LeaderboardEntry(
        scope_key=key, user_id=user_id, crowd_method=crowd_method, questions=f["questions"],
        relative_brier_sum=f["relative_brier_sum"], relative_brier_mean=f["relative_brier_mean"],
        relative_brier_mean_ci_low=rel_ci[0], relative_brier_mean_ci_high=rel_ci[1],
        brier_mean=f["brier_mean"], brier_mean_ci_low=bm_ci[0], brier_mean_ci_high=bm_ci[1],
        participation_mean=f["participation_mean"], baseline_sum=f["baseline_sum"], peer_sum=f["peer_sum"],
        crps_questions=f["crps_questions"], relative_crps_sum=f["relative_crps_sum"],
        relative_crps_mean=f["relative_crps_mean"], updated_at=now, **ranks,
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
            transaction.on_commit(lambda key=key: scopes_invalidate([key]))


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
        scopes_invalidate(stale)
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
