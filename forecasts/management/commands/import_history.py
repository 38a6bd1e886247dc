"""`manage.py import_history FILE`: load series, questions, users, time-stamped forecasts and
resolutions from JSON (contracts.md).

Two phases. First the whole file is validated against the rules the services apply (question
fields, probability vectors, the forecasting window, withdrawals, resolutions), together with what
the database already holds; the first fault exits 2 with one line naming it, e.g.
`questions[3].forecasts[7].probability: must be between 0.001 and 0.999 inclusive`, and nothing is
written. Then everything is written in one transaction:
- series through questions.services.series_create, questions through question_create (matched by
  slug: an existing question is kept as it is);
- users by name (created with an unusable password when missing);
- forecasts in bulk after the same checks forecast_submit makes (forecasts.validation.probability_vector
  and the open window), matched by (question, user, time) so a second run adds nothing; one crowd
  history update per question is enqueued after commit;
- resolutions through questions.services.question_resolve(at=resolved_at, known_at=...), which
  enqueues the same scoring job (and so the leaderboard recompute) as an admin's resolution.

Besides the contract's fields, a question may carry indicator, resolution, resolved_at,
resolution_note, known_at, crowd_reveal_time and source (offsets into the file's `article`, used
when that article is stored); other fields are ignored. Forecasts may also be given in a
top-level "forecasts" list whose rows name their "question" by slug (forecasts.simulation's shape).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.dateparse import parse_datetime

from api.serializers import QuestionCreateSerializer
from config.cli import fail, read_json
from config.enqueue import enqueue_on_commit
from config.exceptions import DomainError, ValidationFailed
from forecasts.models import Forecast
from forecasts.tasks import crowd_update
from forecasts.validation import probability_vector
from questions.models import Article, Question, ScoringMode, Series
from questions.services import question_create, question_resolve, question_validate, series_create


class ImportFault(Exception):
    """One fault in the file: `path: rule`."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")


@dataclass
class PlannedForecast:
    path: str
    user: str
    time: datetime
    withdraw: bool
    vector: list[float] | None
    rationale: str


@dataclass
class PlannedQuestion:
    path: str
    slug: str
    fields: dict[str, Any]
    labels: list[str]
    existing: Question | None
    resolution: str | None
    resolved_at: datetime | None
    known_at: datetime | None
    note: str
    source: tuple[int, int] | None
    forecasts: list[PlannedForecast] = field(default_factory=list)


def _time(value: Any, path: str) -> datetime:
    if isinstance(value, str):
        try:
            dt = parse_datetime(value.strip())
        except ValueError:
            dt = None
        if dt is not None:
            return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    raise ImportFault(path, "must be an ISO 8601 date-time such as 2021-11-20T09:00:00Z")


def _first(fields: dict[str, list[str]]) -> tuple[str, str]:
    name, rules = next(iter(fields.items()))
    return name, rules[0]


class Plan:
    """The validated content of a file, ready to write."""

    def __init__(self) -> None:
        self.series: list[dict[str, Any]] = []
        self.questions: list[PlannedQuestion] = []
        self.usernames: set[str] = set()
        self.article: Article | None = None


def validate(doc: Any) -> Plan:
    """Check the whole document against the services' rules and the database; raise ImportFault."""
    if not isinstance(doc, dict):
        raise ImportFault("input", "must be a JSON object with 'series' and 'questions'")
    plan = Plan()
    series_doc = doc.get("series", [])
    if not isinstance(series_doc, list):
        raise ImportFault("series", "must be a list")
    seen_series: set[str] = set()
    for i, s in enumerate(series_doc):
        path = f"series[{i}]"
        if not isinstance(s, dict):
            raise ImportFault(path, "must be an object")
        slug = s.get("slug")
        if (
            not isinstance(slug, str)
            or not slug
            or len(slug) > 100
            or not slug.replace("-", "").replace("_", "").isalnum()
        ):
            raise ImportFault(f"{path}.slug", "is required: letters, digits, hyphens and underscores, at most 100")
        if slug in seen_series:
            raise ImportFault(f"{path}.slug", f"duplicate series {slug!r}")
        seen_series.add(slug)
        title = s.get("title")
        if not isinstance(title, str) or not title.strip() or len(title) > 200:
            raise ImportFault(f"{path}.title", "is required: text of at most 200 characters")
        mode = s.get("scoring_mode", ScoringMode.CONTINUOUS)
        if mode not in ScoringMode.values:
            raise ImportFault(f"{path}.scoring_mode", "must be 'continuous' or 'daily'")
        description = s.get("description") or ""
        if not isinstance(description, str):
            raise ImportFault(f"{path}.description", "must be text")
        plan.series.append({"slug": slug, "title": title, "description": description, "scoring_mode": mode})
    known_series = seen_series | set(Series.objects.filter(slug__in=_series_refs(doc)).values_list("slug", flat=True))

    article = doc.get("article")
    if isinstance(article, dict) and isinstance(article.get("sha256"), str):
        plan.article = Article.objects.filter(sha256=article["sha256"]).first()

    questions_doc = doc.get("questions", [])
    if not isinstance(questions_doc, list):
        raise ImportFault("questions", "must be a list")
    by_slug: dict[str, PlannedQuestion] = {}
    existing = {
        q.slug: q
        for q in Question.objects.filter(
            slug__in=[q["slug"] for q in questions_doc if isinstance(q, dict) and isinstance(q.get("slug"), str)]
        )
        .select_related("resolved_option")
        .prefetch_related("options")
    }
    for i, q in enumerate(questions_doc):
        pq = _validate_question(q, f"questions[{i}]", known_series, existing, plan.article)
        if pq.slug in by_slug:
            raise ImportFault(f"{pq.path}.slug", f"duplicate question {pq.slug!r}")
        by_slug[pq.slug] = pq
        plan.questions.append(pq)
        forecasts = q.get("forecasts", [])
        if not isinstance(forecasts, list):
            raise ImportFault(f"{pq.path}.forecasts", "must be a list")
        for j, f in enumerate(forecasts):
            pq.forecasts.append(_validate_forecast(f, f"{pq.path}.forecasts[{j}]", pq))

    flat = doc.get("forecasts", [])
    if not isinstance(flat, list):
        raise ImportFault("forecasts", "must be a list")
    for j, f in enumerate(flat):
        path = f"forecasts[{j}]"
        if not isinstance(f, dict):
            raise ImportFault(path, "must be an object")
        pq = by_slug.get(f.get("question"))
        if pq is None:
            raise ImportFault(f"{path}.question", "must be the slug of a question in this file")
        pq.forecasts.append(_validate_forecast(f, path, pq))

    for pq in plan.questions:
        _validate_timeline(pq)
        plan.usernames.update(f.user for f in pq.forecasts)
    return plan


def _series_refs(doc: dict) -> list[str]:
    qs = doc.get("questions")
    return (
        [q["series"] for q in qs if isinstance(q, dict) and isinstance(q.get("series"), str)]
        if isinstance(qs, list)
        else []
    )


def _validate_question(
    q: Any, path: str, known_series: set[str], existing: dict[str, Question], article: Article | None
) -> PlannedQuestion:
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
    data = {k: q[k] for k in QuestionCreateSerializer().fields if k in q and k != "series"}
    for k in ("known_at", "crowd_reveal_time"):
        if data.get(k) is None:
            data.pop(k, None)
    if data.get("options") is None:
        data.pop("options", None)
    if data.get("scoring_mode") is None:
        data.pop("scoring_mode", None)
    for k in ("description", "resolution_criteria"):
        if data.get(k) is None:
            data.pop(k, None)
    s = QuestionCreateSerializer(data=data)
    if not s.is_valid():
        from config.exceptions import _flatten

        name, rule = _first(_flatten(s.errors))
        raise ImportFault(f"{path}.{name}", rule)
    v = dict(s.validated_data)
    published = v.pop("published", True)
    try:
        labels = question_validate(
            type=v["type"], title=v["title"], open_time=v["open_time"], close_time=v["close_time"],
            options=v.get("options"), ordered=v.get("ordered", False), known_at=v.get("known_at"),
            crowd_reveal_time=v.get("crowd_reveal_time"), scoring_mode=v.get("scoring_mode"),
        )  # fmt: skip
    except ValidationFailed as e:
        name, rule = _first(e.fields)
        raise ImportFault(f"{path}.{name}", rule)
    indicator = q.get("indicator") or ""
    if not isinstance(indicator, str) or len(indicator) > 200:
        raise ImportFault(f"{path}.indicator", "must be text of at most 200 characters")
    fields = {**v, "slug": slug, "indicator": indicator, "published": published}
    fields.setdefault("ordered", False)

    source = None
    src = q.get("source")
    if article is not None and isinstance(src, dict) and src.get("start") is not None:
        start, end = src.get("start"), src.get("end")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(article.text)):
            raise ImportFault(f"{path}.source", "offsets must lie within the article text")
        source = (start, end)

    old = existing.get(slug)
    if old is not None:
        old_labels = [o.label for o in old.options.all()]
        if old.type != v["type"] or old_labels != labels:
            raise ImportFault(
                f"{path}.type",
                f"question {slug!r} exists with another type or other options; it is not changed by an import",
            )

    resolution = q.get("resolution")
    resolved_at = known_at = None
    note = q.get("resolution_note") or ""
    if not isinstance(note, str):
        raise ImportFault(f"{path}.resolution_note", "must be text")
    if resolution is not None:
        if resolution != "annulled" and resolution not in labels:
            valid = ", ".join(repr(x) for x in labels)
            raise ImportFault(f"{path}.resolution", f"must be one of {valid} or 'annulled'")
        if q.get("resolved_at") is not None:
            resolved_at = _time(q["resolved_at"], f"{path}.resolved_at")
        known_at = v.get("known_at")
        now = resolved_at or datetime.now(UTC)
        if known_at is not None and known_at > now:
            raise ImportFault(f"{path}.known_at", "must not be after resolved_at")
        if resolved_at is not None and resolved_at <= v["open_time"]:
            raise ImportFault(f"{path}.resolved_at", "must be after open_time")
    elif q.get("resolved_at") is not None:
        raise ImportFault(f"{path}.resolved_at", "is given without a resolution")
    fields["series_slug"] = series
    return PlannedQuestion(
        path=path, slug=slug, fields=fields, labels=labels, existing=old, resolution=resolution,
        resolved_at=resolved_at, known_at=known_at, note=note, source=source,
    )  # fmt: skip


_username = UnicodeUsernameValidator()


def _validate_forecast(f: Any, path: str, pq: PlannedQuestion) -> PlannedForecast:
    if not isinstance(f, dict):
        raise ImportFault(path, "must be an object")
    user = f.get("user")
    if not isinstance(user, str) or not user or len(user) > 150:
        raise ImportFault(f"{path}.user", "is required: a user name of at most 150 characters")
    try:
        _username(user)
    except DjangoValidationError:
        raise ImportFault(f"{path}.user", "may contain only letters, digits and @ . + - _")
    when = _time(f.get("time"), f"{path}.time")
    rationale = f.get("rationale") or ""
    if not isinstance(rationale, str) or len(rationale) > 10000:
        raise ImportFault(f"{path}.rationale", "must be text of at most 10000 characters")
    given = [k for k in ("probability", "probabilities", "withdraw") if k in f]
    if "withdraw" in f:
        if f["withdraw"] is not True:
            raise ImportFault(f"{path}.withdraw", "must be true")
        if len(given) > 1:
            raise ImportFault(f"{path}.withdraw", "a withdrawal carries no probabilities")
        return PlannedForecast(path, user, when, True, None, "")
    payload = {k: f[k] for k in ("probability", "probabilities") if k in f}
    qtype = pq.fields["type"]
    try:
        vector = probability_vector(question_type=qtype, labels=pq.labels, payload=payload)
    except DomainError as e:
        raise ImportFault(f"{path}.{e.field}" if e.field else path, e.message)
    return PlannedForecast(path, user, when, False, vector, rationale)


def _validate_timeline(pq: PlannedQuestion) -> None:
    """The window, duplicates and withdrawals, with what the database holds for an existing question."""
    f = pq.fields
    close = f["close_time"]
    known_at = f.get("known_at")
    if pq.existing is not None:
        close = pq.existing.close_time
        known_at = pq.existing.known_at
    effective_close = known_at if known_at and known_at < close else close
    stored: dict[tuple[str, datetime], str] = {}
    if pq.existing is not None:
        for name, at, kind in Forecast.objects.filter(question=pq.existing).values_list(
            "user__username", "created_at", "kind"
        ):
            stored[(name, at)] = kind
    seen: set[tuple[str, datetime]] = set()
    new: list[PlannedForecast] = []
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
        if not f.get("published", True):
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


def write(plan: Plan) -> dict[str, int]:
    """Write a validated plan in one transaction; returns what was created."""
    from forecasts.services import question_check_open as _open_for_forecasts

    created = {"series": 0, "questions": 0, "users": 0, "forecasts": 0, "resolutions": 0}
    User = get_user_model()
    with transaction.atomic():
        for s in plan.series:
            if not Series.objects.filter(slug=s["slug"]).exists():
                series_create(**s)
                created["series"] += 1
        users = {u.username: u for u in User.objects.filter(username__in=plan.usernames)}
        for name in sorted(plan.usernames - set(users)):
            u = User(username=name)
            u.set_unusable_password()
            u.save()
            users[name] = u
            created["users"] += 1
        series_by_slug = {s.slug: s for s in Series.objects.all()}
        for pq in plan.questions:
            q = pq.existing
            if q is None:
                f = dict(pq.fields)
                series_slug = f.pop("series_slug")
                article_kw = {}
                if pq.source and plan.article is not None:
                    article_kw = {"article": plan.article, "source_start": pq.source[0], "source_end": pq.source[1]}
                q = question_create(**f, series=series_by_slug.get(series_slug) if series_slug else None, **article_kw)
                created["questions"] += 1
            if pq.forecasts:
                # The question lock first, as forecast_submit takes it: forecast ids of a question are
                # then allocated in commit order, which the incremental crowd update relies on.
                Question.objects.select_for_update().get(pk=q.pk)
                rows = []
                for pf in pq.forecasts:
                    _open_for_forecasts(q, pf.time)  # the rule forecast_submit applies, on the same row
                    if pf.withdraw:
                        rows.append(
                            Forecast(question=q, user=users[pf.user], kind=Forecast.Kind.WITHDRAWAL, created_at=pf.time)
                        )
                    else:
                        v = pf.vector
                        rows.append(Forecast(question=q, user=users[pf.user], kind=Forecast.Kind.FORECAST, created_at=pf.time,
                                             probabilities=v, p_min=min(v), p_max=max(v), p_sum=sum(v), rationale=pf.rationale))  # fmt: skip
                Forecast.objects.bulk_create(rows, batch_size=2000)
                created["forecasts"] += len(rows)
                enqueue_on_commit(crowd_update, q.pk)
            if pq.resolution is not None and not _already(q, pq):
                question_resolve(
                    question=q, outcome=pq.resolution, by=None, known_at=pq.known_at, note=pq.note, at=pq.resolved_at
                )
                created["resolutions"] += 1
    return created


def _already(q: Question, pq: PlannedQuestion) -> bool:
    q.refresh_from_db()
    if pq.resolution == "annulled":
        return q.state == Question.State.ANNULLED
    if q.state != Question.State.RESOLVED or q.resolved_option is None or q.resolved_option.label != pq.resolution:
        return False
    return pq.known_at is None or q.known_at == pq.known_at


class Command(BaseCommand):
    help = "Import series, questions, users, forecasts and resolutions from a JSON file (validated whole first; idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="a JSON file in the import_history format, or - for standard input")

    def handle(self, *args, **options) -> None:
        doc = read_json(options["file"])
        try:
            plan = validate(doc)
            created = write(plan)
        except ImportFault as e:
            fail(str(e))
        except DomainError as e:  # a rule the services still refused while writing: nothing was written
            fail(f"{e.field or 'input'}: {e.message}")
        summary = ", ".join(f"{n} {k}" for k, n in created.items())
        self.stdout.write(f"created: {summary}")
