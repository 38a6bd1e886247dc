"""Importing a history (contracts.md, `import_history`): series, questions, users, time-stamped
forecasts and resolutions from one JSON document, validated whole before anything is written.

Two phases. First the whole document is checked against the rules the services apply (question
fields, probability vectors, the forecasting window, withdrawals, resolutions), together with what
the database already holds; the first fault raises ImportFault naming it, e.g.
`questions[3].forecasts[7].probability: must be between 0.001 and 0.999 inclusive`, and nothing is
written. Then everything is written in one transaction, through the services only:
- series through questions.services.series_create, questions through question_create (matched by
  slug: an existing question is kept as it is);
- users by name through accounts.services.user_create (an unusable password when created);
- forecasts and withdrawals through forecasts.services.forecasts_import, which locks the question
  and applies forecast_submit's and forecast_withdraw's rules again under the lock; rows are matched
  by (question, user, time) so a second run adds nothing; one crowd history update per question is
  enqueued after commit;
- resolutions through questions.services.question_resolve(at=resolved_at, known_at=...), which
  enqueues the same scoring job (and so the leaderboard recompute) as an admin's resolution.
A rule a service still refuses while writing (the database changed since the check) rolls the
whole transaction back and is raised as an ImportFault too.

Numeric and date questions (contracts.md "Numeric and date questions"): a question of type
"numeric" or "date" gives "lower" and "upper" (numbers; ISO 8601 instants for a date question),
"open_lower" and "open_upper" (default false) and optionally "unit", and no options; its
"resolution" is a number (an instant for a date question), "below"/"above" (open bounds only) or
"annulled"; its forecasts give "cdf", 201 floats on the range's grid (forecasts.validation's rules).
An existing question with another range is refused, as one with other options is.

Besides the contract's fields, a question may carry indicator, resolution, resolved_at,
resolution_note, known_at, crowd_reveal_time, published and source (offsets into the document's
`article`, used when that article is stored); other fields are ignored. Forecasts may also be given
in a top-level "forecasts" list whose rows name their "question" by slug (the demo simulator's shape).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction

from accounts.models import User
from accounts.services import user_create
from config.exceptions import DomainError, ValidationFailed
from forecast_math import parse_instant
from questions.models import CONTINUOUS_TYPES, Article, Question, ScoringMode, Series
from questions.services import (
    QUESTION_RANGE_FIELDS,
    continuous_resolution,
    question_create,
    question_range,
    question_resolve,
    question_validate,
    series_create,
)

from .models import Forecast
from .services import ForecastRow, forecast_values, forecasts_import

COUNTS = ("series", "questions", "users", "forecasts", "resolutions")
TIME_RULE = "must be an ISO 8601 date-time such as 2021-11-20T09:00:00Z"


class ImportFault(Exception):
    """One fault in the document: `path` names the value (`questions[3].forecasts[7].probability`),
    `rule` the rule it breaks; str() is `path: rule`."""

    def __init__(self, path: str, rule: str):
        super().__init__(f"{path}: {rule}")
        self.path = path
        self.rule = rule


def history_import(document: Any) -> dict[str, int]:
    """Validate `document` (the parsed JSON) whole, then write it in one transaction.

    Returns how many series, questions, users, forecasts (rows, withdrawals included) and
    resolutions were created, in that order; a second run of the same document creates nothing.
    Raises ImportFault, with nothing written, at the first fault."""
    return _write(_plan(document))


# --- Phase 1: the plan ------------------------------------------------------------------------


@dataclass
class _PlannedForecast:
    path: str
    user: str
    time: datetime
    withdraw: bool
    payload: dict[str, Any]
    rationale: str


@dataclass
class _PlannedQuestion:
    path: str
    slug: str
    fields: dict[str, Any]
    series: str | None
    labels: list[str]
    existing: Question | None
    resolution: Any
    resolved_at: datetime | None
    known_at: datetime | None
    note: str
    source: tuple[int, int] | None
    forecasts: list[_PlannedForecast] = field(default_factory=list)
    #: a numeric or date question: its terms as an unsaved Question (the forecasts' and the
    #: resolution's checks read them), and the resolution as stored (resolved_value, resolved_outside)
    shape: Question | None = None
    outcome: tuple[float | None, str] | None = None


@dataclass
class _Plan:
    series: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    questions: list[_PlannedQuestion] = field(default_factory=list)
    users: dict[str, str] = field(default_factory=dict)  # name -> path of its first row
    article: Article | None = None


def _time(value: Any, path: str) -> datetime:
    try:
        return parse_instant(value)
    except ValueError:
        raise ImportFault(path, TIME_RULE) from None


#: question_create's field names -> the document's (contracts.md), in a fault's path
_DOC_FIELDS = {"range_lower": "lower", "range_upper": "upper"}


def _fault(path: str, error: DomainError) -> ImportFault:
    """A service's refusal as an ImportFault under `path`."""
    fields = error.fields
    if fields:
        name, rules = next(iter(fields.items()))
        return ImportFault(f"{path}.{_DOC_FIELDS.get(name, name)}", rules[0])
    return ImportFault(path, error.message)


def _plan(doc: Any) -> _Plan:
    """Check the whole document against the services' rules and the database; raise ImportFault."""
    if not isinstance(doc, dict):
        raise ImportFault("input", "must be a JSON object with 'series' and 'questions'")
    plan = _Plan()
    series_doc = doc.get("series", [])
    if not isinstance(series_doc, list):
        raise ImportFault("series", "must be a list")
    seen_series: set[str] = set()
    for i, s in enumerate(series_doc):
        path = f"series[{i}]"
        fields = _series_fields(s, path)
        if fields["slug"] in seen_series:
            raise ImportFault(f"{path}.slug", f"duplicate series {fields['slug']!r}")
        seen_series.add(fields["slug"])
        plan.series.append((path, fields))
    known_series = seen_series | set(Series.objects.filter(slug__in=_series_refs(doc)).values_list("slug", flat=True))

    article = doc.get("article")
    if isinstance(article, dict) and isinstance(article.get("sha256"), str):
        plan.article = Article.objects.filter(sha256=article["sha256"]).first()

    questions_doc = doc.get("questions", [])
    if not isinstance(questions_doc, list):
        raise ImportFault("questions", "must be a list")
    slugs = [q["slug"] for q in questions_doc if isinstance(q, dict) and isinstance(q.get("slug"), str)]
    existing = {
        q.slug: q
        for q in Question.objects.filter(slug__in=slugs).select_related("resolved_option").prefetch_related("options")
    }
    by_slug: dict[str, _PlannedQuestion] = {}
    for i, q in enumerate(questions_doc):
        pq = _plan_question(q, f"questions[{i}]", known_series, existing, plan.article)
        if pq.slug in by_slug:
            raise ImportFault(f"{pq.path}.slug", f"duplicate question {pq.slug!r}")
        by_slug[pq.slug] = pq
        plan.questions.append(pq)
        forecasts = q.get("forecasts", [])
        if not isinstance(forecasts, list):
            raise ImportFault(f"{pq.path}.forecasts", "must be a list")
        for j, f in enumerate(forecasts):
            pq.forecasts.append(_plan_forecast(f, f"{pq.path}.forecasts[{j}]", pq))

    flat = doc.get("forecasts", [])
    if not isinstance(flat, list):
        raise ImportFault("forecasts", "must be a list")
    for j, f in enumerate(flat):
        path = f"forecasts[{j}]"
        if not isinstance(f, dict):
            raise ImportFault(path, "must be an object")
        question = f.get("question")
        pq = by_slug.get(question) if isinstance(question, str) else None
        if pq is None:
            raise ImportFault(f"{path}.question", "must be the slug of a question in this file")
        pq.forecasts.append(_plan_forecast(f, path, pq))

    for pq in plan.questions:
        _plan_timeline(pq)
        for pf in pq.forecasts:
            plan.users.setdefault(pf.user, f"{pf.path}.user")
    return plan


def _series_refs(doc: dict) -> list[str]:
    qs = doc.get("questions")
    if not isinstance(qs, list):
        return []
    return [q["series"] for q in qs if isinstance(q, dict) and isinstance(q.get("series"), str)]


def _series_fields(s: Any, path: str) -> dict[str, Any]:
    if not isinstance(s, dict):
        raise ImportFault(path, "must be an object")
    slug = s.get("slug")
    if not isinstance(slug, str) or not slug or len(slug) > 100 or not _SLUG.match(slug):
        raise ImportFault(f"{path}.slug", "is required: letters, digits, hyphens and underscores, at most 100")
    title = s.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > 200:
        raise ImportFault(f"{path}.title", "is required: text of at most 200 characters")
    mode = s.get("scoring_mode", ScoringMode.CONTINUOUS)
    if mode not in ScoringMode.values:
        raise ImportFault(f"{path}.scoring_mode", "must be 'continuous' or 'daily'")
    description = s.get("description") or ""
    if not isinstance(description, str):
        raise ImportFault(f"{path}.description", "must be text")
    return {"slug": slug, "title": title, "description": description, "scoring_mode": mode}


_SLUG = re.compile(r"^[-a-zA-Z0-9_]+\Z")


def _text(q: dict, name: str, path: str, *, required: bool = False, max_length: int | None = None) -> str:
    """A text field, whitespace-trimmed; absent or null is "" unless required."""
    value = q.get(name)
    if value is None:
        if required:
            raise ImportFault(f"{path}.{name}", "is required")
        return ""
    if not isinstance(value, str):
        raise ImportFault(f"{path}.{name}", "must be text")
    value = value.strip()
    if max_length is not None and len(value) > max_length:
        raise ImportFault(f"{path}.{name}", f"must be at most {max_length} characters")
    return value


def _flag(q: dict, name: str, path: str, default: bool) -> bool:
    value = q.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ImportFault(f"{path}.{name}", "must be true or false")
    return value


def _question_fields(q: dict, path: str) -> tuple[dict[str, Any], list[str]]:
    """The question_create fields of `q` and its option labels: the value types and lengths
    checked here, the question's rules by questions.services.question_validate."""
    slug = q["slug"]
    if len(slug) > 120 or not _SLUG.match(slug):
        raise ImportFault(f"{path}.slug", "must be letters, digits, hyphens and underscores, at most 120 characters")
    qtype = q.get("type")
    if qtype is None:
        raise ImportFault(f"{path}.type", "is required")
    options = q.get("options")
    if options is not None:
        if not isinstance(options, list):
            raise ImportFault(f"{path}.options", "must be a list of option labels")
        if len(options) > 50:
            raise ImportFault(f"{path}.options", "must have at most 50 options")
        if any(isinstance(o, bool) or not isinstance(o, (str, int, float)) for o in options):
            raise ImportFault(f"{path}.options", "option labels must be text")
        options = [str(o).strip() for o in options]
    times = {}
    for name in ("open_time", "close_time", "known_at", "crowd_reveal_time"):
        times[name] = None if q.get(name) is None else _time(q[name], f"{path}.{name}")
    fields = {
        "type": qtype,
        "title": _text(q, "title", path, required=True, max_length=300),
        "options": options,
        "ordered": _flag(q, "ordered", path, False),
        "scoring_mode": q.get("scoring_mode"),
        **times,
    }
    # contracts.md: "lower"/"upper" numbers, ISO 8601 instants for a date question (question_validate
    # refuses a range, an open bound or a unit on a binary or multiple-choice question)
    for name, doc in (("range_lower", "lower"), ("range_upper", "upper")):
        value = q.get(doc)
        if qtype == "date" and value is not None:
            value = _time(value, f"{path}.{doc}")
        fields[name] = value
    fields["open_lower"] = _flag(q, "open_lower", path, False)
    fields["open_upper"] = _flag(q, "open_upper", path, False)
    fields["unit"] = _text(q, "unit", path)
    try:
        labels = question_validate(**fields)
    except ValidationFailed as e:
        raise _fault(path, e) from None
    fields.update(
        slug=slug,
        description=_text(q, "description", path),
        resolution_criteria=_text(q, "resolution_criteria", path),
        published=_flag(q, "published", path, True),
        indicator=_text(q, "indicator", path, max_length=200),
    )
    return fields, labels


def _plan_question(
    q: Any, path: str, known_series: set[str], existing: dict[str, Question], article: Article | None
) -> _PlannedQuestion:
    if not isinstance(q, dict):
        raise ImportFault(path, "must be an object")
    slug = q.get("slug")
    if not isinstance(slug, str) or not slug:
        raise ImportFault(
            f"{path}.slug", "is required: questions are matched by slug, so a second run creates nothing new"
        )
    series = q.get("series")
    if series is not None and series not in known_series:
        raise ImportFault(f"{path}.series", f"no series {series!r} in this file or the database")
    fields, labels = _question_fields(q, path)

    source = None
    src = q.get("source")
    if article is not None and isinstance(src, dict) and src.get("start") is not None:
        start, end = src.get("start"), src.get("end")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(article.text)):
            raise ImportFault(f"{path}.source", "offsets must lie within the article text")
        source = (start, end)

    shape = None
    if fields["type"] in CONTINUOUS_TYPES:
        _errors, bounds = question_range(
            type=fields["type"], range_lower=fields["range_lower"], range_upper=fields["range_upper"]
        )
        shape = Question(
            type=fields["type"],
            range_lower=bounds[0],
            range_upper=bounds[1],
            open_lower=fields["open_lower"],
            open_upper=fields["open_upper"],
            unit=fields["unit"],
        )
    old = existing.get(slug)
    if old is not None and (old.type != fields["type"] or [o.label for o in old.options.all()] != labels):
        raise ImportFault(
            f"{path}.type",
            f"question {slug!r} exists with another type or other options; it is not changed by an import",
        )
    if old is not None and shape is not None:
        changed = [name for name in QUESTION_RANGE_FIELDS if getattr(old, name) != getattr(shape, name)]
        if changed:
            raise ImportFault(
                f"{path}.{_DOC_FIELDS.get(changed[0], changed[0])}",
                f"question {slug!r} exists with another range; it is not changed by an import",
            )
        shape = old

    resolution = q.get("resolution")
    resolved_at = known_at = None
    outcome = None
    note = q.get("resolution_note") or ""
    if not isinstance(note, str):
        raise ImportFault(f"{path}.resolution_note", "must be text")
    if resolution is not None:
        if shape is not None:
            if resolution != "annulled":
                try:
                    outcome = continuous_resolution(question=shape, outcome=resolution)
                except DomainError as e:
                    raise _fault(path, e) from None
        elif resolution != "annulled" and resolution not in labels:
            valid = ", ".join(repr(x) for x in labels)
            raise ImportFault(f"{path}.resolution", f"must be one of {valid} or 'annulled'")
        if q.get("resolved_at") is not None:
            resolved_at = _time(q["resolved_at"], f"{path}.resolved_at")
        known_at = fields["known_at"]
        if known_at is not None and known_at > (resolved_at or datetime.now(UTC)):
            raise ImportFault(f"{path}.known_at", "must not be after resolved_at")
        if resolved_at is not None and resolved_at <= fields["open_time"]:
            raise ImportFault(f"{path}.resolved_at", "must be after open_time")
    elif q.get("resolved_at") is not None:
        raise ImportFault(f"{path}.resolved_at", "is given without a resolution")
    return _PlannedQuestion(
        path=path, slug=slug, fields=fields, series=series, labels=labels, existing=old, resolution=resolution,
        resolved_at=resolved_at, known_at=known_at, note=note, source=source, shape=shape, outcome=outcome,
    )  # fmt: skip


_username = UnicodeUsernameValidator()


def _plan_forecast(f: Any, path: str, pq: _PlannedQuestion) -> _PlannedForecast:
    if not isinstance(f, dict):
        raise ImportFault(path, "must be an object")
    user = f.get("user")
    if not isinstance(user, str) or not user or len(user) > 150:
        raise ImportFault(f"{path}.user", "is required: a user name of at most 150 characters")
    try:
        _username(user)
    except DjangoValidationError:
        raise ImportFault(f"{path}.user", "may contain only letters, digits and @ . + - _") from None
    when = _time(f.get("time"), f"{path}.time")
    rationale = f.get("rationale") or ""
    if not isinstance(rationale, str) or len(rationale) > 10000:
        raise ImportFault(f"{path}.rationale", "must be text of at most 10000 characters")
    shapes = ("probability", "probabilities", "cdf")
    given = [k for k in (*shapes, "withdraw") if k in f]
    if "withdraw" in f:
        if f["withdraw"] is not True:
            raise ImportFault(f"{path}.withdraw", "must be true")
        if len(given) > 1:
            raise ImportFault(f"{path}.withdraw", "a withdrawal carries no probabilities")
        return _PlannedForecast(path, user, when, True, {}, "")
    payload = {k: f[k] for k in shapes if k in f}
    try:
        if pq.shape is not None and "cdf" not in payload:  # contracts.md: a numeric or date forecast is its "cdf"
            raise DomainError("is required: the forecast's CDF, 201 numbers", field="cdf", code="required")
        # forecasts.validation's rules, as on every entry point (two shapes at once are refused)
        question = pq.shape if pq.shape is not None else Question(type=pq.fields["type"])
        forecast_values(question=question, labels=pq.labels, payload=payload)
    except DomainError as e:
        raise _fault(path, e) from None
    return _PlannedForecast(path, user, when, False, payload, rationale)


def _plan_timeline(pq: _PlannedQuestion) -> None:
    """The window, duplicates and withdrawals, with what the database holds for an existing
    question; keeps in pq.forecasts only the rows not stored yet, in time order."""
    close, known_at, published = pq.fields["close_time"], pq.fields["known_at"], pq.fields["published"]
    stored: dict[tuple[str, datetime], str] = {}
    if pq.existing is not None:
        close, known_at = pq.existing.close_time, pq.existing.known_at
        published = pq.existing.published_at is not None
        for name, at, kind in Forecast.objects.filter(question=pq.existing).values_list(
            "user__username", "created_at", "kind"
        ):
            stored[(name, at)] = kind
    effective_close = known_at if known_at and known_at < close else close
    seen: set[tuple[str, datetime]] = set()
    new: list[_PlannedForecast] = []
    for pf in pq.forecasts:
        key = (pf.user, pf.time)
        if key in seen:
            raise ImportFault(f"{pf.path}.time", f"a second forecast by {pf.user!r} at the same time on this question")
        seen.add(key)
        if key in stored:
            if stored[key] != (Forecast.Kind.WITHDRAWAL if pf.withdraw else Forecast.Kind.FORECAST):
                raise ImportFault(pf.path, "differs from the stored row for the same user and time")
            continue
        new.append(pf)
        if not published:
            raise ImportFault(pf.path, "the question is not published: it takes no forecasts")
        if pf.time >= effective_close:
            raise ImportFault(f"{pf.path}.time", "must be before the question's close (min(close_time, known_at))")
        if pq.resolved_at is not None and pf.time >= pq.resolved_at:
            raise ImportFault(f"{pf.path}.time", "must be before the question's resolved_at")
        if pq.existing is not None and pq.existing.state != Question.State.OPEN:
            raise ImportFault(pf.path, f"the question is {pq.existing.state}: no more forecasts")
    # Withdrawals need a standing forecast, replaying stored and new rows in time order.
    standing: dict[str, bool] = {}
    events = [(at, name, kind == Forecast.Kind.WITHDRAWAL, None) for (name, at), kind in stored.items()]
    events += [(p.time, p.user, p.withdraw, p) for p in new]
    for _at, name, withdraw, pf in sorted(events, key=lambda e: (e[0], e[1])):
        if withdraw and not standing.get(name) and pf is not None:
            raise ImportFault(f"{pf.path}.withdraw", f"{name!r} has no standing forecast to withdraw at that time")
        standing[name] = not withdraw
    pq.forecasts = sorted(new, key=lambda p: (p.time, p.user))


# --- Phase 2: the writes ----------------------------------------------------------------------

#: forecasts_import's field names -> the document's, under a row's path
_ROW_FIELDS = {"at": "time", "question": ""}
_ROW = re.compile(r"^rows\[(\d+)\]\.?(.*)$")


def _row_fault(error: DomainError, forecasts: list[_PlannedForecast]) -> ImportFault:
    """forecasts_import's refusal of `rows[i]...` as a fault at that row's path in the document."""
    m = _ROW.match(error.field or "")
    if m is None:
        return ImportFault(forecasts[0].path if forecasts else "forecasts", error.message)
    pf = forecasts[int(m.group(1))]
    name = _ROW_FIELDS.get(m.group(2), m.group(2))
    return ImportFault(f"{pf.path}.{name}" if name else pf.path, error.message)


def _write(plan: _Plan) -> dict[str, int]:
    """Write a validated plan in one transaction; returns what was created."""
    created = dict.fromkeys(COUNTS, 0)
    with transaction.atomic():
        for path, s in plan.series:
            if not Series.objects.filter(slug=s["slug"]).exists():
                try:
                    series_create(**s)
                except DomainError as e:
                    raise _fault(path, e) from None
                created["series"] += 1
        users = _users(plan.users, created)
        refs = {pq.series for pq in plan.questions if pq.series}
        series_by_slug = {s.slug: s for s in Series.objects.filter(slug__in=refs)}
        for pq in plan.questions:
            q = pq.existing
            if q is None:
                q = _create_question(pq, plan.article, series_by_slug)
                created["questions"] += 1
            if pq.forecasts:
                rows = [
                    ForecastRow(
                        user=users[pf.user],
                        at=pf.time,
                        payload=pf.payload,
                        rationale=pf.rationale,
                        withdraw=pf.withdraw,
                    )
                    for pf in pq.forecasts
                ]
                try:
                    forecasts_import(question=q, rows=rows)
                except DomainError as e:
                    raise _row_fault(e, pq.forecasts) from None
                created["forecasts"] += len(rows)
            if pq.resolution is not None and not _already(q, pq):
                try:
                    question_resolve(
                        question=q,
                        outcome=pq.resolution,
                        by=None,
                        known_at=pq.known_at,
                        note=pq.note,
                        at=pq.resolved_at,
                    )
                except DomainError as e:
                    raise _fault(pq.path, e) from None
                created["resolutions"] += 1
    return created


def _users(names: dict[str, str], created: dict[str, int]) -> dict[str, User]:
    """The users named in the rows, created (unusable password) when missing."""
    users = {u.username: u for u in User.objects.filter(username__in=list(names))}
    for name in sorted(set(names) - set(users)):
        try:
            users[name] = user_create(username=name, password=None, display_name="", exists_ok=True)
        except DomainError as e:
            raise ImportFault(names[name], e.message) from None
        created["users"] += 1
    return users


def _create_question(pq: _PlannedQuestion, article: Article | None, series_by_slug: dict[str, Series]) -> Question:
    source = {}
    if pq.source and article is not None:
        source = {"article": article, "source_start": pq.source[0], "source_end": pq.source[1]}
    series = series_by_slug.get(pq.series) if pq.series else None
    try:
        return question_create(**pq.fields, series=series, **source)
    except DomainError as e:
        raise _fault(pq.path, e) from None


def _already(q: Question, pq: _PlannedQuestion) -> bool:
    """Whether `q` already has the resolution the document gives it (a second run)."""
    q.refresh_from_db()
    if pq.resolution == "annulled":
        return q.state == Question.State.ANNULLED
    if q.state != Question.State.RESOLVED:
        return False
    if pq.outcome is not None:
        if (q.resolved_value, q.resolved_outside) != pq.outcome:
            return False
    elif q.resolved_option is None or q.resolved_option.label != pq.resolution:
        return False
    return pq.known_at is None or q.known_at == pq.known_at
