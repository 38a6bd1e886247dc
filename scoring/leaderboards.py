"""Materialised leaderboards: rebuilt per scope from the stored Score rows after every scoring
job (the task scoring.tasks.leaderboards_recompute), each scope replaced wholesale in its own
transaction under an advisory lock, and its cache version bumped after commit. A question's own
board is written by the scoring job itself, from the rows it has just computed, in the same
transaction as the scores (question_boards_write), so it is served before the series and global
boards are rebuilt."""

from __future__ import annotations

import operator
import zlib
from collections.abc import Iterable, Iterator
from datetime import datetime

import psycopg
from django.db import connection, transaction
from django.utils import timezone

from questions.models import Question, Series

from .bulk import rows_insert
from .cache import scope_key, scopes_invalidate
from .figures import RANK_KEYS, SCORE_VALUES, aggregate_rows, default_for_key, figures, rank_entries, scope_scores
from .models import LeaderboardEntry, Score

_LOCK_CLASS = 0x4C42  # "LB": the advisory-lock namespace of leaderboard scopes


def _scope_locks(keys: list[str]) -> None:
    """The advisory locks of the given scopes, in one query (sorted: a fixed order)."""
    if connection.vendor == "postgresql" and keys:
        objids = sorted({zlib.crc32(key.encode()) - 2**31 for key in keys})  # int4 range
        with connection.cursor() as cur:
            cur.execute(
                "SELECT count(pg_advisory_xact_lock(%s, o)) FROM unnest(%s::int4[]) AS o", [_LOCK_CLASS, objids]
            )


def _scope_score_rows(key: str) -> list[tuple]:
    """A scope's stored Score rows as SCORE_VALUES tuples: scope_scores' query, fetched by the
    cursor (the columns need no conversion), without an ORM step per row. On PostgreSQL the rows
    come in binary (psycopg's Cursor with server-side parameters, wrapped as Django wraps its own
    cursors): the same values (integers, text and float8, which the text form also gives exactly),
    a few times less work for this process than parsing the text of a large scope's rows."""
    sql, params = scope_scores(key).values_list(*SCORE_VALUES).query.sql_with_params()
    if connection.vendor != "postgresql":
        with connection.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw = psycopg.Cursor(connection.connection)
    raw.format = psycopg.pq.Format.BINARY
    cursor = connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
    with cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


#: LeaderboardEntry's written columns (attribute names), in the order of entry_rows' tuples
ENTRY_FIELDS = tuple(f.attname for f in LeaderboardEntry._meta.concrete_fields if not f.primary_key)
_RANK_FIELDS = tuple(f"rank_{k}" for k in RANK_KEYS)


def entry_rows(key: str, rows: list[tuple], now: datetime, *, intervals=None) -> list[tuple]:
    """The materialised rows of one scope (ENTRY_FIELDS tuples) from its Score rows
    (SCORE_VALUES tuples, ordered as scope_scores orders them): the people, ranked among those
    with the scope's default minimum of questions, then one row per crowd aggregate.
    `intervals`: how the bootstrap runs (forecast_math.build_leaderboard's; the same numbers)."""
    return list(_entry_rows_lazy(key, rows, now, intervals))


def _entry_rows_lazy(key: str, rows: list[tuple], now: datetime, intervals) -> Iterator[tuple]:
    """entry_rows' people's figures computed now, their rows made as they are iterated, then the
    crowd's (so that a COPY sends each row while the next is made, and the server writes them
    meanwhile)."""
    people = [r for r in rows if r[0] is not None]
    _, default_min = default_for_key(key)
    entries = aggregate_rows(people, bootstrap=True, intervals=intervals)
    ranked = [e for e in entries if e["n_questions"] >= default_min]
    ranks = [rank_entries(ranked, api_key).tolist() for api_key in RANK_KEYS] if ranked else []
    rank_of = {e["user"]: tuple(r[i] for r in ranks) for i, e in enumerate(ranked)}
    unranked = (None,) * len(RANK_KEYS)

    def made() -> Iterator[tuple]:
        for e in entries:
            yield _entry_row(key, figures(e), now, e["user"], "", rank_of.get(e["user"], unranked))
        # the crowd aggregates, each as a pseudo-user (1, 2, ... in method order) of one
        # aggregation: computed here, while a COPY's server is still writing the people's rows
        methods = sorted({r[1] for r in rows if r[0] is None})
        number = {method: i for i, method in enumerate(methods, 1)}
        crowd_rows = [(number[r[1]], *r[1:]) for r in rows if r[0] is None]
        crowd = {e["user"]: e for e in aggregate_rows(crowd_rows, bootstrap=True, intervals=intervals)}
        for i, method in enumerate(methods, 1):
            yield _entry_row(key, figures(crowd[i]), now, None, method, unranked)

    return made()


#: _entry_row's values, in the order it lists them
_ROW_NAMES = (
    "scope_key", "user_id", "crowd_method", "questions", "relative_brier_sum", "relative_brier_mean",
    "relative_brier_mean_ci_low", "relative_brier_mean_ci_high", "brier_mean", "brier_mean_ci_low",
    "brier_mean_ci_high", "participation_mean", "baseline_sum", "peer_sum", "crps_questions", "relative_crps_sum",
    "relative_crps_mean", "updated_at", *_RANK_FIELDS,
)  # fmt: skip
_IN_FIELD_ORDER = operator.itemgetter(*(_ROW_NAMES.index(name) for name in ENTRY_FIELDS))


def _entry_row(key: str, f: dict, now: datetime, user_id: int | None, crowd_method: str, ranks: tuple) -> tuple:
    rel_ci = f["relative_brier_mean_ci"] or [f["relative_brier_mean"]] * 2  # [None, None] without a Brier question
    bm_ci = f["brier_mean_ci"] or [None, None]
    return _IN_FIELD_ORDER((
        key, user_id, crowd_method, f["questions"], f["relative_brier_sum"], f["relative_brier_mean"], rel_ci[0],
        rel_ci[1], f["brier_mean"], bm_ci[0], bm_ci[1], f["participation_mean"], f["baseline_sum"], f["peer_sum"],
        f["crps_questions"], f["relative_crps_sum"], f["relative_crps_mean"], now, *ranks,
    ))  # fmt: skip


def _replace_scopes(boards: dict[str, Iterable[tuple]]) -> None:
    """Replace the rows of the given scopes (their advisory locks already held) within the
    current transaction, and bump their cache versions after commit."""
    keys = list(boards)
    LeaderboardEntry.objects.filter(scope_key__in=keys).delete()
    rows_insert(LeaderboardEntry, ENTRY_FIELDS, (row for key in keys for row in boards[key]))
    transaction.on_commit(lambda: scopes_invalidate(keys))


def _recompute_scopes(keys: list[str], intervals=None) -> None:
    for key in keys:
        with transaction.atomic():
            _scope_locks([key])  # serialises recomputations of one scope; the rows are read after it
            _replace_scopes({key: _entry_rows_lazy(key, _scope_score_rows(key), timezone.now(), intervals)})


def question_boards_write(*, scores: dict[int, list[tuple]], now: datetime) -> None:
    """Replace the materialised boards of the given questions from their new Score rows
    (SCORE_VALUES tuples; an empty list for a question no longer resolved, whose board is
    dropped), in the caller's transaction: the scoring job, which holds the questions' row locks
    and has just written these rows, so the question boards commit with the scores. Takes the
    scopes' advisory locks (after the row locks, the order every writer keeps) in one query, and
    writes every board with one DELETE and one COPY."""
    boards = {
        scope_key("question", qid): entry_rows(scope_key("question", qid), rows, now) if rows else []
        for qid, rows in sorted(scores.items())
    }
    _scope_locks(list(boards))
    _replace_scopes(boards)


def leaderboards_recompute(*, question_id: int, question_board: bool = True) -> None:
    """Recompute the materialised leaderboards `question_id` belongs to: the question's own
    (unless `question_board` is False: the scoring job has just written it with the scores), its
    series' (if any) and the global one, each in its own transaction under a per-scope advisory
    lock, from the Score rows as they are when the lock is held. Idempotent: running it twice, or
    concurrently, leaves the same rows. Bumps each scope's cache version after commit."""
    series_id = Question.objects.filter(pk=question_id).values_list("series_id", flat=True).first()
    keys = [scope_key("question", question_id)] if question_board else []
    if series_id is not None:
        keys.append(scope_key("series", series_id))
    keys.append("global")
    _recompute_scopes(keys)


def leaderboard_scope_keys(*, questions: bool = True) -> list[str]:
    """Every scope that has rows to materialise: global, each series with questions, each
    question with scores (unless `questions` is False: the scoring jobs write those). Drops (and
    invalidates) the rows of scopes that no longer have any."""
    question_ids = list(Score.objects.values_list("question_id", flat=True).distinct().order_by("question_id"))
    series_ids = list(
        Series.objects.filter(questions__isnull=False).values_list("id", flat=True).distinct().order_by("id")
    )
    keys = ["global"] + [scope_key("series", s) for s in series_ids]
    question_keys = [scope_key("question", q) for q in question_ids]
    stale = set(LeaderboardEntry.objects.values_list("scope_key", flat=True).distinct()) - set(keys + question_keys)
    if stale:
        LeaderboardEntry.objects.filter(scope_key__in=stale).delete()
        scopes_invalidate(stale)
    return keys + question_keys if questions else keys


def leaderboards_recompute_scopes(keys: list[str], *, intervals=None) -> int:
    """Recompute the given scopes, each in its own transaction under its advisory lock (so any
    number of processes may share a list of scopes). Returns the number of scopes. `intervals`
    runs the bootstrap (forecast_math.build_leaderboard's: a function that gives the numbers of
    bootstrap_mean_intervals, e.g. sharing the samples among processes)."""
    _recompute_scopes(keys, intervals)
    return len(keys)


def leaderboards_recompute_all(*, progress=None, questions: bool = True) -> None:
    """Recompute every scope: global, each series with questions, each question with scores
    (unless `questions` is False: after a rescore, whose scoring jobs wrote every question's
    board with its scores), and drop the rows of scopes that no longer have any.
    `progress(done, total)` is called per scope."""
    keys = leaderboard_scope_keys(questions=questions)
    for i, key in enumerate(keys, 1):
        _recompute_scopes([key])
        if progress:
            progress(i, len(keys))
