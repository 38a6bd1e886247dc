"""Writes of the strategy app: strategic questions, their drivers and indicator links (the stored
history of their composite is strategy.history's, recomputed by the strategic_recompute job that
these enqueue after commit).

Every function opens its own transaction and locks the strategic question's row before it writes
(as strategy.history.strategic_recompute does), so a links edit and a recompute of the same
strategic question never interleave. No question row is locked: the links only refer to
questions (PROTECT keeps them), and the recompute only reads them."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import IntegrityError, transaction
from django.utils import timezone

from config.enqueue import enqueue_on_commit
from config.exceptions import DomainError, ValidationFailed
from forecast_math import indicator_kind
from questions.models import Question

from .models import Driver, IndicatorLink, StrategicQuestion
from .tasks import strategic_recompute

#: Limits of one strategic question's decomposition and of its texts.
MAX_DRIVERS = 50
MAX_INDICATORS_PER_DRIVER = 200
MAX_WEIGHT = 1000.0
MAX_RATIONALE = 5000
TEXT_LIMITS = {"slug": 100, "title": 300, "pole_less": 100, "pole_more": 100}
#: Fields strategic_question_update may change.
EDITABLE_FIELDS = ("slug", "title", "description", "pole_less", "pole_more", "published", "published_at")


# --- The strategic question itself -------------------------------------------------------------


def _check_texts(values: Mapping[str, Any], *, required: Sequence[str]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name in ("slug", "title", "description", "pole_less", "pole_more"):
        if name not in values:
            if name in required:
                errors[name] = ["is required"]
            continue
        value = values[name]
        if not isinstance(value, str):
            errors[name] = ["must be text"]
            continue
        limit = TEXT_LIMITS.get(name)
        if name != "description" and not value.strip():
            errors[name] = ["must not be empty"]
        elif limit is not None and len(value) > limit:
            errors[name] = [f"must be at most {limit} characters"]
        elif "\x00" in value:
            errors[name] = ["must not contain NUL characters"]
        elif name == "slug":
            try:
                validate_slug(value)
            except ValidationError:
                errors[name] = ["must be letters, digits, hyphens and underscores only"]
    return errors


def strategic_question_create(
    *,
    slug: str,
    title: str,
    pole_less: str,
    pole_more: str,
    description: str = "",
    published: bool = True,
    drivers: Sequence[Mapping[str, Any]] | None = None,
) -> StrategicQuestion:
    """Create a strategic question (published now unless `published` is False), with its drivers
    and indicator links when `drivers` is given (the payload of strategic_links_replace).

    Raises ValidationFailed naming every field at fault (the links' fields as
    `drivers[i].indicators[j].<name>`), or DomainError(field="slug", code="unique") when the slug is
    taken; nothing is written then. Enqueues the composite's recompute after commit."""
    values = {"slug": slug, "title": title, "pole_less": pole_less, "pole_more": pole_more, "description": description}
    errors = _check_texts(values, required=("slug", "title", "pole_less", "pole_more"))
    if not isinstance(published, bool):
        errors["published"] = ["must be true or false"]
    if errors:
        raise ValidationFailed(errors, message=_first_message(errors))
    with transaction.atomic(durable=not transaction.get_connection().in_atomic_block):
        taken = DomainError("a strategic question with this slug exists", field="slug", code="unique")
        if StrategicQuestion.objects.filter(slug=slug).exists():
            raise taken
        try:
            with transaction.atomic():  # a concurrent create of the same slug loses on the unique index
                sq = StrategicQuestion.objects.create(
                    slug=slug,
                    title=title.strip(),
                    description=description,
                    pole_less=pole_less.strip(),
                    pole_more=pole_more.strip(),
                    published_at=timezone.now() if published else None,
                )
        except IntegrityError:
            raise taken from None
        strategic_links_replace(strategic_question=sq, drivers=list(drivers or []))
    return sq


def strategic_question_update(
    *, strategic_question: StrategicQuestion, changes: Mapping[str, Any]
) -> StrategicQuestion:
    """Change the strategic question's own fields (EDITABLE_FIELDS; `published` True sets
    `published_at` to now, keeping an earlier time, False clears it) under its row lock. Raises
    DomainError / ValidationFailed naming the field; nothing changes then. The composite does not
    depend on these fields, so nothing is recomputed."""
    for name in changes:
        if name not in EDITABLE_FIELDS:
            raise DomainError("cannot be changed here", field=name, code="not_editable")
    if "published" in changes and "published_at" in changes:
        raise DomainError("give published or published_at, not both", field="published")
    errors = _check_texts(changes, required=())
    if "published" in changes and not isinstance(changes["published"], bool):
        errors["published"] = ["must be true or false"]
    if "published_at" in changes and not (
        changes["published_at"] is None or isinstance(changes["published_at"], datetime)
    ):
        errors["published_at"] = ["must be a date-time or null"]
    if errors:
        raise ValidationFailed(errors, message=_first_message(errors))
    with transaction.atomic(durable=not transaction.get_connection().in_atomic_block):
        sq = StrategicQuestion.objects.select_for_update().get(pk=strategic_question.pk)
        if "slug" in changes and StrategicQuestion.objects.filter(slug=changes["slug"]).exclude(pk=sq.pk).exists():
            raise DomainError("a strategic question with this slug exists", field="slug", code="unique")
        fields = []
        for name in ("slug", "title", "description", "pole_less", "pole_more"):
            if name in changes:
                value = changes[name] if name in ("slug", "description") else changes[name].strip()
                if value != getattr(sq, name):
                    setattr(sq, name, value)
                    fields.append(name)
        if "published" in changes:
            published_at = (sq.published_at or timezone.now()) if changes["published"] else None
        else:
            published_at = changes.get("published_at", sq.published_at)
        if published_at != sq.published_at:
            sq.published_at = published_at
            fields.append("published_at")
        if fields:
            sq.save(update_fields=fields)
    return sq


# --- Drivers and indicator links ----------------------------------------------------------------


def _first_message(errors: Mapping[str, list[str]]) -> str:
    name, rules = next(iter(errors.items()))
    return f"{name}: {rules[0]}"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def strategic_links_validate(*, drivers: Any) -> list[dict[str, Any]]:
    """Check a drivers-and-links payload without writing anything; returns it normalised:
    [{"title", "indicators": [{"question": Question, "direction", "weight", "rationale"}]}].

    The payload: a list of drivers, each {"title": text, "indicators": [{"question": question id,
    "direction": 1 or -1, "weight": number > 0 (default 1), "rationale": text (default "")}]}.
    Refused, each naming its field as `drivers[i].indicators[j].<name>`: a direction other than the
    integers 1 and -1; a weight that is not a number in (0, 1000]; an unknown question; a question
    linked twice; an unordered multiple-choice question (its options have no "higher" end, so it
    has no value on the axis: make it ordered, or link a binary question); a numeric or date
    question (the composite has no value for a distribution yet). Raises ValidationFailed."""
    errors: dict[str, list[str]] = {}
    out: list[dict[str, Any]] = []
    if not isinstance(drivers, list | tuple):
        raise ValidationFailed({"drivers": ["must be a list"]}, message="drivers: must be a list")
    if len(drivers) > MAX_DRIVERS:
        raise ValidationFailed({"drivers": [f"at most {MAX_DRIVERS} drivers"]}, message="drivers: too many")
    wanted: list[tuple[str, Any]] = []  # (field prefix, question id) of every link, in order
    for i, driver in enumerate(drivers):
        at = f"drivers[{i}]"
        if not isinstance(driver, Mapping):
            errors[at] = ["must be an object with a title and indicators"]
            continue
        title = driver.get("title")
        if not isinstance(title, str) or not title.strip():
            errors[f"{at}.title"] = ["must be non-empty text"]
        elif len(title) > 300 or "\x00" in title:
            errors[f"{at}.title"] = ["must be at most 300 characters, without NUL"]
        indicators = driver.get("indicators", [])
        if not isinstance(indicators, list | tuple):
            errors[f"{at}.indicators"] = ["must be a list"]
            indicators = []
        elif len(indicators) > MAX_INDICATORS_PER_DRIVER:
            errors[f"{at}.indicators"] = [f"at most {MAX_INDICATORS_PER_DRIVER} indicators per driver"]
            indicators = []
        links: list[dict[str, Any]] = []
        for j, link in enumerate(indicators):
            here = f"{at}.indicators[{j}]"
            if not isinstance(link, Mapping):
                errors[here] = ["must be an object with a question, a direction and a weight"]
                continue
            question = link.get("question")
            if isinstance(question, Question):
                question = question.pk
            if isinstance(question, bool) or not isinstance(question, int):
                errors[f"{here}.question"] = ["must be a question id (an integer)"]
            else:
                wanted.append((here, question))
            direction = link.get("direction")
            if isinstance(direction, bool) or not isinstance(direction, int) or direction not in (1, -1):
                errors[f"{here}.direction"] = ["must be 1 (towards the 'more' pole) or -1 (towards the 'less' pole)"]
            weight = link.get("weight", 1.0)
            if not _is_number(weight) or not math.isfinite(weight):
                errors[f"{here}.weight"] = ["must be a number"]
            elif not 0 < weight <= MAX_WEIGHT:
                errors[f"{here}.weight"] = [f"must be greater than 0 and at most {MAX_WEIGHT:g}"]
            rationale = link.get("rationale", "")
            if rationale is None:
                rationale = ""
            if not isinstance(rationale, str):
                errors[f"{here}.rationale"] = ["must be text"]
            elif len(rationale) > MAX_RATIONALE or "\x00" in rationale:
                errors[f"{here}.rationale"] = [f"must be at most {MAX_RATIONALE} characters, without NUL"]
            links.append(
                {"at": here, "question": question, "direction": direction, "weight": weight, "rationale": rationale}
            )
        out.append({"title": title.strip() if isinstance(title, str) else title, "indicators": links})

    ids = {qid for _, qid in wanted}
    found = {q.pk: q for q in Question.objects.filter(pk__in=ids)} if ids else {}
    first_at: dict[int, str] = {}
    for here, qid in wanted:
        q = found.get(qid)
        if q is None:
            errors[f"{here}.question"] = [f"unknown question {qid}"]
        elif qid in first_at:
            errors[f"{here}.question"] = [f"question {qid} is already linked at {first_at[qid]}"]
        elif q.is_continuous:
            errors[f"{here}.question"] = [
                f"a {q.type} question cannot be an indicator yet: the composite reads a probability "
                "(binary) or an ordered choice; link a binary question about a threshold instead"
            ]
        elif indicator_kind(q.type, q.ordered) is None:
            errors[f"{here}.question"] = [
                "an unordered multiple-choice question has no direction: make its options ordered or link a binary question"
            ]
        first_at.setdefault(qid, here)
    if errors:
        raise ValidationFailed(errors, message=_first_message(errors))
    for driver in out:
        for link in driver["indicators"]:
            del link["at"]
            link["question"] = found[link["question"]]
    return out


def strategic_links_replace(*, strategic_question: StrategicQuestion, drivers: Any) -> StrategicQuestion:
    """Replace every driver and indicator link of a strategic question with `drivers` (the payload
    of strategic_links_validate, which refuses it with ValidationFailed naming each field at fault;
    nothing changes then). Locks the strategic question's row; enqueues the composite's recompute
    after commit."""
    normalised = strategic_links_validate(drivers=drivers)
    with transaction.atomic(durable=not transaction.get_connection().in_atomic_block):
        sq = StrategicQuestion.objects.select_for_update().get(pk=strategic_question.pk)
        IndicatorLink.objects.filter(strategic_question=sq).delete()
        Driver.objects.filter(strategic_question=sq).delete()
        links: list[IndicatorLink] = []
        for i, d in enumerate(normalised):
            driver = Driver.objects.create(strategic_question=sq, title=d["title"], order=i)
            links += [
                IndicatorLink(
                    strategic_question=sq,
                    driver=driver,
                    question=link["question"],
                    direction=link["direction"],
                    weight=float(link["weight"]),
                    rationale=link["rationale"],
                    order=j,
                )
                for j, link in enumerate(d["indicators"])
            ]
        IndicatorLink.objects.bulk_create(links)
        _recompute_on_commit(sq.pk)
    return sq


def _recompute_on_commit(strategic_question_id: int) -> None:
    enqueue_on_commit(strategic_recompute, strategic_question_id)


def strategic_recompute_for_question(*, question_id: int) -> list[int]:
    """Enqueue (after commit) the recompute of every strategic question `question_id` is an
    indicator of; returns their ids."""
    ids = sorted(
        set(IndicatorLink.objects.filter(question_id=question_id).values_list("strategic_question_id", flat=True))
    )
    for sq_id in ids:
        _recompute_on_commit(sq_id)
    return ids


# --- From an article's proposal ------------------------------------------------------------------


def _unique_slug(base: str) -> str:
    from django.utils.text import slugify

    root = (slugify(base)[:90] or "strategic").strip("-")
    slug, n = root, 1
    while StrategicQuestion.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{root}-{n}"
    return slug


def strategic_question_from_article(*, article: Any) -> tuple[StrategicQuestion, int]:
    """Create, or bring up to date, the strategic question an article's extractor proposed
    (Article.strategic_proposal), linking the proposed indicators whose candidates staff have
    approved into questions; returns (strategic question, links added).

    Created unpublished, for staff to review (publish it in the admin). Run again after more
    candidates are approved, it adds their links and keeps every existing driver and link as staff
    edited them. Refused (400, field `article`) when the article has no proposal."""
    from questions.models import Candidate  # the candidates are the proposal's indices

    proposal = article.strategic_proposal
    if not proposal:
        raise DomainError("the extractor proposed no strategic question for this article", field="article")
    approved = {
        c.rank - 1: c.question
        for c in Candidate.objects.filter(article=article, question__isnull=False).select_related("question")
    }
    with transaction.atomic():
        sq = StrategicQuestion.objects.select_for_update().filter(article=article).order_by("id").first()
        if sq is None:
            sq = strategic_question_create(
                slug=_unique_slug(proposal["title"]),
                title=proposal["title"][:300],
                description=proposal.get("description", ""),
                pole_less=proposal["pole_less"][:100],
                pole_more=proposal["pole_more"][:100],
                published=False,
            )
            StrategicQuestion.objects.filter(pk=sq.pk).update(article=article)
            sq.article = article
        drivers = [
            {
                "title": d.title,
                "indicators": [
                    {"question": link.question_id, "direction": link.direction, "weight": link.weight,
                     "rationale": link.rationale}
                    for link in d.links.order_by("id")
                ],
            }
            for d in sq.drivers.order_by("order", "id")
        ]  # fmt: skip
        linked = {link["question"] for d in drivers for link in d["indicators"]}
        added = 0
        for proposed in proposal.get("drivers", []):
            new = [
                {"question": approved[i["candidate"]].pk, "direction": i["direction"],
                 "weight": max(0.05, float(i["weight"])), "rationale": i.get("rationale", "")}
                for i in proposed.get("indicators", [])
                if i["candidate"] in approved and approved[i["candidate"]].pk not in linked
                and indicator_kind(approved[i["candidate"]].type, approved[i["candidate"]].ordered) is not None
            ]  # fmt: skip
            if not new:
                continue
            linked |= {link["question"] for link in new}
            added += len(new)
            same = next((d for d in drivers if d["title"] == proposed["title"]), None)
            if same is None:
                drivers.append({"title": proposed["title"], "indicators": new})
            else:
                same["indicators"].extend(new)
        if added:
            strategic_links_replace(strategic_question=sq, drivers=drivers)
    return sq, added
