"""Articles and their candidate questions: ingestion, review (approve / reject) and the seed
series' provenance. Writes follow the same rules as questions/services.py."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from config.exceptions import Conflict, DomainError, ValidationFailed
from forecast_math import parse_instant

from . import services
from .extraction import (
    DEFAULT_HORIZON_DAYS,
    ExtractionInputError,
    extract_candidates,
    load_document,
    propose_strategic,
)
from .models import CONTINUOUS_TYPES, Article, Candidate, Question, Series


def article_ingest(
    *,
    data: bytes,
    filename: str | None = None,
    by: Any = None,
    title: str | None = None,
    source_url: str = "",
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    published: date | None = None,
) -> tuple[Article, bool]:
    """Store an article and its candidate questions; returns (article, created).

    Idempotent on the SHA-256 of the bytes: the same article uploaded twice is stored once and its
    candidates (and their review status) are kept. Raises DomainError(field="text") for input that
    is not UTF-8 text, is empty or looks binary."""
    try:
        doc = load_document(data, filename=filename)
    except ExtractionInputError as e:
        raise DomainError(str(e), field="text", code="unreadable")
    digest = hashlib.sha256(data).hexdigest()
    existing = Article.objects.filter(sha256=digest).first()
    if existing is not None:
        return existing, False
    published = published or doc.published
    # Close dates are drafted from the article's own date when it is known.
    candidates = extract_candidates(doc, horizon_days=horizon_days, as_of=published)
    proposal = propose_strategic(doc, candidates)
    with transaction.atomic():
        article = Article.objects.create(
            title=(title or doc.title or (filename or "Untitled article"))[:300],
            author=(doc.author or "")[:200],
            source_url=source_url,
            published_on=published,
            text=doc.text,
            sha256=digest,
            format=doc.format,
            created_by=by if getattr(by, "pk", None) else None,
            strategic_proposal=proposal.to_dict() if proposal is not None else None,
        )
        Candidate.objects.bulk_create(
            [
                Candidate(
                    article=article,
                    start=c.start,
                    end=c.end,
                    passage=c.passage,
                    section=c.section[:300],
                    kind=c.kind,
                    score=c.score,
                    rank=i + 1,
                    draft=c.to_dict()["draft"],
                )
                for i, c in enumerate(candidates)
            ]
        )
    return article, True


def _parse_time(value: Any, field: str) -> datetime:
    try:
        return parse_instant(value)
    except ValueError:
        raise DomainError("must be an ISO-8601 date-time", field=field) from None


def candidate_approve(*, candidate: Candidate, by: Any, edits: dict[str, Any] | None = None) -> Question:
    """Turn a candidate into a question, prefilled from its draft and overridden by `edits`
    (title, type, options, resolution_criteria, description, open_time, close_time, series,
    published, indicator; for a numeric or date question also lower, upper, open_lower,
    open_upper and unit, each from the draft unless edited). The question keeps its provenance: the article and the offsets of the
    passage. Approving a candidate twice, or a rejected one, is refused (409)."""
    edits = dict(edits or {})
    draft = candidate.draft or {}
    with transaction.atomic():
        c = Candidate.objects.select_for_update().get(pk=candidate.pk)
        if c.status == Candidate.Status.APPROVED:
            raise Conflict("this candidate is already approved", field="candidate", code="already_approved")
        if c.status == Candidate.Status.REJECTED:
            raise Conflict("this candidate was rejected", field="candidate", code="rejected")
        article = c.article
        opened = edits.pop("open_time", None)
        open_time = _parse_time(opened, "open_time") if opened else timezone.now()
        close_raw = edits.pop("close_time", None) or draft.get("close_time")
        if not close_raw:
            raise ValidationFailed({"close_time": ["is required"]})
        series = edits.pop("series", None)
        if isinstance(series, str):
            series = Series.objects.filter(slug=series).first() or _missing("series", series)
        qtype = edits.pop("type", None) or draft.get("type", "binary")
        options = edits.pop("options", None)
        if options is None and qtype == "multiple_choice":
            options = draft.get("options")
        continuous = {}
        if qtype in CONTINUOUS_TYPES:

            def pick(name: str, default: Any = None) -> Any:
                value = edits.pop(name, None)
                return draft.get(name, default) if value is None else value

            continuous = {
                "range_lower": pick("lower"),
                "range_upper": pick("upper"),
                "open_lower": bool(pick("open_lower", False)),
                "open_upper": bool(pick("open_upper", False)),
                "unit": pick("unit", "") or "",
            }
        question = services.question_create(
            type=qtype,
            title=edits.pop("title", None) or draft.get("title", ""),
            options=options,
            resolution_criteria=edits.pop("resolution_criteria", None) or draft.get("resolution_criteria", ""),
            description=edits.pop("description", "") or "",
            open_time=open_time,
            close_time=_parse_time(close_raw, "close_time"),
            series=series,
            published=edits.pop("published", True),
            indicator=edits.pop("indicator", "") or c.section,
            article=article,
            source_start=c.start,
            source_end=c.end,
            **continuous,
        )
        c.status = Candidate.Status.APPROVED
        c.question = question
        c.reviewed_by = by
        c.reviewed_at = timezone.now()
        c.save(update_fields=["status", "question", "reviewed_by", "reviewed_at"])
    return question


def _missing(field: str, value: str):
    raise DomainError(f"no series with slug {value!r}", field=field)


def candidate_reject(*, candidate: Candidate, by: Any) -> Candidate:
    with transaction.atomic():
        c = Candidate.objects.select_for_update().get(pk=candidate.pk)
        if c.status == Candidate.Status.APPROVED:
            raise Conflict("an approved candidate cannot be rejected", field="candidate", code="already_approved")
        c.status = Candidate.Status.REJECTED
        c.reviewed_by = by
        c.reviewed_at = timezone.now()
        c.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    return c


def question_link_source(
    *, question: Question, article: Article, start: int, end: int, passage_sha256: str | None = None
) -> Question:
    """Attach provenance to an existing question (the seed series), checking the offsets slice
    the expected passage when its hash is given."""
    if not (0 <= start < end <= len(article.text)):
        raise DomainError("offsets must lie within the article text", field="source")
    passage = article.text[start:end]
    if passage_sha256 and hashlib.sha256(passage.encode()).hexdigest() != passage_sha256:
        raise DomainError("the offsets do not slice the expected passage", field="source")
    Question.objects.filter(pk=question.pk).update(
        article=article, source_start=start, source_end=end, source_passage=passage
    )
    question.refresh_from_db()
    return question
