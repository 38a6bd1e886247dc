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

from config.enqueue import enqueue_on_commit
from config.exceptions import Conflict, DomainError
from questions.models import Option, Question

from .models import Forecast, RationaleHide
from .tasks import crowd_pending_key, crowd_update
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
    if signals.pre_save.has_listeners(Forecast) or signals.post_save.has_listeners(Forecast):
        forecast.save(force_insert=True)  # Model.save, for its signals
    else:
        _insert_row(forecast)
    enqueue_on_commit(crowd_update, q.pk, once_key=crowd_pending_key(q.pk))
    return forecast


_insert_sql: dict[str, tuple[str, list[Any]]] = {}  # alias -> (INSERT, its fields)


def _insert_row(obj: Forecast) -> None:
    """INSERT `obj` as Model.save(force_insert=True) would when no signal listens, with its SQL
    built once per database alias instead of compiled on each call; sets its pk."""
    alias = router.db_for_write(Forecast, instance=obj)
    connection = connections[alias]
    cached = _insert_sql.get(alias)
    if cached is None:
        meta = Forecast._meta
        fields = [f for f in meta.concrete_fields if not f.generated and f is not meta.auto_field]
        query = InsertQuery(Forecast)
        query.insert_values(fields, [obj])
        compiler = query.get_compiler(alias)
        compiler.returning_fields = [meta.pk]
        ((sql, _params),) = compiler.as_sql()
        cached = _insert_sql[alias] = (sql, fields)
    sql, fields = cached
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
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
_locked_sql: dict[str, str] = {}


def _question_locked_with_labels(question_id: int) -> tuple[Question, list[str]] | None:
    """The question row locked FOR UPDATE (the lock resolution takes), with only _LOCKED_FIELDS,
    and its option labels in order, in one query; None when there is no such question.

    The SQL is compiled once per database alias and then executed directly: it is the same for
    every question, and compiling it is a good part of the ORM's cost on this path."""
    alias = router.db_for_write(Question)
    if connections[alias].vendor != "postgresql":  # SQLite (the embedded demo): no ARRAY subquery
        q = Question.objects.using(alias).select_for_update().only(*_LOCKED_FIELDS).filter(pk=question_id).first()
        if q is None:
            return None
        return q, list(
            Option.objects.using(alias).filter(question=q).order_by("position").values_list("label", flat=True)
        )
    sql = _locked_sql.get(alias)
    if sql is None:
        labels = Option.objects.filter(question=OuterRef("pk")).order_by("position").values("label")
        qs = (
            Question.objects.using(alias)
            .select_for_update()
            .filter(pk=-1)
            .annotate(option_labels=ArraySubquery(labels))
            .values_list(*_LOCKED_FIELDS, "option_labels")
        )
        sql, params = qs.query.get_compiler(alias).as_sql()
        if list(params) != [-1]:  # pragma: no cover - a change of Django's compilation
            raise RuntimeError(f"unexpected parameters of the locked question query: {params!r}")
        _locked_sql[alias] = sql
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, [question_id])
        row = cursor.fetchone()
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
        found = _question_locked_with_labels(question_id)
        if found is None:
            raise Question.DoesNotExist(f"no question {question_id}")
        q, labels = found
        payload, rationale = check(q)
        values = _values_and_rationale(q=q, labels=labels, payload=payload, rationale=rationale)
        now = timezone.now()
        question_check_open(q, now)
        forecast = _forecast_insert(q=q, user=user, values=values, rationale=rationale, now=now)
    return forecast, q, labels


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
        enqueue_on_commit(crowd_update, q.pk, once_key=crowd_pending_key(q.pk))
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
        enqueue_on_commit(crowd_update, q.pk, once_key=crowd_pending_key(q.pk))
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
