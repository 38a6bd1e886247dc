"""The question linter with the database's part: the duplicate check against the stored
questions. The rules themselves are pure (questions.extraction.lint) and run in the extractor too."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .extraction import LintFinding, lint_question
from .models import Candidate, Question


def existing_titles(*, exclude: Iterable[int] = ()) -> list[str]:
    """The stored questions' titles (drafts included), but those of ``exclude`` (question ids)."""
    qs = Question.objects.exclude(pk__in=[pk for pk in exclude if pk is not None])
    return list(qs.order_by("id").values_list("title", flat=True))


def question_lint(
    *,
    title: str,
    resolution_criteria: str = "",
    close_time: Any = None,
    description: str = "",
    options: Iterable[str] = (),
    exclude: Iterable[int] = (),
) -> list[LintFinding]:
    """The linter's findings for a question's terms, its duplicate check against every stored
    question except the ids in ``exclude`` (the question being edited)."""
    return lint_question(
        title,
        resolution_criteria=resolution_criteria,
        close_time=close_time,
        description=description,
        options=options,
        existing_titles=existing_titles(exclude=exclude),
    )


def question_lint_stored(question: Question) -> list[LintFinding]:
    """The findings for a stored question (checked against the others)."""
    return question_lint(
        title=question.title,
        resolution_criteria=question.resolution_criteria,
        close_time=question.close_time,
        description=question.description,
        options=[o.label for o in question.options.all()] if question.type == Question.Type.MULTIPLE_CHOICE else (),
        exclude=[question.pk],
    )


def candidate_lint(candidate: Candidate, draft: dict | None = None) -> list[LintFinding]:
    """The findings for a candidate's draft (or for ``draft``, its edited version), checked against
    the stored questions (but the one it was approved into)."""
    d = (candidate.draft or {}) if draft is None else draft
    return question_lint(
        title=d.get("title") or "",
        resolution_criteria=d.get("resolution_criteria") or "",
        close_time=d.get("close_time"),
        description=d.get("description") or "",
        options=d.get("options") or (),
        exclude=[candidate.question_id],
    )
