"""Forecast submission and withdrawal: the writes a forecaster makes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connections, router, transaction
from django.db.models import OuterRef, signals
from django.db.models.sql import InsertQuery
from django.utils import timezone

from accounts.services import token_check_sql, token_forget, token_touch
from config.exceptions import Conflict, DomainError
from config.prepared import compiled_sql, fetch_one
from questions.models import Option, Question

from . import window
from .models import Forecast, RationaleHide
from .pending import crowd_mark, crowd_send, mark_sql
from .tasks import crowd_update
from .validation import continuous_forecast, probability_vector


def question_check_open(q: Question, now: datetime) -> None:
    """Refuse (409) a forecast or withdrawal on a question that is not taking them at `now`.
    Call it with the question row locked, as every forecast write does."""
    if q.published_at is None:
        raise Conflict("the question is not published", field="question", code="not_published")
    if q.state == Question.State.RESOLVED:
        raise Conflict("the question is resolved: no more forecasts", field="question", code="resolved")
    if q.state == Question.State.ANNULLED:
        raise Conflict("the question is annulled: no more forecasts", field="question", code="annulled")
    if now >= q.effective_close:
        raise Conflict(
            "the question is closed: forecasts are accepted only before its close time", field="question", code="closed"
        )


def forecast_submit(
    *,
    user: Any,
    question: Question,
    payload: dict[str, Any],
    rationale: str = "",
    at: datetime | None = None,
) -> Forecast:
    """Store a new forecast of `user` on `question`.

    Validates the vector first (scoring.md section 1; a numeric or date forecast's CDF is checked
    after the lock, on the locked row's range), then locks the question row, the same lock
    resolution takes, and checks the question is open at the moment of insertion: so no forecast
    commits after a resolution or at or after the close. A forecast before the open time is
    accepted and counts from the open. `at` is for replaying history (import_history, the demo)
    and is checked against the same window. Enqueues the crowd history update after commit."""
    values = None
    if not question.is_continuous:  # the vector is checked before the lock, with the caller's options
        labels = [o.label for o in question.options.all()]  # uses the caller's prefetch when there is one
        values = _values_and_rationale(q=question, labels=labels, payload=payload, rationale=rationale)
    with transaction.atomic(durable=not transaction.get_connection().in_atomic_block):
        q = Question.objects.select_for_update().get(pk=question.pk)
        if values is None or q.type != question.type:
            # A CDF is checked on the locked row's range (a term, frozen from the first forecast on),
            # and so is any forecast whose question changed type since the caller read it.
            labels = [] if q.is_continuous else [o.label for o in q.options.all()]
            values = _values_and_rationale(q=q, labels=labels, payload=payload, rationale=rationale)
        now = at or timezone.now()
        question_check_open(q, now)
        return _forecast_insert(q=q, user=user, values=values, rationale=rationale, now=now)


@dataclass(frozen=True)
class ForecastValues:
    """A validated forecast: the probability vector (binary, multiple choice) or the CDF (numeric,
    date); the other is None."""

    vector: list[float] | None = None
    cdf: list[float] | None = None


def forecast_values(*, question: Question, labels: Sequence[str], payload: dict[str, Any]) -> ForecastValues:
    """The validated values of a forecast on `question` (forecasts.validation's rules): the
    probability vector in the order of `labels`, or on a numeric or date question the CDF on its
    range's grid (`labels` unused). Raises DomainError naming the field."""
    if question.is_continuous:
        return ForecastValues(
            cdf=continuous_forecast(
                question_type=question.type,
                lower=question.range_lower,
                upper=question.range_upper,
                open_lower=question.open_lower,
                open_upper=question.open_upper,
                payload=payload,
            )
        )
    return ForecastValues(vector=probability_vector(question_type=question.type, labels=labels, payload=payload))


def _values_and_rationale(
    *, q: Question, labels: Sequence[str], payload: dict[str, Any], rationale: Any
) -> ForecastValues:
    values = forecast_values(question=q, labels=labels, payload=payload)
    _check_rationale(rationale)
    return values


def _check_rationale(rationale: Any) -> None:
    if not isinstance(rationale, str):
        raise DomainError("must be text", field="rationale")
    if len(rationale) > 10000:
        raise DomainError("must be at most 10000 characters", field="rationale")


def _forecast_row(*, q: Question, user: Any, values: ForecastValues, rationale: str, now: datetime) -> Forecast:
    """An unsaved forecast row with `values`: the vector with its bounds and sum, or the CDF."""
    vector = values.vector
    return Forecast(
        question=q,
        user=user,
        kind=Forecast.Kind.FORECAST,
        created_at=now,
        probabilities=vector,
        p_min=min(vector) if vector is not None else None,
        p_max=max(vector) if vector is not None else None,
        p_sum=sum(vector) if vector is not None else None,
        cdf=values.cdf,
        rationale=rationale,
    )


def _forecast_insert(*, q: Question, user: Any, values: ForecastValues, rationale: str, now: datetime) -> Forecast:
    """The INSERT of a validated forecast, inside the caller's transaction holding the question
    lock; enqueues the (coalesced) crowd update after commit."""
    forecast = _forecast_row(q=q, user=user, values=values, rationale=rationale, now=now)
    if _save_signals_listened():
        forecast.save(force_insert=True)  # Model.save, for its signals
    else:
        _insert_row(forecast)
    _crowd_update_on_commit(q.pk)
    return forecast


def _save_signals_listened() -> bool:
    return signals.pre_save.has_listeners(Forecast) or signals.post_save.has_listeners(Forecast)


def _crowd_update_on_commit(question_id: int) -> None:
    """In the transaction that stored a forecast or withdrawal, under the question's row lock:
    mark its crowd update pending and send the job after commit, unless one is already queued
    (forecasts.pending)."""
    if crowd_mark(question_id=question_id, now=timezone.now()):
        transaction.on_commit(lambda: crowd_send(crowd_update, question_id))


def _insert_fields() -> list[Any]:
    """The columns of a forecast's INSERT (every concrete field but the id), in model order."""
    meta = Forecast._meta
    return [f for f in meta.concrete_fields if not f.generated and f is not meta.auto_field]


def _insert_params(obj: Forecast, fields: Sequence[Any], connection: Any) -> list[Any]:
    """The values of `obj` for `fields`, prepared for the database as Model.save would."""
    return [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]


_insert_sql: dict[str, tuple[str, list[Any]]] = {}  # alias -> (INSERT, its fields)


def _insert_row(obj: Forecast) -> None:
    """INSERT `obj` as Model.save(force_insert=True) would when no signal listens, with its SQL
    built once per database alias instead of compiled on each call; sets its pk."""
    alias = router.db_for_write(Forecast, instance=obj)
    connection = connections[alias]
    cached = _insert_sql.get(alias)
    if cached is None:
        fields = _insert_fields()
        query = InsertQuery(Forecast)
        query.insert_values(fields, [obj])
        compiler = query.get_compiler(alias)
        compiler.returning_fields = [Forecast._meta.pk]
        ((sql, _params),) = compiler.as_sql()
        cached = _insert_sql[alias] = (sql, fields)
    sql, fields = cached
    with connection.cursor() as cursor:
        cursor.execute(sql, _insert_params(obj, fields, connection))
        (obj.pk,) = cursor.fetchone()
    obj._state.adding = False
    obj._state.db = alias


# The columns the submission path reads from the locked question: the open check, the visibility
# check, and the response (title, type). In the model's field order (Model.from_db wants it).
_LOCKED_FIELDS = [
    f.attname
    for f in Question._meta.concrete_fields
    if f.attname
    in {
        "id",
        "type",
        "title",
        "published_at",
        "state",
        "close_time",
        "known_at",
        # numeric and date questions: the range their CDF is checked on, and the unit for the response
        "range_lower",
        "range_upper",
        "open_lower",
        "open_upper",
        "unit",
    }
]


def _with_labels_query(lock: bool):
    def build(alias: str):
        labels = Option.objects.filter(question=OuterRef("pk")).order_by("position").values("label")
        qs = Question.objects.using(alias).filter(pk=-1)
        if lock:
            qs = qs.select_for_update()
        return qs.annotate(option_labels=ArraySubquery(labels)).values_list(*_LOCKED_FIELDS, "option_labels")

    return build


def _question_with_labels(question_id: int, *, lock: bool) -> tuple[Question, list[str]] | None:
    """The question row with only _LOCKED_FIELDS, locked FOR UPDATE (the lock resolution takes)
    when `lock`, and its option labels in order, in one query; None when there is no such
    question.

    The SQL is compiled once per database alias (config.prepared) and then executed directly: it
    is the same for every question, and compiling it is a good part of the ORM's cost on this path."""
    alias = router.db_for_write(Question)
    if connections[alias].vendor != "postgresql":  # SQLite (the embedded demo): no ARRAY subquery
        qs = Question.objects.using(alias).only(*_LOCKED_FIELDS).filter(pk=question_id)
        q = (qs.select_for_update() if lock else qs).first()
        if q is None:
            return None
        return q, list(
            Option.objects.using(alias).filter(question=q).order_by("position").values_list("label", flat=True)
        )
    name = "question_locked_with_labels" if lock else "question_with_labels"
    row = fetch_one(alias, compiled_sql(name, alias, _with_labels_query(lock), [-1]), [question_id])
    if row is None:
        return None
    return Question.from_db(alias, _LOCKED_FIELDS, row[:-1]), list(row[-1] or [])


def forecast_submit_checked(
    *,
    user: Any,
    question_id: int,
    check: Callable[[Question], tuple[dict[str, Any], Any]],
) -> tuple[Forecast, Question, list[str]]:
    """forecast_submit for the API's hot path, in one locked fetch of the question.

    Locks the question row first (one query: the needed columns and the option labels), then calls
    `check(question)`, which may raise (the caller's visibility and input checks, in the caller's
    order: they run after the question is known to exist) and returns (payload, rationale); then
    the rules of forecast_submit: the vector and rationale, the question open now, the INSERT, the
    crowd update after commit. Raises Question.DoesNotExist for an unknown id. Returns the forecast,
    the (partial) question and its option labels, for the response."""
    with transaction.atomic(durable=not transaction.get_connection().in_atomic_block):
        found = _question_with_labels(question_id, lock=True)
        if found is None:
            raise Question.DoesNotExist(f"no question {question_id}")
        q, labels = found
        payload, rationale = check(q)
        values = _values_and_rationale(q=q, labels=labels, payload=payload, rationale=rationale)
        now = timezone.now()
        question_check_open(q, now)
        forecast = _forecast_insert(q=q, user=user, values=values, rationale=rationale, now=now)
    return forecast, q, labels


# --- The single-statement submission (the API's fast path) -----------------------------------
#
# What a forecast is validated against (its question's terms: type, range, open bounds and option
# labels), kept per question in each process. The statement compares them with the locked row, so
# a stale entry is never trusted: the statement stores nothing and the entry is dropped.
_TERMS_FIELDS = ("type", "range_lower", "range_upper", "open_lower", "open_upper")
_TERMS_MAX = 10_000
_terms: dict[int, tuple[Question, list[str]]] = {}
_submit_sql: dict[str, tuple[str, list[Any]]] = {}  # alias -> (the statement, the INSERT's fields)


def _submit_statement(alias: str) -> tuple[str, list[Any]]:
    """The one statement of forecast_submit_fast, built once per alias.

    `q` locks the question row FOR UPDATE (the lock resolution takes) before anything else; `n`
    then reads the clock, after the lock is held, and the option labels; `tok` checks the
    caller's API token at that instant (accounts.services.token_check_sql); `thr` counts the
    request in the user's forecast-throttle window (forecasts.window; `thv` holds its key, clock
    and rate) when the question exists and the token is valid and the user's; `ins` inserts the
    forecast only when the token is valid and is the user's, the throttle allowed the request, the
    question is open at that instant (question_check_open's rules, in SQL) and its terms are those
    the forecast was validated against; `pend` marks the question's crowd update pending when a
    forecast was inserted (forecasts.pending). The last SELECT returns the locked row, the instant,
    the labels, the token's id and last use (NULLs when it is not valid), the new id (NULL when
    nothing was inserted), whether the crowd update must be sent (the mark was made here), and the
    throttle's verdict (allowed, the oldest time in the window, how many it holds; NULLs when the
    request was not counted)."""
    cached = _submit_sql.get(alias)
    if cached is not None:
        return cached
    fields = _insert_fields()
    columns = ", ".join(Question._meta.get_field(name).column for name in _LOCKED_FIELDS)
    inserted = ", ".join(f.column for f in fields)
    values = ", ".join({"question_id": "n.id", "created_at": "n.now"}.get(f.attname, "%s") for f in fields)
    terms = " AND ".join(f"n.{t} IS NOT DISTINCT FROM %s" for t in _TERMS_FIELDS)
    sql = f"""
WITH q AS MATERIALIZED (
    SELECT {columns} FROM questions_question WHERE id = %s FOR UPDATE
), n AS MATERIALIZED (
    SELECT q.*, clock_timestamp() AS now,
        ARRAY(SELECT o.label::text FROM questions_option o WHERE o.question_id = q.id ORDER BY o.position) AS labels
    FROM q
), {token_check_sql(clock="n")}, thv AS (
    {window.VALUES_SQL}
), thr AS (
    {window.window_sql("thv", source=", n, tok", where=" AND tok.user_id = %s")}
), ins AS (
    INSERT INTO forecasts_forecast ({inserted})
    SELECT {values} FROM n, tok
    WHERE tok.user_id = %s
      AND COALESCE((SELECT allowed FROM thr), (SELECT allow IS NULL FROM thv))
      AND n.published_at IS NOT NULL
      AND n.state NOT IN ('{Question.State.RESOLVED.value}', '{Question.State.ANNULLED.value}')
      AND n.now < CASE WHEN n.known_at < n.close_time THEN n.known_at ELSE n.close_time END
      AND {terms} AND n.labels = %s::text[]
    RETURNING id
), pend AS (
    {mark_sql("SELECT n.id, n.now FROM n WHERE EXISTS (SELECT 1 FROM ins)")}
)
SELECT n.*, tok.token_id, tok.last_used_at, (SELECT id FROM ins), EXISTS (SELECT 1 FROM pend),
    (SELECT allowed FROM thr), (SELECT oldest FROM thr), (SELECT held FROM thr)
FROM n LEFT JOIN tok ON true"""  # noqa: S608 - names and constants of ours only
    cached = _submit_sql[alias] = (sql, fields)
    return cached


def _question_terms(question_id: int) -> tuple[Question, list[str]] | None:
    """The question (partial) and its labels to validate a forecast against: from this process's
    entry when there is one, else read (without a lock) and kept."""
    found = _terms.get(question_id)
    if found is None:
        found = _question_with_labels(question_id, lock=False)
        if found is not None:
            if len(_terms) >= _TERMS_MAX:
                _terms.clear()
            _terms[question_id] = found
    return found


@dataclass(frozen=True)
class FastSubmission:
    """What forecast_submit_fast did: `stored` is (forecast, question, labels) when it stored the
    forecast, else None; `throttle` is the forecast throttle's verdict when the statement counted
    the request (allowed, the oldest time left in the window, how many requests it holds), else
    None (the request was not counted: the caller's throttle must count it)."""

    stored: tuple[Forecast, Question, list[str]] | None
    throttle: tuple[bool, float | None, int] | None = None


def forecast_submit_fast(
    *,
    user_id: int,
    token_hash: str,
    question_id: int,
    payload: dict[str, Any],
    rationale: Any,
    throttle: Sequence[Any],
) -> FastSubmission:
    """forecast_submit in one SQL statement, authenticated inline, for the API's hot path
    (PostgreSQL, autocommit).

    Validates the forecast and the rationale against the question's terms (type, range, options:
    frozen from the first forecast on, see `_question_terms`), then in ONE statement: locks the
    question row FOR UPDATE, reads "now" (the database's clock) under the lock, checks the API
    token whose hash is `token_hash` at that instant (accounts.services.token_check_sql: valid,
    and `user_id`'s; its last_used_at then written by token_touch, at most once a minute, a
    statement more), counts the request in the user's forecast-throttle window (forecasts.window;
    `throttle` is (key, now, window seconds, requests allowed), the last two None for no
    throttle), and inserts the forecast if the throttle allowed it, the question is open at that
    instant and its terms are still those it was validated against. Enqueues the crowd update
    after commit, as forecast_submit does.

    Its `stored` is (forecast, question, labels) as forecast_submit_checked returns them, or None
    when it stored nothing: no such question, a rule broken, the question not open (or not
    published), its terms changed, an invalid token (then token_forget is called), the throttle's
    refusal, or Forecast save signals to send. The caller then takes the full path
    (authentication, the throttle, forecast_submit_checked), which decides with the usual errors in
    the usual order, and must not count the request again when `throttle` holds a verdict."""
    alias = router.db_for_write(Forecast)
    connection = connections[alias]
    if connection.vendor != "postgresql" or _save_signals_listened():
        return FastSubmission(None)
    found = _question_terms(question_id)
    if found is None:
        return FastSubmission(None)
    terms_q, labels = found
    try:
        values = _values_and_rationale(q=terms_q, labels=labels, payload=payload, rationale=rationale)
    except DomainError:
        return FastSubmission(None)
    sql, fields = _submit_statement(alias)
    row = _forecast_row(q=terms_q, user=None, values=values, rationale=rationale, now=None)
    row.user_id = user_id
    params: list[Any] = [question_id, token_hash, *throttle, user_id]  # throttle: window.VALUES_SQL's
    params += [p for f, p in zip(fields, _insert_params(row, fields, connection), strict=True)
               if f.attname not in ("question_id", "created_at")]  # fmt: skip
    params.append(user_id)
    params += [getattr(terms_q, t) for t in _TERMS_FIELDS]
    params.append(labels)
    result = fetch_one(alias, sql, params)
    if result is None:
        return FastSubmission(None)
    k = len(_LOCKED_FIELDS)
    now, locked_labels, token_id, last_used_at, forecast_id, marked, allowed, oldest, held = result[k:]
    verdict = None if allowed is None else (allowed, oldest, held)
    if token_id is None:
        token_forget(key_hash=token_hash)
    else:
        token_touch(token_id=token_id, last_used_at=last_used_at, now=now)
    if forecast_id is None:
        if allowed is not False:
            _terms.pop(question_id, None)  # re-read next time: the terms may have changed
        return FastSubmission(None, verdict)
    q = Question.from_db(alias, _LOCKED_FIELDS, result[:k])
    row.question, row.created_at, row.pk = q, now, forecast_id
    row._state.adding = False
    row._state.db = alias
    if marked:  # the statement marked the crowd update pending: send it (at once in autocommit)
        transaction.on_commit(lambda: crowd_send(crowd_update, q.pk), using=alias)
    return FastSubmission((row, q, list(locked_labels)), verdict)


def forecast_withdraw(*, user: Any, question: Question, at: datetime | None = None) -> Forecast:
    """End `user`'s standing forecast without a new one (a withdrawal row; history is kept).
    Refused when the user has no standing forecast or the question no longer takes forecasts."""
    with transaction.atomic(durable=not transaction.get_connection().in_atomic_block):
        q = Question.objects.select_for_update().get(pk=question.pk)
        now = at or timezone.now()
        question_check_open(q, now)
        last = Forecast.objects.filter(question=q, user=user).order_by("-created_at", "-id").first()
        if last is None or last.kind == Forecast.Kind.WITHDRAWAL:
            raise Conflict(
                "you have no standing forecast on this question", field="question", code="nothing_to_withdraw"
            )
        withdrawal = Forecast.objects.create(question=q, user=user, kind=Forecast.Kind.WITHDRAWAL, created_at=now)
        _crowd_update_on_commit(q.pk)
    return withdrawal


@dataclass(frozen=True)
class ForecastRow:
    """One time-stamped row of a replayed history for `forecasts_import`: a forecast (`payload` as
    forecast_submit takes it) or, with `withdraw`, a withdrawal (no payload, no rationale)."""

    user: Any
    at: datetime
    payload: dict[str, Any] = field(default_factory=dict)
    rationale: str = ""
    withdraw: bool = False


def _at_row(index: int, error: DomainError) -> DomainError:
    """`error` (a DomainError or Conflict) with its field placed under rows[index]."""
    name = f"rows[{index}].{error.field}" if error.field else f"rows[{index}]"
    return type(error)(error.message, field=name, code=error.code)


def forecasts_import(*, question: Question, rows: Sequence[ForecastRow]) -> list[Forecast]:
    """Write many historical forecasts and withdrawals on one question at once (import_history).

    The rules of forecast_submit and forecast_withdraw, per row: the vector (forecasts.validation),
    the rationale, and, with the question row locked first as they lock it, the question open at
    the row's time; a withdrawal needs the user's standing forecast at its time, replaying the
    stored rows and these in time order. A row may not repeat a stored or given (user, time).
    A refusal names the row: its field is `rows[i]...`, i the row's index in `rows`, and nothing
    is written. The rows are inserted in time order and ONE crowd history update is enqueued after
    commit. Returns the new rows."""
    if not rows:
        return []
    with transaction.atomic(durable=not transaction.get_connection().in_atomic_block):
        q = Question.objects.select_for_update().get(pk=question.pk)
        labels = [o.label for o in q.options.all()]
        values: list[ForecastValues | None] = []
        for i, row in enumerate(rows):
            try:
                if row.withdraw:
                    if row.payload:
                        raise DomainError("a withdrawal carries no probabilities", field="withdraw")
                    if row.rationale:
                        raise DomainError("a withdrawal carries no rationale", field="rationale")
                    values.append(None)
                    continue
                values.append(_values_and_rationale(q=q, labels=labels, payload=row.payload, rationale=row.rationale))
            except DomainError as e:
                raise _at_row(i, e) from e
        order = sorted(range(len(rows)), key=lambda i: rows[i].at)
        for i in order:
            try:
                question_check_open(q, rows[i].at)
            except DomainError as e:
                raise _at_row(i, e) from e
        user_ids = {row.user.pk for row in rows}
        stored = list(
            Forecast.objects.filter(question=q, user_id__in=user_ids)
            .order_by("created_at", "id")
            .values_list("user_id", "created_at", "kind")
        )
        taken = {(user_id, at) for user_id, at, _kind in stored}
        for i, row in enumerate(rows):
            key = (row.user.pk, row.at)
            if key in taken:
                raise _at_row(
                    i,
                    Conflict(
                        "the user has another forecast at this time on this question", field="at", code="duplicate"
                    ),
                )
            taken.add(key)
        # Replay stored and new rows in time order (ties: stored first) for the withdrawals.
        events = [(at, 0, user_id, kind == Forecast.Kind.WITHDRAWAL, None) for user_id, at, kind in stored]
        events += [(rows[i].at, 1, rows[i].user.pk, rows[i].withdraw, i) for i in order]
        standing: dict[Any, bool] = {}
        for _at, _new, user_id, withdraw, i in sorted(events, key=lambda e: (e[0], e[1])):
            if withdraw and i is not None and not standing.get(user_id):
                raise _at_row(
                    i,
                    Conflict(
                        "no standing forecast to withdraw at that time", field="withdraw", code="nothing_to_withdraw"
                    ),
                )
            standing[user_id] = not withdraw
        new = []
        for i in order:
            row, given = rows[i], values[i]
            if given is None:
                new.append(Forecast(question=q, user=row.user, kind=Forecast.Kind.WITHDRAWAL, created_at=row.at))
            else:
                new.append(_forecast_row(q=q, user=row.user, values=given, rationale=row.rationale, now=row.at))
        created = Forecast.objects.bulk_create(new, batch_size=2000)
        _crowd_update_on_commit(q.pk)
    return created


def forecast_rationale_hide(*, forecast: Forecast, by: Any, reason: str, at: datetime | None = None) -> RationaleHide:
    """Hide a forecast's rationale from everyone but its author (staff moderation). The forecast
    is kept; the hide is recorded with who, when and why. Locks the forecast row; refuses
    (Conflict) a forecast with no rationale or one already hidden, and (DomainError naming
    `reason`) an empty reason or a caller who is not staff."""
    if by is None or not getattr(by, "is_staff", False):
        raise DomainError("only staff may hide a rationale", field="by", code="forbidden")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("is required: say why the rationale is hidden", field="reason", code="required")
    if len(reason) > 2000:
        raise DomainError("must be at most 2000 characters", field="reason")
    with transaction.atomic():
        locked = Forecast.objects.select_for_update().get(pk=forecast.pk)
        if not locked.rationale.strip():
            raise Conflict("this forecast has no rationale to hide", field="forecast", code="no_rationale")
        if RationaleHide.objects.filter(forecast=locked).exists():
            raise Conflict("this rationale is already hidden", field="forecast", code="already_hidden")
        return RationaleHide.objects.create(
            forecast=locked, hidden_by=by, hidden_at=at or timezone.now(), reason=reason
        )
