"""Score writes: the scoring jobs' services. Scores are derived data, replaced wholesale per
question under the question's row lock, so recomputing always gives the same rows.

A numeric or date question ("continuous") goes through the same engine with its forecasts' CDFs
(201 points) as the probability vectors and a ContinuousOutcome in the QuestionSpec; its rows carry
the CRPS family (crps_final, crps_mean, relative_crps) where the others carry the Brier family, and
its crowd rows are the continuous aggregates (no extremized crowd)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from forecast_math import ForecastSet, QuestionSpec, score_question
from forecast_math.continuous import GRID, ContinuousOutcome
from forecasts.crowd import crowd_methods
from forecasts.selectors import forecast_set_for_question
from questions.models import Option, Question
from questions.selectors import continuous_outcome

from .bulk import rows_insert
from .figures import SCORE_VALUES
from .leaderboards import question_boards_write
from .models import Score

#: Score columns in the order of score_rows' tuples (and of the COPY)
SCORE_COLUMNS = (
    "question_id", "user_id", "crowd_method", "brier_final", "brier_mean", "participation", "relative_brier",
    "baseline", "peer", "coverage", "final_probabilities", "resolution_version", "resolved_at", "computed_at",
    "crps_final", "crps_mean", "relative_crps",
)  # fmt: skip
_NO_CRPS = (None, None, None)


def question_spec(
    *, question: Question, n_options: int, outcome: int, continuous: ContinuousOutcome | None = None
) -> QuestionSpec:
    extra = {} if continuous is None else {"continuous": continuous}
    return QuestionSpec(
        n_options=n_options,
        ordered=question.ordered,
        open_time=question.open_time.timestamp(),
        close_time=question.close_time.timestamp(),
        known_at=question.known_at.timestamp() if question.known_at else None,
        outcome=outcome,
        mode=question.scoring_mode,
        **extra,
    )


def _engine_spec(question: Question, option_ids: list[int]) -> QuestionSpec:
    """The engine's QuestionSpec of a resolved question, given its option ids in position order:
    the options and the resolved one's index; on a numeric or date question (no options) the 201
    CDF points and the outcome in range units (questions.selectors.continuous_outcome)."""
    if question.is_continuous:
        return question_spec(question=question, n_options=GRID, outcome=0, continuous=continuous_outcome(question))
    outcome = option_ids.index(question.resolved_option_id)
    return question_spec(question=question, n_options=len(option_ids), outcome=outcome)


def _score(question: Question, spec: QuestionSpec, fs: ForecastSet | None, computed_at: Any) -> list[tuple]:
    """The engine run on one resolved question (its crowd aggregates: forecasts.crowd.crowd_methods),
    as score rows."""
    fs = fs or ForecastSet.empty(spec.n_options)
    return score_rows(
        question, score_question(spec, fs, crowd_methods=crowd_methods(question)), computed_at=computed_at
    )


def _nan_to_none(x: float) -> float | None:
    return None if x != x else float(x)


def _final(probs: Any) -> list[float] | None:
    return None if probs is None or probs[0] != probs[0] else [float(x) for x in probs]


def score_rows(question: Question, result: Any, *, computed_at: Any) -> list[tuple]:
    """The Score rows of one scored question (the engine's result), as SCORE_COLUMNS tuples:
    one per forecaster, then one per crowd aggregate. The one builder of score rows.

    On a numeric or date question the engine's Brier columns carry the CRPS (in range units) and
    its relative Brier the relative CRPS: they go to the CRPS columns, the Brier ones stay null."""
    common = (question.resolution_version, question.resolved_at, computed_at, *_NO_CRPS)
    t = result.users
    cols = zip(
        t.user.tolist(), t.brier_final.tolist(), t.brier_mean.tolist(), t.participation.tolist(),
        t.relative_brier.tolist(), t.baseline.tolist(), t.peer.tolist(), t.coverage.tolist(), t.final_probs.tolist(),
        strict=True,
    )  # fmt: skip
    rows = [
        (question.pk, int(uid), "", _nan_to_none(bf), _nan_to_none(bm), float(part), float(rel), float(base),
         float(peer), float(cov), _final(fin), *common)
        for uid, bf, bm, part, rel, base, peer, cov, fin in cols
    ]  # fmt: skip
    for method, c in result.crowd.items():
        fin = None if c.final_probs is None else c.final_probs.tolist()
        rows.append((question.pk, None, method, _nan_to_none(c.brier_final), _nan_to_none(c.brier_mean),
                     float(c.participation), float(c.relative_brier), float(c.baseline), float(c.peer),
                     float(c.coverage), _final(fin), *common))  # fmt: skip
    if question.is_continuous:
        rows = [_as_crps(r) for r in rows]
    return rows


#: positions in SCORE_COLUMNS of the Brier family and of the CRPS columns that take its place
_BRIER_TO_CRPS = [
    (SCORE_COLUMNS.index(brier), SCORE_COLUMNS.index(crps))
    for brier, crps in (("brier_final", "crps_final"), ("brier_mean", "crps_mean"), ("relative_brier", "relative_crps"))
]


def _as_crps(row: tuple) -> tuple:
    """A numeric or date question's row: the engine's accuracy figures moved to the CRPS columns."""
    out = list(row)
    for brier, crps in _BRIER_TO_CRPS:
        out[crps], out[brier] = out[brier], None
    return tuple(out)


def score_rows_insert(rows: list[tuple]) -> None:
    """Insert score rows (SCORE_COLUMNS tuples): a binary COPY on PostgreSQL, bulk_create
    elsewhere (the embedded SQLite demo); scoring.bulk.rows_insert."""
    rows_insert(Score, SCORE_COLUMNS, rows)


def question_scores_write(*, question_id: int) -> int:
    """Compute and store every score of a resolved question, and its own leaderboard; returns
    the number of score rows written.

    Locks the question row, so this serialises with resolution changes and with itself: running it
    twice, or concurrently, leaves the same rows. Loads all forecasts in one query, runs the pure
    engine, then replaces the question's score rows and its question board in the same
    transaction (readers see the old rows or the new ones, never a mix). On a question that is not
    resolved it deletes them. The chunk job's path with one question (questions_scores_write)."""
    Question.objects.only("pk").get(pk=question_id)  # a question that does not exist is an error
    return questions_scores_write(question_ids=[question_id])


# Unordered aggregates: every array of a group lists its rows in the one order the aggregation
# reads them (an ORDER BY in each would sort each column on its own, most of the query's time);
# _bulk_sets puts them in id order.
_BULK_FORECASTS_SQL = """
SELECT question_id,
       array_agg(user_id),
       array_agg((extract(epoch FROM created_at) * 1000000)::int8),
       array_agg(kind = 'withdrawal'),
       array_agg(id),
       {probs}
FROM forecasts_forecast
WHERE question_id = ANY(%s)
GROUP BY question_id
"""


def _bulk_sets(question_ids: list[int], probs_sql: str, matrix: Any) -> dict[int, ForecastSet]:
    """Every forecast of many questions in one query, as one ForecastSet per question.

    PostgreSQL groups the rows per question into arrays (times as integer microseconds), so no
    Python object is built per forecast: the same values, bit for bit, as forecast_set_for_question
    (which reads datetimes and JSON lists). `probs_sql` selects the forecasts' values (one or more
    array_agg columns) and matrix(question_id, n_forecasts, columns) makes them the probs array."""
    out = {}
    if not question_ids:
        return out
    with connection.cursor() as cur:
        cur.execute(_BULK_FORECASTS_SQL.format(probs=probs_sql), [list(question_ids)])
        for qid, users, micros, wd, ids, *cols in cur.fetchall():
            seq = np.array(ids, dtype=np.int64)
            order = np.argsort(seq, kind="stable")  # the forecasts in id order
            out[qid] = ForecastSet(
                user=np.array(users, dtype=np.int64)[order],
                time=(np.array(micros, dtype=np.int64) / 1e6)[order],
                probs=matrix(qid, len(users), cols)[order],
                withdrawn=np.array(wd, dtype=bool)[order],
                seq=seq[order],
            )
    return out


def _bulk_forecast_sets(question_ids: list[int], n_options: dict[int, int]) -> dict[int, ForecastSet]:
    """_bulk_sets of binary and multiple-choice questions: each option's probability as float8."""
    k_max = max(n_options.values(), default=2)
    probs = ", ".join(f"array_agg((probabilities->>{j})::float8)" for j in range(k_max))

    def matrix(qid: int, n: int, cols: list) -> np.ndarray:
        k = n_options[qid]
        p = np.array(cols[:k], dtype=np.float64).T  # NULL (a withdrawal) becomes NaN
        return np.ascontiguousarray(p).reshape(n, k)

    return _bulk_sets(question_ids, probs, matrix)


def _bulk_cdf_sets(question_ids: list[int]) -> dict[int, ForecastSet]:
    """_bulk_sets of numeric and date questions: the CDFs as JSON text (withdrawals: null), parsed
    by json as the ORM does, one parse per question; a withdrawal's row is NaN."""

    def matrix(qid: int, n: int, cols: list) -> np.ndarray:
        p = np.full((n, GRID), np.nan)
        for i, row in enumerate(json.loads(f"[{','.join(cols[0])}]")):
            if row is not None:
                p[i] = row
        return p

    return _bulk_sets(question_ids, "array_agg(COALESCE(cdf::text, 'null'))", matrix)


def questions_scores_write(*, question_ids: list[int]) -> int:
    """question_scores_write for many questions at once; returns the number of rows written.

    The same rows as the per-question job, with a constant number of queries per call: the
    question rows are locked (in id order, the lock every writer of a question takes first), their
    options and forecasts read in bulk (the CDFs of numeric and date questions by a second query,
    only when the chunk has any), the engine run per question, and the old rows replaced by one
    DELETE and one COPY, then the questions' own boards by one more of each
    (leaderboards.question_boards_write), all in one transaction. Idempotent."""
    ids = sorted(set(int(i) for i in question_ids))
    if not ids:
        return 0
    with transaction.atomic():
        questions = list(Question.objects.select_for_update().filter(pk__in=ids).order_by("id"))
        options: dict[int, list[int]] = {}
        for qid, oid in (
            Option.objects.filter(question_id__in=ids)
            .order_by("question_id", "position")
            .values_list("question_id", "id")
        ):
            options.setdefault(qid, []).append(oid)
        resolved = [q for q in questions if q.state == Question.State.RESOLVED]
        specs = {q.pk: _engine_spec(q, options.get(q.pk, [])) for q in resolved}
        if connection.vendor == "postgresql":
            probs = {q.pk: specs[q.pk].n_options for q in resolved if not q.is_continuous}
            sets = {
                **_bulk_forecast_sets(list(probs), probs),
                **_bulk_cdf_sets([q.pk for q in resolved if q.is_continuous]),
            }
        else:  # SQLite (the embedded demo): one query per question
            sets = {q.pk: forecast_set_for_question(question=q, n_options=specs[q.pk].n_options) for q in resolved}
        now = timezone.now()
        per_question = {q.pk: _score(q, specs[q.pk], sets.get(q.pk), now) for q in resolved}
        rows = [row for q in resolved for row in per_question[q.pk]]
        Score.objects.filter(question_id__in=ids).delete()
        score_rows_insert(rows)
        Question.objects.filter(pk__in=ids).update(scored_version=F("resolution_version"))
        board_scores = {q.pk: [_board_values(r) for r in per_question.get(q.pk, ())] for q in questions}
        question_boards_write(scores=board_scores, now=now)
    return len(rows)


#: positions in SCORE_COLUMNS of the leaderboards' SCORE_VALUES
_VALUE_POSITIONS = tuple(SCORE_COLUMNS.index(name) for name in SCORE_VALUES)


def _board_values(row: tuple) -> tuple:
    """A score row (SCORE_COLUMNS) as the leaderboards read it back (SCORE_VALUES)."""
    return tuple(row[i] for i in _VALUE_POSITIONS)
