"""State changes of questions. Each function opens its own transaction, locks the question row
first (the same order as forecast submission, so neither can overtake the other), records an
audit event, and enqueues follow-up work only once the transaction has committed.

`question_update` edits an existing question: its free fields always, its terms only while
nothing above depends on them (asked through the `terms_frozen_query` signal, under the lock)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction
from django.utils import timezone

from config.exceptions import Conflict, DomainError, ValidationFailed

from .models import Article, Option, Question, ResolutionEvent, ScoringMode, Series
from .signals import resolution_changed, terms_frozen_query

BINARY_OPTIONS = ("yes", "no")
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
) -> list[str]:
    """Check the fields of a new question; returns the option labels in order.

    Raises ValidationFailed naming every field at fault."""
    errors: dict[str, list[str]] = {}
    labels: list[str] = []
    if type not in Question.Type.values:
        errors["type"] = ["must be 'binary' or 'multiple_choice'"]
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
) -> Question:
    """Create a question and its options in one transaction. The scoring mode defaults to the
    series'. With an article, the passage is copied from the article's text at the offsets."""
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
    )
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
        )
        Option.objects.bulk_create(
            [Option(question=question, label=label, position=i) for i, label in enumerate(labels)]
        )
    return question


def _lock(question: Question) -> Question:
    return Question.objects.select_for_update().get(pk=question.pk)


def _outcome_label(question: Question) -> str:
    return question.resolved_option.label if question.resolved_option_id else ""


def _record(
    q: Question, *, action: str, by: Any, at: datetime, from_state: str, from_outcome: str, note: str
) -> ResolutionEvent:
    q.resolution_version += 1
    q.save(update_fields=["state", "resolved_option", "resolved_at", "known_at", "resolution_version"])
    return ResolutionEvent.objects.create(
        question=q,
        action=action,
        by=by,
        at=at,
        from_state=from_state,
        from_outcome=from_outcome,
        to_state=q.state,
        to_outcome=_outcome_label(q),
        known_at=q.known_at,
        note=note,
        version=q.resolution_version,
    )


def question_resolve(
    *,
    question: Question,
    outcome: str,
    by: Any,
    known_at: datetime | None = None,
    note: str = "",
    at: datetime | None = None,
) -> Question:
    """Resolve `question` as `outcome` (an option label; "yes"/"no" for binary; "annulled" annuls).

    Locks the question row, so any forecast submission either commits before this (and counts)
    or sees the resolution and is refused. Resolving before the scheduled close closes the question
    early: `known_at` defaults to now. Resolving a resolved question with another outcome or
    known_at is a correction, recorded as such. Enqueues `question_score` after commit."""
    if outcome == "annulled":
        return question_annul(question=question, by=by, note=note, at=at)
    with transaction.atomic(durable=not transaction.get_connection().in_atomic_block):
        q = _lock(question)
        now = at or timezone.now()  # read under the lock: later than any forecast that got in first
        option = q.options.filter(label=outcome).first()
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
        if q.state == Question.State.RESOLVED and q.resolved_option_id == option.pk and q.known_at == new_known_at:
            raise Conflict(f"already resolved as {outcome!r}", field="resolution", code="already_resolved")
        from_state, from_outcome = q.state, _outcome_label(q)
        q.state = Question.State.RESOLVED
        q.resolved_option = option
        q.resolved_at = now
        q.known_at = new_known_at
        _record(q, action="resolve", by=by, at=now, from_state=from_state, from_outcome=from_outcome, note=note)
        _announce_resolution_change(q.pk)
    return q


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
        from_state, from_outcome = q.state, _outcome_label(q)
        q.state = state
        q.resolved_option = None
        q.resolved_at = now if state == Question.State.ANNULLED else None
        if state == Question.State.OPEN:
            q.known_at = None
        _record(q, action=action, by=by, at=now, from_state=from_state, from_outcome=from_outcome, note=note)
        _announce_resolution_change(q.pk)
    return q


#: The terms of a question: what its forecasts mean and how they are scored. Frozen once anything
#: above depends on them (a forecast exists). "options" is the list of option labels in order.
QUESTION_TERMS_FIELDS = ("type", "options", "ordered", "open_time", "close_time", "scoring_mode")
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
)
#: Changed only by question_resolve, question_annul and question_unresolve (known_at is the early
#: close a resolution records). Provenance (article, source_start, source_end, source_passage) is
#: set by question_create or articles.question_link_source; neither group is edited here.
QUESTION_RESOLUTION_FIELDS = (
    "state",
    "resolved_option",
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
        errors["type"] = ["must be 'binary' or 'multiple_choice'"]
    if "scoring_mode" in changes and changes["scoring_mode"] not in ScoringMode.values:
        errors["scoring_mode"] = ["must be 'continuous' or 'daily'"]
    if "ordered" in changes and not isinstance(changes["ordered"], bool):
        errors["ordered"] = ["must be true or false"]
    if "published" in changes and not isinstance(changes["published"], bool):
        errors["published"] = ["must be true or false"]
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
        if "published" in changes:
            new["published_at"] = (q.published_at or now) if changes["published"] else None

        # The options asked for, as labels: compared with the stored ones before any rule runs.
        given_options = changes.get("options")
        if new["type"] == Question.Type.BINARY:
            wanted = [str(o).strip() for o in given_options] if given_options else list(BINARY_OPTIONS)
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
        )
        if "slug" in columns and new["slug"] and Question.objects.filter(slug=new["slug"]).exclude(pk=q.pk).exists():
            raise DomainError("a question with this slug exists", field="slug", code="unique")
        options_changed = labels != current_labels
        if options_changed and q.resolved_option_id is not None:
            raise Conflict("un-resolve the question before changing its options", field="options", code="resolved")

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
