"""State changes of questions. Each function opens its own transaction, locks the question row
first (the same order as forecast submission, so neither can overtake the other), records an
audit event, and enqueues follow-up work only once the transaction has committed.

`question_update` edits an existing question: its free fields always, its terms only while
nothing above depends on them (asked through the `terms_frozen_query` signal, under the lock)."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction
from django.utils import timezone

from config.exceptions import Conflict, DomainError, ValidationFailed

from .models import CONTINUOUS_TYPES, RANGE_LIMIT, Article, Option, Question, ResolutionEvent, ScoringMode, Series
from .selectors import continuous_value, outcome_text, value_text
from .signals import resolution_changed, terms_frozen_query

BINARY_OPTIONS = ("yes", "no")
TYPE_RULE = "must be 'binary', 'multiple_choice', 'numeric' or 'date'"
UNIT_MAX = 40
logger = logging.getLogger(__name__)


def _announce_resolution_change(question_id: int) -> None:
    """After commit: tell the layers above (scoring's receivers) that the resolution changed."""
    transaction.on_commit(lambda: resolution_changed.send(sender=Question, question_id=question_id))


def series_create(
    *, slug: str, title: str, description: str = "", scoring_mode: str = ScoringMode.CONTINUOUS
) -> Series:
    if scoring_mode not in ScoringMode.values:
        raise DomainError(f"must be one of {', '.join(ScoringMode.values)}", field="scoring_mode")
    series, _ = Series.objects.get_or_create(
        slug=slug, defaults={"title": title, "description": description, "scoring_mode": scoring_mode}
    )
    return series


def question_validate(
    *,
    type: str,
    title: str,
    open_time: datetime | None,
    close_time: datetime | None,
    options: Sequence[str] | None = None,
    ordered: bool = False,
    known_at: datetime | None = None,
    crowd_reveal_time: datetime | None = None,
    scoring_mode: str | None = None,
    range_lower: Any = None,
    range_upper: Any = None,
    open_lower: Any = False,
    open_upper: Any = False,
    unit: Any = "",
) -> list[str]:
    """Check the fields of a new question; returns the option labels in order (none for a
    numeric or date question).

    A numeric or date question needs its range: `range_lower` < `range_upper`, finite numbers (a
    date question: aware datetimes, ISO 8601 text such as "2025-03-01T00:00:00Z", or numbers of
    POSIX seconds; stored as POSIX seconds); `open_lower` / `open_upper` (booleans) open a bound;
    `unit` (numeric only, at most 40 characters). It has no options and is not ordered. Binary
    and multiple-choice questions have no range, open bound or unit.

    Raises ValidationFailed naming every field at fault."""
    errors: dict[str, list[str]] = {}
    labels: list[str] = []
    range_errors, _bounds = question_range(
        type=type,
        range_lower=range_lower,
        range_upper=range_upper,
        open_lower=open_lower,
        open_upper=open_upper,
        unit=unit,
    )
    errors.update(range_errors)
    if type not in Question.Type.values:
        errors["type"] = [TYPE_RULE]
    elif type in CONTINUOUS_TYPES:
        if options not in (None, [], ()):
            errors["options"] = [f"a {type} question has no options (its forecasts are distributions over its range)"]
        if ordered:
            errors["ordered"] = ["only multiple-choice questions can be ordered"]
    elif type == Question.Type.BINARY:
        if options not in (None, [], list(BINARY_OPTIONS), tuple(BINARY_OPTIONS)):
            errors["options"] = ["a binary question has no options (they are 'yes' and 'no')"]
        if ordered:
            errors["ordered"] = ["only multiple-choice questions can be ordered"]
        labels = list(BINARY_OPTIONS)
    else:
        labels = [str(o).strip() for o in (options or [])]
        if len(labels) < 2:
            errors["options"] = ["a multiple-choice question needs at least 2 options"]
        elif any(not label for label in labels):
            errors["options"] = ["option labels must not be empty"]
        elif len(set(labels)) != len(labels):
            errors["options"] = ["option labels must be unique"]
        elif any(len(label) > 200 for label in labels):
            errors["options"] = ["option labels are at most 200 characters"]
    if not title or not title.strip():
        errors["title"] = ["must not be empty"]
    if open_time is None:
        errors["open_time"] = ["is required"]
    if close_time is None:
        errors["close_time"] = ["is required"]
    if open_time and close_time and close_time <= open_time:
        errors["close_time"] = ["must be after open_time"]
    if known_at and open_time and known_at <= open_time:
        errors["known_at"] = ["must be after open_time"]
    if known_at and close_time and known_at > close_time:
        errors["known_at"] = ["must not be after close_time"]
    if crowd_reveal_time and open_time and crowd_reveal_time < open_time:
        errors["crowd_reveal_time"] = ["must not be before open_time"]
    if scoring_mode is not None and scoring_mode not in ScoringMode.values:
        errors["scoring_mode"] = ["must be 'continuous' or 'daily'"]
    if errors:
        raise ValidationFailed(errors)
    return labels


def _bound(type: str, value: Any, name: str) -> tuple[float | None, str | None]:
    """One range bound -> (float, None) or (None, the rule it breaks)."""
    if value is None:
        return None, "is required for a numeric or date question"
    if type == Question.Type.DATE and isinstance(value, (datetime, str)):
        try:
            x = continuous_value(question_type=type, value=value, field=name)
        except DomainError as e:
            return None, e.message
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        what = "an ISO 8601 date-time (or POSIX seconds)" if type == Question.Type.DATE else "a number"
        return None, f"must be {what}"
    else:
        x = float(value)
    if not math.isfinite(x):
        return None, "must be a finite number"
    if abs(x) > RANGE_LIMIT:
        return None, f"must lie within ±{RANGE_LIMIT:g}"
    if type == Question.Type.DATE:
        try:
            datetime.fromtimestamp(x, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None, "must be an instant between the years 1 and 9999"
    return x, None


def question_range(
    *, type: str, range_lower: Any, range_upper: Any, open_lower: Any = False, open_upper: Any = False, unit: Any = ""
) -> tuple[dict[str, list[str]], tuple[float, float] | None]:
    """The range fields of a question checked: (errors by field, (lower, upper) as stored, i.e. a
    date question's bounds in POSIX seconds, or None). The rules are question_validate's."""
    errors: dict[str, list[str]] = {}
    for name, flag in (("open_lower", open_lower), ("open_upper", open_upper)):
        if not isinstance(flag, bool):
            errors[name] = ["must be true or false"]
    if unit is None:
        unit = ""
    if not isinstance(unit, str):
        errors["unit"] = ["must be text"]
    elif len(unit.strip()) > UNIT_MAX:
        errors["unit"] = [f"must be at most {UNIT_MAX} characters"]
    if type not in CONTINUOUS_TYPES:
        for name, value in (("range_lower", range_lower), ("range_upper", range_upper)):
            if value is not None:
                errors[name] = ["only numeric and date questions have a range"]
        for name, flag in (("open_lower", open_lower), ("open_upper", open_upper)):
            if flag is True:
                errors[name] = ["only numeric and date questions have open bounds"]
        if isinstance(unit, str) and unit.strip():
            errors["unit"] = ["only numeric questions have a unit"]
        return errors, None
    if type == Question.Type.DATE and isinstance(unit, str) and unit.strip():
        errors["unit"] = ["a date question has no unit (its values are dates)"]
    lower, rule = _bound(type, range_lower, "range_lower")
    if rule:
        errors["range_lower"] = [rule]
    upper, rule = _bound(type, range_upper, "range_upper")
    if rule:
        errors["range_upper"] = [rule]
    if lower is not None and upper is not None and not upper > lower:
        errors["range_upper"] = ["must be greater than the lower bound"]
    if errors or lower is None or upper is None:
        return errors, None
    return errors, (lower, upper)


def question_create(
    *,
    type: str,
    title: str,
    open_time: datetime,
    close_time: datetime,
    options: Sequence[str] | None = None,
    ordered: bool = False,
    series: Series | None = None,
    slug: str | None = None,
    description: str = "",
    resolution_criteria: str = "",
    known_at: datetime | None = None,
    crowd_reveal_time: datetime | None = None,
    scoring_mode: str | None = None,
    published: bool = True,
    article: Article | None = None,
    source_start: int | None = None,
    source_end: int | None = None,
    indicator: str = "",
    range_lower: Any = None,
    range_upper: Any = None,
    open_lower: bool = False,
    open_upper: bool = False,
    unit: str = "",
) -> Question:
    """Create a question and its options in one transaction. The scoring mode defaults to the
    series'. With an article, the passage is copied from the article's text at the offsets.

    A numeric or date question takes its range instead of options (question_validate's rules); a
    date question's bounds may be given as aware datetimes or ISO 8601 text and are stored as
    POSIX seconds."""
    labels = question_validate(
        type=type,
        title=title,
        open_time=open_time,
        close_time=close_time,
        options=options,
        ordered=ordered,
        known_at=known_at,
        crowd_reveal_time=crowd_reveal_time,
        scoring_mode=scoring_mode,
        range_lower=range_lower,
        range_upper=range_upper,
        open_lower=open_lower,
        open_upper=open_upper,
        unit=unit,
    )
    _errors, bounds = question_range(type=type, range_lower=range_lower, range_upper=range_upper)
    lower, upper = bounds if bounds is not None else (None, None)
    if slug and Question.objects.filter(slug=slug).exists():
        raise DomainError("a question with this slug exists", field="slug", code="unique")
    passage = ""
    if article is not None and source_start is not None and source_end is not None:
        if not (0 <= source_start < source_end <= len(article.text)):
            raise DomainError("offsets must lie within the article text", field="source_start")
        passage = article.text[source_start:source_end]
    with transaction.atomic():
        question = Question.objects.create(
            series=series,
            slug=slug or None,
            type=type,
            ordered=ordered,
            title=title.strip(),
            description=description,
            resolution_criteria=resolution_criteria,
            open_time=open_time,
            close_time=close_time,
            known_at=known_at,
            crowd_reveal_time=crowd_reveal_time,
            scoring_mode=scoring_mode or (series.scoring_mode if series else ScoringMode.CONTINUOUS),
            published_at=timezone.now() if published else None,
            article=article,
            source_start=source_start if passage else None,
            source_end=source_end if passage else None,
            source_passage=passage,
            indicator=indicator,
            range_lower=lower,
            range_upper=upper,
            open_lower=bool(open_lower) and bounds is not None,
            open_upper=bool(open_upper) and bounds is not None,
            unit=(unit or "").strip(),
        )
        Option.objects.bulk_create(
            [Option(question=question, label=label, position=i) for i, label in enumerate(labels)]
        )
    return question


def _lock(question: Question) -> Question:
    return Question.objects.select_for_update().get(pk=question.pk)


def _record(
    q: Question, *, action: str, by: Any, at: datetime, from_state: str, from_outcome: str, note: str
) -> ResolutionEvent:
    q.resolution_version += 1
    q.save(update_fields=[name for name in QUESTION_RESOLUTION_FIELDS if name != "scored_version"])
    return ResolutionEvent.objects.create(
        question=q,
        action=action,
        by=by,
        at=at,
        from_state=from_state,
        from_outcome=from_outcome,
        to_state=q.state,
        to_outcome=outcome_text(q)[:200],
        known_at=q.known_at,
        note=note,
        version=q.resolution_version,
    )


def question_resolve(
    *,
    question: Question,
    outcome: Any,
    by: Any,
    known_at: datetime | None = None,
    note: str = "",
    at: datetime | None = None,
) -> Question:
    """Resolve `question` as `outcome`; "annulled" annuls it (question_annul).

    The outcome of a binary or multiple-choice question is an option label ("yes"/"no" for
    binary). Of a numeric question: a number; of a date question: an ISO 8601 instant (or an aware
    datetime); of either, "below" or "above" when that bound is open. A value beyond an open bound
    resolves as "below"/"above"; beyond a closed one it is refused (field "resolution").

    Locks the question row, so any forecast submission either commits before this (and counts)
    or sees the resolution and is refused. Resolving before the scheduled close closes the question
    early: `known_at` defaults to now. Resolving a resolved question with another outcome or
    known_at is a correction, recorded as such. Enqueues `question_score` after commit."""
    if isinstance(outcome, str) and outcome == "annulled":
        return question_annul(question=question, by=by, note=note, at=at)
    with transaction.atomic(durable=not transaction.get_connection().in_atomic_block):
        q = _lock(question)
        now = at or timezone.now()  # read under the lock: later than any forecast that got in first
        option, value, outside = None, None, ""
        if q.is_continuous:
            value, outside = continuous_resolution(question=q, outcome=outcome)
        else:
            option = q.options.filter(label=outcome).first() if isinstance(outcome, str) else None
            if option is None:
                valid = ", ".join(repr(o.label) for o in q.options.all())
                raise DomainError(f"must be one of {valid} or 'annulled'", field="resolution")
        if known_at is not None:
            if known_at <= q.open_time:
                raise DomainError("must be after the question's open_time", field="known_at")
            if known_at > now:
                raise DomainError("must not be in the future", field="known_at")
            if known_at > q.close_time:
                raise DomainError("must not be after the scheduled close_time", field="known_at")
        elif now < q.close_time and not q.known_at:
            known_at = now
        new_known_at = known_at if known_at is not None else q.known_at
        same = (q.resolved_option_id, q.resolved_value, q.resolved_outside) == (
            option.pk if option else None,
            value,
            outside,
        )
        if q.state == Question.State.RESOLVED and same and q.known_at == new_known_at:
            raise Conflict(f"already resolved as {outcome_text(q)!r}", field="resolution", code="already_resolved")
        from_state, from_outcome = q.state, outcome_text(q)[:200]
        q.state = Question.State.RESOLVED
        q.resolved_option = option
        q.resolved_value = value
        q.resolved_outside = outside
        q.resolved_at = now
        q.known_at = new_known_at
        _record(q, action="resolve", by=by, at=now, from_state=from_state, from_outcome=from_outcome, note=note)
        _announce_resolution_change(q.pk)
    return q


def continuous_resolution(*, question: Question, outcome: Any) -> tuple[float | None, str]:
    """A numeric or date question's outcome as question_resolve takes it -> (resolved_value,
    resolved_outside): a value within the range -> (value, ""); "below"/"above", or a value beyond
    an open bound -> (None, "below"/"above"). Refused (DomainError, field "resolution"): anything
    else, "below"/"above" at a closed bound, a value beyond a closed bound. Reads only the
    question's type, range, open bounds and unit (an unsaved Question will do)."""
    q = question
    side = {"below": Question.Outside.BELOW, "above": Question.Outside.ABOVE}
    if isinstance(outcome, str) and outcome in side:
        is_open = q.open_lower if outcome == "below" else q.open_upper
        if not is_open:
            bound = "lower" if outcome == "below" else "upper"
            raise DomainError(
                f"the {bound} bound is closed: the outcome cannot be {outcome!r} "
                f"(give the value, within {value_text(q, q.range_lower)} .. {value_text(q, q.range_upper)})",
                field="resolution",
            )
        return None, side[outcome]
    try:
        value = continuous_value(question_type=q.type, value=outcome, field="resolution")
    except DomainError as e:
        what = "a finite number" if q.type == Question.Type.NUMERIC else "an ISO 8601 instant"
        extra = ", 'below'" * q.open_lower + ", 'above'" * q.open_upper
        raise DomainError(f"must be {what}{extra} or 'annulled' ({e.message})", field="resolution") from None
    for is_below, bound, is_open in ((True, q.range_lower, q.open_lower), (False, q.range_upper, q.open_upper)):
        beyond = value < bound if is_below else value > bound
        if not beyond:
            continue
        if is_open:
            return None, Question.Outside.BELOW if is_below else Question.Outside.ABOVE
        name = "lower" if is_below else "upper"
        raise DomainError(
            f"must not be {'below' if is_below else 'above'} the closed {name} bound {value_text(q, bound)}",
            field="resolution",
        )
    return value, ""


def question_annul(*, question: Question, by: Any, note: str = "", at: datetime | None = None) -> Question:
    """Annul: the question will never be scored. Deletes its scores after commit."""
    return _unresolve_as(
        question,
        state=Question.State.ANNULLED,
        action="annul",
        by=by,
        note=note,
        at=at,
        refuse_from=Question.State.ANNULLED,
        refusal=Conflict("already annulled", field="resolution", code="already_annulled"),
    )


def question_unresolve(*, question: Question, by: Any, note: str = "", at: datetime | None = None) -> Question:
    """Undo a resolution or annulment: the question is unresolved again and its early close
    (known_at) is cleared, so it accepts forecasts again if its scheduled close is still ahead.
    Deletes its scores after commit."""
    return _unresolve_as(
        question,
        state=Question.State.OPEN,
        action="unresolve",
        by=by,
        note=note,
        at=at,
        refuse_from=Question.State.OPEN,
        refusal=Conflict("the question is not resolved", field="resolution", code="not_resolved"),
    )


def _unresolve_as(
    question: Question,
    *,
    state: str,
    action: str,
    by: Any,
    note: str,
    at: datetime | None,
    refuse_from: str,
    refusal: Conflict,
) -> Question:
    """The transitions away from an outcome (annul, unresolve): same lock, audit and follow-up."""
    with transaction.atomic(durable=not transaction.get_connection().in_atomic_block):
        q = _lock(question)
        now = at or timezone.now()  # read under the lock: later than any forecast that got in first
        if q.state == refuse_from:
            raise refusal
        from_state, from_outcome = q.state, outcome_text(q)[:200]
        q.state = state
        q.resolved_option = None
        q.resolved_value = None
        q.resolved_outside = ""
        q.resolved_at = now if state == Question.State.ANNULLED else None
        if state == Question.State.OPEN:
            q.known_at = None
        _record(q, action=action, by=by, at=now, from_state=from_state, from_outcome=from_outcome, note=note)
        _announce_resolution_change(q.pk)
    return q


#: The range of a numeric or date question: terms, which a resolution also depends on (refused
#: once it is resolved).
QUESTION_RANGE_FIELDS = ("range_lower", "range_upper", "open_lower", "open_upper")
#: The terms of a question: what its forecasts mean and how they are scored. Frozen once anything
#: above depends on them (a forecast exists). "options" is the list of option labels in order.
QUESTION_TERMS_FIELDS = (
    "type",
    "options",
    "ordered",
    "open_time",
    "close_time",
    "scoring_mode",
    *QUESTION_RANGE_FIELDS,
)
#: Editable at any time: wording, grouping, visibility. `published` (bool) sets `published_at` to
#: now (keeping an earlier time) or clears it; `published_at` sets it exactly.
QUESTION_FREE_FIELDS = (
    "title",
    "description",
    "resolution_criteria",
    "indicator",
    "series",
    "slug",
    "crowd_reveal_time",
    "published",
    "published_at",
    "unit",
)
#: Changed only by question_resolve, question_annul and question_unresolve (known_at is the early
#: close a resolution records). Provenance (article, source_start, source_end, source_passage) is
#: set by question_create or articles.question_link_source; neither group is edited here.
QUESTION_RESOLUTION_FIELDS = (
    "state",
    "resolved_option",
    "resolved_value",
    "resolved_outside",
    "resolved_at",
    "known_at",
    "resolution_version",
    "scored_version",
)

_TEXT_FIELDS = {"title": 300, "description": None, "resolution_criteria": None, "indicator": 200}
_TIME_FIELDS = {"open_time": False, "close_time": False, "crowd_reveal_time": True, "published_at": True}
#: Model columns question_update may write ("options" are rows, "published" maps to published_at).
_COLUMNS = (
    "type",
    "ordered",
    "open_time",
    "close_time",
    "scoring_mode",
    "title",
    "description",
    "resolution_criteria",
    "indicator",
    "series",
    "slug",
    "crowd_reveal_time",
    "published_at",
    *QUESTION_RANGE_FIELDS,
    "unit",
)


def question_terms_frozen(question: Question) -> bool:
    """Whether the question's terms (QUESTION_TERMS_FIELDS) may no longer change: True when any
    receiver of `terms_frozen_query` answers True (forecasts: the question has a forecast).

    Without the row lock this is an answer for display (the admin's read-only fields); the check
    that decides is the one question_update makes under the lock."""
    responses = terms_frozen_query.send(sender=Question, question_id=question.pk)
    return any(answer is True for _receiver, answer in responses)


def _check_shapes(changes: dict[str, Any]) -> dict[str, list[str]]:
    """The types of the given values, before any rule can compare them."""
    errors: dict[str, list[str]] = {}
    for name, limit in _TEXT_FIELDS.items():
        if name in changes:
            value = changes[name]
            if not isinstance(value, str):
                errors[name] = ["must be text"]
            elif limit is not None and len(value.strip() if name == "title" else value) > limit:
                errors[name] = [f"must be at most {limit} characters"]
    for name, nullable in _TIME_FIELDS.items():
        if name in changes:
            value = changes[name]
            if value is None:
                if not nullable:
                    errors[name] = ["is required"]
            elif not isinstance(value, datetime):
                errors[name] = ["must be a date and time"]
            elif timezone.is_naive(value):
                errors[name] = ["must include a time zone"]
    if "type" in changes and changes["type"] not in Question.Type.values:
        errors["type"] = [TYPE_RULE]
    if "scoring_mode" in changes and changes["scoring_mode"] not in ScoringMode.values:
        errors["scoring_mode"] = ["must be 'continuous' or 'daily'"]
    if "ordered" in changes and not isinstance(changes["ordered"], bool):
        errors["ordered"] = ["must be true or false"]
    for name in ("published", "open_lower", "open_upper"):
        if name in changes and not isinstance(changes[name], bool):
            errors[name] = ["must be true or false"]
    if "unit" in changes and not isinstance(changes["unit"], str):
        errors["unit"] = ["must be text"]
    if "options" in changes and not (changes["options"] is None or isinstance(changes["options"], (list, tuple))):
        errors["options"] = ["must be a list of labels"]
    if "series" in changes and not (changes["series"] is None or isinstance(changes["series"], Series)):
        errors["series"] = ["must be a series or none"]
    if "slug" in changes and changes["slug"] not in (None, ""):
        slug = changes["slug"]
        try:
            if not isinstance(slug, str):
                raise ValidationError("not text")
            validate_slug(slug)
        except ValidationError:
            errors["slug"] = ["must be letters, numbers, underscores or hyphens"]
        else:
            if len(slug) > 120:
                errors["slug"] = ["must be at most 120 characters"]
    return errors


def question_update(*, question: Question, by: Any, changes: dict[str, Any]) -> Question:
    """Change fields of an existing question in one transaction, under its row lock.

    `changes` maps field names to new values: QUESTION_FREE_FIELDS at any time, and
    QUESTION_TERMS_FIELDS ("options": the labels in order; a binary question's are 'yes' and
    'no') only while the terms are not frozen. The resulting question must pass question_validate,
    the rules of question_create. Fields whose value does not change are ignored.

    Raises DomainError (400) naming a field that is not editable here (QUESTION_RESOLUTION_FIELDS,
    provenance, unknown names), ValidationFailed (400) naming every field whose value is invalid,
    and Conflict (409) naming the first term that would change once a receiver of
    `terms_frozen_query` (forecasts) says the terms are frozen, or the options of a resolved
    question. On any refusal nothing is changed."""
    for name in changes:
        if name in QUESTION_RESOLUTION_FIELDS:
            raise DomainError(
                "is changed by resolving, annulling or un-resolving the question", field=name, code="not_editable"
            )
        if name not in QUESTION_TERMS_FIELDS and name not in QUESTION_FREE_FIELDS:
            raise DomainError("cannot be changed here", field=name, code="not_editable")
    if "published" in changes and "published_at" in changes:
        raise DomainError("give published or published_at, not both", field="published")
    errors = _check_shapes(changes)
    if errors:
        raise ValidationFailed(errors)

    with transaction.atomic(durable=not transaction.get_connection().in_atomic_block):
        q = _lock(question)
        now = timezone.now()
        current_labels = [o.label for o in q.options.order_by("position")]
        new = {name: changes.get(name, getattr(q, name)) for name in _COLUMNS if name != "series"}
        new["series_id"] = changes["series"].pk if changes.get("series") is not None else None
        if "series" not in changes:
            new["series_id"] = q.series_id
        new["title"] = new["title"].strip()
        new["slug"] = new["slug"] or None
        new["unit"] = (new["unit"] or "").strip()
        if new["type"] not in CONTINUOUS_TYPES:
            # A binary or multiple-choice question has no range: leaving a numeric type drops it.
            empty = {"range_lower": None, "range_upper": None, "open_lower": False, "open_upper": False, "unit": ""}
            new.update({name: value for name, value in empty.items() if name not in changes})
        else:
            _range_errors, bounds = question_range(
                type=new["type"], range_lower=new["range_lower"], range_upper=new["range_upper"]
            )
            if bounds is not None:  # a date question's datetimes -> POSIX seconds, as stored
                new["range_lower"], new["range_upper"] = bounds
        if "published" in changes:
            new["published_at"] = (q.published_at or now) if changes["published"] else None

        # The options asked for, as labels: compared with the stored ones before any rule runs.
        given_options = changes.get("options")
        if new["type"] == Question.Type.BINARY:
            wanted = [str(o).strip() for o in given_options] if given_options else list(BINARY_OPTIONS)
        elif new["type"] in CONTINUOUS_TYPES and "options" not in changes:
            wanted = []
        elif "options" in changes:
            wanted = [str(o).strip() for o in given_options or []]
        else:
            wanted = current_labels if new["type"] == q.type else []
        columns = [name for name in new if new[name] != getattr(q, name)]
        terms = [
            name
            for name in QUESTION_TERMS_FIELDS
            if name in columns or (name == "options" and wanted != current_labels)
        ]
        if terms and question_terms_frozen(q):
            raise Conflict("cannot change once the question has forecasts", field=terms[0], code="terms_frozen")

        labels = question_validate(
            type=new["type"],
            title=new["title"],
            open_time=new["open_time"],
            close_time=new["close_time"],
            options=given_options if new["type"] == Question.Type.BINARY else wanted,
            ordered=new["ordered"],
            known_at=q.known_at,
            crowd_reveal_time=new["crowd_reveal_time"],
            scoring_mode=new["scoring_mode"],
            range_lower=new["range_lower"],
            range_upper=new["range_upper"],
            open_lower=new["open_lower"],
            open_upper=new["open_upper"],
            unit=new["unit"],
        )
        if "slug" in columns and new["slug"] and Question.objects.filter(slug=new["slug"]).exclude(pk=q.pk).exists():
            raise DomainError("a question with this slug exists", field="slug", code="unique")
        options_changed = labels != current_labels
        if options_changed and q.resolved_option_id is not None:
            raise Conflict("un-resolve the question before changing its options", field="options", code="resolved")
        if q.state == Question.State.RESOLVED and q.is_continuous:
            changed_range = [name for name in ("type", *QUESTION_RANGE_FIELDS) if name in columns]
            if changed_range:
                raise Conflict(
                    "un-resolve the question before changing its type or range", field=changed_range[0], code="resolved"
                )

        for name in columns:
            setattr(q, name, new[name])
        if columns:
            q.save(update_fields=columns)
        if options_changed:
            q.options.all().delete()
            Option.objects.bulk_create([Option(question=q, label=label, position=i) for i, label in enumerate(labels)])
        changed = columns + (["options"] if options_changed else [])
        if changed:
            logger.info("question %s updated by %s: %s", q.pk, getattr(by, "pk", by), ", ".join(changed))
    return q
